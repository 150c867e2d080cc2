package cli

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

func TestMaintainBadSettingsNameThemselves(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--target-file-size", "1000"}, "--target-file-size"},
		{[]string{"--target-file-size", "big"}, "target-file-size"},
		{[]string{"--keep-snapshots", "0"}, "--keep-snapshots"},
		{[]string{"--max-snapshots", "3"}, "--max-snapshots"},
		{[]string{"--snapshot-max-age", "-1h"}, "--snapshot-max-age"},
		{[]string{"--orphan-age", "10m"}, "--orphan-age"},
		{[]string{"--min-input-files", "1"}, "--min-input-files"},
		{[]string{"--maintain-interval", "0s"}, "--maintain-interval"},
		{[]string{"--maintain-first-run", "-1m"}, "--maintain-first-run"},
		{[]string{"--table", "bronze.nope"}, `--table: unknown table "bronze.nope"`},
		{[]string{"--dry-run"}, "--dry-run"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"maintain", "--data-dir", t.TempDir()}, c.args...)...)
			if code == 0 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want a failure naming %s", code, stderr, c.want)
			}
		})
	}
}

// TestMaintainOnce: a table of small commits is compacted by maintain
// --once, after a --dry-run that changes nothing, and the summary says so.
func TestMaintainOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lh, err := lakehouse.Open(ctx, lakehouse.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := lh.EnsureTable(ctx, lakehouse.AlertsTable)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Add(-48 * time.Hour)
	for i := range 6 {
		_, err := lh.Commit(ctx, lakehouse.OpsAlerts, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			return lakehouse.AppendRecords(ctx, tx, sc, []arrow.RecordBatch{alertRow(t, sc, i, day)}, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lh.Close()

	args := []string{"maintain", "--data-dir", dir, "--once", "--table", "ops.alerts", "--min-input-files", "2"}
	line := regexp.MustCompile(`(?m)^\s*ops\.alerts\s+(\d+) → (\d+)\s+(\d+)\s+(\d+)`)
	code, out, stderr := run(t, append(args, "--dry-run")...)
	if code != 0 {
		t.Fatalf("maintain --dry-run exited %d: %s", code, stderr)
	}
	if m := line.FindStringSubmatch(out); m == nil || m[1] != "6" || m[3] != "6" || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run summary:\n%s\nwant 6 files, 6 to compact", out)
	}
	code, out, stderr = run(t, args...)
	if code != 0 {
		t.Fatalf("maintain exited %d: %s", code, stderr)
	}
	m := line.FindStringSubmatch(out)
	if m == nil || m[1] != "6" || m[2] != "1" || m[3] != "6" || m[4] != "1" {
		t.Fatalf("summary:\n%s\nwant ops.alerts 6 → 1 files, 6 compacted into 1", out)
	}
	if strings.Contains(out, "bronze.raw_events") {
		t.Errorf("--table ops.alerts maintained other tables too:\n%s", out)
	}
}

// alertRow is one ops.alerts row at ts, numbered i.
func alertRow(tb testing.TB, sc *arrow.Schema, i int, ts time.Time) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for fi, f := range sc.Fields() {
		switch x := b.Field(fi).(type) {
		case *array.StringBuilder:
			v := fmt.Sprintf("%s-%d", f.Name, i)
			if f.Name == "alert_date" {
				v = ts.Format("2006-01-02")
			}
			x.Append(v)
		case *array.TimestampBuilder:
			x.Append(arrow.Timestamp(ts.Add(time.Duration(i) * time.Minute).UnixMicro()))
		case *array.BooleanBuilder:
			x.Append(false)
		case *array.Int32Builder:
			x.Append(1)
		default:
			tb.Fatalf("ops.alerts column %s: no test value for %s", f.Name, f.Type)
		}
	}
	return b.NewRecordBatch()
}
