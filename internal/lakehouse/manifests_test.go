package lakehouse_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// TestMaintainMergesClosedDaysManifests: a replay-like commit of three
// closed days (one manifest spanning them), three more commits into the
// last closed day, one into that day and the open one, and two into the
// open day alone. Maintenance rewrites the five manifests holding closed
// days into one for the closed days and one for the open day's rows among
// them, and leaves the open day's own two alone; the rows, bronze's
// offsets and what an incremental reader gets from a checkpoint are the
// same after; a dry run changes nothing, and a second run has nothing to
// do.
func TestMaintainMergesClosedDaysManifests(t *testing.T) {
	lh, raw := newBronze(t)
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	day := func(d int) time.Time { return now.Truncate(24*time.Hour).AddDate(0, 0, d) }
	var times []time.Time
	for d := -3; d <= -1; d++ {
		times = append(times, raw.inHour(day(d).Add(5*time.Hour), 4)...)
	}
	raw.commit(t, times)
	for range 3 {
		raw.commit(t, raw.inHour(day(-1).Add(20*time.Hour), 2))
	}
	raw.commit(t, append(raw.inHour(day(-1).Add(23*time.Hour), 2), raw.inHour(day(0), 2)...))
	for range 2 {
		raw.commit(t, raw.inHour(day(0).Add(9*time.Hour), 2))
	}

	ident := lakehouse.BronzeRawEvents
	tbl := load(t, lh, ident)
	// An incremental reader's checkpoint after the first two commits.
	history := tbl.Metadata().Snapshots()
	cp := lakehouse.Checkpoint{Snapshot: history[1].SnapshotID, Sequence: history[1].SequenceNumber}
	wantRows, wantAdded := rowSet(t, lh, ident), addedPaths(t, tbl, cp)
	wantOffsets, err := lakehouse.CommittedOffsets(tbl)
	if err != nil {
		t.Fatal(err)
	}
	before := manifestDays(t, tbl)
	if got := slices.Sorted(maps.Values(before)); !slices.Equal(got, []string{
		"2026-11-17..2026-11-19", "2026-11-19", "2026-11-19", "2026-11-19", "2026-11-19..2026-11-20", "2026-11-20", "2026-11-20"}) {
		t.Fatalf("manifests before maintenance hold the days %q", got)
	}

	edit := func(dry bool) func(*lakehouse.MaintainConfig) {
		return func(c *lakehouse.MaintainConfig) {
			c.Tables, c.Now, c.DryRun = []table.Identifier{ident}, func() time.Time { return now }, dry
		}
	}
	tr := tableReport(t, runOnce(t, maintainer(t, lh, edit(true))), ident)
	if tr.ManifestsRewritten != 5 || tr.ManifestsWritten != 2 {
		t.Errorf("dry run: %d manifests into %d, want 5 into 2", tr.ManifestsRewritten, tr.ManifestsWritten)
	}
	if got := manifestDays(t, load(t, lh, ident)); !maps.Equal(got, before) {
		t.Fatalf("a dry run changed the manifests: %v, was %v", got, before)
	}

	m := maintainer(t, lh, edit(false))
	tr = tableReport(t, runOnce(t, m), ident)
	if tr.ManifestsRewritten != 5 || tr.ManifestsWritten != 2 {
		t.Errorf("%d manifests rewritten into %d, want 5 into 2", tr.ManifestsRewritten, tr.ManifestsWritten)
	}
	tbl = load(t, lh, ident)
	after := manifestDays(t, tbl)
	kept := 0
	for path := range after {
		if _, ok := before[path]; ok {
			kept++
			if before[path] != "2026-11-20" {
				t.Errorf("manifest %s of %s was not rewritten", path, before[path])
			}
		}
	}
	if got := slices.Sorted(maps.Values(after)); kept != 2 || !slices.Equal(got, []string{
		"2026-11-17..2026-11-19", "2026-11-20", "2026-11-20", "2026-11-20"}) {
		t.Errorf("manifests after maintenance hold the days %q (%d of them kept), want the closed days in one and the open day's 2 kept", got, kept)
	}
	sameSet(t, "rows", rowSet(t, lh, ident), wantRows)
	if got := addedPaths(t, tbl, cp); !maps.Equal(got, wantAdded) {
		t.Errorf("files added since the checkpoint: %d after the rewrite, %d before", len(got), len(wantAdded))
	}
	if got, err := lakehouse.CommittedOffsets(tbl); err != nil || !maps.EqualFunc(got, wantOffsets, maps.Equal) {
		t.Errorf("offsets after the rewrite: %v (%v), want %v", got, err, wantOffsets)
	}

	if tr = tableReport(t, runOnce(t, m), ident); tr.ManifestsRewritten != 0 {
		t.Errorf("second run rewrote %d manifests, want none", tr.ManifestsRewritten)
	}
}

func load(tb testing.TB, lh *lakehouse.Lakehouse, ident table.Identifier) *table.Table {
	tb.Helper()
	tbl, err := lh.Load(context.Background(), ident)
	if err != nil {
		tb.Fatal(err)
	}
	return tbl
}

// manifestDays maps each data manifest of tbl's current snapshot to the
// days of its partition bounds ("lo" or "lo..hi").
func manifestDays(tb testing.TB, tbl *table.Table) map[string]string {
	tb.Helper()
	fs, err := tbl.FS(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	manifests, err := tbl.CurrentSnapshot().Manifests(fs)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, mf := range manifests {
		if mf.ManifestContent() != iceberg.ManifestContentData {
			continue
		}
		b := mf.Partitions()[0] // event_date
		lo, hi := string(*b.LowerBound), string(*b.UpperBound)
		if lo != hi {
			lo += ".." + hi
		}
		out[mf.FilePath()] = lo
	}
	return out
}

// addedPaths are the files AddedSince lists after cp.
func addedPaths(tb testing.TB, tbl *table.Table, cp lakehouse.Checkpoint) map[string]lakehouse.Checkpoint {
	tb.Helper()
	added, err := lakehouse.AddedSince(context.Background(), tbl, cp)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]lakehouse.Checkpoint{}
	for _, a := range added {
		out[a.File.FilePath()] = a.At
	}
	return out
}
