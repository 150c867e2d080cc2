package gold

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The risk rules of the original design, per entity and day.
const (
	VelocityThreshold       = 50 // more than this many edits in one clock hour
	LargeDeletionsThreshold = 3  // more than this many large deletions
	AnonymousShareThreshold = 50 // more than this percentage of edits anonymous
	DomainsThreshold        = 5  // more than this many wikis, together with high velocity

	VelocityPoints  = 40
	DeletionPoints  = 30
	AnonymousPoints = 20
	CrossPoints     = 10
)

// Risk levels.
const (
	LevelHigh   = "HIGH"
	LevelMedium = "MEDIUM"
	LevelLow    = "LOW"
)

// Activity is what an entity did on one day, the input of the risk score.
type Activity struct {
	Date, Entity     string
	Edits            int64
	PeakHourEdits    int64
	PeakHour         int32
	LargeDeletions   int64
	LargestRemoval   int64 // the most negative length change, bytes
	AnonymousEdits   int64
	Domains          int64
	DomainList       []string
	DeletionTitles   []string
	DeletionRevs     []int64
	SampleTitles     []string
	SampleRevisions  []int64
	IsBot, Anonymous bool
	// TopDomain is the wiki edited most, the first by name on a tie.
	TopDomain string
	// Samples are the edits SampleRevisions and DeletionRevs name, in
	// the order the risk feed lists them: by length change (the largest
	// removals first), event time and event id.
	Samples []Sample
}

// Sample is one edit of an entity's sample, with what the risk feed needs
// to link its diff. Title and RevisionOld are null where silver has none.
type Sample struct {
	Domain         string  `json:"domain"`
	Title          *string `json:"title"`
	RevisionOld    *int64  `json:"revision_old"`
	RevisionNew    int64   `json:"revision_new"`
	LengthDelta    int64   `json:"length_delta"`
	EventTimestamp string  `json:"event_timestamp"` // RFC 3339, UTC, as the SQL engine renders a TIMESTAMPTZ
}

// Factor is one risk factor in the evidence.
type Factor struct {
	Name      string  `json:"name"`
	Triggered bool    `json:"triggered"`
	Points    int     `json:"points"`
	Observed  float64 `json:"observed"`
	Threshold float64 `json:"threshold"`
	Detail    any     `json:"detail,omitempty"`
}

// Evidence is the JSON kept with every risk score. TopDomain and Samples
// are what the risk feed shows with the score (links to the entity's
// contributions and to its sample diffs): kept here, the feed reads
// gold.risk_scores alone, not silver.
type Evidence struct {
	Edits           int64    `json:"edits"`
	Domains         int64    `json:"domains"`
	Factors         []Factor `json:"factors"`
	SampleTitles    []string `json:"sample_titles"`
	SampleRevisions []int64  `json:"sample_revisions"`
	TopDomain       string   `json:"top_domain"`
	Samples         []Sample `json:"samples"`
}

// Score applies the four rules to a day of activity and returns the score,
// the level and the evidence.
func Score(a Activity, largeDeletionBytes int64) (int, string, Evidence) {
	velocity, deletions, anonymous, cross, anonShare := rules(a)
	ev := Evidence{
		Edits: a.Edits, Domains: a.Domains,
		SampleTitles: nonNil(a.SampleTitles), SampleRevisions: nonNil(a.SampleRevisions),
		TopDomain: a.TopDomain, Samples: nonNil(a.Samples),
		Factors: []Factor{
			{Name: "high_velocity", Triggered: velocity, Points: points(velocity, VelocityPoints),
				Observed: float64(a.PeakHourEdits), Threshold: VelocityThreshold,
				Detail: map[string]any{"peak_hour": a.PeakHour, "edits_in_peak_hour": a.PeakHourEdits}},
			{Name: "large_deletions", Triggered: deletions, Points: points(deletions, DeletionPoints),
				Observed: float64(a.LargeDeletions), Threshold: LargeDeletionsThreshold,
				Detail: map[string]any{"min_bytes": largeDeletionBytes, "largest_removal_bytes": -a.LargestRemoval,
					"titles": nonNil(a.DeletionTitles), "revisions": nonNil(a.DeletionRevs)}},
			{Name: "anonymous_activity", Triggered: anonymous, Points: points(anonymous, AnonymousPoints),
				Observed: round2(anonShare), Threshold: AnonymousShareThreshold,
				Detail: map[string]any{"anonymous_edits": a.AnonymousEdits, "edits": a.Edits}},
			{Name: "cross_domain", Triggered: cross, Points: points(cross, CrossPoints),
				Observed: float64(a.Domains), Threshold: DomainsThreshold,
				Detail: map[string]any{"domains": nonNil(a.DomainList), "requires": "high_velocity"}},
		},
	}
	score := ScoreOnly(a)
	return score, Level(score), ev
}

// rules applies the four rules to a day of activity: which of them it
// triggers, and its share of anonymous edits (percent).
func rules(a Activity) (velocity, deletions, anonymous, cross bool, anonShare float64) {
	velocity = a.PeakHourEdits > VelocityThreshold
	deletions = a.LargeDeletions > LargeDeletionsThreshold
	if a.Edits > 0 {
		anonShare = 100 * float64(a.AnonymousEdits) / float64(a.Edits)
	}
	anonymous = anonShare > AnonymousShareThreshold
	cross = a.Domains > DomainsThreshold && velocity
	return velocity, deletions, anonymous, cross, anonShare
}

// ScoreOnly is Score's score alone, which reads only the counts of a
// (Edits, PeakHourEdits, LargeDeletions, AnonymousEdits, Domains).
func ScoreOnly(a Activity) int {
	velocity, deletions, anonymous, cross, _ := rules(a)
	return points(velocity, VelocityPoints) + points(deletions, DeletionPoints) +
		points(anonymous, AnonymousPoints) + points(cross, CrossPoints)
}

// points are a rule's points when it is triggered.
func points(on bool, p int) int {
	if on {
		return p
	}
	return 0
}

// The lowest scores of the levels HIGH and MEDIUM (DESIGN.md: HIGH
// 70-100, MEDIUM 40-69, LOW 0-39).
const (
	HighScore   = 70
	MediumScore = 40
)

// Level is the risk level of a score.
func Level(score int) string {
	switch {
	case score >= HighScore:
		return LevelHigh
	case score >= MediumScore:
		return LevelMedium
	}
	return LevelLow
}

// JSON renders the evidence.
func (e Evidence) JSON() string { return string(e.AppendJSON(nil)) }

// AppendJSON appends the evidence as encoding/json marshals it: fields in
// struct order, a factor's detail map by sorted key, HTML characters and
// invalid UTF-8 escaped. Written by hand because json.Marshal's reflection
// was a quarter of the CPU of scoring a day's editors; FuzzEvidenceJSON
// compares the two.
func (e Evidence) AppendJSON(b []byte) []byte {
	b = append(b, `{"edits":`...)
	b = strconv.AppendInt(b, e.Edits, 10)
	b = append(b, `,"domains":`...)
	b = strconv.AppendInt(b, e.Domains, 10)
	b = append(b, `,"factors":`...)
	b = appendList(b, e.Factors, appendFactor)
	b = append(b, `,"sample_titles":`...)
	b = appendList(b, e.SampleTitles, appendJSONString)
	b = append(b, `,"sample_revisions":`...)
	b = appendList(b, e.SampleRevisions, appendInt)
	b = append(b, `,"top_domain":`...)
	b = appendJSONString(b, e.TopDomain)
	b = append(b, `,"samples":`...)
	b = appendList(b, e.Samples, appendSample)
	return append(b, '}')
}

func appendFactor(b []byte, f Factor) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, f.Name)
	b = append(b, `,"triggered":`...)
	b = strconv.AppendBool(b, f.Triggered)
	b = append(b, `,"points":`...)
	b = strconv.AppendInt(b, int64(f.Points), 10)
	b = append(b, `,"observed":`...)
	b = appendFloat(b, f.Observed)
	b = append(b, `,"threshold":`...)
	b = appendFloat(b, f.Threshold)
	if f.Detail != nil {
		b = append(b, `,"detail":`...)
		b = appendAny(b, f.Detail)
	}
	return append(b, '}')
}

func appendSample(b []byte, s Sample) []byte {
	b = append(b, `{"domain":`...)
	b = appendJSONString(b, s.Domain)
	b = append(b, `,"title":`...)
	if s.Title == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *s.Title)
	}
	b = append(b, `,"revision_old":`...)
	if s.RevisionOld == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *s.RevisionOld, 10)
	}
	b = append(b, `,"revision_new":`...)
	b = strconv.AppendInt(b, s.RevisionNew, 10)
	b = append(b, `,"length_delta":`...)
	b = strconv.AppendInt(b, s.LengthDelta, 10)
	b = append(b, `,"event_timestamp":`...)
	b = appendJSONString(b, s.EventTimestamp)
	return append(b, '}')
}

// appendAny appends the values the factors' details hold; anything else
// goes through encoding/json.
func appendAny(b []byte, v any) []byte {
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendAny(b, v[k])
		}
		return append(b, '}')
	case string:
		return appendJSONString(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case []string:
		return appendList(b, v, appendJSONString)
	case []int64:
		return appendList(b, v, appendInt)
	}
	j, _ := json.Marshal(v) // plain values always marshal
	return append(b, j...)
}

// appendList appends s as a JSON array, null when nil.
func appendList[T any](b []byte, s []T, each func([]byte, T) []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(b, v)
	}
	return append(b, ']')
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// appendFloat appends f as encoding/json does: shortest form, exponent
// only below 1e-6 and from 1e21, without a leading zero in it.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes it (with its
// default HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// nonNil is s, or an empty slice for nil: the evidence has [] rather
// than null for an empty list.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
