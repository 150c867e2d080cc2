package lakehouse

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// BenchmarkCommitAppend measures one small append with offsets in its
// summary, as a streaming stage commits every second, on a table whose
// history already holds the given number of snapshots: what grows with
// the history is the metadata each commit reads and writes.
func BenchmarkCommitAppend(b *testing.B) {
	for _, history := range []int{10, 500} {
		b.Run(fmt.Sprintf("snapshots=%d", history), func(b *testing.B) {
			ctx := context.Background()
			l := openWith(b, Config{DataDir: b.TempDir()})
			if _, err := l.EnsureTable(ctx, testDef); err != nil {
				b.Fatal(err)
			}
			n := 0
			commit := func() {
				n++
				_, err := l.Commit(ctx, testDef.Ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
					off, err := CommittedOffsets(tbl)
					if err != nil {
						return err
					}
					off.Merge(Offsets{"raw-events": {0: int64(n), 1: int64(n), 2: int64(n)}})
					return tx.Append(ctx, rows([]string{fmt.Sprint("r", n)}, "2026-01-01"),
						iceberg.Properties{SummaryOffsets: off.Encode()})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			for range history {
				commit()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				commit()
			}
		})
	}
}

// BenchmarkPlanAfterAppends plans a scan of a table after 600 one-file
// appends, as a streaming table's open partition holds them until it is
// compacted, with Iceberg's manifest merging off (a manifest per append,
// each read by every plan) and on (the tables' setting).
func BenchmarkPlanAfterAppends(b *testing.B) {
	for _, merge := range []string{"false", "true"} {
		b.Run("merge="+merge, func(b *testing.B) {
			ctx := context.Background()
			l := openWith(b, Config{DataDir: b.TempDir()})
			def := testDef
			def.Props = iceberg.Properties{table.ManifestMergeEnabledKey: merge}
			if _, err := l.EnsureTable(ctx, def); err != nil {
				b.Fatal(err)
			}
			const appends = 600
			for i := range appends {
				_, err := l.Commit(ctx, def.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
					return tx.Append(ctx, rows([]string{fmt.Sprint("r", i)}, "2026-01-01"), nil)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			tbl, err := l.Load(ctx, def.Ident)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				tasks, err := tbl.Scan().PlanFiles(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(tasks) != appends {
					b.Fatalf("%d files planned, want %d", len(tasks), appends)
				}
			}
		})
	}
}

// BenchmarkEnsureTable is what a stage pays on every run to check that its
// table has every column and property (silver's table, unchanged).
func BenchmarkEnsureTable(b *testing.B) {
	ctx := context.Background()
	l := openWith(b, Config{DataDir: b.TempDir()})
	if _, err := l.EnsureTable(ctx, CleanedEventsTable); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.EnsureTable(ctx, CleanedEventsTable); err != nil {
			b.Fatal(err)
		}
	}
}
