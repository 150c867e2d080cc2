package lakehouse_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/silver"
	"github.com/wikistream/wikistream/internal/stagetest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// silverRuns runs silver, one bronze commit per run, n times or until it
// has caught up (n < 0).
func silverRuns(tb testing.TB, p *stagetest.Pipeline, n int) {
	tb.Helper()
	cfg := silver.DefaultConfig()
	cfg.MaxRows = 1 // one bronze commit per run: many silver commits
	st, err := silver.New(cfg, p.LH)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i != n; i++ {
		res, err := st.RunOnce(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if res.Caught {
			return
		}
	}
}

func goldRun(tb testing.TB, p *stagetest.Pipeline) {
	tb.Helper()
	st, err := gold.New(context.Background(), gold.DefaultConfig(), p.LH)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.RunOnce(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// unread is the event ids of the files AddedSince hands a consumer at cp.
func unread(tb testing.TB, lh *lakehouse.Lakehouse, upstream table.Identifier, cp lakehouse.Checkpoint) map[string]int {
	tb.Helper()
	ctx := context.Background()
	tbl, err := lh.Load(ctx, upstream)
	if err != nil {
		tb.Fatal(err)
	}
	added, err := lakehouse.AddedSince(ctx, tbl, cp)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int{}
	for _, f := range added {
		err := lakehouse.ReadFile(ctx, tbl, f.File, []string{"event_id"}, func(rec arrow.RecordBatch) error {
			ids := rec.Column(0).(*array.String)
			for i := range ids.Len() {
				out[ids.Value(i)]++
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	// ReadAll, which answers from snapshot summaries where it can, agrees.
	if read, err := lakehouse.ReadAll(ctx, tbl, cp); err != nil || read != (len(out) == 0) {
		tb.Errorf("%s at %+v: ReadAll = %v (%v), but %d rows are unread", lakehouse.Name(upstream), cp, read, err, len(out))
	}
	return out
}

func checkpoint(tb testing.TB, lh *lakehouse.Lakehouse, consumer, upstream table.Identifier) lakehouse.Checkpoint {
	tb.Helper()
	tbl, err := lh.Load(context.Background(), consumer)
	if err != nil {
		tb.Fatal(err)
	}
	return lakehouse.ReadCheckpoint(tbl, upstream)
}

// TestMaintainKeepsIncrementalReadersExact runs the real stages with
// silver behind bronze and gold behind silver, maintains every table, then
// feeds more events (some repeated) and lets silver and gold catch up:
// compaction rewrote only what each consumer had read, so silver and gold
// equal a from-scratch run over the same events, neither missing nor
// repeating a row; bronze resumed from its offsets; and a consumer
// starting from zero reads every bronze row exactly once.
func TestMaintainKeepsIncrementalReadersExact(t *testing.T) {
	ctx := context.Background()
	all := ssetest.ReadLines(t, ssetest.SharedData(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"))
	batches, size := 6, 150
	if testing.Short() || raceEnabled {
		batches, size = 4, 100
	}
	events := slices.Clone(all[:batches*size+size])
	// Shuffled, every batch touches most hours: partitions get many files.
	rng := rand.New(rand.NewPCG(7, 7))
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	first, later := events[:batches*size], events[batches*size:]

	p := stagetest.New(t)
	for b := range batches {
		p.Bronze(t, first[b*size:(b+1)*size])
		if b == 1 {
			silverRuns(t, p, -1)
			goldRun(t, p)
		}
	}
	silverRuns(t, p, 1) // silver behind bronze, gold behind silver
	silverCp := checkpoint(t, p.LH, lakehouse.SilverCleanedEvents, lakehouse.BronzeRawEvents)
	goldCp := checkpoint(t, p.LH, lakehouse.GoldHourlyStats, lakehouse.SilverCleanedEvents)
	unreadBronze := unread(t, p.LH, lakehouse.BronzeRawEvents, silverCp)
	unreadSilver := unread(t, p.LH, lakehouse.SilverCleanedEvents, goldCp)
	if len(unreadBronze) == 0 || len(unreadSilver) == 0 {
		t.Fatalf("silver has %d bronze rows to read, gold %d silver rows; the test needs both behind", len(unreadBronze), len(unreadSilver))
	}
	bronzeTbl, _ := p.LH.Load(ctx, lakehouse.BronzeRawEvents)
	offsets, err := lakehouse.CommittedOffsets(bronzeTbl)
	if err != nil {
		t.Fatal(err)
	}

	m := maintainer(t, p.LH, func(c *lakehouse.MaintainConfig) { c.MinInputFiles = 2 })
	rep := runOnce(t, m)
	for _, tr := range rep.Tables {
		t.Logf("%s: files %d -> %d, %d compacted, skipped: %q", tr.Table, tr.FilesBefore, tr.FilesAfter, tr.FilesCompacted, tr.CompactionSkipped)
	}
	for _, ident := range []table.Identifier{lakehouse.BronzeRawEvents, lakehouse.SilverCleanedEvents} {
		if tr := tableReport(t, rep, ident); tr.FilesCompacted == 0 {
			t.Errorf("%s: nothing compacted (%s); the test needs compaction below the consumers' checkpoints", tr.Table, tr.CompactionSkipped)
		}
	}
	// What the consumers have not read is still theirs to read, once.
	sameSet(t, "bronze rows silver has yet to read", unread(t, p.LH, lakehouse.BronzeRawEvents, silverCp), unreadBronze)
	sameSet(t, "silver rows gold has yet to read", unread(t, p.LH, lakehouse.SilverCleanedEvents, goldCp), unreadSilver)
	bronzeTbl, _ = p.LH.Load(ctx, lakehouse.BronzeRawEvents)
	if got, err := lakehouse.CommittedOffsets(bronzeTbl); err != nil || got.Encode() != offsets.Encode() {
		t.Errorf("bronze offsets after maintenance: %v (%v), want %v", got, err, offsets)
	}

	// More events, a third of them repeats: bronze resumes from its offsets
	// (it reads only the new records), silver and gold catch up.
	repeats := first[:size/3]
	st := p.Bronze(t, slices.Concat(later, repeats))
	if st.Duplicates != int64(len(repeats)) {
		t.Errorf("bronze after maintenance skipped %d duplicates, want %d (the repeats only: it resumed from its offsets)", st.Duplicates, len(repeats))
	}
	silverRuns(t, p, -1)
	goldRun(t, p)
	if n := len(unread(t, p.LH, lakehouse.BronzeRawEvents, checkpoint(t, p.LH, lakehouse.SilverCleanedEvents, lakehouse.BronzeRawEvents))); n != 0 {
		t.Errorf("silver caught up has %d bronze rows left to read", n)
	}
	if n := len(unread(t, p.LH, lakehouse.SilverCleanedEvents, checkpoint(t, p.LH, lakehouse.GoldHourlyStats, lakehouse.SilverCleanedEvents))); n != 0 {
		t.Errorf("gold caught up has %d silver rows left to read", n)
	}

	// From scratch, without maintenance.
	q := stagetest.New(t)
	q.Bronze(t, slices.Concat(first, later, repeats))
	silverRuns(t, q, -1)
	goldRun(t, q)

	got, want := engine(t, p.LH), engine(t, q.LH)
	for _, sql := range []string{
		"SELECT event_id, raw_json FROM bronze.raw_events",
		"SELECT * EXCLUDE (silver_processed_at) FROM silver.cleaned_events",
		"SELECT * EXCLUDE (gold_processed_at) FROM gold.hourly_stats",
		"SELECT * EXCLUDE (gold_processed_at) FROM gold.risk_scores",
	} {
		sameSet(t, sql, sqlSet(t, got, sql), sqlSet(t, want, sql))
	}
	if n := len(sqlSet(t, got, "SELECT event_id FROM silver.cleaned_events")); n < len(first) {
		t.Errorf("silver holds %d events; want the %d distinct ones at least", n, len(first))
	}

	// A consumer starting from zero reads every bronze row once: compacted
	// files in place of their inputs.
	fresh := unread(t, p.LH, lakehouse.BronzeRawEvents, lakehouse.Checkpoint{})
	ids := sqlSet(t, got, "SELECT event_id FROM bronze.raw_events")
	if len(fresh) != len(ids) {
		t.Errorf("a new consumer reads %d distinct rows, want %d", len(fresh), len(ids))
	}
	for id, n := range fresh {
		if n != 1 {
			t.Errorf("a new consumer reads %s %d times, want once", id, n)
			break
		}
	}
}
