package quality_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/quality"
)

// arrivals writes bronze rows arriving in the given hours, spread evenly
// within each.
func arrivals(t *testing.T, lh *lakehouse.Lakehouse, counts map[time.Time]int) {
	t.Helper()
	var rs []map[string]any
	for hour, n := range counts {
		for i := range n {
			at := hour.Add(time.Duration(i) * time.Hour / time.Duration(n))
			rs = append(rs, map[string]any{
				"event_id": newID(fmt.Sprint(hour, i)), "event_type": "edit", "domain": "en.wikipedia.org",
				"event_timestamp": at, "event_date": at.Format(time.DateOnly), "event_hour": int32(at.Hour()),
				"raw_json": "{}", "kafka_topic": "raw-events", "kafka_partition": int32(0), "kafka_offset": int64(len(rs)),
				"ingested_at": at, "bronze_processed_at": at, "schema_version": int32(1),
			})
		}
	}
	if len(rs) > 0 {
		write(t, lh, lakehouse.BronzeRawEvents, rs, nil)
	}
}

// TestVolume: against a day of steady history, a spike or a drop in the
// last complete hour fails; an ordinary hour, a young table, an empty
// table and a table too quiet to judge pass, saying why.
func TestVolume(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	last := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) // the last complete hour
	history := func(hours, base int) map[time.Time]int {
		m := map[time.Time]int{}
		for i := 1; i <= hours; i++ {
			m[last.Add(-time.Duration(i)*time.Hour)] = base + int(float64(base)*0.15*math.Sin(float64(i)))
		}
		return m
	}
	withLast := func(m map[time.Time]int, n int) map[time.Time]int {
		m[last] = n
		m[last.Add(time.Hour)] = n / 2 // the current hour is not judged
		return m
	}
	for _, tc := range []struct {
		name     string
		counts   map[time.Time]int
		status   quality.Status
		observed string
	}{
		{"ordinary hour", withLast(history(30, 1000), 1080), quality.StatusPass, "1080 rows in the hour"},
		{"spike", withLast(history(30, 1000), 6000), quality.StatusFail, "spike: 6000 rows"},
		{"drop", withLast(history(30, 1000), 0), quality.StatusFail, "drop: 0 rows"},
		{"half the usual", withLast(history(30, 1000), 500), quality.StatusFail, "drop: 500 rows"},
		{"young table", withLast(history(6, 1000), 6000), quality.StatusPass, "not enough history"},
		{"empty table", nil, quality.StatusPass, "table is empty"},
		{"too quiet to judge", withLast(history(30, 3), 40), quality.StatusPass, "40 rows in the hour"},
		{"quiet table, real spike", withLast(history(30, 3), 400), quality.StatusFail, "spike: 400 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer lh.Close()
			if _, err := lh.EnsureTable(context.Background(), lakehouse.RawEventsTable); err != nil {
				t.Fatal(err)
			}
			arrivals(t, lh, tc.counts)
			st := stage(t, lh, func(c *quality.Config) {
				c.Now = func() time.Time { return now }
				only(c, "bronze.volume")
			})
			rep := runOnce(t, st)
			r, ok := rep.Result("bronze.volume")
			if !ok {
				t.Fatal("no bronze.volume result")
			}
			if r.Status != tc.status || !strings.Contains(r.Observed, tc.observed) {
				t.Errorf("got %s %q, want %s with %q (%v)", r.Status, r.Observed, tc.status, tc.observed, r.Detail)
			}
		})
	}
}
