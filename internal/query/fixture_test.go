package query

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Test helpers: realistic bronze.raw_events rows, tables built with
// iceberg-go, and the rows iceberg-go's own scanner reads, to compare with.

var tempRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "query-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tempRoot = dir
	code := m.Run()
	if shared.lh != nil {
		shared.engine.Close()
		shared.lh.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func openLakehouse(tb testing.TB) *lakehouse.Lakehouse {
	tb.Helper()
	lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lh.Close() })
	return lh
}

func openEngine(tb testing.TB, lh *lakehouse.Lakehouse, tables []table.Identifier, cfg Config) *Engine {
	tb.Helper()
	e, err := Open(context.Background(), lh, tables, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Errorf("close engine: %v", err)
		}
	})
	return e
}

var (
	domains    = []string{"en.wikipedia.org", "de.wikipedia.org", "fr.wikipedia.org", "ja.wikipedia.org", "www.wikidata.org", "commons.wikimedia.org"}
	eventTypes = []string{"edit", "edit", "edit", "new", "log", "categorize"}
	users      = []string{"Alice", "Bob", "~2025-12345-6", "192.0.2.7", "InternetArchiveBot", "Zoë", `Quote"Man`, "Comma,Person"}
)

// baseTime is where generated events start; they spread over two days.
var baseTime = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)

// eventRows generates n recentchange events with every column of sc.
// Columns the generator does not know get a random value of their type.
func eventRows(tb testing.TB, sc *iceberg.Schema, n int, seed uint64) array.RecordReader {
	tb.Helper()
	asc, err := table.SchemaToArrowSchema(sc, nil, false, false)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 42))
	b := array.NewRecordBuilder(memory.DefaultAllocator, asc)
	defer b.Release()
	for i := range n {
		ev := event(rng, int64(seed)*1_000_000+int64(i))
		for j, f := range asc.Fields() {
			appendValue(tb, b.Field(j), ev[f.Name], rng)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(asc, []arrow.RecordBatch{rec})
	if err != nil {
		tb.Fatal(err)
	}
	return rdr
}

// event is one plausible recentchange event, by column name.
func event(rng *rand.Rand, rcID int64) map[string]any {
	domain := domains[rng.IntN(len(domains))]
	ts := baseTime.Add(time.Duration(rng.Int64N(int64(48 * time.Hour)))).Truncate(time.Second)
	oldLen, newLen := rng.Int64N(50_000), rng.Int64N(50_000)
	eventID := md5.Sum([]byte(domain + "|" + strconv.FormatInt(rcID, 10) + "|" + strconv.FormatInt(ts.Unix(), 10)))
	user := users[rng.IntN(len(users))]
	typ := eventTypes[rng.IntN(len(eventTypes))]
	return map[string]any{
		"event_id":            hex.EncodeToString(eventID[:]),
		"rc_id":               rcID,
		"event_type":          typ,
		"domain":              domain,
		"wiki":                strings.SplitN(domain, ".", 2)[0] + "wiki",
		"namespace":           int32(rng.IntN(15)),
		"title":               fmt.Sprintf("Page %d", rng.IntN(5000)),
		"comment":             "edit summary, with \"quotes\"\nand a newline",
		"user":                user,
		"is_bot":              strings.HasSuffix(user, "Bot"),
		"is_minor":            rng.IntN(4) == 0,
		"length_old":          oldLen,
		"length_new":          newLen,
		"length_delta":        newLen - oldLen,
		"revision_new":        rng.Int64N(1 << 40),
		"server_name":         domain,
		"meta_stream":         "mediawiki.recentchange",
		"meta_dt":             ts.Format(time.RFC3339),
		"event_timestamp":     ts,
		"event_date":          ts.Format(time.DateOnly),
		"event_hour":          int32(ts.Hour()),
		"raw_json":            fmt.Sprintf(`{"id":%d,"type":%q,"meta":{"domain":%q}}`, rcID, typ, domain),
		"kafka_topic":         "raw-events",
		"kafka_partition":     int32(rcID % 3),
		"kafka_offset":        rcID,
		"ingested_at":         ts.Add(time.Second),
		"bronze_processed_at": ts.Add(2 * time.Second),
		"schema_version":      int32(1),
		"ores_damaging":       rng.Float64(),
	}
}

func appendValue(tb testing.TB, b array.Builder, v any, rng *rand.Rand) {
	tb.Helper()
	switch b := b.(type) {
	case *array.StringBuilder:
		s, ok := v.(string)
		if !ok {
			b.AppendNull()
			return
		}
		b.Append(s)
	case *array.Int64Builder:
		n, ok := v.(int64)
		if !ok {
			n = rng.Int64N(1000)
		}
		b.Append(n)
	case *array.Int32Builder:
		n, ok := v.(int32)
		if !ok {
			n = rng.Int32N(1000)
		}
		b.Append(n)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			b.AppendNull()
			return
		}
		b.Append(x)
	case *array.Float64Builder:
		x, ok := v.(float64)
		if !ok {
			b.AppendNull()
			return
		}
		b.Append(x)
	case *array.TimestampBuilder:
		t, ok := v.(time.Time)
		if !ok {
			b.AppendNull()
			return
		}
		b.Append(arrow.Timestamp(t.UnixMicro()))
	default:
		tb.Fatalf("no generator for %T", b)
	}
}

// appendEvents commits n generated events in one snapshot.
func appendEvents(tb testing.TB, lh *lakehouse.Lakehouse, ident table.Identifier, n int, seed uint64) *table.Table {
	tb.Helper()
	ctx := context.Background()
	tbl, err := lh.Load(ctx, ident)
	if err != nil {
		tb.Fatal(err)
	}
	rdr := eventRows(tb, tbl.Schema(), n, seed)
	defer rdr.Release()
	tbl, err = tbl.Append(ctx, rdr, nil)
	if err != nil {
		tb.Fatalf("append %d events: %v", n, err)
	}
	return tbl
}

// setProps commits table properties.
func setProps(tb testing.TB, tbl *table.Table, props iceberg.Properties) *table.Table {
	tb.Helper()
	tx := tbl.NewTransaction()
	if err := tx.SetProperties(props); err != nil {
		tb.Fatal(err)
	}
	out, err := tx.Commit(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// compared are the columns whose values the equality tests compare.
var compared = []string{"event_id", "domain", "event_type", "rc_id", "event_date", "event_hour", "event_timestamp", "user", "is_bot", "length_delta"}

// icebergRows is what iceberg-go's scanner reads at a snapshot: one string
// per row, the compared columns joined by "|", sorted.
func icebergRows(tb testing.TB, tbl *table.Table, snapshot int64, cols []string) []string {
	tb.Helper()
	at, err := tbl.Scan(table.WithSnapshotID(snapshot), table.WithSelectedFields(cols...)).ToArrowTable(context.Background())
	if err != nil {
		tb.Fatalf("iceberg scan of snapshot %d: %v", snapshot, err)
	}
	defer at.Release()
	tr := array.NewTableReader(at, 4096)
	defer tr.Release()
	var out []string
	for tr.Next() {
		rec := tr.RecordBatch()
		idx := make([]int, len(cols))
		for i, c := range cols {
			idx[i] = rec.Schema().FieldIndices(c)[0]
		}
		for r := range int(rec.NumRows()) {
			fields := make([]string, len(cols))
			for i := range cols {
				fields[i] = canonArrow(tb, rec.Column(idx[i]), r)
			}
			out = append(out, strings.Join(fields, "|"))
		}
	}
	slices.Sort(out)
	return out
}

func canonArrow(tb testing.TB, a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(i))).UTC().Format(time.RFC3339Nano)
	}
	tb.Fatalf("no canonical form for %T", a)
	return ""
}

// sqlRows is what the engine reads: the same form as icebergRows.
func sqlRows(tb testing.TB, e *Engine, tableName string, cols []string, at At) []string {
	tb.Helper()
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	res, err := e.Query(context.Background(), "SELECT "+strings.Join(quoted, ", ")+" FROM "+tableName, at)
	if err != nil {
		tb.Fatalf("query %s at %+v: %v", tableName, at, err)
	}
	if res.Truncated {
		tb.Fatalf("query %s: truncated at %d rows", tableName, len(res.Rows))
	}
	out := make([]string, len(res.Rows))
	for r, row := range res.Rows {
		fields := make([]string, len(row))
		for i, v := range row {
			fields[i] = canonSQL(tb, v)
		}
		out[r] = strings.Join(fields, "|")
	}
	slices.Sort(out)
	return out
}

func canonSQL(tb testing.TB, v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	tb.Fatalf("no canonical form for %T", v)
	return ""
}

// sameRows fails unless got and want (sorted) are equal, showing the first
// difference.
func sameRows(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if slices.Equal(got, want) {
		return
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			tb.Fatalf("%s: got %d rows, want %d; first difference at %d:\n got  %s\n want %s", what, len(got), len(want), i, got[i], want[i])
		}
	}
	tb.Fatalf("%s: got %d rows, want %d (one is a prefix of the other)", what, len(got), len(want))
}

// count runs SELECT count(*) and returns the number.
func count(tb testing.TB, e *Engine, from string, at At) int64 {
	tb.Helper()
	res, err := e.Query(context.Background(), "SELECT count(*) FROM "+from, at)
	if err != nil {
		tb.Fatalf("count %s at %+v: %v", from, at, err)
	}
	return res.Rows[0][0].(int64)
}

// step is one commit of the shared fixture.
type step struct {
	name     string
	snapshot *table.Snapshot
}

// shared is a bronze.raw_events table with a history that exercises every
// read path: appends over 48 partitions, a merge-on-read delete (deletion
// vectors), a copy-on-write delete and a schema evolution.
var shared struct {
	once   sync.Once
	err    error
	lh     *lakehouse.Lakehouse
	tbl    *table.Table // the final state
	steps  []step
	engine *Engine
}

func sharedFixture(t *testing.T) (*lakehouse.Lakehouse, *table.Table, []step, *Engine) {
	t.Helper()
	shared.once.Do(func() { shared.err = buildShared(t) })
	if shared.err != nil {
		t.Fatalf("build shared fixture: %v", shared.err)
	}
	if shared.engine == nil { // construction stopped with t.Fatal
		t.Fatal("build shared fixture: failed in an earlier test")
	}
	return shared.lh, shared.tbl, shared.steps, shared.engine
}

func buildShared(t *testing.T) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp(tempRoot, "shared-")
	if err != nil {
		return err
	}
	lh, err := lakehouse.Open(ctx, lakehouse.Config{DataDir: dir})
	if err != nil {
		return err
	}
	tbl, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable)
	if err != nil {
		return err
	}
	var steps []step
	commit := func(name string, tbl *table.Table) {
		steps = append(steps, step{name: name, snapshot: tbl.CurrentSnapshot()})
		time.Sleep(15 * time.Millisecond) // distinct commit times for AsOf
	}
	ident := lakehouse.BronzeRawEvents

	tbl = appendEvents(t, lh, ident, 2000, 1)
	commit("append 2000", tbl)
	tbl = appendEvents(t, lh, ident, 1500, 2)
	commit("append 1500", tbl)

	tbl = setProps(t, tbl, iceberg.Properties{table.WriteDeleteModeKey: table.WriteModeMergeOnRead})
	if tbl, err = tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("domain"), "de.wikipedia.org"), nil); err != nil {
		return fmt.Errorf("merge-on-read delete: %w", err)
	}
	if dvs := countDeleteFiles(t, tbl, iceberg.PuffinFile); dvs == 0 {
		return fmt.Errorf("merge-on-read delete wrote no deletion vectors; the test would not exercise them")
	}
	commit("merge-on-read delete (deletion vectors)", tbl)

	tbl = setProps(t, tbl, iceberg.Properties{table.WriteDeleteModeKey: table.WriteModeCopyOnWrite})
	before := countDeleteFiles(t, tbl, iceberg.PuffinFile)
	if tbl, err = tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("event_type"), "log"), nil); err != nil {
		return fmt.Errorf("copy-on-write delete: %w", err)
	}
	if after := countDeleteFiles(t, tbl, iceberg.PuffinFile); after >= before {
		return fmt.Errorf("copy-on-write delete left %d deletion vectors of %d; want it to rewrite files", after, before)
	}
	commit("copy-on-write delete", tbl)

	tx := tbl.NewTransaction()
	if err := tx.UpdateSchema(true, false).AddColumn([]string{"ores_damaging"}, iceberg.PrimitiveTypes.Float64, "", false, nil).Commit(); err != nil {
		return err
	}
	if _, err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("add column: %w", err)
	}
	tbl = appendEvents(t, lh, ident, 500, 3)
	commit("add column, append 500", tbl)

	e, err := Open(ctx, lh, []table.Identifier{lakehouse.BronzeRawEvents, lakehouse.BronzeDLQEvents}, DefaultConfig())
	if err != nil {
		return err
	}
	shared.lh, shared.tbl, shared.steps, shared.engine = lh, tbl, steps, e
	return nil
}

// countDeleteFiles counts the delete files of a format the current
// snapshot's scan applies.
func countDeleteFiles(tb testing.TB, tbl *table.Table, format iceberg.FileFormat) int {
	tb.Helper()
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, t := range tasks {
		for _, d := range slices.Concat(t.DeletionVectorFiles, t.DeleteFiles) {
			if d.FileFormat() == format {
				n++
			}
		}
	}
	return n
}
