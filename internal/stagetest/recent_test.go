package stagetest_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// TestKeptRecordsAreTheirFiles: the records bronze and silver commit, kept
// for the stages reading them next (lakehouse.Lakehouse.ReadsRecent), hold
// exactly what their Parquet files hold, in every column, with the same
// Arrow types: a stage cannot tell which it read.
func TestKeptRecordsAreTheirFiles(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.OutOfOrder, cfg.Rate = 3000, 27, 0.05, 0.2 // over four hours
	events, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := stagetest.New(t)
	for _, def := range []lakehouse.TableDef{lakehouse.RawEventsTable, lakehouse.CleanedEventsTable} {
		p.LH.ReadsRecent(def.Ident, columns(def))
	}
	p.Bronze(t, events)
	compareKept(t, p, lakehouse.RawEventsTable)
	p.Silver(t)
	compareKept(t, p, lakehouse.CleanedEventsTable)
}

func columns(def lakehouse.TableDef) []string {
	var out []string
	for _, f := range def.Fields {
		out = append(out, f.Name)
	}
	return out
}

// compareKept reads every file of def's table from memory and from the file.
func compareKept(t *testing.T, p *stagetest.Pipeline, def lakehouse.TableDef) {
	t.Helper()
	ctx := context.Background()
	tbl, err := p.LH.Load(ctx, def.Ident)
	if err != nil {
		t.Fatal(err)
	}
	files, err := lakehouse.AddedSince(ctx, tbl, lakehouse.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	cols := columns(def)
	kept := 0
	for _, f := range files {
		before, _ := p.LH.RecentReads()
		got := collect(t, func(fn func(arrow.RecordBatch) error) error { return p.LH.ReadFile(ctx, tbl, f.File, cols, fn) })
		if after, _ := p.LH.RecentReads(); after == before {
			continue // not kept (a commit spread over files of one partition)
		}
		kept++
		want := collect(t, func(fn func(arrow.RecordBatch) error) error { return lakehouse.ReadFile(ctx, tbl, f.File, cols, fn) })
		for i, name := range cols {
			if !arrow.TypeEqual(got[i].DataType(), want[i].DataType()) {
				t.Errorf("%s %s: kept as %s, read from the file as %s", f.File.FilePath(), name, got[i].DataType(), want[i].DataType())
				continue
			}
			if !array.Equal(got[i], want[i]) {
				t.Errorf("%s %s: kept values differ from the file's", f.File.FilePath(), name)
			}
		}
	}
	if kept == 0 || kept < len(files)/2 {
		t.Fatalf("%s: %d of %d files came from memory; the test compares nothing", lakehouse.Name(def.Ident), kept, len(files))
	}
	t.Logf("%s: %d of %d files compared", lakehouse.Name(def.Ident), kept, len(files))
}

// collect concatenates each column of the batches read.
func collect(t *testing.T, read func(func(arrow.RecordBatch) error) error) []arrow.Array {
	t.Helper()
	var chunks [][]arrow.Array
	err := read(func(rec arrow.RecordBatch) error {
		for i, c := range rec.Columns() {
			if i == len(chunks) {
				chunks = append(chunks, nil)
			}
			c.Retain()
			chunks[i] = append(chunks[i], c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]arrow.Array, len(chunks))
	for i, cs := range chunks {
		a, err := array.Concatenate(cs, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = a
	}
	return out
}
