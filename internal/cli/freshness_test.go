package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// TestBenchFreshness runs the freshness measurement briefly: every event
// must become visible, the memory line must report the samples it took, and
// the tables must be left in --data-dir. A second run on the same
// --data-dir must not count the first run's events as its own: bronze
// alone batches for up to a second, so no event is visible at once.
func TestBenchFreshness(t *testing.T) {
	defer func(old time.Duration) { warmUp = old }(warmUp)
	warmUp = time.Second // the steady-state line counts the events due after it
	dir := filepath.Join(t.TempDir(), "data")
	var out string
	for i := range 2 {
		code, o, stderr := run(t, "bench", "--freshness-rate", "40", "--freshness-for", "3s", "--log-level", "warn", "--data-dir", dir)
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i+1, code, o, stderr)
		}
		m := regexp.MustCompile(`freshness at 40 events/s for 3s \(120 events\): p50 ([0-9.]+) s`).FindStringSubmatch(o)
		if m == nil {
			t.Fatalf("run %d: no freshness line for 120 events:\n%s", i+1, o)
		}
		if p50, _ := strconv.ParseFloat(m[1], 64); p50 == 0 {
			t.Errorf("run %d: p50 %s s: events counted before they were read\n%s", i+1, m[1], o)
		}
		// Events are due from 0 to 3 s: those due after the first second.
		s := regexp.MustCompile(`after the first 1s: (\d+) events, p50 [0-9.]+ s, p99 [0-9.]+ s, max [0-9.]+ s`).FindStringSubmatch(o)
		if s == nil {
			t.Fatalf("run %d: no line for the events after the warm-up:\n%s", i+1, o)
		}
		if n, _ := strconv.Atoi(s[1]); n < 40 || n > 100 {
			t.Errorf("run %d: %d events after the first second of 120 over 3 s, want about 80", i+1, n)
		}
		out = o
	}
	m := regexp.MustCompile(`memory: +RSS (\d+) MB at \d+s, (\d+) MB at \d+s; anonymous (\d+) MB, (\d+) MB`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no memory line:\n%s", out)
	}
	for i, what := range []string{"first RSS", "last RSS", "first anonymous", "last anonymous"} {
		if n, _ := strconv.Atoi(m[i+1]); n < 10 {
			t.Errorf("%s: %d MB, want a process's size", what, n)
		}
	}
	lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer lh.Close()
	tbl, err := lh.Load(context.Background(), lakehouse.GoldHourlyStats)
	if err != nil {
		t.Fatalf("--data-dir %s: %v", dir, err)
	}
	if tbl.CurrentSnapshot() == nil {
		t.Errorf("--data-dir %s: gold.hourly_stats has no snapshot", dir)
	}
}

// TestMemoryLine: the first sample reported is the first at one minute or
// later, so that start-up does not count as growth.
func TestMemoryLine(t *testing.T) {
	samples := []memSample{{at: 0, rss: 50 << 20, anonymous: 10 << 20}, {at: 30 * time.Second, rss: 80 << 20, anonymous: 20 << 20},
		{at: 61 * time.Second, rss: 100 << 20, anonymous: 40 << 20}, {at: 5 * time.Minute, rss: 120 << 20, anonymous: 60 << 20}}
	want := "memory:           RSS 100 MB at 1m1s, 120 MB at 5m0s; anonymous 40 MB, 60 MB\n"
	if got := memoryLine(samples); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := memoryLine(samples[:2]); got != "memory:           RSS 50 MB at 0s, 80 MB at 30s; anonymous 10 MB, 20 MB\n" {
		t.Errorf("under a minute: got %q", got)
	}
	if memoryLine(nil) != "" {
		t.Error("no samples: want no line")
	}
}
