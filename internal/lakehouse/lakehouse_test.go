package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"os"
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

	"github.com/wikistream/wikistream/internal/priority"
)

// catalogs are the catalog implementations every test runs against: the
// SQLite default and, where WIKISTREAM_TEST_POSTGRES names a database (CI
// starts one), the SQL catalog on Postgres.
func catalogs(t *testing.T) map[string]func(tb testing.TB) *Lakehouse {
	out := map[string]func(tb testing.TB) *Lakehouse{
		"sqlite": func(tb testing.TB) *Lakehouse { return openWith(tb, Config{DataDir: tb.TempDir()}) },
	}
	pg := os.Getenv("WIKISTREAM_TEST_POSTGRES")
	switch {
	case pg != "":
		out["postgres"] = func(tb testing.TB) *Lakehouse {
			// A catalog name of its own keeps each test's tables apart.
			name := fmt.Sprintf("test_%d", time.Now().UnixNano())
			return openWith(tb, Config{Catalog: pg, Name: name, Warehouse: "file://" + tb.TempDir()})
		}
	case os.Getenv("WIKISTREAM_REQUIRE_TOOLS") == "1":
		t.Fatal("WIKISTREAM_TEST_POSTGRES is not set; .ci/run starts Postgres and sets it")
	default:
		t.Log("WIKISTREAM_TEST_POSTGRES not set: the Postgres catalog is not tested here")
	}
	return out
}

// sharedCatalogs are catalogs that several Lakehouses (processes) open
// together: SQLite and, where WIKISTREAM_TEST_POSTGRES is set, Postgres.
func sharedCatalogs(t *testing.T) map[string]Config {
	cfgs := map[string]Config{"sqlite": {DataDir: t.TempDir()}}
	if pg := os.Getenv("WIKISTREAM_TEST_POSTGRES"); pg != "" {
		cfgs["postgres"] = Config{Catalog: pg, Name: fmt.Sprintf("test_%d", time.Now().UnixNano()), Warehouse: "file://" + t.TempDir()}
	}
	return cfgs
}

// appendRow commits one row of the test table.
func appendRow(tb testing.TB, l *Lakehouse, id string) *table.Table {
	tb.Helper()
	out, err := l.Commit(context.Background(), testDef.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
		return tx.Append(ctx, rows([]string{id}, "2026-01-01"), nil)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func openWith(tb testing.TB, cfg Config) *Lakehouse {
	tb.Helper()
	l, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

var testDef = TableDef{
	Ident:     table.Identifier{"test", "events"},
	Partition: []string{"day"},
	Version:   1,
	Fields: []iceberg.NestedField{
		field(1, "id", str, true, ""),
		field(2, "day", str, true, ""),
		field(3, "n", i64, false, ""),
	},
}

// rows builds an arrow reader with the test table's columns.
func rows(ids []string, day string) array.RecordReader {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "day", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, id := range ids {
		b.Field(0).(*array.StringBuilder).Append(id)
		b.Field(1).(*array.StringBuilder).Append(day)
		b.Field(2).(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, _ := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	return rdr
}

func count(tb testing.TB, tbl *table.Table) int64 {
	tb.Helper()
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer at.Release()
	return at.NumRows()
}

func TestEnsureTableCreatesV3AndEvolves(t *testing.T) {
	for name, open := range catalogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := open(t)
			tbl, err := l.EnsureTable(ctx, testDef)
			if err != nil {
				t.Fatal(err)
			}
			if got := tbl.Metadata().Version(); got != 3 {
				t.Errorf("format version %d, want 3", got)
			}
			if spec := tbl.Spec(); spec.NumFields() != 1 {
				got := spec.NumFields()
				t.Errorf("partition fields %d, want 1", got)
			}
			if tbl, err = tbl.Append(ctx, rows([]string{"a", "b"}, "2026-01-01"), nil); err != nil {
				t.Fatal(err)
			}
			filesBefore := dataFiles(t, tbl)

			v2 := testDef
			v2.Version = 2
			v2.Fields = append(append([]iceberg.NestedField{}, testDef.Fields...), field(4, "extra", str, false, ""))
			tbl, err = l.EnsureTable(ctx, v2)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := tbl.Schema().FindFieldByName("extra"); !ok {
				t.Fatalf("column extra was not added: %v", tbl.Schema())
			}
			if got := tbl.Properties()[PropSchemaVersion]; got != "2" {
				t.Errorf("schema version property %q, want 2", got)
			}
			if got := dataFiles(t, tbl); fmt.Sprint(got) != fmt.Sprint(filesBefore) {
				t.Errorf("evolution rewrote data files: %v, before %v", got, filesBefore)
			}
			if got := count(t, tbl); got != 2 {
				t.Errorf("%d rows after evolution, want 2", got)
			}
			// Ensuring again is a no-op.
			before := tbl.Metadata().LastUpdatedMillis()
			if tbl, err = l.EnsureTable(ctx, v2); err != nil {
				t.Fatal(err)
			}
			if tbl.Metadata().LastUpdatedMillis() != before {
				t.Errorf("EnsureTable on an up-to-date table changed its metadata")
			}
		})
	}
}

// TestFileOrderOnlyAtCreation: a table created with a file order records
// it; an existing table does not get one later, as its older files need
// not be in it.
func TestFileOrderOnlyAtCreation(t *testing.T) {
	ctx := context.Background()
	l := openWith(t, Config{DataDir: t.TempDir()})
	ordered := testDef
	ordered.FileOrder = "n DESC, id"
	tbl, err := l.EnsureTable(ctx, ordered)
	if err != nil {
		t.Fatal(err)
	}
	if got := tbl.Properties()[PropFileOrder]; got != "n DESC, id" {
		t.Errorf("created with file order %q", got)
	}
	other := testDef
	other.Ident = table.Identifier{"test", "unordered"}
	if _, err := l.EnsureTable(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.FileOrder = "n DESC, id"
	if tbl, err = l.EnsureTable(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, ok := tbl.Properties()[PropFileOrder]; ok {
		t.Errorf("an existing table was given the file order %q", got)
	}
}

func dataFiles(tb testing.TB, tbl *table.Table) []string {
	tb.Helper()
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, t := range tasks {
		out = append(out, t.File.FilePath())
	}
	return out
}

// TestConcurrentCommitsWithOffsets has several writers append to one table
// at once, each merging its own partition's offsets: every commit lands
// (conflicts are retried) and the final summary holds every writer's offset.
func TestConcurrentCommitsWithOffsets(t *testing.T) {
	for name, open := range catalogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := open(t)
			if _, err := l.EnsureTable(ctx, testDef); err != nil {
				t.Fatal(err)
			}
			const writers, commits = 4, 5
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for c := range commits {
						_, err := l.Commit(ctx, testDef.Ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
							off, err := CommittedOffsets(tbl)
							if err != nil {
								return err
							}
							off.Merge(Offsets{"raw-events": {int32(w): int64(c + 1)}})
							return tx.Append(ctx, rows([]string{fmt.Sprintf("w%d-c%d", w, c)}, "2026-01-01"),
								iceberg.Properties{SummaryOffsets: off.Encode()})
						})
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			tbl, err := l.Load(ctx, testDef.Ident)
			if err != nil {
				t.Fatal(err)
			}
			if got := count(t, tbl); got != writers*commits {
				t.Errorf("%d rows, want %d", got, writers*commits)
			}
			off, err := CommittedOffsets(tbl)
			if err != nil {
				t.Fatal(err)
			}
			for w := range writers {
				if got := off["raw-events"][int32(w)]; got != commits {
					t.Errorf("offset of partition %d = %d, want %d (a writer's offsets were lost)", w, got, commits)
				}
			}
		})
	}
}

func TestCommittedOffsetsSkipsSnapshotsWithout(t *testing.T) {
	for name, open := range catalogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := open(t)
			tbl, err := l.EnsureTable(ctx, testDef)
			if err != nil {
				t.Fatal(err)
			}
			if off, _ := CommittedOffsets(tbl); len(off) != 0 {
				t.Fatalf("empty table has offsets %v", off)
			}
			want := Offsets{"raw-events": {0: 10, 3: 7}}
			tbl, err = tbl.Append(ctx, rows([]string{"a"}, "2026-01-01"), iceberg.Properties{SummaryOffsets: want.Encode()})
			if err != nil {
				t.Fatal(err)
			}
			// A commit without offsets, as compaction or a manual append makes.
			tbl, err = tbl.Append(ctx, rows([]string{"b"}, "2026-01-02"), nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := CommittedOffsets(tbl)
			if err != nil {
				t.Fatal(err)
			}
			if got.Encode() != want.Encode() {
				t.Errorf("offsets %s, want %s from the parent snapshot", got.Encode(), want.Encode())
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "--data-dir"},
		{Config{Catalog: "mysql://x"}, "unknown scheme"},
		{Config{Catalog: "sqlite://"}, "sqlite:///path"},
		{Config{DataDir: "x", Warehouse: "/no/scheme"}, "--warehouse"},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error mentioning %q", c.cfg, err, c.want)
		}
	}
	if got := redact("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("redact left the password: %s", got)
	}
}

// TestLoadSeesOtherProcessesCommits holds the table cache to the catalog:
// a table committed by another process (another Lakehouse on the same
// catalog) is loaded at its new snapshot, and an unchanged table is served
// from the cache without reading its metadata again.
func TestLoadSeesOtherProcessesCommits(t *testing.T) {
	for name, cfg := range sharedCatalogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := openWith(t, cfg), openWith(t, cfg)
			if _, err := a.EnsureTable(ctx, testDef); err != nil {
				t.Fatal(err)
			}
			appendRows := func(l *Lakehouse, id string) *table.Table { return appendRow(t, l, id) }
			load := func(l *Lakehouse) *table.Table {
				tbl, err := l.Load(ctx, testDef.Ident)
				if err != nil {
					t.Fatal(err)
				}
				return tbl
			}
			first := appendRows(a, "x")
			if got, again := load(a), load(a); got != again || got.MetadataLocation() != first.MetadataLocation() {
				t.Errorf("unchanged table reloaded (%s, then %s) instead of served from the cache", got.MetadataLocation(), again.MetadataLocation())
			}
			if got := load(b).CurrentSnapshot().SnapshotID; got != first.CurrentSnapshot().SnapshotID {
				t.Errorf("second process loads snapshot %d, want %d", got, first.CurrentSnapshot().SnapshotID)
			}
			for i := range 3 { // each process commits in turn; the other sees it
				writer, reader := b, a
				if i%2 == 1 {
					writer, reader = a, b
				}
				want := appendRows(writer, fmt.Sprint("y", i))
				got := load(reader)
				if got.CurrentSnapshot().SnapshotID != want.CurrentSnapshot().SnapshotID {
					t.Fatalf("commit %d: the other process loads snapshot %d, want %d (a stale cached table)",
						i, got.CurrentSnapshot().SnapshotID, want.CurrentSnapshot().SnapshotID)
				}
				if n := count(t, got); n != int64(i+2) {
					t.Errorf("commit %d: %d rows, want %d", i, n, i+2)
				}
			}
			if _, err := a.Load(ctx, table.Identifier{"test", "missing"}); !errors.Is(err, catalog.ErrNoSuchTable) {
				t.Errorf("missing table: %v, want ErrNoSuchTable", err)
			}
		})
	}
}

// TestAppendsMergeManifests commits more single-file appends than Iceberg's
// count at which manifests are merged (100): the current snapshot then
// lists far fewer manifests than commits, every row is still there, and an
// incremental reader at any checkpoint gets exactly the files committed
// after it, although the merge rewrote their manifests (their entries
// become EXISTING).
func TestAppendsMergeManifests(t *testing.T) {
	ctx := context.Background()
	l := openWith(t, Config{DataDir: t.TempDir()})
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	const commits = 130
	var at []Checkpoint // after each commit
	for i := range commits {
		out, err := l.Commit(ctx, testDef.Ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
			return tx.Append(ctx, rows([]string{fmt.Sprint("r", i)}, "2026-01-01"), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		s := out.CurrentSnapshot()
		at = append(at, Checkpoint{Snapshot: s.SnapshotID, Sequence: s.SequenceNumber})
	}
	tbl, err := l.Load(ctx, testDef.Ident)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mans, err := tbl.CurrentSnapshot().Manifests(fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(mans) > 100 {
		t.Errorf("%d manifests after %d appends, want at most 100 (merged)", len(mans), commits)
	}
	if n := count(t, tbl); n != commits {
		t.Errorf("%d rows, want %d", n, commits)
	}
	for _, from := range []int{-1, 0, 50, 98, 99, 100, 128, 129} {
		cp := Checkpoint{}
		if from >= 0 {
			cp = at[from]
		}
		added, err := AddedSince(ctx, tbl, cp)
		if err != nil {
			t.Fatal(err)
		}
		if want := commits - 1 - from; len(added) != want {
			t.Errorf("after commit %d: %d files added since, want %d", from, len(added), want)
			continue
		}
		for j, f := range added {
			if f.At != at[from+1+j] {
				t.Errorf("after commit %d: file %d was added at %+v, want %+v", from, j, f.At, at[from+1+j])
				break
			}
		}
	}
}

func TestCommitYieldsToForegroundWork(t *testing.T) {
	ctx := context.Background()
	gate := priority.New(time.Hour) // only the foreground's end lets it through
	l := openWith(t, Config{DataDir: t.TempDir(), Gate: gate})
	if l.Gate() != gate {
		t.Fatal("Gate() is not the configured gate")
	}
	if _, err := l.EnsureTable(ctx, testDef); err != nil {
		t.Fatal(err)
	}
	leave := gate.Enter() // an API request runs
	done := make(chan error, 1)
	go func() {
		_, err := l.Commit(ctx, testDef.Ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
			return tx.Append(ctx, rows([]string{"a"}, "2026-01-01"), nil)
		})
		done <- err
	}()
	for gate.Stats().Waiting == 0 {
		select {
		case err := <-done:
			t.Fatalf("the commit ended (%v) without waiting for the foreground work", err)
		case <-time.After(time.Millisecond):
		}
	}
	tbl, err := l.Load(ctx, testDef.Ident)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.CurrentSnapshot() != nil {
		t.Fatal("the commit landed while foreground work ran")
	}
	leave()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if tbl, err = l.Load(ctx, testDef.Ident); err != nil || count(t, tbl) != 1 {
		t.Fatalf("after the foreground ended: %v, want the commit's row", err)
	}
	if s := gate.Stats(); s.Yields != 1 || s.Waited <= 0 {
		t.Errorf("gate stats %+v, want one yield that waited", s)
	}
}

func TestDefaultGateIsTheProcesss(t *testing.T) {
	if l := openWith(t, Config{DataDir: t.TempDir()}); l.Gate() != priority.Process {
		t.Fatal("a lakehouse without Config.Gate does not yield to priority.Process")
	}
}
