package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// settle collects until the governor has set the limit twice: the second
// time after a collection that began once the caller's heap was in place
// (the first may follow one that began before).
func settle(t *testing.T, g *Governor) {
	t.Helper()
	_, n := g.Limit()
	waitUpdates(t, g, n+1)
}

// waitUpdates collects until the governor has seen more than n
// collections, or fails after a generous minute.
func waitUpdates(t *testing.T, g *Governor, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		runtime.GC()
		if _, u := g.Limit(); u > n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the governor saw no collection after %d", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAutoFollowsTheLiveHeap: with a floor below the heap, the limit after
// a collection is the ratio times the live heap (plus the runtime's memory
// outside it), so it grows with what the process holds and falls again
// once that is let go of; with a floor above, it is the floor.
func TestAutoFollowsTheLiveHeap(t *testing.T) {
	g, err := Auto(Config{Floor: 1 << 20, Ratio: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()

	held := make([][]byte, 64)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	settle(t, g)
	limit, _ := g.Limit()
	if limit < 96<<20 {
		t.Errorf("limit %d MiB while 64 MiB are alive, want at least 1.5 times that", limit>>20)
	}
	runtime.KeepAlive(held)
	held = nil

	settle(t, g)
	if after, _ := g.Limit(); after > limit-48<<20 {
		t.Errorf("limit %d MiB after 64 MiB were let go of, was %d MiB", after>>20, limit>>20)
	}
	runtime.KeepAlive(held)
}

func TestAutoFloor(t *testing.T) {
	g, err := Auto(Config{Floor: 4 << 30, Ratio: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	settle(t, g)
	if limit, _ := g.Limit(); limit != 4<<30 {
		t.Errorf("limit %d, want the 4 GiB floor", limit)
	}
	if got := debug.SetMemoryLimit(-1); got != 4<<30 {
		t.Errorf("the runtime's limit is %d, want the governor's 4 GiB", got)
	}
}

// TestStop: a stopped governor leaves the limit unset and no longer
// follows collections.
func TestStop(t *testing.T) {
	g, err := Auto(Config{Floor: 1 << 20, Ratio: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	settle(t, g)
	g.Stop()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit %d after Stop, want none (MaxInt64)", got)
	}
	_, n := g.Limit()
	for range 3 {
		runtime.GC()
	}
	if _, after := g.Limit(); after != n {
		t.Errorf("%d updates after Stop", after-n)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit %d after collections since Stop, want none", got)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Floor: -1, Ratio: 2}, "floor"},
		{Config{Floor: 0, Ratio: 0.9}, "ratio"},
		{Config{Floor: 0, Ratio: math.NaN()}, "ratio"},
	} {
		_, err := Auto(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming the %s", tc.cfg, err, tc.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}
