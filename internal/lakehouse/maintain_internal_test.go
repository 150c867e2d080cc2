package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testMaintainer maintains testDef's table only, with no consumers and no
// sort order (the test table has no time column).
func testMaintainer(tb testing.TB, l *Lakehouse, edit func(*MaintainConfig)) *Maintainer {
	tb.Helper()
	cfg := DefaultMaintainConfig()
	cfg.Tables, cfg.Consumers, cfg.Policies = []table.Identifier{testDef.Ident}, nil, nil
	if edit != nil {
		edit(&cfg)
	}
	m, err := NewMaintainer(l, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// appendDays commits n one-row appends into each of the days.
func appendDays(tb testing.TB, l *Lakehouse, n int, days ...string) {
	tb.Helper()
	for i := range n {
		for _, day := range days {
			_, err := l.Commit(context.Background(), testDef.Ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
				return tx.Append(ctx, rows([]string{fmt.Sprintf("%s-%d", day, i)}, day), nil)
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// orphans lists the files under the table's location no metadata
// references, whatever their age.
func orphans(tb testing.TB, l *Lakehouse) []string {
	tb.Helper()
	tbl, err := l.Load(context.Background(), testDef.Ident)
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := tbl.PlanOrphanFiles(context.Background(), table.WithFilesOlderThan(0))
	if err != nil {
		tb.Fatal(err)
	}
	return plan.Files()
}

// TestCompactionLeavesNothingWhenInputsChange: when a writer removes or
// rewrites compaction inputs between the compaction's write and its
// commit, the groups whose inputs changed are dropped, the others are
// committed, and the files written for the dropped ones are deleted.
func TestCompactionLeavesNothingWhenInputsChange(t *testing.T) {
	cases := []struct {
		name string
		// change runs between the compaction's write and its commit.
		change      func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error
		wantInputs  int // compacted
		wantSkipped string
		wantRows    int64
	}{
		{"append", func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			return tx.Append(ctx, rows([]string{"late"}, "2020-01-01"), nil)
		}, 10, "", 11},
		{"one partition rewritten", func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			return tx.Delete(ctx, iceberg.EqualTo(iceberg.Reference("id"), "2020-01-01-3"), nil)
		}, 5, "", 9},
		{"every input deleted", func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			return tx.Delete(ctx, iceberg.AlwaysTrue{}, nil)
		}, 0, "every input changed", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			l := openWith(t, Config{DataDir: t.TempDir()})
			if _, err := l.EnsureTable(ctx, testDef); err != nil {
				t.Fatal(err)
			}
			appendDays(t, l, 5, "2020-01-01", "2020-01-02")
			m := testMaintainer(t, l, nil)
			m.afterWrite = func() {
				if _, err := l.Commit(ctx, testDef.Ident, c.change); err != nil {
					t.Error(err)
				}
			}
			rep, err := m.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tr := rep.Tables[0]
			if tr.FilesCompacted != c.wantInputs || !strings.Contains(tr.CompactionSkipped, c.wantSkipped) {
				t.Errorf("compacted %d files (skipped: %q), want %d (%q)", tr.FilesCompacted, tr.CompactionSkipped, c.wantInputs, c.wantSkipped)
			}
			tbl, err := l.Load(ctx, testDef.Ident)
			if err != nil {
				t.Fatal(err)
			}
			if got := count(t, tbl); got != c.wantRows {
				t.Errorf("%d rows, want %d", got, c.wantRows)
			}
			if o := orphans(t, l); len(o) > 0 {
				t.Errorf("files left behind: %v", o)
			}
		})
	}
}

// TestRetention: the newest KeepSnapshots always stay, then those younger
// than SnapshotMaxAge up to MaxSnapshots, and never fewer than needed to
// reach the newest snapshot carrying each bookkeeping property.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	l := openWith(t, Config{DataDir: t.TempDir()})
	tbl, err := l.EnsureTable(ctx, testDef)
	if err != nil {
		t.Fatal(err)
	}
	// 30 snapshots; the 21st newest is the last carrying offsets.
	for i := range 30 {
		var props iceberg.Properties
		if i < 10 {
			props = iceberg.Properties{SummaryOffsets: Offsets{"t": {0: int64(i + 1)}}.Encode()}
		}
		if tbl, err = tbl.Append(ctx, rows([]string{fmt.Sprint(i)}, "2020-01-01"), props); err != nil {
			t.Fatal(err)
		}
	}
	newest := time.UnixMilli(tbl.CurrentSnapshot().TimestampMs)
	oldest := time.UnixMilli(tbl.Metadata().Snapshots()[0].TimestampMs)
	cases := []struct {
		name   string
		edit   func(*MaintainConfig)
		want   int
		pinned bool
	}{
		{"all young, no cap", func(c *MaintainConfig) { c.MaxSnapshots = 0 }, 30, false},
		{"all young, capped", func(c *MaintainConfig) { c.KeepSnapshots, c.MaxSnapshots = 3, 25 }, 25, false},
		{"all old: the newest KeepSnapshots, and back to the offsets", func(c *MaintainConfig) {
			c.KeepSnapshots, c.SnapshotMaxAge = 3, time.Hour
			c.Now = func() time.Time { return newest.Add(2 * time.Hour) }
		}, 21, true},
		{"KeepSnapshots beyond the offsets", func(c *MaintainConfig) {
			c.KeepSnapshots, c.MaxSnapshots, c.SnapshotMaxAge = 27, 27, time.Hour
			c.Now = func() time.Time { return newest.Add(2 * time.Hour) }
		}, 27, false},
		{"age", func(c *MaintainConfig) {
			c.KeepSnapshots, c.SnapshotMaxAge = 1, time.Hour
			c.Now = func() time.Time { return oldest.Add(time.Hour) } // every snapshot is at most 1h old
		}, 30, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := testMaintainer(t, l, c.edit)
			keep, expired := m.retention(tbl)
			if keep != c.want || len(expired) != 30-c.want {
				t.Errorf("keep %d, expire %d; want keep %d", keep, len(expired), c.want)
			}
		})
	}

	// Expiring for real keeps the offsets readable.
	m := testMaintainer(t, l, func(c *MaintainConfig) {
		c.KeepSnapshots, c.SnapshotMaxAge = 3, time.Hour
		c.Now = func() time.Time { return newest.Add(2 * time.Hour) }
	})
	res, err := m.expireTable(ctx, testDef.Ident)
	if err != nil {
		t.Fatal(err)
	}
	if res.expired != 9 || res.before != 30 {
		t.Errorf("expired %d of %d, want 9 of 30", res.expired, res.before)
	}
	tbl, _ = l.Load(ctx, testDef.Ident)
	off, err := CommittedOffsets(tbl)
	if err != nil || off["t"][0] != 10 {
		t.Errorf("offsets after expiry: %v, %v; want t/0 at 10", off, err)
	}
	if got := count(t, tbl); got != 30 {
		t.Errorf("%d rows after expiry, want 30", got)
	}
}

// TestCommittedOffsetsFailsPastExpiredHistory: when the snapshots carrying
// the offsets were expired by something that does not protect them, the
// walk reports it instead of returning zero offsets (which would make
// bronze consume every topic from the start).
func TestCommittedOffsetsFailsPastExpiredHistory(t *testing.T) {
	ctx := context.Background()
	l := openWith(t, Config{DataDir: t.TempDir()})
	tbl, err := l.EnsureTable(ctx, testDef)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err = tbl.Append(ctx, rows([]string{"a"}, "2020-01-01"), iceberg.Properties{SummaryOffsets: Offsets{"t": {0: 5}}.Encode()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if tbl, err = tbl.Append(ctx, rows([]string{fmt.Sprint(i)}, "2020-01-01"), nil); err != nil {
			t.Fatal(err)
		}
	}
	tx := tbl.NewTransaction()
	if err := tx.ExpireSnapshots(table.WithRetainLast(2), table.WithOlderThan(0)); err != nil {
		t.Fatal(err)
	}
	if tbl, err = tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if off, err := CommittedOffsets(tbl); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("CommittedOffsets = %v, %v; want an error saying the history has expired", off, err)
	}
}

// TestMaintainConfigValidate: each bad setting is refused, naming itself.
func TestMaintainConfigValidate(t *testing.T) {
	cases := []struct {
		edit func(*MaintainConfig)
		want string
	}{
		{func(c *MaintainConfig) { c.Tables = nil }, "no tables"},
		{func(c *MaintainConfig) { c.Interval = 0 }, "maintain interval"},
		{func(c *MaintainConfig) { c.ExpireInterval = -time.Second }, "expire interval"},
		{func(c *MaintainConfig) { c.FirstRunAfter = -time.Second }, "first run after"},
		{func(c *MaintainConfig) { c.TargetFileSize = 1000 }, "target file size"},
		{func(c *MaintainConfig) { c.MinInputFiles = 1 }, "min input files"},
		{func(c *MaintainConfig) { c.SortBufferBytes = 0 }, "sort buffer"},
		{func(c *MaintainConfig) { c.KeepSnapshots = 0 }, "keep snapshots"},
		{func(c *MaintainConfig) { c.SnapshotMaxAge = -time.Hour }, "snapshot max age"},
		{func(c *MaintainConfig) { c.MaxSnapshots = 5 }, "max snapshots"},
		{func(c *MaintainConfig) { c.OrphanAge = time.Minute }, "orphan age"},
		{func(c *MaintainConfig) { c.Policies = map[string]TablePolicy{"raw_events": {}} }, "policy"},
	}
	if err := DefaultMaintainConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range cases {
		cfg := DefaultMaintainConfig()
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error about %s", err, c.want)
		}
	}
}

// TestMaintainerRunAndMetrics: Run maintains at once (FirstRunAfter 0),
// then every Interval, counts what it did on the registry, and returns nil when its
// context ends.
func TestMaintainerRunAndMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	l := openWith(t, Config{DataDir: t.TempDir()})
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	appendDays(t, l, 6, "2020-01-01")
	m := testMaintainer(t, l, func(c *MaintainConfig) {
		c.Registerer = reg
		c.Interval, c.FirstRunAfter, c.ExpireInterval = 50*time.Millisecond, 0, 20*time.Millisecond
		c.KeepSnapshots, c.MaxSnapshots = 2, 2
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(m.metrics.runs.WithLabelValues("ok")) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil when its context ends", err)
	}
	name := Name(testDef.Ident)
	for _, c := range []struct {
		metric string
		got    float64
		want   func(float64) bool
	}{
		{"runs_total{ok}", testutil.ToFloat64(m.metrics.runs.WithLabelValues("ok")), func(v float64) bool { return v >= 2 }},
		{"runs_total{failed}", testutil.ToFloat64(m.metrics.runs.WithLabelValues("failed")), func(v float64) bool { return v == 0 }},
		{"files_compacted_total", testutil.ToFloat64(m.metrics.compacted.WithLabelValues(name)), func(v float64) bool { return v == 6 }},
		{"snapshots_expired_total", testutil.ToFloat64(m.metrics.expired.WithLabelValues(name)), func(v float64) bool { return v == 5 }},
	} {
		if !c.want(c.got) {
			t.Errorf("wikistream_maintain_%s = %v", c.metric, c.got)
		}
	}
	if n := testutil.CollectAndCount(reg, "wikistream_maintain_duration_seconds"); n != 1 {
		t.Errorf("%d duration series, want 1 (one table)", n)
	}
}

// TestMaintainerFirstRunWaits: with FirstRunAfter set, Run does not
// maintain before it; snapshot expiry keeps its own interval meanwhile.
func TestMaintainerFirstRunWaits(t *testing.T) {
	ctx := context.Background()
	l := openWith(t, Config{DataDir: t.TempDir()})
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	appendDays(t, l, 6, "2020-01-01")
	m := testMaintainer(t, l, func(c *MaintainConfig) {
		c.Registerer = prometheus.NewRegistry()
		c.Interval, c.FirstRunAfter, c.ExpireInterval = 50*time.Millisecond, time.Hour, 0
	})
	runCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := m.Run(runCtx); err != nil {
		t.Fatal(err)
	}
	if runs := testutil.ToFloat64(m.metrics.runs.WithLabelValues("ok")); runs != 0 {
		t.Errorf("%v runs within half a second, want none before FirstRunAfter (an hour)", runs)
	}
	if n := testutil.ToFloat64(m.metrics.compacted.WithLabelValues(Name(testDef.Ident))); n != 0 {
		t.Errorf("%v files compacted before the first run", n)
	}
}

// TestMaintainerStoppedRunIsNotAFailure: a run whose context ends (the
// process shuts down) returns the cancellation but is counted neither as
// done nor as failed.
func TestMaintainerStoppedRunIsNotAFailure(t *testing.T) {
	ctx := context.Background()
	l := openWith(t, Config{DataDir: t.TempDir()})
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	m := testMaintainer(t, l, func(c *MaintainConfig) { c.Registerer = prometheus.NewRegistry() })
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.RunOnce(stopped); !errors.Is(err, context.Canceled) {
		t.Fatalf("RunOnce = %v, want the cancellation", err)
	}
	if _, err := m.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if failed, ok := testutil.ToFloat64(m.metrics.runs.WithLabelValues("failed")), testutil.ToFloat64(m.metrics.runs.WithLabelValues("ok")); failed != 0 || ok != 1 {
		t.Errorf("runs_total: failed %v, ok %v; want 0 and 1", failed, ok)
	}
}

// TestSortRecordsDescending: a sort key followed by " DESC" orders its
// column from the highest value, as gold.risk_scores' policy needs (its
// rows by score and edits, the highest first, then by entity), across the
// records of a run.
func TestSortRecordsDescending(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "edits", Type: arrow.PrimitiveTypes.Int64}, {Name: "entity", Type: arrow.BinaryTypes.String}}, nil)
	record := func(scores []float64, edits []int64, entities []string) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		b.Field(0).(*array.Float64Builder).AppendValues(scores, nil)
		b.Field(1).(*array.Int64Builder).AppendValues(edits, nil)
		b.Field(2).(*array.StringBuilder).AppendValues(entities, nil)
		return b.NewRecordBatch()
	}
	recs := []arrow.RecordBatch{
		record([]float64{0, 20, 70}, []int64{5, 1, 2}, []string{"a", "b", "c"}),
		record([]float64{20, 20, 0}, []int64{1, 3, 9}, []string{"a", "d", "e"}),
	}
	sorted, err := sortRecords(context.Background(), recs, []string{"score DESC", "edits DESC", "entity"})
	if err != nil {
		t.Fatal(err)
	}
	defer sorted.Release()
	var got []string
	for i := range int(sorted.NumRows()) {
		got = append(got, fmt.Sprintf("%g/%d/%s", sorted.Column(0).(*array.Float64).Value(i),
			sorted.Column(1).(*array.Int64).Value(i), sorted.Column(2).(*array.String).Value(i)))
	}
	want := []string{"70/2/c", "20/3/d", "20/1/a", "20/1/b", "0/9/e", "0/5/a"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sorted %v, want %v", got, want)
	}
	if _, err := sortRecords(context.Background(), []arrow.RecordBatch{record([]float64{1}, []int64{1}, []string{"a"})},
		[]string{"score ASC"}); err == nil || !strings.Contains(err.Error(), "no column score ASC") {
		t.Errorf("an unknown sort key: got %v, want an error naming it", err)
	}
}
