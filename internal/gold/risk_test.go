package gold

import (
	"encoding/json"
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
