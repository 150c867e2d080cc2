package gold

import (
	"encoding/json"
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
func (e Evidence) JSON() string {
	b, _ := json.Marshal(e) // plain values always marshal
	return string(b)
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
