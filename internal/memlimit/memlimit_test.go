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

// TestAutoLiftsNearTheLiveHeap: the limit holds while the live heap leaves
// it room, is lifted once 64 MiB more are alive, and holds again once they
// are let go of.
func TestAutoLiftsNearTheLiveHeap(t *testing.T) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	limit := int64(ms.HeapAlloc) + 48<<20 // room for what is alive now, not for 64 MiB more
	g, err := Auto(Config{Limit: limit, Room: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	settle(t, g)
	if got, _ := g.Limit(); got != limit {
		t.Fatalf("limit %d MiB with %d MiB alive, want %d MiB", got>>20, ms.HeapAlloc>>20, limit>>20)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("the runtime's limit is %d, want the governor's %d", got, limit)
	}

	held := make([][]byte, 64)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	settle(t, g)
	if got, _ := g.Limit(); got != math.MaxInt64 {
		t.Errorf("limit %d MiB with 64 MiB more alive than it leaves room for, want none", got>>20)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("the runtime's limit is %d MiB, want none", got>>20)
	}
	runtime.KeepAlive(held)
	held = nil

	settle(t, g)
	if got, _ := g.Limit(); got != limit {
		t.Errorf("limit %d once the 64 MiB were let go of, want %d again", got, limit)
	}
	runtime.KeepAlive(held)
}

// TestStop: a stopped governor leaves the limit unset and no longer
// follows collections.
func TestStop(t *testing.T) {
	g, err := Auto(Config{Limit: 4 << 30, Room: 0.25})
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
		{Config{Limit: 0, Room: 0.25}, "memory limit: got 0"},
		{Config{Limit: 1 << 30, Room: 0}, "room"},
		{Config{Limit: 1 << 30, Room: math.NaN()}, "room"},
	} {
		_, err := Auto(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming the %s", tc.cfg, err, tc.want)
		}
	}
	for _, c := range []Config{DefaultConfig(), LiveConfig()} {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
}

// The limit holds while it leaves Room of what is alive free, and is
// lifted once it does not.
func TestLimitFor(t *testing.T) {
	const mib = 1 << 20
	live := LiveConfig() // 300 MiB up to 225 alive
	one := DefaultConfig()
	for _, c := range []struct {
		cfg  Config
		used int64
		want int64
	}{
		{live, 0, 300 * mib},
		{live, 225 * mib, 300 * mib},
		{live, 226 * mib, math.MaxInt64},
		{one, 100 * mib, 700 * mib},
		{one, 525 * mib, 700 * mib},
		{one, 526 * mib, math.MaxInt64},
	} {
		if got := c.cfg.limitFor(c.used); got != c.want {
			t.Errorf("%+v with %d MiB alive: limit %d MiB, want %d MiB", c.cfg, c.used/mib, got/mib, c.want/mib)
		}
	}
}
