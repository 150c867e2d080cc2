package quality_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// recorded reads up to max events of a file of real recorded events.
func recorded(tb testing.TB, name string, max int) [][]byte {
	all := ssetest.ReadLines(tb, ssetest.SharedData(tb, name))
	return all[:min(max, len(all))]
}

// events are real recorded events of several years and sources, synthetic
// events of the last hours (a vandal burst among them, so that gold has a
// HIGH entity), and a few lines bronze dead-letters.
func events(tb testing.TB) [][]byte {
	out := recorded(tb, "polars_book_wikimedia_enwiki_2023-07-29.ndjson", 100)
	out = append(out, recorded(tb, "arvindp25_DataPlumbHub_stream2025-05-03_07_46_20Z.jsonl", 200)...)
	out = append(out, recorded(tb, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz", 1500)...)
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.VandalBurst, cfg.Seed = 1500, 80, 3
	cfg.Start = time.Now().UTC().Add(-3 * time.Hour)
	cfg.Rate = 0.2 // 1500 events over about two hours
	synthetic, err := gen.Lines(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, synthetic...)
	// Not events: bronze writes them to bronze.dlq_events.
	return append(out, []byte("not json at all"), []byte(`{"type": "edit", "title": "no domain"}`))
}

// pipeline is a pipeline through bronze, silver and gold, fed with events.
func pipeline(tb testing.TB, evs [][]byte) *stagetest.Pipeline {
	tb.Helper()
	p := stagetest.New(tb)
	p.Bronze(tb, evs)
	p.Silver(tb)
	runGold(tb, p)
	return p
}

// runGold brings gold up to silver.
func runGold(tb testing.TB, p *stagetest.Pipeline) {
	tb.Helper()
	p.Gold(tb)
}

// stage builds a data-quality stage that checks every date.
func stage(tb testing.TB, lh *lakehouse.Lakehouse, edit func(*quality.Config)) *quality.Stage {
	tb.Helper()
	cfg := quality.DefaultConfig()
	cfg.LookbackDays = 0
	if edit != nil {
		edit(&cfg)
	}
	st, err := quality.New(cfg, lh, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// runOnce runs the checks and fails the test when the run fails.
func runOnce(tb testing.TB, st *quality.Stage) quality.Report {
	tb.Helper()
	rep, err := st.RunOnce(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

// failing are the names of the checks that did not pass, sorted.
func failing(rep quality.Report) []string {
	var out []string
	for _, r := range rep.Failures() {
		out = append(out, r.Check)
	}
	sort.Strings(out)
	return out
}

// describe renders the failures for a test message.
func describe(rep quality.Report) string {
	var b strings.Builder
	for _, r := range rep.Failures() {
		fmt.Fprintf(&b, "\n  %s %s: %s (expected %s) %v", r.Status, r.Check, r.Observed, r.Expected, r.Detail)
	}
	return b.String()
}

// rows runs SQL over every table (current snapshots) and returns the rows
// as maps.
func rows(tb testing.TB, lh *lakehouse.Lakehouse, sql string) []map[string]any {
	tb.Helper()
	eng, err := query.Open(context.Background(), lh, lakehouse.Tables(), query.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), sql, query.At{})
	if err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	var out []map[string]any
	for _, r := range res.Rows {
		m := map[string]any{}
		for i, v := range r {
			m[res.Columns[i]] = v
		}
		out = append(out, m)
	}
	return out
}

// one returns the single row of a query.
func one(tb testing.TB, lh *lakehouse.Lakehouse, sql string) map[string]any {
	tb.Helper()
	r := rows(tb, lh, sql)
	if len(r) != 1 {
		tb.Fatalf("%s: %d rows, want 1", sql, len(r))
	}
	return r[0]
}

// with returns a copy of row with the changes.
func with(row map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range row {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// newID is a fresh 32-hex-digit key.
func newID(seed string) string {
	sum := md5.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// write commits rows (column → value; absent columns are NULL) to the
// table, directly, as a defect the stages would never write. With a filter,
// the rows it matches are replaced (an Iceberg overwrite); rows may then be
// empty, which deletes them.
func write(tb testing.TB, lh *lakehouse.Lakehouse, ident table.Identifier, rowsIn []map[string]any, filter iceberg.BooleanExpression) {
	tb.Helper()
	ctx := context.Background()
	_, err := lh.Commit(ctx, ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		schema, err := table.SchemaToArrowSchema(tbl.Schema(), nil, false, false)
		if err != nil {
			return err
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for _, r := range rowsIn {
			for i, f := range schema.Fields() {
				if err := appendValue(b.Field(i), r[f.Name]); err != nil {
					return fmt.Errorf("column %s: %w", f.Name, err)
				}
			}
		}
		rec := b.NewRecordBatch()
		defer rec.Release()
		rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		props := iceberg.Properties{"wikistream.stage": "test-defect"}
		if filter != nil {
			return tx.Overwrite(ctx, rdr, props, table.WithOverwriteFilter(filter))
		}
		return tx.Append(ctx, rdr, props)
	})
	if err != nil {
		tb.Fatalf("write defect to %s: %v", lakehouse.Name(ident), err)
	}
}

func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(fmt.Sprint(v))
	case *array.Int32Builder:
		b.Append(int32(asInt(v)))
	case *array.Int64Builder:
		b.Append(asInt(v))
	case *array.Float64Builder:
		switch f := v.(type) {
		case float64:
			b.Append(f)
		default:
			b.Append(float64(asInt(v)))
		}
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.BinaryBuilder:
		switch x := v.(type) {
		case []byte:
			b.Append(x)
		default:
			b.Append([]byte(fmt.Sprint(x)))
		}
	default:
		return fmt.Errorf("no test writer for %T", b)
	}
	return nil
}

func asInt(v any) int64 {
	var n int64
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// snapshots are the current snapshot ids of the pipeline's data tables.
func snapshots(tb testing.TB, lh *lakehouse.Lakehouse) map[string]int64 {
	tb.Helper()
	out := map[string]int64{}
	for _, ident := range dataTables {
		tbl, err := lh.Load(context.Background(), ident)
		if err != nil {
			tb.Fatal(err)
		}
		out[lakehouse.Name(ident)] = lakehouse.SnapshotID(tbl)
	}
	return out
}

var dataTables = []table.Identifier{lakehouse.BronzeRawEvents, lakehouse.BronzeDLQEvents, lakehouse.SilverCleanedEvents,
	lakehouse.GoldHourlyStats, lakehouse.GoldRiskScores, lakehouse.GoldContributorsHourly, lakehouse.GoldPagesHourly}

// restore rolls every data table back to the snapshots, undoing defects.
func restore(tb testing.TB, lh *lakehouse.Lakehouse, to map[string]int64) {
	tb.Helper()
	for _, ident := range dataTables {
		want := to[lakehouse.Name(ident)]
		tbl, err := lh.Load(context.Background(), ident)
		if err != nil {
			tb.Fatal(err)
		}
		if lakehouse.SnapshotID(tbl) == want {
			continue
		}
		_, err = lh.Commit(context.Background(), ident, func(_ context.Context, _ *table.Table, tx *table.Transaction) error {
			return tx.RollbackToSnapshot(want)
		})
		if err != nil {
			tb.Fatalf("roll %s back to %d: %v", lakehouse.Name(ident), want, err)
		}
	}
}

// only keeps the named checks of the defaults.
func only(cfg *quality.Config, names ...string) {
	var keep []quality.Check
	for _, c := range quality.DefaultChecks(*cfg) {
		if slices.Contains(names, c.Name) {
			keep = append(keep, c)
		}
	}
	cfg.Checks = keep
}
