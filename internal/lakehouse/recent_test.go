package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// recentTable is a lakehouse with the test table and ReadsRecent readers.
func recentTable(t *testing.T, readers int, columns ...string) *Lakehouse {
	t.Helper()
	l := openWith(t, Config{DataDir: t.TempDir()})
	if _, err := l.EnsureTable(context.Background(), testDef); err != nil {
		t.Fatal(err)
	}
	for range readers {
		l.ReadsRecent(testDef.Ident, columns)
	}
	return l
}

// commitDays appends one record per day (ids "<day>-<i>"), as bronze and
// silver do, and returns the files the commit added, by day.
func commitDays(t *testing.T, l *Lakehouse, perDay int, days ...string) map[string]iceberg.DataFile {
	t.Helper()
	var recs []arrow.RecordBatch
	for _, d := range days {
		var ids []string
		for i := range perDay {
			ids = append(ids, fmt.Sprintf("%s-%d", d, i))
		}
		rdr := rows(ids, d)
		rdr.Next()
		rec := rdr.RecordBatch()
		rec.Retain()
		rdr.Release()
		recs = append(recs, rec)
	}
	sc := recs[0].Schema()
	tbl, err := l.Commit(context.Background(), testDef.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
		for _, r := range recs {
			r.Retain() // AppendRecords releases them on every attempt
		}
		return AppendRecords(ctx, tx, sc, recs, nil)
	})
	for _, r := range recs {
		r.Release()
	}
	if err != nil {
		t.Fatal(err)
	}
	added, err := AddedSince(context.Background(), tbl, Checkpoint{Sequence: tbl.CurrentSnapshot().SequenceNumber - 1})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]iceberg.DataFile{}
	for _, f := range added {
		out[fmt.Sprint(f.File.Partition()[1000])] = f.File
	}
	return out
}

// read reads the ids of df through l, and reports whether it came from memory.
func read(t *testing.T, l *Lakehouse, df iceberg.DataFile, columns ...string) (ids []string, kept bool) {
	t.Helper()
	tbl, err := l.Load(context.Background(), testDef.Ident)
	if err != nil {
		t.Fatal(err)
	}
	hits, _ := l.RecentReads()
	err = l.ReadFile(context.Background(), tbl, df, columns, func(rec arrow.RecordBatch) error {
		for i := range int(rec.NumRows()) {
			ids = append(ids, rec.Column(0).(*array.String).Value(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := l.RecentReads()
	return ids, after > hits
}

// TestRecentFilesReadFromMemory: each declared reader gets a committed
// file from memory once, with what the file holds; then it is read from
// the file. Records spanning readBatchRows come in batches.
func TestRecentFilesReadFromMemory(t *testing.T) {
	l := recentTable(t, 2, "id", "n")
	files := commitDays(t, l, readBatchRows+5, "2026-01-01", "2026-01-02")
	if len(files) != 2 {
		t.Fatalf("commit added files for %d days, want 2", len(files))
	}
	for _, day := range []string{"2026-01-01", "2026-01-02"} {
		df := files[day]
		for read1 := range 3 {
			ids, kept := read(t, l, df, "id", "n")
			if want := read1 < 2; kept != want {
				t.Errorf("%s, read %d: from memory %v, want %v (two readers declared)", day, read1+1, kept, want)
			}
			if len(ids) != readBatchRows+5 || ids[0] != day+"-0" || ids[len(ids)-1] != fmt.Sprintf("%s-%d", day, readBatchRows+4) {
				t.Fatalf("%s, read %d: %d ids from %q to %q, want the %d committed", day, read1+1, len(ids), ids[0], ids[len(ids)-1], readBatchRows+5)
			}
		}
	}
}

// TestRecentFilesMetrics: the reads are counted by where they came from.
func TestRecentFilesMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := openWith(t, Config{DataDir: t.TempDir(), Registerer: reg})
	if _, err := l.EnsureTable(context.Background(), testDef); err != nil {
		t.Fatal(err)
	}
	l.ReadsRecent(testDef.Ident, []string{"id"})
	files := commitDays(t, l, 3, "2026-01-01")
	read(t, l, files["2026-01-01"], "id") // from memory
	read(t, l, files["2026-01-01"], "id") // let go of: from storage
	read(t, l, files["2026-01-01"], "id")
	for from, want := range map[string]float64{"memory": 1, "storage": 2} {
		if got := testutil.ToFloat64(l.metrics.fileReads.WithLabelValues("test.events", from)); got != want {
			t.Errorf("reads from %s: %v, want %v", from, got, want)
		}
	}
}

// TestRecentFilesNotKept: what is not kept is read from the file: a column
// no reader declared, a table nobody declared, files over the budget or
// past the age, and the records of a commit that failed.
func TestRecentFilesNotKept(t *testing.T) {
	t.Run("undeclared column", func(t *testing.T) {
		l := recentTable(t, 1, "id")
		files := commitDays(t, l, 3, "2026-01-01")
		if _, kept := read(t, l, files["2026-01-01"], "id", "n"); kept {
			t.Error("a column no reader declared came from memory")
		}
		if _, kept := read(t, l, files["2026-01-01"], "id"); !kept {
			t.Error("a declared column was read from the file (the undeclared read must not use up the reader's)")
		}
	})
	t.Run("undeclared table", func(t *testing.T) {
		l := recentTable(t, 0)
		files := commitDays(t, l, 3, "2026-01-01")
		if _, kept := read(t, l, files["2026-01-01"], "id"); kept {
			t.Error("a table without readers kept its files")
		}
	})
	t.Run("budget", func(t *testing.T) {
		l := recentTable(t, 1, "id")
		files := commitDays(t, l, 3, "2026-01-01", "2026-01-02")
		l.recent.budget = l.recent.bytes // room for two files of this size
		commitDays(t, l, 3, "2026-01-03")
		if len(l.recent.files) != 2 || l.recent.bytes > l.recent.budget {
			t.Errorf("%d files, %d bytes kept; want the newest two within the budget of %d", len(l.recent.files), l.recent.bytes, l.recent.budget)
		}
		if _, kept := read(t, l, files["2026-01-01"], "id"); kept {
			t.Error("the oldest file was kept over the budget")
		}
		if _, kept := read(t, l, files["2026-01-02"], "id"); !kept {
			t.Error("a newer file within the budget was let go of")
		}
	})
	t.Run("age", func(t *testing.T) {
		l := recentTable(t, 1, "id")
		l.recent.maxAge = 50 * time.Millisecond
		files := commitDays(t, l, 3, "2026-01-01")
		time.Sleep(60 * time.Millisecond)
		commitDays(t, l, 3, "2026-01-02")
		if _, kept := read(t, l, files["2026-01-01"], "id"); kept {
			t.Error("a file past recentMaxAge was kept")
		}
	})
	t.Run("failed commit", func(t *testing.T) {
		l := recentTable(t, 1, "id")
		rdr := rows([]string{"a"}, "2026-01-01")
		rdr.Next()
		rec := rdr.RecordBatch()
		boom := errors.New("boom")
		_, err := l.Commit(context.Background(), testDef.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			rec.Retain()
			if err := AppendRecords(ctx, tx, rec.Schema(), []arrow.RecordBatch{rec}, nil); err != nil {
				return err
			}
			return boom
		})
		rdr.Release()
		if !errors.Is(err, boom) {
			t.Fatalf("commit: %v, want boom", err)
		}
		if len(l.recent.files) != 0 {
			t.Errorf("%d files kept from a commit that failed", len(l.recent.files))
		}
	})
}

// TestRecentFilesOnePerPartition: two records of one partition in a
// commit cannot be told apart from their files: neither is kept.
func TestRecentFilesOnePerPartition(t *testing.T) {
	l := recentTable(t, 1, "id")
	files := commitDays(t, l, 3, "2026-01-01", "2026-01-01", "2026-01-02")
	if _, kept := read(t, l, files["2026-01-01"], "id"); kept {
		t.Error("a file of a partition with two records was kept")
	}
	if _, kept := read(t, l, files["2026-01-02"], "id"); !kept {
		t.Error("the file of a partition with one record was not kept")
	}
}
