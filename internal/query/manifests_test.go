package query

import (
	"context"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// TestPlanReadsNewManifestsOnly: planning a table's next snapshot reads
// only the manifests its previous plan did not list, and the query over it
// sees every row; a time-travel plan of an older snapshot still counts only
// that snapshot's rows, and a snapshot with deletes is planned in full (the
// rows deleted are not counted).
func TestPlanReadsNewManifestsOnly(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	var first *table.Snapshot
	want := int64(0)
	for i, n := range []int{50, 30, 20} {
		tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(i))
		want += int64(n)
		if first == nil {
			first = tbl.CurrentSnapshot()
		}
	}
	read := e.manifests.reads.Load()
	if got := count(t, e, "bronze.raw_events", At{}); got != want {
		t.Fatalf("count: %d, want %d", got, want)
	}
	if n := e.manifests.reads.Load() - read; n != 3 {
		t.Errorf("the first plan read %d manifests, want the 3 of three appends", n)
	}
	appendEvents(t, lh, lakehouse.BronzeRawEvents, 7, 9)
	want += 7
	read = e.manifests.reads.Load()
	if got := count(t, e, "bronze.raw_events", At{}); got != want {
		t.Fatalf("count after one more append: %d, want %d", got, want)
	}
	if n := e.manifests.reads.Load() - read; n != 1 {
		t.Errorf("the next plan read %d manifests, want only the new one", n)
	}
	if got := count(t, e, "bronze.raw_events", At{Snapshot: first.SnapshotID}); got != 50 {
		t.Errorf("count at the first snapshot: %d, want 50", got)
	}

	// A merge-on-read delete: PlanFiles applies its deletion vectors.
	tbl, err := lh.Load(ctx, lakehouse.BronzeRawEvents)
	if err != nil {
		t.Fatal(err)
	}
	deleted := int64(len(icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, []string{"event_id"})))
	tx := tbl.NewTransaction()
	if err := tx.SetProperties(iceberg.Properties{table.WriteDeleteModeKey: table.WriteModeMergeOnRead}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Delete(ctx, iceberg.EqualTo(iceberg.Reference("is_bot"), true), nil); err != nil {
		t.Fatal(err)
	}
	if tbl, err = tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if countDeleteFiles(t, tbl, iceberg.PuffinFile) == 0 {
		t.Fatal("the delete wrote no deletion vector")
	}
	deleted -= int64(len(icebergRows(t, tbl, tbl.CurrentSnapshot().SnapshotID, []string{"event_id"})))
	if deleted == 0 {
		t.Fatal("the delete removed no row")
	}
	if got := count(t, e, "bronze.raw_events", At{}); got != want-deleted {
		t.Errorf("count after deleting %d rows: %d, want %d", deleted, got, want-deleted)
	}
}
