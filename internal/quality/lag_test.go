package quality_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/quality"
)

// TestLagIsFreshnessNotLoss: while silver (then gold) has not read the
// newest upstream commits, reconciliation still passes, because it
// compares with the upstream snapshot each stage has read; the lag is what
// the freshness checks measure, and they fail once it exceeds MaxLag.
func TestLagIsFreshnessNotLoss(t *testing.T) {
	p := pipeline(t, events(t))
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Start = 500, 11, time.Now().UTC().Add(-20*time.Minute)
	more, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Bronze(t, more) // silver and gold do not run

	at := func(after time.Duration) func(*quality.Config) {
		return func(c *quality.Config) {
			c.MaxSourceAge = time.Hour // bronze itself stays fresh
			c.Now = func() time.Time { return time.Now().Add(after) }
		}
	}
	check := func(step string, after time.Duration, want ...string) quality.Report {
		t.Helper()
		rep := runOnce(t, stage(t, p.LH, at(after)))
		if got := failing(rep); !slices.Equal(got, want) {
			t.Fatalf("%s, clock +%s: failing %v, want %v:%s", step, after, got, want, describe(rep))
		}
		return rep
	}
	check("bronze ahead of silver", 0)
	r, _ := runOnce(t, stage(t, p.LH, nil)).Result("silver.reconciles_with_bronze")
	if r.Detail["upstream_snapshot"] == r.Detail["upstream_head"] || r.Detail["rows"] != r.Detail["upstream_rows"] {
		t.Errorf("silver.reconciles_with_bronze did not compare with bronze at silver's checkpoint: %v", r.Detail)
	}
	rep := check("bronze ahead of silver", 30*time.Minute, "silver.freshness")
	r, _ = rep.Result("silver.freshness")
	if got := r.Detail["unread_rows"]; got != int64(len(more)) {
		t.Errorf("silver.freshness unread rows %v, want the %d new bronze rows", got, len(more))
	}
	if lag, _ := r.Detail["lag_seconds"].(float64); lag < 30*60 || lag > 35*60 {
		t.Errorf("silver.freshness lag %gs, want about 30 minutes", lag)
	}

	// Maintenance expires the bronze snapshot silver has read: the
	// comparison waits, saying why; the lag is still measured.
	_, err = p.LH.Commit(context.Background(), lakehouse.BronzeRawEvents, func(_ context.Context, _ *table.Table, tx *table.Transaction) error {
		return tx.ExpireSnapshots(table.WithRetainLast(1), table.WithOlderThan(0))
	})
	if err != nil {
		t.Fatal(err)
	}
	rep = check("bronze ahead of silver, its checkpoint expired", 30*time.Minute, "silver.freshness")
	if r, _ := rep.Result("silver.reconciles_with_bronze"); r.Detail["skipped"] == nil || !strings.Contains(r.Observed, "no longer kept") {
		t.Errorf("silver.reconciles_with_bronze with its bronze snapshot expired: %s %v; want a skip saying why", r.Observed, r.Detail)
	}

	p.Silver(t)
	check("silver ahead of gold", 0)
	check("silver ahead of gold", 30*time.Minute, "hourly.freshness", "risk.freshness")

	runGold(t, p)
	check("caught up", 30*time.Minute)
}
