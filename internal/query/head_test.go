package query

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// orderedDef is a table partitioned by day whose files keep their rows
// by n descending, then by id.
var orderedDef = lakehouse.TableDef{
	Ident:     table.Identifier{"test", "ordered"},
	Partition: []string{"day"},
	FileOrder: "n DESC, id",
	Fields: []iceberg.NestedField{
		{ID: 1, Name: "day", Type: iceberg.PrimitiveTypes.String, Required: true},
		{ID: 2, Name: "n", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		{ID: 3, Name: "id", Type: iceberg.PrimitiveTypes.String, Required: true},
	},
}

// appendDay commits one file of day's rows, n from hi down to lo, in that
// order (or reversed: not in the table's order).
func appendDay(tb testing.TB, tbl *table.Table, day string, hi, lo int64, reversed bool) *table.Table {
	tb.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, false, false)
	if err != nil {
		tb.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	var ns []int64
	for n := hi; n >= lo; n-- {
		ns = append(ns, n)
	}
	if reversed {
		slices.Reverse(ns)
	}
	for _, n := range ns {
		b.Field(0).(*array.StringBuilder).Append(day)
		b.Field(1).(*array.Int64Builder).Append(n)
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("%s-%03d", day, n))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	if err != nil {
		tb.Fatal(err)
	}
	defer rdr.Release()
	out, err := tbl.Append(context.Background(), rdr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestHeadReadsFirstRowsOfOrderedFiles: with At.Head and the table's file
// order, a view reads each file's first rows only, and a ranking by that
// order keeps its answer; a table of another order, or none, and a table
// with deletes are read whole.
func TestHeadReadsFirstRowsOfOrderedFiles(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	tbl, err := lh.EnsureTable(ctx, orderedDef)
	if err != nil {
		t.Fatal(err)
	}
	// Three files: the top of the ranking is spread over all of them.
	tbl = appendDay(t, tbl, "2026-11-01", 50, 11, false)
	tbl = appendDay(t, tbl, "2026-11-02", 60, 31, false)
	tbl = appendDay(t, tbl, "2026-11-03", 55, 1, false)
	e := openEngine(t, lh, []table.Identifier{orderedDef.Ident}, Config{})
	if order, err := e.FileOrder(ctx, "test.ordered"); err != nil || order != orderedDef.FileOrder {
		t.Fatalf("FileOrder: %q, %v; want %q", order, err, orderedDef.FileOrder)
	}
	head := At{Head: 4, Order: orderedDef.FileOrder}
	if n := count(t, e, "test.ordered", head); n != 3*4 {
		t.Errorf("count with Head 4: %d rows, want 4 of each of 3 files", n)
	}
	if n := count(t, e, "test.ordered", At{Head: 4, Order: "n, id"}); n != 40+30+55 {
		t.Errorf("count with Head 4 of another order: %d rows, want all %d", n, 40+30+55)
	}
	if n := count(t, e, "test.ordered", At{}); n != 40+30+55 {
		t.Errorf("count: %d rows, want %d", n, 40+30+55)
	}
	rank := func(at At, where string) []string {
		t.Helper()
		res, err := e.Query(ctx, `SELECT id FROM test.ordered WHERE `+where+` ORDER BY n DESC, day DESC, id LIMIT 4`, at)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range res.Rows {
			ids = append(ids, r[0].(string))
		}
		return ids
	}
	for _, where := range []string{"true", "n >= 50", "day <> '2026-11-02'"} {
		got, want := rank(head, where), rank(At{}, where)
		if !slices.Equal(got, want) || len(want) != 4 {
			t.Errorf("ranked where %s with Head: %v, want %v", where, got, want)
		}
	}

	// The files of each day, as ValueFiles tells them to a reader that
	// keeps what it read of each day.
	byDay := openEngine(t, lh, []table.Identifier{orderedDef.Ident}, Config{SinceColumn: map[string]string{"test.ordered": "day"}})
	snap, files, ok, err := byDay.ValueFiles(ctx, "test.ordered")
	if err != nil || !ok || snap != tbl.CurrentSnapshot().SnapshotID || len(files) != 3 {
		t.Fatalf("ValueFiles: snapshot %d (current %d), %v, %v, %v; want the 3 days' files", snap, tbl.CurrentSnapshot().SnapshotID, files, ok, err)
	}
	for day, fs := range files {
		if len(fs) != 1 {
			t.Errorf("day %s: files %v, want one", day, fs)
		}
	}
	if _, _, ok, err := e.ValueFiles(ctx, "test.ordered"); ok || err != nil {
		t.Errorf("ValueFiles of a table without a SinceColumn: %v, %v; want false", ok, err)
	}

	// Deletes: a file's first rows need not be live.
	tbl = setProps(t, tbl, iceberg.Properties{table.WriteDeleteModeKey: table.WriteModeMergeOnRead})
	if tbl, err = tbl.Delete(ctx, iceberg.EqualTo(iceberg.Reference("n"), int64(60)), nil); err != nil {
		t.Fatal(err)
	}
	if countDeleteFiles(t, tbl, iceberg.PuffinFile) == 0 {
		t.Fatal("the delete wrote no deletion vector")
	}
	if n := count(t, e, "test.ordered", head); n != 40+30+55-1 {
		t.Errorf("count with Head 4 after a delete: %d rows, want all %d", n, 40+30+55-1)
	}
	if _, _, ok, err := byDay.ValueFiles(ctx, "test.ordered"); ok || err != nil {
		t.Errorf("ValueFiles of a table with deletes: %v, %v; want false", ok, err)
	}

	// A table that keeps no order: its files are read whole.
	plain := orderedDef
	plain.Ident, plain.FileOrder = table.Identifier{"test", "plain"}, ""
	ptbl, err := lh.EnsureTable(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	appendDay(t, ptbl, "2026-11-01", 20, 11, true)
	pe := openEngine(t, lh, []table.Identifier{plain.Ident}, Config{})
	if n := count(t, pe, "test.plain", head); n != 10 {
		t.Errorf("count with Head 4 of a table of no order: %d rows, want all 10", n)
	}
}
