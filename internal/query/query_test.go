package query

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

func TestQueryMatchesIcebergScan(t *testing.T) {
	_, tbl, steps, e := sharedFixture(t)
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			id := s.snapshot.SnapshotID
			want := icebergRows(t, tbl, id, compared)
			if len(want) == 0 {
				t.Fatal("iceberg-go reads no rows; the comparison would prove nothing")
			}
			at := At{Snapshot: id}
			got := sqlRows(t, e, "bronze.raw_events", compared, at)
			sameRows(t, fmt.Sprintf("snapshot %d", id), got, want)
			if got, want := count(t, e, "bronze.raw_events", at), int64(len(want)); got != want {
				t.Errorf("count(*): got %d, want %d", got, want)
			}
			if i == len(steps)-1 { // the current state, unpinned
				sameRows(t, "current snapshot", sqlRows(t, e, "bronze.raw_events", compared, At{}), want)
			}
		})
	}

	// Independent of iceberg-go: what each delete removed is gone.
	de := "bronze.raw_events WHERE domain = 'de.wikipedia.org'"
	logs := "bronze.raw_events WHERE event_type = 'log'"
	for _, c := range []struct {
		step     int
		from     string
		wantZero bool
	}{
		{1, de, false},
		{2, de, true},
		{2, logs, false},
		{3, logs, true},
	} {
		n := count(t, e, c.from, At{Snapshot: steps[c.step].snapshot.SnapshotID})
		if (n == 0) != c.wantZero {
			t.Errorf("%s at %q: got %d rows, want zero: %v", c.from, steps[c.step].name, n, c.wantZero)
		}
	}
}

func TestAddedColumnIsNullInOlderFiles(t *testing.T) {
	_, _, steps, e := sharedFixture(t)
	res, err := e.Query(context.Background(),
		"SELECT count(*) FILTER (WHERE ores_damaging IS NULL), count(ores_damaging) FROM bronze.raw_events", At{})
	if err != nil {
		t.Fatal(err)
	}
	before := count(t, e, "bronze.raw_events", At{Snapshot: steps[3].snapshot.SnapshotID})
	if got := res.Rows[0][0].(int64); got != before {
		t.Errorf("rows with NULL ores_damaging: got %d, want %d (every row of the older files)", got, before)
	}
	if got := res.Rows[0][1].(int64); got != 500 {
		t.Errorf("rows with ores_damaging: got %d, want 500 (the rows appended after the column was added)", got)
	}
	// Before the column existed, the table is read with that snapshot's schema.
	_, err = e.Query(context.Background(), "SELECT ores_damaging FROM bronze.raw_events", At{Snapshot: steps[0].snapshot.SnapshotID})
	if err == nil || !strings.Contains(err.Error(), "ores_damaging") {
		t.Errorf("ores_damaging at the first snapshot: got error %v, want one naming the missing column", err)
	}
}

func TestTimeTravel(t *testing.T) {
	_, tbl, steps, e := sharedFixture(t)
	first, second := steps[0].snapshot, steps[1].snapshot
	rows := func(s *table.Snapshot) int64 {
		return int64(len(icebergRows(t, tbl, s.SnapshotID, []string{"event_id"})))
	}
	between := time.UnixMilli((first.TimestampMs + second.TimestampMs) / 2)
	if between.UnixMilli() == first.TimestampMs {
		t.Fatalf("commits %d ms apart; want a gap to travel into", second.TimestampMs-first.TimestampMs)
	}
	for _, c := range []struct {
		name    string
		at      At
		want    int64
		wantErr string
	}{
		{name: "snapshot id of the first commit", at: At{Snapshot: first.SnapshotID}, want: rows(first)},
		{name: "snapshot id of the second commit", at: At{Snapshot: second.SnapshotID}, want: rows(second)},
		{name: "as of the first commit", at: At{AsOf: time.UnixMilli(first.TimestampMs)}, want: rows(first)},
		{name: "as of between the commits", at: At{AsOf: between}, want: rows(first)},
		{name: "as of now", at: At{AsOf: time.Now()}, want: rows(steps[len(steps)-1].snapshot)},
		{name: "before the first commit", at: At{AsOf: time.UnixMilli(first.TimestampMs - 1)},
			wantErr: "bronze.raw_events had no snapshot as of"},
		{name: "unknown snapshot id", at: At{Snapshot: 1234567}, wantErr: "snapshot 1234567 is not a snapshot of any table"},
		{name: "both set", at: At{Snapshot: first.SnapshotID, AsOf: time.Now()}, wantErr: "not both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := e.Query(context.Background(), "SELECT count(*) FROM bronze.raw_events", c.at)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Rows[0][0].(int64); got != c.want {
				t.Errorf("count: got %d, want %d", got, c.want)
			}
		})
	}
	if first.SnapshotID == second.SnapshotID || rows(first) == rows(second) {
		t.Fatal("the commits are indistinguishable; the cases above prove nothing")
	}
}

func TestSnapshotsReported(t *testing.T) {
	_, tbl, steps, e := sharedFixture(t)
	for _, c := range []struct {
		at   At
		want int64
	}{
		{At{}, tbl.CurrentSnapshot().SnapshotID},
		{At{Snapshot: steps[0].snapshot.SnapshotID}, steps[0].snapshot.SnapshotID},
	} {
		res, err := e.Query(context.Background(), "SELECT 1", c.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Snapshots["bronze.raw_events"]; got != c.want {
			t.Errorf("at %+v: Snapshots[bronze.raw_events] = %d, want %d", c.at, got, c.want)
		}
		if _, ok := res.Snapshots["bronze.dlq_events"]; ok {
			t.Errorf("at %+v: Snapshots has bronze.dlq_events, which does not exist", c.at)
		}
	}
}

// builds is the number of view (re)builds of all sessions.
func (e *Engine) builds(tb testing.TB) int {
	tb.Helper()
	var all []*session
	for range e.nsessions {
		all = append(all, <-e.idle)
	}
	n := 0
	for _, s := range all {
		n += s.builds
		e.idle <- s
	}
	return n
}

func TestFreshnessAndViewReuse(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents, lakehouse.BronzeDLQEvents}, Config{})

	// An empty table is typed and queryable.
	res, err := e.Query(ctx, "SELECT * FROM bronze.raw_events", At{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 0 {
		t.Errorf("empty table: got %d rows, want 0", len(res.Rows))
	}
	var wantCols []string
	for _, f := range lakehouse.RawEventsTable.Fields {
		wantCols = append(wantCols, f.Name)
	}
	if !slices.Equal(res.Columns, wantCols) {
		t.Errorf("empty table columns: got %v, want %v", res.Columns, wantCols)
	}
	for col, want := range map[int]string{0: "VARCHAR", 1: "BIGINT", 5: "INTEGER", 11: "BOOLEAN", 36: "TIMESTAMPTZ"} {
		if res.Types[col] != want {
			t.Errorf("empty table column %s: got type %s, want %s", res.Columns[col], res.Types[col], want)
		}
	}

	// A table that does not exist yet is not defined, with a clear error...
	_, err = e.Query(ctx, "SELECT count(*) FROM bronze.dlq_events", At{})
	if err == nil || !strings.Contains(err.Error(), "bronze.dlq_events does not exist yet") {
		t.Errorf("missing table: got error %v, want one saying bronze.dlq_events does not exist yet", err)
	}
	// ...and appears once created.
	if _, err := lh.EnsureTable(ctx, lakehouse.DLQEventsTable); err != nil {
		t.Fatal(err)
	}
	if got := count(t, e, "bronze.dlq_events", At{}); got != 0 {
		t.Errorf("new dlq table: got %d rows, want 0", got)
	}

	want := int64(0)
	for _, n := range []int{300, 200, 1} {
		tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(n))
		want += int64(n)
		res, err := e.Query(ctx, "SELECT count(*) FROM bronze.raw_events", At{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rows[0][0].(int64); got != want {
			t.Errorf("after appending %d: got %d rows, want %d", n, got, want)
		}
		if got, wantID := res.Snapshots["bronze.raw_events"], tbl.CurrentSnapshot().SnapshotID; got != wantID {
			t.Errorf("after appending %d: read snapshot %d, want the new one %d", n, got, wantID)
		}
	}

	// Unchanged snapshots reuse the views: run enough queries to visit
	// every session twice, and count the rebuilds.
	for range e.nsessions {
		count(t, e, "bronze.raw_events", At{})
	}
	before := e.builds(t)
	for range 2 * e.nsessions {
		count(t, e, "bronze.raw_events", At{})
	}
	if got := e.builds(t); got != before {
		t.Errorf("views rebuilt %d times without a new commit; want 0", got-before)
	}
	appendEvents(t, lh, lakehouse.BronzeRawEvents, 10, 99)
	for range 2 * e.nsessions {
		count(t, e, "bronze.raw_events", At{})
	}
	if got := e.builds(t) - before; got != e.nsessions {
		t.Errorf("after one commit, views rebuilt %d times; want %d (once per session)", got, e.nsessions)
	}
}

func TestConcurrentQueriesReadTheirOwnSnapshots(t *testing.T) {
	_, tbl, steps, e := sharedFixture(t)
	ats := []At{{}, {Snapshot: steps[0].snapshot.SnapshotID}, {Snapshot: steps[2].snapshot.SnapshotID}}
	want := make([]int64, len(ats))
	for i, at := range ats {
		id := at.Snapshot
		if id == 0 {
			id = tbl.CurrentSnapshot().SnapshotID
		}
		want[i] = int64(len(icebergRows(t, tbl, id, []string{"event_id"})))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for g := range 24 {
		wg.Go(func() {
			i := g % len(ats)
			res, err := e.Query(context.Background(), "SELECT count(*) FROM bronze.raw_events", ats[i])
			if err != nil {
				errs <- err
				return
			}
			if got := res.Rows[0][0].(int64); got != want[i] {
				errs <- fmt.Errorf("at %+v: got %d rows, want %d", ats[i], got, want[i])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPositionalDeleteFiles(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	ident := table.Identifier{"legacy", "events"}
	if err := lh.Catalog().CreateNamespace(ctx, table.Identifier{"legacy"}, nil); err != nil {
		t.Fatal(err)
	}
	spec, err := lakehouse.RawEventsTable.Spec()
	if err != nil {
		t.Fatal(err)
	}
	_, err = lh.Catalog().CreateTable(ctx, ident, lakehouse.RawEventsTable.Schema(),
		catalog.WithPartitionSpec(&spec),
		catalog.WithProperties(iceberg.Properties{
			table.PropertyFormatVersion: "2",
			table.WriteDeleteModeKey:    table.WriteModeMergeOnRead,
		}))
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, lh, ident, 1500, 7)
	tbl, err := lh.Load(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err = tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("domain"), "en.wikipedia.org"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := countDeleteFiles(t, tbl, iceberg.ParquetFile); n == 0 {
		t.Fatal("the v2 merge-on-read delete wrote no positional delete files; the test would prove nothing")
	}
	e := openEngine(t, lh, []table.Identifier{ident}, Config{})
	want := icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, compared)
	sameRows(t, "after positional deletes", sqlRows(t, e, "legacy.events", compared, At{}), want)
	if n := count(t, e, "legacy.events WHERE domain = 'en.wikipedia.org'", At{}); n != 0 {
		t.Errorf("deleted domain: got %d rows, want 0", n)
	}
}

func TestEqualityDeletesAreRefused(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	def := lakehouse.TableDef{
		Ident:   table.Identifier{"test", "keyed"},
		Version: 1,
		Fields: []iceberg.NestedField{
			{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.String, Required: true},
			{ID: 2, Name: "n", Type: iceberg.PrimitiveTypes.Int64},
		},
	}
	tbl, err := lh.EnsureTable(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b", "c"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	if tbl, err = tbl.AppendTable(ctx, array.NewTableFromRecords(sc, []arrow.RecordBatch{rec}), 10, nil); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{def.Ident}, Config{})
	if got := count(t, e, "test.keyed", At{}); got != 3 {
		t.Fatalf("before the delete: got %d rows, want 3", got)
	}

	ksc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, nil)
	kb := array.NewRecordBuilder(memory.DefaultAllocator, ksc)
	defer kb.Release()
	kb.Field(0).(*array.StringBuilder).Append("b")
	krec := kb.NewRecordBatch()
	defer krec.Release()
	tx := tbl.NewTransaction()
	if err := tx.CommitEqualityDeletes(ctx, []int{1}, func(yield func(arrow.RecordBatch, error) bool) { yield(krec, nil) }, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = e.Query(ctx, "SELECT count(*) FROM test.keyed", At{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "equality delete") {
		t.Errorf("got error %v, want ErrUnsupported naming equality deletes", err)
	}
}

func TestOpenRefusesObjectStoreWarehouse(t *testing.T) {
	lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: t.TempDir(), Warehouse: "s3://bucket/warehouse"})
	if err != nil {
		t.Fatal(err)
	}
	defer lh.Close()
	_, err = Open(context.Background(), lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	for _, want := range []string{"cannot read warehouse s3://bucket/warehouse", "Trino"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got error %v, want one containing %q", err, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg     Config
		wantErr string
	}{
		{DefaultConfig(), ""},
		{Config{}, ""},
		{Config{MemoryLimit: "1.5GiB"}, ""},
		{Config{MemoryLimit: "lots"}, "memory limit"},
		{Config{MemoryLimit: "512MB'; SET x=1"}, "memory limit"},
		{Config{Threads: -1}, "threads"},
		{Config{Timeout: -time.Second}, "timeout"},
		{Config{MaxRows: -5}, "max rows"},
	} {
		err := c.cfg.Validate()
		if (err == nil) != (c.wantErr == "") || err != nil && !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("Validate(%+v): got %v, want error containing %q", c.cfg, err, c.wantErr)
		}
	}
	if got := (Config{}).withDefaults(); !reflect.DeepEqual(got, DefaultConfig()) {
		t.Errorf("zero config with defaults: got %+v, want %+v", got, DefaultConfig())
	}
}

func TestDuckDBType(t *testing.T) {
	for _, c := range []struct {
		typ     iceberg.Type
		want    string
		wantErr bool
	}{
		{iceberg.PrimitiveTypes.String, "VARCHAR", false},
		{iceberg.PrimitiveTypes.TimestampTz, "TIMESTAMPTZ", false},
		{iceberg.PrimitiveTypes.Date, "DATE", false},
		{iceberg.DecimalTypeOf(18, 3), "DECIMAL(18,3)", false},
		{iceberg.FixedTypeOf(16), "BLOB", false},
		{&iceberg.ListType{ElementID: 2, Element: iceberg.PrimitiveTypes.Int64}, "BIGINT[]", false},
		{&iceberg.MapType{KeyID: 2, KeyType: iceberg.PrimitiveTypes.String, ValueID: 3, ValueType: iceberg.PrimitiveTypes.Bool}, "MAP(VARCHAR, BOOLEAN)", false},
		{&iceberg.StructType{FieldList: []iceberg.NestedField{{ID: 2, Name: "a b", Type: iceberg.PrimitiveTypes.Int32}}}, `STRUCT("a b" INTEGER)`, false},
		{iceberg.VariantType{}, "", true},
	} {
		got, err := duckdbType(c.typ)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("duckdbType(%s): got %q, %v; want %q, error %v", c.typ, got, err, c.want, c.wantErr)
		}
	}
}

func TestSandboxedFiles(t *testing.T) {
	// The lakehouse keeps its catalog next to, not in, the warehouse.
	lh, _, _, e := sharedFixture(t)
	catalogDB := filepath.Join(filepath.Dir(strings.TrimSuffix(localPath(lh.Warehouse()), "/")), "catalog.db")
	if _, err := os.Stat(catalogDB); err != nil {
		t.Fatalf("catalog file: %v", err)
	}
	for _, q := range []string{
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM read_parquet('/etc/ssl/nothing.parquet')",
		"SELECT * FROM read_text('/etc/hostname')",
		"SELECT * FROM read_blob(" + quoteString(catalogDB) + ")",
		"SELECT * FROM glob('/etc/*')",
		"SELECT * FROM read_json_auto('/proc/self/environ')",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := e.Query(context.Background(), q, At{})
			if err == nil || !strings.Contains(err.Error(), "Permission Error") {
				t.Errorf("got error %v, want DuckDB's Permission Error", err)
			}
		})
	}
	// The warehouse itself stays readable.
	res, err := e.Query(context.Background(), "SELECT count(*) FROM glob("+quoteString(filepath.Join(localPath(lh.Warehouse()), "**", "*.parquet"))+")", At{})
	if err != nil {
		t.Fatalf("glob inside the warehouse: %v", err)
	}
	if n := res.Rows[0][0].(int64); n == 0 {
		t.Errorf("glob inside the warehouse: got %d files, want some", n)
	}
}

// BenchmarkQueryCount: count(*) with a filter over 3000 events. They fall
// into 48 (date, hour) partitions, so DuckDB opens 48 small files per query;
// that, not the Iceberg resolution, dominates.
func BenchmarkQueryCount(b *testing.B) {
	ctx := context.Background()
	lh := openLakehouse(b)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		b.Fatal(err)
	}
	appendEvents(b, lh, lakehouse.BronzeRawEvents, 3000, 1)
	e := openEngine(b, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	const q = "SELECT count(*) FROM bronze.raw_events WHERE domain = 'en.wikipedia.org' AND event_hour BETWEEN 6 AND 17"
	for b.Loop() {
		if _, err := e.Query(ctx, q, At{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenamedColumnKeepsItsData(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, 200, 5)
	want := icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, []string{"event_id", "user"})
	tx := tbl.NewTransaction()
	if err := tx.UpdateSchema(true, false).RenameColumn([]string{"user"}, "user_name").Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	// Files written before the rename still call the column "user"; the
	// field id ties them together.
	sameRows(t, "after renaming user to user_name", sqlRows(t, e, "bronze.raw_events", []string{"event_id", "user_name"}, At{}), want)
}

// A statement run again is not parsed again; a refused one is refused
// every time.
func TestRepeatedStatementsAreParsedOnce(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, lh, lakehouse.BronzeRawEvents, 100, 1)
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	want := int64(100)
	for i := range 3 {
		if i == 2 {
			appendEvents(t, lh, lakehouse.BronzeRawEvents, 20, 2)
			want += 20
		}
		for range 2 * e.nsessions {
			if got := count(t, e, "bronze.raw_events WHERE event_type <> 'nothing'", At{}); got != want {
				t.Fatalf("round %d: %d rows, want %d", i, got, want)
			}
		}
	}
	if got := e.checks.parses; got != 1 {
		t.Errorf("statement parsed %d times, want once", got)
	}
	for range 2 {
		if _, err := e.Query(ctx, "DELETE FROM bronze.raw_events", At{}); !errors.Is(err, ErrReadOnly) {
			t.Errorf("a write: %v, want ErrReadOnly", err)
		}
	}
}

// TestFilesReadAreNotCached holds the engine to reading the warehouse's
// files without keeping them: DuckDB's Parquet metadata and external file
// caches keep what they read until the memory limit, so a long-running
// process whose tables get new files every second grew without bound
// (docs/PERFORMANCE.md, session 11).
func TestFilesReadAreNotCached(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	var want int64
	for i := range 4 {
		appendEvents(t, lh, lakehouse.BronzeRawEvents, 500, uint64(i+1))
		want += 500
		if got := count(t, e, "bronze.raw_events WHERE length(raw_json) > 0", At{}); got != want {
			t.Fatalf("after append %d: got %d rows, want %d", i+1, got, want)
		}
	}
	res, err := e.Query(ctx, "SELECT tag, memory_usage_bytes FROM duckdb_memory() "+
		"WHERE tag IN ('OBJECT_CACHE', 'EXTERNAL_FILE_CACHE') AND memory_usage_bytes > 0", At{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		t.Errorf("DuckDB's %v holds %v bytes after reading the table's files, want none", r[0], r[1])
	}
}
