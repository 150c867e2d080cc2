package quality

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// TestConfigValidate: the defaults are valid; each bad setting is refused
// with a message naming it.
func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Interval = 0 }, "interval"},
		{func(c *Config) { c.FirstRunAfter = -time.Second }, "first run after"},
		{func(c *Config) { c.LookbackDays = -1 }, "lookback days"},
		{func(c *Config) { c.MaxSourceAge = -time.Second }, "max source age"},
		{func(c *Config) { c.MaxLag = -time.Second }, "max lag"},
		{func(c *Config) { c.FutureTolerance = -time.Second }, "future tolerance"},
		{func(c *Config) { c.LateWindow = -time.Second }, "late window"},
		{func(c *Config) { c.VolumeWindow = 1 }, "volume window"},
		{func(c *Config) { c.VolumeZ = 0 }, "volume z"},
		{func(c *Config) { c.VolumeMinRows = -1 }, "volume min rows"},
		{func(c *Config) { c.Samples = -1 }, "samples"},
		{func(c *Config) { c.ChunkRows = 0 }, "chunk rows"},
		{func(c *Config) { c.Query.MemoryLimit = "lots" }, "memory limit"},
		{func(c *Config) { c.Checks = []Check{{Name: "x", Table: lakehouse.BronzeRawEvents, Kind: "vibes"}} }, "kind"},
		{func(c *Config) {
			ok := Check{Name: "dup", Table: lakehouse.BronzeRawEvents, Kind: KindCompleteness, Columns: []string{"event_id"}}
			c.Checks = []Check{ok, ok}
		}, "defined twice"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %q", tc.want, err, tc.want)
		}
	}
	// Thresholds of 0 leave their checks out.
	c := DefaultConfig()
	c.MaxSourceAge, c.MaxLag, c.LateWindow = 0, 0, 0
	for _, ch := range DefaultChecks(c) {
		if ch.Kind == KindFreshness || strings.Contains(ch.Name, "late_window") {
			t.Errorf("%s is checked with its threshold at 0", ch.Name)
		}
	}
}

// TestCheckValidate: each kind needs its specification.
func TestCheckValidate(t *testing.T) {
	tbl := lakehouse.SilverCleanedEvents
	for _, tc := range []struct {
		c    Check
		want string // "" for valid
	}{
		{Check{Name: "a", Table: tbl, Kind: KindUniqueness, Columns: []string{"event_id"}}, ""},
		{Check{Name: "a", Table: tbl, Kind: KindUniqueness}, "needs Columns"},
		{Check{Table: tbl, Kind: KindUniqueness, Columns: []string{"event_id"}}, "empty name"},
		{Check{Name: "a", Table: tbl[:1], Kind: KindUniqueness, Columns: []string{"x"}}, "two-part"},
		{Check{Name: "a", Table: tbl, Kind: KindAllowedValues, Columns: []string{"region"}}, "Allowed"},
		{Check{Name: "a", Table: tbl, Kind: KindAllowedValues, Violation: "region = 'x'"}, ""},
		{Check{Name: "a", Table: tbl, Kind: KindRange, Columns: []string{"x"}, Min: 2, Max: 1}, "Min <= Max"},
		{Check{Name: "a", Table: tbl, Kind: KindRange, Columns: []string{"x"}, Max: 1, MaxFraction: 2}, "max fraction"},
		{Check{Name: "a", Table: tbl, Kind: KindReconciliation}, "Reconcile"},
		{Check{Name: "a", Table: tbl, Kind: KindFreshness, Freshness: &Freshness{}}, "positive MaxAge"},
		{Check{Name: "a", Table: tbl, Kind: KindVolume, Volume: &Volume{TimeColumn: "t"}}, "neither spikes nor drops"},
		{Check{Name: "a", Table: tbl, Kind: KindVolume, Volume: &Volume{TimeColumn: "t", Spikes: true}}, ""},
	} {
		err := tc.c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v, want valid", tc.c, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: got %v, want an error with %q", tc.c, err, tc.want)
		}
	}
}

// TestBaseline: the z-score divides by the standard deviation, but never
// by less than counting noise (the square root of the mean) or 1.
func TestBaseline(t *testing.T) {
	for _, tc := range []struct {
		counts []int64
		x      int64
		z      float64
	}{
		{[]int64{90, 110, 90, 110}, 140, 4},                               // std 10 > sqrt(100)
		{[]int64{100, 100, 100, 100}, 140, 4},                             // std 0: sigma = sqrt(100) = 10
		{[]int64{0, 0, 0, 0}, 3, 3},                                       // sigma floor 1
		{[]int64{1000, 0, 0, 0, 0, 0, 0, 0}, 0, -125 / math.Sqrt(109375)}, // a replay burst: an idle hour is no drop
	} {
		got := newBaseline(tc.counts).z(tc.x)
		if math.Abs(got-tc.z) > 1e-9 {
			t.Errorf("z(%d | %v) = %g, want %g", tc.x, tc.counts, got, tc.z)
		}
	}
}

// TestCutSpans: dates are packed into spans of at most max rows, whole
// dates each, covering everything from the cutoff on.
func TestCutSpans(t *testing.T) {
	rows := [][]any{{"2026-01-01", int64(5)}, {"2026-01-02", int64(5)}, {"2026-01-03", int64(20)}, {"2026-01-04", int64(1)}}
	for _, tc := range []struct {
		max  int64
		want string
	}{
		{100, "[{2025-12-31 }]"},
		{10, "[{2025-12-31 2026-01-03} {2026-01-03 2026-01-04} {2026-01-04 }]"},
		{1, "[{2025-12-31 2026-01-02} {2026-01-02 2026-01-03} {2026-01-03 2026-01-04} {2026-01-04 }]"},
	} {
		if got := fmt.Sprint(cutSpans(rows, "2025-12-31", tc.max)); got != tc.want {
			t.Errorf("max %d: got %s, want %s", tc.max, got, tc.want)
		}
	}
	if got := fmt.Sprint(cutSpans(nil, "", 10)); got != "[{ }]" {
		t.Errorf("no rows: got %s, want one open span", got)
	}
	if got := (span{lo: "2026-01-01", hi: "2026-01-03"}).sql("event_date"); got != `"event_date" >= '2026-01-01' AND "event_date" < '2026-01-03'` {
		t.Errorf("span sql: %s", got)
	}
}

// TestHuman: thresholds read as people write them.
func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{15 * time.Minute: "15m", 7 * 24 * time.Hour: "7 days",
		24 * time.Hour: "1 day", 90 * time.Second: "1m30s", 2 * time.Hour: "2h"} {
		if got := human(d); got != want {
			t.Errorf("human(%s) = %q, want %q", d, got, want)
		}
	}
}
