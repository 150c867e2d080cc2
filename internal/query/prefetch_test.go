package query

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// TestPrefetchReadsNewestFirst: Prefetch reads every data file of the
// table's current snapshot within its budget, the newest by the window
// column first, and stops before a file that would exceed the budget.
func TestPrefetchReadsNewestFirst(t *testing.T) {
	ctx := context.Background()
	lh, tbl := rawEvents(t, 3, 2000, 300)
	const name = "bronze.raw_events"
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	field, ok := tbl.Schema().FindFieldByName("event_timestamp")
	if !ok {
		t.Fatal("no event_timestamp")
	}
	newest := map[string]int64{} // file path: its greatest event_timestamp
	size := map[string]int64{}
	var total int64
	for _, task := range tasks {
		path := localPath(task.File.FilePath())
		newest[path] = int64(binary.LittleEndian.Uint64(task.File.UpperBoundValues()[field.ID]))
		size[path] = task.File.FileSizeBytes()
		total += task.File.FileSizeBytes()
	}
	if len(tasks) < 3 {
		t.Fatalf("%d data files; want several", len(tasks))
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{Resident: []string{name},
		ResidentWindow: map[string]string{name: "event_timestamp"}, ResidentMaxBytes: total / 3, ResidentPoll: time.Hour})
	files, bytes, err := e.Prefetch(ctx, name, total)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tasks) || bytes != total {
		t.Fatalf("read %d files, %d bytes; want all %d, %d bytes", len(files), bytes, len(tasks), total)
	}
	for i := 1; i < len(files); i++ {
		if newest[files[i]] > newest[files[i-1]] {
			t.Errorf("file %d (%s) holds newer rows than file %d before it", i, files[i], i-1)
		}
	}
	// A budget short of the first two files reads the first alone.
	files2, bytes2, err := e.Prefetch(ctx, name, size[files[0]]+size[files[1]]-1)
	if err != nil {
		t.Fatal(err)
	}
	if len(files2) != 1 || files2[0] != files[0] || bytes2 != size[files[0]] {
		t.Errorf("with room for less than two files: read %v (%d bytes), want %s alone", files2, bytes2, files[0])
	}
	if _, _, err := e.Prefetch(ctx, "gold.nothing", total); err == nil || !strings.Contains(err.Error(), "gold.nothing") {
		t.Errorf("an unknown table: got %v, want an error naming it", err)
	}
}
