package lakehouse

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestCommitMetrics: commits are counted by result, with the rows they
// added; a build that finds nothing to commit is not a failure; two
// lakehouses of one process share the metrics.
func TestCommitMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	l := openWith(t, Config{DataDir: dir, Registerer: reg})
	l2 := openWith(t, Config{DataDir: dir, Registerer: reg}) // must not panic
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	appendRows := func(l *Lakehouse, ids ...string) error {
		_, err := l.Commit(ctx, testDef.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			return tx.Append(ctx, rows(ids, "2026-01-01"), nil)
		})
		return err
	}
	if err := appendRows(l, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := appendRows(l2, "c"); err != nil {
		t.Fatal(err)
	}
	_, err := l.Commit(ctx, testDef.Ident, func(context.Context, *table.Table, *table.Transaction) error { return ErrNoChange })
	if !errors.Is(err, ErrNoChange) {
		t.Fatalf("got %v, want ErrNoChange", err)
	}
	boom := errors.New("boom")
	if _, err := l.Commit(ctx, testDef.Ident, func(context.Context, *table.Table, *table.Transaction) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	m := l.metrics
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"ok commits", testutil.ToFloat64(m.commits.WithLabelValues("test.events", "ok")), 2},
		{"failed commits", testutil.ToFloat64(m.commits.WithLabelValues("test.events", "failed")), 1},
		{"rows", testutil.ToFloat64(m.rows.WithLabelValues("test.events")), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.lastCommit.WithLabelValues("test.events")); got <= 0 {
		t.Errorf("last commit timestamp %v, want the time of the last commit", got)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Errorf("%d duration series, want 1", n)
	}
}

// TestCompactionIsNotCountedAsRows: a compaction rewrites rows already
// counted when they were appended; rows_committed_total must not count them
// again.
func TestCompactionIsNotCountedAsRows(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	l := openWith(t, Config{DataDir: t.TempDir(), Registerer: reg})
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		_, err := l.Commit(ctx, testDef.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			return tx.Append(ctx, rows([]string{string(rune('a' + i))}, "2026-01-01"), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg := DefaultMaintainConfig()
	cfg.Tables = []table.Identifier{testDef.Ident}
	m, err := NewMaintainer(l, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := l.Load(ctx, testDef.Ident)
	if err != nil {
		t.Fatal(err)
	}
	if op := tbl.CurrentSnapshot().Summary.Operation; op != table.OpReplace {
		t.Fatalf("last snapshot %s (report %+v): the test needs a compaction", op, rep)
	}
	if got := testutil.ToFloat64(l.metrics.rows.WithLabelValues("test.events")); got != 6 {
		t.Errorf("rows committed %v after compacting 6 appended rows, want 6", got)
	}
}
