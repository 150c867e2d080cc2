package query

import (
	"context"
	"sync"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// residentTables lists the copies in ws_resident.
func residentTables(tb testing.TB, e *Engine) int64 {
	tb.Helper()
	return count(tb, e, "duckdb_tables() WHERE database_name = '"+residentCatalog+"'", At{})
}

// The copy holds what the files hold, deletion vectors and schema
// evolution included, and time travel still reads the files.
func TestResidentMatchesIcebergScan(t *testing.T) {
	lh, tbl, steps, _ := sharedFixture(t)
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}})
	want := icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, compared)
	sameRows(t, "current snapshot, resident", sqlRows(t, e, "bronze.raw_events", compared, At{}), want)
	if got := residentTables(t, e); got != 1 {
		t.Errorf("copies after reading the current snapshot: got %d, want 1", got)
	}
	first := steps[0].snapshot.SnapshotID
	sameRows(t, "first snapshot", sqlRows(t, e, "bronze.raw_events", compared, At{Snapshot: first}),
		icebergRows(t, tbl, first, compared))
	if got := residentTables(t, e); got != 1 {
		t.Errorf("copies after time travel: got %d, want 1 (time travel reads the files)", got)
	}
}

// A commit between two queries is visible in the second; the copy of the
// older snapshot is dropped once no session reads it; a table over
// ResidentMaxBytes is read from its files.
func TestResidentFreshness(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{Resident: []string{"bronze.raw_events"}})
	if got := count(t, e, "bronze.raw_events", At{}); got != 0 {
		t.Errorf("empty table: got %d rows, want 0", got)
	}
	want := int64(0)
	for _, n := range []int{300, 200, 1} {
		old := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(n))
		want += int64(n)
		// Visit every session, each at least twice.
		for range 2 * e.nsessions {
			res, err := e.Query(ctx, "SELECT count(*) FROM bronze.raw_events", At{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Rows[0][0].(int64); got != want {
				t.Fatalf("after appending %d: got %d rows, want %d", n, got, want)
			}
			if got, wantID := res.Snapshots["bronze.raw_events"], old.CurrentSnapshot().SnapshotID; got != wantID {
				t.Errorf("after appending %d: read snapshot %d, want %d", n, got, wantID)
			}
		}
		if got := residentTables(t, e); got != 1 {
			t.Errorf("after appending %d and reading it from every session: got %d copies, want 1", n, got)
		}
	}
	if e.residents.built != 3 {
		t.Errorf("copies built: got %d, want 3 (one per snapshot, shared by the sessions)", e.residents.built)
	}

	// A copy-on-write delete rewrites files: the next copy (built from
	// this one) must leave out the rows of the files it replaced.
	tbl, err := lh.Load(ctx, lakehouse.BronzeRawEvents)
	if err != nil {
		t.Fatal(err)
	}
	tbl = setProps(t, tbl, iceberg.Properties{table.WriteDeleteModeKey: table.WriteModeCopyOnWrite})
	logs := count(t, e, "bronze.raw_events WHERE event_type = 'log'", At{})
	if logs == 0 {
		t.Fatal("no log events; the delete below would prove nothing")
	}
	if _, err := tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("event_type"), "log"), nil); err != nil {
		t.Fatal(err)
	}
	want -= logs
	for range 2 * e.nsessions {
		if got := count(t, e, "bronze.raw_events", At{}); got != want {
			t.Fatalf("after a copy-on-write delete: got %d rows, want %d", got, want)
		}
	}
	if got := count(t, e, "bronze.raw_events WHERE event_type = 'log'", At{}); got != 0 {
		t.Errorf("after deleting the log events: %d remain", got)
	}

	small := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}, ResidentMaxBytes: 1})
	if got := count(t, small, "bronze.raw_events", At{}); got != want {
		t.Errorf("over ResidentMaxBytes: got %d rows, want %d", got, want)
	}
	if got := residentTables(t, small); got != 0 {
		t.Errorf("over ResidentMaxBytes: got %d copies, want 0", got)
	}
}

// Queries running while commits land each read one snapshot whole: the
// count matches the snapshot the result reports.
func TestResidentConcurrentCommits(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{Resident: []string{"bronze.raw_events"}})
	rows := map[int64]int64{} // snapshot id → rows
	tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, 50, 1)
	total := int64(50)
	rows[tbl.CurrentSnapshot().SnapshotID] = total

	type seen struct{ snapshot, rows int64 }
	var (
		mu   sync.Mutex
		obs  []seen
		wg   sync.WaitGroup
		stop = make(chan struct{})
		errs = make(chan error, 6)
	)
	for range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := e.Query(ctx, "SELECT count(*) FROM bronze.raw_events", At{})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				obs = append(obs, seen{res.Snapshots["bronze.raw_events"], res.Rows[0][0].(int64)})
				mu.Unlock()
			}
		})
	}
	for i := range 5 {
		n := 10 * (i + 1)
		tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(100+i))
		total += int64(n)
		rows[tbl.CurrentSnapshot().SnapshotID] = total
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	snapshots := map[int64]bool{}
	for _, o := range obs {
		snapshots[o.snapshot] = true
		if want, ok := rows[o.snapshot]; !ok || o.rows != want {
			t.Errorf("snapshot %d: got %d rows, want %d (a snapshot of the table: %v)", o.snapshot, o.rows, want, ok)
		}
	}
	if len(snapshots) < 2 {
		t.Logf("the queries saw %d snapshot(s); the commits landed between queries only", len(snapshots))
	}
	if got := count(t, e, "bronze.raw_events", At{}); got != total {
		t.Errorf("after the commits: got %d rows, want %d", got, total)
	}
}
