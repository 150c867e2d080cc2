package query

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// residentTables lists the copies in ws_resident.
func residentTables(tb testing.TB, e *Engine) int64 {
	tb.Helper()
	return count(tb, e, "duckdb_tables() WHERE database_name = '"+residentCatalog+"'", At{})
}

// currentTables is how many tables of ws_resident the current copy of a
// table reads: its own, and its base's when it is a delta.
func currentTables(e *Engine, name string) int64 {
	e.residents.mu.Lock()
	defer e.residents.mu.Unlock()
	r := e.residents.current[name]
	switch {
	case r == nil:
		return 0
	case r.base != nil:
		return 2
	}
	return 1
}

// The copy holds what the files hold, deletion vectors and schema
// evolution included, and time travel still reads the files.
func TestResidentMatchesIcebergScan(t *testing.T) {
	lh, tbl, steps, _ := sharedFixture(t)
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}})
	if err := e.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := residentTables(t, e); got != 1 {
		t.Errorf("copies after a refresh: got %d, want 1", got)
	}
	want := icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, compared)
	sameRows(t, "current snapshot, resident", sqlRows(t, e, "bronze.raw_events", compared, At{}), want)
	first := steps[0].snapshot.SnapshotID
	sameRows(t, "first snapshot", sqlRows(t, e, "bronze.raw_events", compared, At{Snapshot: first}),
		icebergRows(t, tbl, first, compared))
	if got := residentTables(t, e); got != 1 {
		t.Errorf("copies after time travel: got %d, want 1 (time travel reads the files)", got)
	}
}

// currentCopy is the snapshot of the copy queries of a table read now (0:
// none, they read the files).
func currentCopy(e *Engine, name string) int64 {
	e.residents.mu.Lock()
	defer e.residents.mu.Unlock()
	if r := e.residents.current[name]; r != nil {
		return r.key.snapshotID
	}
	return 0
}

// copiesBuilt is how many copies the refresher has published.
func copiesBuilt(e *Engine) int {
	e.residents.mu.Lock()
	defer e.residents.mu.Unlock()
	return e.residents.built
}

// readSnapshot runs count(*) and returns the rows and the snapshot read.
func readSnapshot(tb testing.TB, e *Engine) (rows, snapshot int64) {
	tb.Helper()
	res, err := e.Query(context.Background(), "SELECT count(*) FROM bronze.raw_events", At{})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Rows[0][0].(int64), res.Snapshots["bronze.raw_events"]
}

// With no background round due (an hour's poll), a commit is read from the
// previous copy, whole and with that copy's snapshot id, until Refresh
// copies it; then from the new copy. The copy of the older snapshot is
// dropped once no session reads it; a table over ResidentMaxBytes is read
// from its files.
func TestResidentFreshness(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resident: []string{"bronze.raw_events"}, ResidentPoll: time.Hour}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, cfg)
	if got := count(t, e, "bronze.raw_events", At{}); got != 0 {
		t.Errorf("empty table: got %d rows, want 0", got)
	}
	var want, prevID int64
	for i, n := range []int{300, 200, 1} {
		tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(n))
		id := tbl.CurrentSnapshot().SnapshotID
		if i > 0 { // a copy exists: it is what queries read until the refresh
			for range 2 * e.nsessions {
				if rows, snap := readSnapshot(t, e); rows != want || snap != prevID {
					t.Fatalf("after appending %d, before the refresh: read %d rows of snapshot %d, want %d of %d (the previous copy)",
						n, rows, snap, want, prevID)
				}
			}
		}
		want += int64(n)
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		// Visit every session, each at least twice.
		for range 2 * e.nsessions {
			if rows, snap := readSnapshot(t, e); rows != want || snap != id {
				t.Fatalf("after appending %d and a refresh: read %d rows of snapshot %d, want %d of %d", n, rows, snap, want, id)
			}
		}
		if err := e.Refresh(ctx); err != nil { // drops the copies nobody reads
			t.Fatal(err)
		}
		if got, want := residentTables(t, e), currentTables(e, "bronze.raw_events"); got != want {
			t.Errorf("after appending %d and reading it from every session: got %d tables, want %d (the current copy's)", n, got, want)
		}
		prevID = id
	}
	if got := copiesBuilt(e); got != 3 {
		t.Errorf("copies built: got %d, want 3 (one per snapshot, shared by the sessions)", got)
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
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 * e.nsessions {
		if got := count(t, e, "bronze.raw_events", At{}); got != want {
			t.Fatalf("after a copy-on-write delete: got %d rows, want %d", got, want)
		}
	}
	if got := count(t, e, "bronze.raw_events WHERE event_type = 'log'", At{}); got != 0 {
		t.Errorf("after deleting the log events: %d remain", got)
	}

	cfg.ResidentMaxBytes = 1
	small := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, cfg)
	if err := small.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, small, "bronze.raw_events", At{}); got != want {
		t.Errorf("over ResidentMaxBytes: got %d rows, want %d", got, want)
	}
	if got := residentTables(t, small); got != 0 {
		t.Errorf("over ResidentMaxBytes: got %d copies, want 0", got)
	}
}

// A commit is copied in the background: no query triggers or waits for
// it, and the next query reads the copy.
func TestResidentBackgroundRefresh(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}, ResidentPoll: 10 * time.Millisecond})
	want := int64(0)
	for i, n := range []int{100, 20} {
		tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(10+i))
		want += int64(n)
		id := tbl.CurrentSnapshot().SnapshotID
		// No query runs until the copy is there.
		for deadline := time.Now().Add(time.Minute); currentCopy(e, "bronze.raw_events") != id; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("commit %d: snapshot %d not copied within a minute without queries (copy holds %d)",
					i+1, id, currentCopy(e, "bronze.raw_events"))
			}
		}
		if built := copiesBuilt(e); built != i+1 {
			t.Errorf("commit %d: copies built: got %d, want %d", i+1, built, i+1)
		}
		if rows, snap := readSnapshot(t, e); rows != want || snap != id {
			t.Errorf("commit %d: read %d rows of snapshot %d, want %d of %d", i+1, rows, snap, want, id)
		}
		if got := e.builds(t); got == 0 {
			t.Error("no session view was built")
		}
	}
}

// Close stops the refresher and waits for it: no goroutine of it is left,
// and Refresh then fails with ErrClosed.
func TestResidentCloseStopsRefresher(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, lh, lakehouse.BronzeRawEvents, 50, 1)
	// Earlier tests' engines are closed, but their refreshers may still be
	// on their way out.
	before := settled(t, refreshLoop, 0)
	e, err := Open(ctx, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}, ResidentPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := running(t, refreshLoop); got != before+1 {
		t.Errorf("refresher goroutines while open: got %d, want %d", got, before+1)
	}
	count(t, e, "bronze.raw_events", At{})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.refreshDone:
	default:
		t.Error("Close returned before the refresher ended")
	}
	if got := settled(t, refreshLoop, before); got != before {
		t.Errorf("refresher goroutines after Close: got %d, want %d", got, before)
	}
	if err := e.Refresh(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close: got %v, want ErrClosed", err)
	}
	// Without resident tables there is no refresher at all.
	plain := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	if got := running(t, refreshLoop); got != before {
		t.Errorf("refresher goroutines of an engine without resident tables: got %d, want %d", got, before)
	}
	if err := plain.Refresh(ctx); err != nil {
		t.Errorf("Refresh without resident tables: %v", err)
	}
}

// Goroutines of the engine's background loops, as they appear in a
// goroutine dump.
const (
	refreshLoop = "query.(*Engine).refreshLoop("
	planLoop    = "query.(*Engine).planLoop("
)

// running counts the goroutines whose stack holds fn.
func running(tb testing.TB, fn string) int {
	tb.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		tb.Fatal(err)
	}
	return strings.Count(b.String(), fn)
}

// settled counts the goroutines running fn until the count is want or ten
// seconds have passed, and returns the last count. A loop's done channel is
// closed by its last deferred call, so its goroutine may still be on its way
// out for a moment after Close.
func settled(tb testing.TB, fn string, want int) int {
	tb.Helper()
	got := running(tb, fn)
	for deadline := time.Now().Add(10 * time.Second); got != want && time.Now().Before(deadline); got = running(tb, fn) {
		time.Sleep(time.Millisecond)
	}
	return got
}

// Queries running while commits land and are copied in the background
// (every millisecond, and when Refresh asks) each read one snapshot whole:
// the count matches the snapshot the result reports.
func TestResidentConcurrentCommits(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}, ResidentPoll: time.Millisecond})
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
		errs = make(chan error, 7)
	)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := e.Refresh(ctx); err != nil {
				errs <- err
				return
			}
		}
	})
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
		tbl = appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(100+i))
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
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, snap := readSnapshot(t, e); got != total || snap != tbl.CurrentSnapshot().SnapshotID {
		t.Errorf("after the commits and a refresh: got %d rows of snapshot %d, want %d of %d",
			got, snap, total, tbl.CurrentSnapshot().SnapshotID)
	}
	if got := copiesBuilt(e); got < 2 {
		t.Errorf("copies built: got %d, want at least 2 (the first snapshot and the last)", got)
	}
}

// Sessions waiting for a query do not keep replaced copies: after commits
// that no query reads, only the current copy is left, and the sessions'
// views read it without a query defining them. (Each session's view
// used to hold the copy of its last query; while gold committed every
// second, the generations they held filled DuckDB's memory.)
func TestIdleSessionsReleaseReplacedCopies(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}, ResidentPoll: time.Hour})
	want := int64(0)
	for i := range 3 {
		appendEvents(t, lh, lakehouse.BronzeRawEvents, 50, uint64(i))
		want += 50
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 * e.nsessions { // every session reads this copy
			if got := count(t, e, "bronze.raw_events", At{}); got != want {
				t.Fatalf("round %d: %d rows, want %d", i, got, want)
			}
		}
	}
	for i := range 3 { // commits no query reads
		appendEvents(t, lh, lakehouse.BronzeRawEvents, 10, uint64(10+i))
		want += 10
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := residentTables(t, e), currentTables(e, "bronze.raw_events"); got != want {
			t.Errorf("after commit %d without queries: %d tables in memory, want %d (the current copy's)", i, got, want)
		}
	}
	// The idle sessions' views were defined again over the current copy
	// after each commit, so their queries define none themselves.
	before := e.builds(t)
	for range 2 * e.nsessions {
		if got := count(t, e, "bronze.raw_events", At{}); got != want {
			t.Fatalf("after the idle commits: %d rows, want %d", got, want)
		}
	}
	if got := e.builds(t) - before; got != 0 {
		t.Errorf("queries after the refresh defined %d views; want 0 (the refresher defines them)", got)
	}
}

// A commit that adds or rewrites a few files of a resident table is
// copied as a delta over the previous whole copy: queries read the same
// rows as iceberg-go's scanner, the replaced deltas are dropped, and a
// commit that rewrites most of the base is copied whole again.
func TestResidentDeltaCopies(t *testing.T) {
	ctx := context.Background()
	lh, tbl := rawEvents(t, 6, 50, 100)
	setProps(t, tbl, iceberg.Properties{table.WriteDeleteModeKey: table.WriteModeCopyOnWrite})
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Resident: []string{"bronze.raw_events"}, ResidentPoll: time.Hour})
	const name = "bronze.raw_events"
	// check refreshes the copy and returns how many tables it reads.
	check := func(step string) int64 {
		t.Helper()
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		tables := currentTables(e, name)
		tbl, err := lh.Load(ctx, lakehouse.BronzeRawEvents)
		if err != nil {
			t.Fatal(err)
		}
		want := icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, compared)
		for range 2 * e.nsessions {
			sameRows(t, step, sqlRows(t, e, name, compared, At{}), want)
		}
		if err := e.Refresh(ctx); err != nil { // drops what nobody reads
			t.Fatal(err)
		}
		if got := residentTables(t, e); got != tables {
			t.Errorf("%s: %d tables in memory, want %d (the current copy's)", step, got, tables)
		}
		return tables
	}
	if got := check("whole copy"); got != 1 {
		t.Fatalf("first copy reads %d tables, want 1", got)
	}
	// deleteOne rewrites the files that may hold one event (copy-on-write).
	deleteOne := func(i int) {
		t.Helper()
		ids := sqlRows(t, e, name, []string{"event_id"}, At{})
		tbl, err := lh.Load(ctx, lakehouse.BronzeRawEvents)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("event_id"), ids[i*37%len(ids)]), nil); err != nil {
			t.Fatal(err)
		}
	}
	deltas := 0
	for i := range 3 { // an append, a rewrite, an append: each a delta
		if i%2 == 0 {
			appendEvents(t, lh, lakehouse.BronzeRawEvents, 10, uint64(200+i))
		} else {
			deleteOne(i)
		}
		if check(fmt.Sprintf("commit %d", i)) == 2 {
			deltas++
		}
	}
	if deltas != 3 {
		t.Errorf("%d of 3 small commits copied as a delta, want all", deltas)
	}
	// Rewriting most of the base's files makes the next copy whole.
	for i := range 8 {
		deleteOne(10 + i)
	}
	if got := check("after rewriting most files"); got != 1 {
		t.Errorf("after rewriting most files the copy reads %d tables, want 1 (copied whole)", got)
	}
}

// currentWindow is the bound of the current copy's window ("" when the
// copy holds the whole table or there is none).
func currentWindow(e *Engine, name string) string {
	e.residents.mu.Lock()
	defer e.residents.mu.Unlock()
	if r := e.residents.current[name]; r != nil && r.older != nil {
		return r.older.where
	}
	return ""
}

// A table over ResidentMaxBytes with a window column keeps its newest
// files in memory: queries read the same rows as iceberg-go's scanner,
// over the whole table and over ranges of the column, and a query within
// the copy's range is planned without reading the older files.
func TestResidentWindow(t *testing.T) {
	ctx := context.Background()
	lh, tbl := rawEvents(t, 3, 2000, 300)
	var total int64
	files, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		total += f.File.FileSizeBytes()
	}
	const name = "bronze.raw_events"
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{Resident: []string{name},
		ResidentWindow: map[string]string{name: "event_timestamp"}, ResidentMaxBytes: total / 3, ResidentPoll: time.Hour})
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	bound := currentWindow(e, name)
	if bound == "" {
		t.Fatalf("a table of %d bytes with a window of %d: no windowed copy", total, total/3)
	}
	t.Logf("window: %s", bound)
	snap := tbl.CurrentSnapshot().SnapshotID
	sameRows(t, "whole table", sqlRows(t, e, name, compared, At{}), icebergRows(t, tbl, snap, compared))
	from, ok := strings.CutPrefix(bound, `"event_timestamp" < `)
	if !ok {
		t.Fatalf("window bound %q: want a bound on event_timestamp", bound)
	}
	recent := func() int64 { return count(t, e, name+" WHERE event_timestamp >= "+from, At{}) }
	inCopy := recent()
	all := count(t, e, name, At{})
	if inCopy == 0 || inCopy >= all {
		t.Fatalf("%d of %d rows at or after the bound: want some, not all", inCopy, all)
	}
	// The same ranges read from the files.
	files0 := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	if want := count(t, files0, name+" WHERE event_timestamp >= "+from, At{}); inCopy != want {
		t.Errorf("rows at or after the bound: got %d, want %d (read from the files)", inCopy, want)
	}
	middle := " WHERE event_timestamp BETWEEN " + from + " - INTERVAL 3 HOUR AND " + from + " + INTERVAL 2 HOUR"
	if got, want := count(t, e, name+middle, At{}), count(t, files0, name+middle, At{}); got != want || got == 0 {
		t.Errorf("rows across the bound: got %d, want %d (read from the files), not 0", got, want)
	}

	// The plans: within the copy's range, no Parquet file is read.
	plan := func(where string) string {
		t.Helper()
		res, err := e.Query(ctx, "EXPLAIN SELECT count(*) FROM "+name+where, At{})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.Rows)
	}
	if p := plan(" WHERE event_timestamp >= " + from); strings.Contains(p, "READ_PARQUET") {
		t.Errorf("a query within the copy's range reads Parquet files:\n%s", p)
	}
	if p := plan(middle); !strings.Contains(p, "READ_PARQUET") {
		t.Errorf("a query reaching before the copy's range reads no Parquet file, so the check above proves nothing:\n%s", p)
	}

	// At.Since at or after the copy's lowest value leaves the older files
	// out of the view: even a query without a filter reads the copy alone
	// (it breaks the promise, so it misses the older rows). Before it, or
	// without it, they are read.
	e.residents.mu.Lock()
	lowest := time.UnixMicro(e.residents.current[name].older.bound.n)
	e.residents.mu.Unlock()
	// The copy's files' record counts: all of the copy from its lowest
	// value on, nothing after its rows; no answer for a range that reaches
	// the older files, or from an engine without the copy.
	far := time.Now().AddDate(100, 0, 0)
	if n, ok := e.CopyRowsWithin(name, lowest, far); !ok || n != inCopy {
		t.Errorf("rows within the copy: %d, %t; want %d (counted), true", n, ok, inCopy)
	}
	if n, ok := e.CopyRowsWithin(name, far, far.Add(time.Hour)); !ok || n != 0 {
		t.Errorf("rows after the copy's: %d, %t; want 0, true", n, ok)
	}
	if n, ok := e.CopyRowsWithin(name, lowest.Add(-time.Microsecond), far); ok {
		t.Errorf("rows of a range reaching the older files: %d, true; want no answer", n)
	}
	if n, ok := files0.CopyRowsWithin(name, lowest, far); ok {
		t.Errorf("rows of a table without a copy: %d, true; want no answer", n)
	}
	for _, tc := range []struct {
		since time.Time
		want  int64
	}{{lowest, inCopy}, {lowest.Add(time.Hour), inCopy}, {lowest.Add(-time.Microsecond), all}, {time.Time{}, all}} {
		for range 2 * e.nsessions { // views switch back and forth
			if got := count(t, e, name, At{Since: tc.since}); got != tc.want {
				t.Fatalf("since %s (the copy from %s): %d rows, want %d", tc.since, lowest, got, tc.want)
			}
			if got := count(t, e, name+" WHERE event_timestamp >= "+from, At{Since: tc.since}); got != inCopy {
				t.Fatalf("since %s, within the copy: %d rows, want %d", tc.since, got, inCopy)
			}
		}
	}
}

// A split of the files is made only where no older file holds a value at
// or above the copy's lowest, and within the bytes.
func TestWindowedSplit(t *testing.T) {
	c := windowColumn{field: iceberg.NestedField{ID: 1, Name: "v", Type: iceberg.PrimitiveTypes.Int64, Required: true}}
	long := func(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
	var col *windowColumn = &c
	plan := func(bounds ...[2]int64) *tablePlan {
		p := &tablePlan{window: col}
		for i, b := range bounds {
			f := fmt.Sprintf("f%d", i)
			db, err := iceberg.NewDataFileBuilder(*iceberg.UnpartitionedSpec, iceberg.EntryContentData, f, iceberg.ParquetFile,
				nil, nil, nil, 1, 10)
			if err != nil {
				t.Fatal(err)
			}
			db.LowerBoundValues(map[int][]byte{1: long(b[0])}).UpperBoundValues(map[int][]byte{1: long(b[1])})
			p.files, p.dataFiles = append(p.files, f), append(p.dataFiles, db.Build())
			p.fileBytes = append(p.fileBytes, 10)
			p.bytes += 10
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		p      *tablePlan
		max    int64
		recent []string
		where  string
	}{
		{"disjoint", plan([2]int64{0, 9}, [2]int64{10, 19}, [2]int64{20, 29}, [2]int64{30, 39}), 20, []string{"f3", "f2"}, `"v" < 20`},
		{"one fits", plan([2]int64{0, 9}, [2]int64{10, 19}, [2]int64{20, 29}), 15, []string{"f2"}, `"v" < 20`},
		{"straddling file", plan([2]int64{0, 25}, [2]int64{10, 19}, [2]int64{20, 29}, [2]int64{30, 39}), 20, []string{"f3"}, `"v" < 30`},
		{"equal lows go together", plan([2]int64{0, 9}, [2]int64{20, 29}, [2]int64{20, 21}, [2]int64{30, 39}), 25, []string{"f3"}, `"v" < 30`},
		{"nothing fits", plan([2]int64{0, 9}, [2]int64{10, 19}), 5, nil, ""},
		{"no split", plan([2]int64{0, 39}, [2]int64{10, 19}, [2]int64{30, 31}), 20, nil, ""},
	} {
		recent, old := tc.p.windowed(tc.max, 0)
		var got []string
		where := ""
		if recent != nil {
			got, where = recent.files, old.where
			if recent.bytes+old.plan.bytes != tc.p.bytes || len(recent.files)+len(old.plan.files) != len(tc.p.files) {
				t.Errorf("%s: the split lost files", tc.name)
			}
		}
		if !slices.Equal(got, tc.recent) || where != tc.where {
			t.Errorf("%s: copy %v where %q, want %v where %q", tc.name, got, where, tc.recent, tc.where)
		}
	}
	// A span: at most that far below the newest value, though more fits.
	col = &windowColumn{field: iceberg.NestedField{ID: 1, Name: "t", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true}}
	hour := func(h int64) [2]int64 { return [2]int64{h * 3600e6, (h+1)*3600e6 - 1} }
	spanned := plan(hour(0), hour(1), hour(2), hour(3), hour(4))
	if recent, old := spanned.windowed(1000, 2*time.Hour); recent == nil || !slices.Equal(recent.files, []string{"f4", "f3"}) ||
		old.where != `"t" < TIMESTAMPTZ '1970-01-01 03:00:00+00'` {
		t.Errorf("two hours' span: got %v", recent)
	}
	if recent, _ := spanned.windowed(1000, 0); recent == nil || len(recent.files) != 4 {
		t.Errorf("no span: got %v, want the four newest files (the bytes allow all but the oldest)", recent)
	}
	col = &c

	tc := plan([2]int64{0, 9}, [2]int64{10, 19})
	db, err := iceberg.NewDataFileBuilder(*iceberg.UnpartitionedSpec, iceberg.EntryContentData, "f0", iceberg.ParquetFile,
		nil, nil, nil, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	tc.dataFiles[0] = db.Build() // no bounds
	if recent, _ := tc.windowed(15, 0); recent != nil {
		t.Error("a file without bounds: split anyway")
	}
}

// A copy that runs out of DuckDB memory is tried again with half the
// bytes of files, every failure halving again, down to the files alone;
// queries read the same rows throughout.
func TestResidentShrinksOnOutOfMemory(t *testing.T) {
	ctx := context.Background()
	lh, tbl := rawEvents(t, 4, 20000, 400)
	const name = "bronze.raw_events"
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{Resident: []string{name},
		ResidentWindow: map[string]string{name: "event_timestamp"}, ResidentMaxBytes: 1 << 40, ResidentPoll: time.Hour,
		// The whole table (4.5 MB of Parquet) takes more than this in memory.
		MemoryLimit: "64MB"})
	want := icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, []string{"event_id"})
	failed, budgets := 0, map[int64]bool{}
	for i := 0; ; i++ {
		err := e.Refresh(ctx)
		sameRows(t, fmt.Sprintf("after refresh %d", i), sqlRows(t, e, name, []string{"event_id"}, At{}), want)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "Out of Memory") || i == 30 {
			t.Fatalf("refresh %d: %v", i, err)
		}
		failed++
		budgets[e.budgets[name]] = true // the refresher is idle: Refresh returned
	}
	if failed == 0 || len(budgets) != failed {
		t.Fatalf("%d copies ran out of memory with %d different budgets; want some, each smaller", failed, len(budgets))
	}
	t.Logf("%d copies ran out of memory; the copy holds %q", failed, currentWindow(e, name))
	// The next refreshes succeed.
	for range 3 {
		if err := e.Refresh(ctx); err != nil {
			t.Fatalf("after shrinking: %v", err)
		}
	}
}

// ResidentOrder sorts a whole copy: scanned without an ORDER BY, the copy
// gives its rows in that order, and the rows are the files' all the same.
func TestResidentOrder(t *testing.T) {
	ctx := context.Background()
	lh, tbl := rawEvents(t, 3, 500, 500)
	const name = "bronze.raw_events"
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{Resident: []string{name},
		ResidentOrder: map[string]string{name: "rc_id DESC"}, ResidentPoll: time.Hour})
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "sorted copy", sqlRows(t, e, name, compared, At{}), icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, compared))
	res, err := e.Query(ctx, "SELECT rc_id FROM "+name+" LIMIT 1000", At{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(res.Rows); i++ {
		if res.Rows[i-1][0].(int64) < res.Rows[i][0].(int64) {
			t.Fatalf("row %d of the copy: rc_id %d after %d; want them in descending order", i, res.Rows[i][0], res.Rows[i-1][0])
		}
	}
	if len(res.Rows) != 1000 {
		t.Fatalf("%d rows, want 1000", len(res.Rows))
	}
}

// rawEvents is a lakehouse with bronze.raw_events holding appends commits
// of n generated events each (seeds from seed on), and the table after the
// last. Each commit writes a file for each of the 48 hours it spans.
func rawEvents(t *testing.T, appends, n int, seed uint64) (*lakehouse.Lakehouse, *table.Table) {
	t.Helper()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(context.Background(), lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	var tbl *table.Table
	for i := range appends {
		tbl = appendEvents(t, lh, lakehouse.BronzeRawEvents, n, seed+uint64(i))
	}
	return lh, tbl
}

// A SinceColumn table's view, for a query made with At.Since, lists only
// the files that reach Since: a query without a filter breaks the promise
// and misses the older days' rows, a query within it reads the same rows
// as without Since, and without Since every file is read. Views of the
// same snapshot with and without the pruning switch back and forth.
func TestSinceColumnLeavesOutOlderFiles(t *testing.T) {
	ctx := context.Background()
	lh, tbl := rawEvents(t, 2, 3000, 500)
	const name = "bronze.raw_events"
	ident := []table.Identifier{lakehouse.BronzeRawEvents}
	files0 := openEngine(t, lh, ident, Config{})
	res, err := files0.Query(ctx, "SELECT DISTINCT event_date FROM "+name+" ORDER BY 1", At{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) < 2 {
		t.Fatalf("the fixture has %d days, want 2 or more", len(res.Rows))
	}
	all := count(t, files0, name, At{})
	for _, col := range []string{"event_date", "event_timestamp"} {
		t.Run(col, func(t *testing.T) {
			e := openEngine(t, lh, ident, Config{SinceColumn: map[string]string{name: col}})
			for _, row := range res.Rows[1:] {
				day := row[0].(string)
				since, err := time.Parse(time.DateOnly, day)
				if err != nil {
					t.Fatal(err)
				}
				within := fmt.Sprintf(" WHERE event_timestamp >= TIMESTAMPTZ '%s'", since.Format(time.RFC3339))
				want := count(t, files0, name+within, At{})
				for range 2 * e.nsessions {
					// Every file of the older days ends before since
					// (event_timestamp) or holds an earlier date.
					if got := count(t, e, name, At{Since: since}); got != want {
						t.Fatalf("since %s, no filter: %d rows, want %d (the days from %s on)", day, got, want, day)
					}
					if got := count(t, e, name+within, At{Since: since}); got != want {
						t.Fatalf("since %s, within: %d rows, want %d", day, got, want)
					}
					if got := count(t, e, name, At{}); got != all {
						t.Fatalf("without since: %d rows, want %d", got, all)
					}
				}
			}
			sameRows(t, "since the first day", sqlRows(t, e, name, compared, At{Since: time.Unix(0, 0)}),
				icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, compared))
		})
	}
	if _, err := Open(ctx, lh, ident, Config{Resident: []string{name}, SinceColumn: map[string]string{name: "event_date"}}); err == nil ||
		!strings.Contains(err.Error(), "since column") {
		t.Errorf("a since column of a resident table: got %v, want an error naming the since column", err)
	}
}

// A query that runs out of DuckDB memory in an engine with in-memory
// copies, which share the memory limit with the queries, runs again once
// the refresher's round is over; once only, and not in an engine without
// copies, where nothing else holds the memory.
func TestQueryOutOfMemoryRunsAgainAfterCopies(t *testing.T) {
	ctx := context.Background()
	lh, _ := rawEvents(t, 1, 200, 200)
	const name = "bronze.raw_events"
	// A hash table of 30M groups in an engine of 64 MB.
	const big = "SELECT count(*) FROM (SELECT range AS k, count(*) AS n FROM range(30000000) GROUP BY k)"
	for _, c := range []struct {
		name     string
		cfg      Config
		attempts int64
	}{
		{"copies", Config{Resident: []string{name}, ResidentPoll: time.Hour, MemoryLimit: "64MB"}, 1},
		{"no copies", Config{MemoryLimit: "64MB"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, c.cfg)
			_, err := e.Query(ctx, big, At{})
			if !outOfMemory(err) {
				t.Fatalf("got %v, want DuckDB's out-of-memory error", err)
			}
			if n := e.retried.Load(); n != c.attempts {
				t.Errorf("ran again %d times, want %d", n, c.attempts)
			}
			if _, err := e.Query(ctx, "SELECT count(*) FROM "+name, At{}); err != nil {
				t.Errorf("a query after it: %v", err)
			}
		})
	}
	if outOfMemory(errors.New("Out of Memory Error: not DuckDB's")) || outOfMemory(nil) {
		t.Error("outOfMemory takes other errors for DuckDB's")
	}
}

// CopyFilesWithin's token: the same while the files reaching a range are,
// another once a commit rewrites one of them, the same for a range the
// commit leaves alone; no answer without a copy or for a range reaching
// the older files.
func TestCopyFilesWithin(t *testing.T) {
	ctx := context.Background()
	lh, tbl := rawEvents(t, 2, 2000, 700)
	const name = "bronze.raw_events"
	ident := []table.Identifier{lakehouse.BronzeRawEvents}
	e := openEngine(t, lh, ident, Config{Resident: []string{name},
		ResidentWindow: map[string]string{name: "event_timestamp"}, ResidentMaxBytes: 1 << 40, ResidentPoll: time.Hour})
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := e.Query(ctx, "SELECT event_date, event_hour, min(event_timestamp), max(event_timestamp) FROM "+name+
		" GROUP BY ALL ORDER BY 1, 2", At{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) < 3 {
		t.Fatalf("the fixture has %d hours, want 3 or more", len(res.Rows))
	}
	type hour struct {
		date     string
		hour     int32
		from, to time.Time
	}
	var hours []hour
	for _, r := range res.Rows {
		hours = append(hours, hour{r[0].(string), r[1].(int32), r[2].(time.Time), r[3].(time.Time)})
	}
	first, last := hours[0], hours[len(hours)-1]
	token := func(from, to time.Time) uint64 {
		t.Helper()
		snap, tok, ok := e.CopyFilesWithin(name, from, to)
		if !ok || snap == 0 {
			t.Fatalf("no token for [%s, %s] (snapshot %d)", from, to, snap)
		}
		return tok
	}
	whole, head, tail := token(first.from, last.to), token(first.from, first.to), token(last.from, last.to)
	if whole == head || head == tail || token(first.from, last.to) != whole {
		t.Fatalf("tokens: whole %x, first hour %x, last hour %x, whole again %x: want the hours' apart and the same range's equal",
			whole, head, tail, token(first.from, last.to))
	}

	// A commit rewriting the last hour's files.
	tx := tbl.NewTransaction()
	empty, err := array.NewRecordReader(must(table.SchemaToArrowSchema(tbl.Schema(), nil, false, false)), nil)
	if err != nil {
		t.Fatal(err)
	}
	filter := iceberg.NewAnd(iceberg.EqualTo(iceberg.Reference("event_date"), last.date),
		iceberg.EqualTo(iceberg.Reference("event_hour"), last.hour))
	if err := tx.Overwrite(ctx, empty, nil, table.WithOverwriteFilter(filter)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := token(first.from, first.to); got != head {
		t.Errorf("the first hour's token changed (%x, was %x) with a commit that rewrote the last hour only", got, head)
	}
	if got := token(first.from, last.to); got == whole {
		t.Errorf("the whole range's token %x did not change with a commit that rewrote its last hour", got)
	}
	if got := token(last.from, last.to); got == tail {
		t.Errorf("the last hour's token %x did not change with a commit that rewrote it", got)
	}
	files0 := openEngine(t, lh, ident, Config{})
	if _, _, ok := files0.CopyFilesWithin(name, first.from, last.to); ok {
		t.Error("a token from an engine without a copy")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
