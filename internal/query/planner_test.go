package query

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// plansOf lists the snapshots of a table's cached plans, and how many plans
// have been built in all.
func plansOf(e *Engine, name string) (snapshots []int64, built int) {
	e.plans.mu.Lock()
	defer e.plans.mu.Unlock()
	for k := range e.plans.m {
		if k.name == name {
			snapshots = append(snapshots, k.snapshotID)
		}
	}
	return snapshots, e.plans.built
}

// waitPlanned waits until the plan of snapshot id of bronze.raw_events is
// cached (the planner made it: nothing queries meanwhile).
func waitPlanned(t *testing.T, e *Engine, id int64) {
	t.Helper()
	key := planKey{name: "bronze.raw_events", snapshotID: id, schemaID: 0}
	for deadline := time.Now().Add(time.Minute); !e.plans.has(key); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			got, _ := plansOf(e, "bronze.raw_events")
			t.Fatalf("snapshot %d was not planned in the background; cached plans: %v", id, got)
		}
	}
}

// The planner plans each new snapshot of a planned table without a query
// asking; a query then uses that plan (it builds none) and reads that
// snapshot; older plans of the table are evicted.
func TestPlannerPlansNewSnapshots(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Planned: []string{"bronze.raw_events"}, ResidentPoll: time.Millisecond})
	want := int64(0)
	for i, n := range []int{100, 20, 3} {
		tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(i))
		want += int64(n)
		id := tbl.CurrentSnapshot().SnapshotID
		waitPlanned(t, e, id)
		snaps, before := plansOf(e, "bronze.raw_events")
		if len(snaps) != 1 || snaps[0] != id {
			t.Errorf("commit %d: cached plans of the table: %v, want only the current snapshot %d", i+1, snaps, id)
		}
		res, err := e.Query(ctx, "SELECT count(*) FROM bronze.raw_events", At{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rows[0][0].(int64); got != want {
			t.Errorf("commit %d: got %d rows, want %d", i+1, got, want)
		}
		if got := res.Snapshots["bronze.raw_events"]; got != id {
			t.Errorf("commit %d: read snapshot %d, want %d", i+1, got, id)
		}
		if _, after := plansOf(e, "bronze.raw_events"); after != before {
			t.Errorf("commit %d: the query built %d plans; want 0 (the planner's plan)", i+1, after-before)
		}
	}
}

// A query right after a commit reads it, whether or not the planner has
// planned it (here it polls rarely, so it has not); and queries racing the
// planner over a stream of commits each read the newest snapshot at least.
func TestPlannedTableIsFresh(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	slow := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Planned: []string{"bronze.raw_events"}, ResidentPoll: time.Hour})
	fast := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Planned: []string{"bronze.raw_events"}, ResidentPoll: time.Millisecond})
	want := int64(0)
	for i := range 8 {
		appendEvents(t, lh, lakehouse.BronzeRawEvents, 10+i, uint64(i))
		want += int64(10 + i)
		var wg sync.WaitGroup
		for _, e := range []*Engine{slow, fast, fast} {
			wg.Go(func() {
				if got := count(t, e, "bronze.raw_events", At{}); got != want {
					t.Errorf("right after commit %d: got %d rows, want %d", i+1, got, want)
				}
			})
		}
		wg.Wait()
	}
}

// Close stops the planner and waits for it.
func TestCloseStopsPlanner(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, lh, lakehouse.BronzeRawEvents, 50, 1)
	before := settled(t, planLoop, 0)
	e, err := Open(ctx, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Planned: []string{"bronze.raw_events"}, ResidentPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	count(t, e, "bronze.raw_events", At{})
	if got := running(t, planLoop); got != before+1 {
		t.Errorf("planner goroutines while open: got %d, want %d", got, before+1)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.planDone:
	default:
		t.Error("Close returned before the planner ended")
	}
	if got := settled(t, planLoop, before); got != before {
		t.Errorf("planner goroutines after Close: got %d, want %d", got, before)
	}
	if _, err := Open(ctx, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Planned: []string{"bronze.nope"}}); err == nil || !strings.Contains(err.Error(), "bronze.nope") {
		t.Errorf("planned table that is not one of the engine's: got %v, want an error naming it", err)
	}
}

// Refresh returns once the planner has planned the planned tables' current
// snapshots: the first query after a commit, made once Refresh returns (as
// the live poller's is), finds the plan ready. The planner's own poll is an
// hour here, so only Refresh makes it plan.
func TestRefreshWaitsForPlanner(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	if _, err := lh.EnsureTable(ctx, lakehouse.RawEventsTable); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents},
		Config{Planned: []string{"bronze.raw_events"}, ResidentPoll: time.Hour})
	for i, n := range []int{100, 20, 3} {
		tbl := appendEvents(t, lh, lakehouse.BronzeRawEvents, n, uint64(i))
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		id := tbl.CurrentSnapshot().SnapshotID
		if !e.plans.has(planKey{name: "bronze.raw_events", snapshotID: id, schemaID: 0}) {
			got, _ := plansOf(e, "bronze.raw_events")
			t.Fatalf("commit %d: Refresh returned before snapshot %d was planned; cached plans: %v", i+1, id, got)
		}
	}
	e.Close()
	if err := e.Refresh(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close: got %v, want ErrClosed", err)
	}
}
