package lakehouse

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"
)

// TestCommitsStartFromTheCache holds the SQL catalogs' own commit path to
// iceberg-go's: commits of a loaded table start from the cached metadata
// (none is handed to iceberg-go's catalog, which would parse the metadata
// file again), the catalog row and the metadata log name the previous
// file, another process reads every commit, and a commit whose catalog row
// moved while it wrote loses the compare-and-swap and is retried on top of
// the other commit instead of replacing it.
func TestCommitsStartFromTheCache(t *testing.T) {
	for name, cfg := range sharedCatalogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := openWith(t, cfg), openWith(t, cfg)
			if _, err := a.EnsureTable(ctx, testDef); err != nil {
				t.Fatal(err)
			}
			appendRows := func(l *Lakehouse, id string) *table.Table { return appendRow(t, l, id) }
			cat := a.cat.(*cachingCatalog)
			appendRows(a, "x0")
			commits, fallback := cat.commits, cat.fallback
			prev, err := a.Load(ctx, testDef.Ident)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 4; i++ {
				out := appendRows(a, fmt.Sprint("x", i))
				var loc, previous sql.NullString
				ns, tbl := key(testDef.Ident)
				q := placeholders(cat.dialect, "SELECT metadata_location, previous_metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?")
				if err := cat.db.QueryRowContext(ctx, q, cat.name, ns, tbl).Scan(&loc, &previous); err != nil {
					t.Fatal(err)
				}
				if loc.String != out.MetadataLocation() || previous.String != prev.MetadataLocation() {
					t.Errorf("commit %d: catalog row names %s after %s, want %s after %s", i, loc.String, previous.String, out.MetadataLocation(), prev.MetadataLocation())
				}
				var logged []string
				for e := range out.Metadata().PreviousFiles() {
					logged = append(logged, e.MetadataFile)
				}
				if !slices.Contains(logged, prev.MetadataLocation()) {
					t.Errorf("commit %d: metadata log %v lacks the previous file %s", i, logged, prev.MetadataLocation())
				}
				if got := metadataVersion(out.MetadataLocation()); got != metadataVersion(prev.MetadataLocation())+1 {
					t.Errorf("commit %d: metadata file %s is version %d, want %d", i, out.MetadataLocation(), got, metadataVersion(prev.MetadataLocation())+1)
				}
				prev = out
			}
			if cat.commits-commits != 4 || cat.fallback != fallback {
				t.Errorf("%d commits from the cache and %d handed to iceberg-go, want 4 and 0", cat.commits-commits, cat.fallback-fallback)
			}
			other, err := b.Load(ctx, testDef.Ident)
			if err != nil {
				t.Fatal(err)
			}
			if other.CurrentSnapshot().SnapshotID != prev.CurrentSnapshot().SnapshotID || count(t, other) != 5 {
				t.Errorf("another process reads snapshot %d with %d rows, want %d with 5", other.CurrentSnapshot().SnapshotID, count(t, other), prev.CurrentSnapshot().SnapshotID)
			}
			if cached, err := a.Load(ctx, testDef.Ident); err != nil {
				t.Fatal(err)
			} else if !cached.Metadata().Equals(other.Metadata()) {
				t.Error("the cached metadata differs from the file it was written to")
			}

			// The racing commit is b's, made without Lakehouse.Commit:
			// its lock is per process, and the two share this one.
			var raced *table.Table
			cat.beforeSwap = func() {
				if raced != nil {
					return
				}
				tbl, err := b.Load(ctx, testDef.Ident)
				if err != nil {
					t.Fatal(err)
				}
				tx := tbl.NewTransaction()
				if err := tx.Append(ctx, rows([]string{"y"}, "2026-01-01"), nil); err != nil {
					t.Fatal(err)
				}
				if raced, err = tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			out := appendRows(a, "x5")
			cat.beforeSwap = nil
			if raced == nil {
				t.Fatal("the racing commit did not run")
			}
			if p := out.CurrentSnapshot().ParentSnapshotID; p == nil || *p != raced.CurrentSnapshot().SnapshotID {
				t.Errorf("the commit that lost the race does not follow the racing commit's snapshot %d", raced.CurrentSnapshot().SnapshotID)
			}
			if n := count(t, out); n != 7 {
				t.Errorf("%d rows after the race, want 7 (one commit replaced the other)", n)
			}
		})
	}
}

// countingAllocator is a Go allocator that counts its buffers still
// reachable: each one's cleanup runs once the garbage collector frees it.
type countingAllocator struct{ live atomic.Int64 }

func (a *countingAllocator) Allocate(size int) []byte {
	b := make([]byte, size)
	if size > 0 {
		a.live.Add(1)
		runtime.AddCleanup(&b[0], func(l *atomic.Int64) { l.Add(-1) }, &a.live)
	}
	return b
}

func (a *countingAllocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	return nb
}

func (a *countingAllocator) Free([]byte) {}

// TestCachedTableKeepsNoRows commits rows built with a counting allocator
// and requires every one of their buffers to be freed while the committed
// table stays cached, after commits from the cache and after one handed to
// iceberg-go's catalog: the metadata exactly as a commit built it kept some
// of them reachable.
func TestCachedTableKeepsNoRows(t *testing.T) {
	ctx := context.Background()
	l := openWith(t, Config{DataDir: t.TempDir()})
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	cat := l.cat.(*cachingCatalog)
	alloc := &countingAllocator{}
	forget := func() {
		cat.mu.Lock()
		clear(cat.tables)
		cat.mu.Unlock()
	}
	commit := func(c int, uncached bool) {
		t.Helper()
		_, err := l.Commit(ctx, testDef.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			if uncached { // as if another process committed since the load
				forget()
			}
			sc := arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.BinaryTypes.String},
				{Name: "day", Type: arrow.BinaryTypes.String},
				{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			}, nil)
			b := array.NewRecordBuilder(alloc, sc)
			defer b.Release()
			for i := range 10000 {
				b.Field(0).(*array.StringBuilder).Append(fmt.Sprint(c, "-", i))
				b.Field(1).(*array.StringBuilder).Append("2026-01-01")
				b.Field(2).(*array.Int64Builder).Append(int64(i))
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
			if err != nil {
				return err
			}
			defer rdr.Release()
			return tx.Append(ctx, rdr, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	freed := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for alloc.live.Load() > 0 && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
		}
		if n := alloc.live.Load(); n > 0 {
			t.Errorf("%s: %d buffers of the committed rows are still reachable while the table is cached", what, n)
		}
	}
	for c := range 3 {
		commit(c, false)
	}
	if cat.commits == 0 {
		t.Fatal("no commit started from the cache")
	}
	freed("commits from the cache")

	fallback := cat.fallback
	commit(3, true)
	if cat.fallback == fallback {
		t.Fatal("the commit after the cache was emptied did not go to iceberg-go's catalog")
	}
	freed("a commit by iceberg-go's catalog")

	tbl, err := l.Load(ctx, testDef.Ident)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, tbl); n != 40000 {
		t.Errorf("%d rows, want 40000", n)
	}
}
