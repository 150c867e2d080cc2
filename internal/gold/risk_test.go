package gold

import (
	"encoding/json"
	"math"
	"testing"
)

// TestRiskThresholds checks each rule at its threshold: 50 vs 51 edits in
// an hour, 3 vs 4 large deletions, 50% vs 51% anonymous, 5 vs 6 domains.
func TestRiskThresholds(t *testing.T) {
	base := Activity{Edits: 100, PeakHourEdits: 10, Domains: 1}
	cases := []struct {
		name   string
		mutate func(*Activity)
		score  int
		level  string
		factor string
	}{
		{"nothing", func(a *Activity) {}, 0, LevelLow, ""},
		{"50 edits in an hour", func(a *Activity) { a.PeakHourEdits = 50 }, 0, LevelLow, ""},
		{"51 edits in an hour", func(a *Activity) { a.PeakHourEdits = 51 }, 40, LevelMedium, "high_velocity"},
		{"3 large deletions", func(a *Activity) { a.LargeDeletions = 3 }, 0, LevelLow, ""},
		{"4 large deletions", func(a *Activity) { a.LargeDeletions = 4 }, 30, LevelLow, "large_deletions"},
		{"50% anonymous", func(a *Activity) { a.AnonymousEdits = 50 }, 0, LevelLow, ""},
		{"51% anonymous", func(a *Activity) { a.AnonymousEdits = 51 }, 20, LevelLow, "anonymous_activity"},
		{"6 domains without velocity", func(a *Activity) { a.Domains = 6 }, 0, LevelLow, ""},
		{"5 domains with velocity", func(a *Activity) { a.Domains, a.PeakHourEdits = 5, 51 }, 40, LevelMedium, "high_velocity"},
		{"6 domains with velocity", func(a *Activity) { a.Domains, a.PeakHourEdits = 6, 51 }, 50, LevelMedium, "cross_domain"},
		{"velocity and deletions", func(a *Activity) { a.PeakHourEdits, a.LargeDeletions = 51, 4 }, 70, LevelHigh, "large_deletions"},
		{"all four", func(a *Activity) { a.PeakHourEdits, a.LargeDeletions, a.AnonymousEdits, a.Domains = 80, 9, 100, 8 }, 100, LevelHigh, "cross_domain"},
		{"deletions and anonymous", func(a *Activity) { a.LargeDeletions, a.AnonymousEdits = 4, 60 }, 50, LevelMedium, "anonymous_activity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := base
			c.mutate(&a)
			score, level, ev := Score(a, 1000)
			if score != c.score || level != c.level {
				t.Fatalf("score %d level %s, want %d %s", score, level, c.score, c.level)
			}
			total := 0
			for _, f := range ev.Factors {
				total += f.Points
				if f.Name == c.factor && !f.Triggered {
					t.Errorf("factor %s not triggered", c.factor)
				}
				if f.Triggered != (f.Points > 0) {
					t.Errorf("factor %s: triggered %t with %d points", f.Name, f.Triggered, f.Points)
				}
			}
			if total != score {
				t.Errorf("factors sum to %d, score is %d", total, score)
			}
			var back map[string]any
			if err := json.Unmarshal([]byte(ev.JSON()), &back); err != nil {
				t.Fatalf("evidence is not JSON: %v", err)
			}
		})
	}
}

func TestLevelBoundaries(t *testing.T) {
	for score, want := range map[int]string{0: LevelLow, 39: LevelLow, 40: LevelMedium, 69: LevelMedium, 70: LevelHigh, 100: LevelHigh} {
		if got := Level(score); got != want {
			t.Errorf("Level(%d) = %s, want %s", score, got, want)
		}
	}
}

// FuzzEvidenceJSON: the hand-written evidence JSON is byte for byte what
// encoding/json makes of the same evidence, for any text (HTML characters,
// control characters, invalid UTF-8, U+2028), any counts and any ratio.
func FuzzEvidenceJSON(f *testing.F) {
	f.Add("Main Page", "en.wikipedia.org", "2026-11-28T10:00:00Z", int64(51), int64(7), 33.333, 1e-7, true)
	f.Add("<script>&\"\\\b\f\n\r\t\x00\x1f\u2028\u2029", "\xff\xfeé日本", "", int64(-1), int64(0), 1e21, -0.0, false)
	f.Add("", "", "\x7f", int64(1<<62), int64(-1<<62), 123456789.125, -2.5e-9, true)
	f.Fuzz(func(t *testing.T, title, domain, ts string, n, m int64, ratio, tiny float64, triggered bool) {
		if math.IsNaN(ratio) || math.IsInf(ratio, 0) || math.IsNaN(tiny) || math.IsInf(tiny, 0) {
			t.Skip("encoding/json refuses NaN and infinities; risk ratios are finite")
		}
		a := Activity{Edits: n, PeakHourEdits: m, PeakHour: int32(m), LargeDeletions: n, LargestRemoval: -m,
			AnonymousEdits: m, Domains: n, DomainList: []string{domain, title}, DeletionTitles: []string{title},
			DeletionRevs: []int64{n, m}, SampleTitles: []string{title, domain}, SampleRevisions: []int64{m},
			TopDomain: domain, Samples: []Sample{{Domain: domain, Title: &title, RevisionOld: &m, RevisionNew: n,
				LengthDelta: -m, EventTimestamp: ts}, {Domain: title, EventTimestamp: domain}}}
		_, _, ev := Score(a, n)
		ev.Factors[0].Observed, ev.Factors[1].Threshold, ev.Factors[2].Triggered = ratio, tiny, triggered
		ev.Factors = append(ev.Factors, Factor{Name: title}) // no detail: omitted
		if n%2 == 0 {
			ev.SampleTitles, ev.Samples, ev.Factors = nil, nil, nil
		}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.AppendJSON([]byte("x")); string(got[1:]) != string(want) || got[0] != 'x' {
			t.Errorf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}
