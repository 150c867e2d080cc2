package priority

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestYieldWithoutForegroundDoesNotWait(t *testing.T) {
	g := New(time.Hour)
	if d := g.Yield(context.Background()); d != 0 {
		t.Fatalf("Yield with nothing in the foreground waited %s", d)
	}
	leave := g.Enter()
	leave()
	leave() // a second call changes nothing
	if d := g.Yield(context.Background()); d != 0 {
		t.Fatalf("Yield after the foreground work ended waited %s", d)
	}
	if s := g.Stats(); s.Entered != 1 || s.Yields != 0 {
		t.Fatalf("stats %+v, want 1 entered and no yields", s)
	}
}

// yieldAsync runs Yield and sends when it returns.
func yieldAsync(ctx context.Context, g *Gate) <-chan time.Duration {
	done := make(chan time.Duration, 1)
	go func() { done <- g.Yield(ctx) }()
	return done
}

// waitWaiting waits until n Yields are waiting on g.
func waitWaiting(t *testing.T, g *Gate, n int64) {
	t.Helper()
	for g.Stats().Waiting != n {
		time.Sleep(time.Millisecond)
	}
}

func TestYieldWaitsForEveryForegroundWork(t *testing.T) {
	g := New(time.Hour) // never reached: only the foreground ends the wait
	first, second := g.Enter(), g.Enter()
	done := yieldAsync(context.Background(), g)
	waitWaiting(t, g, 1)
	first()
	// One request still runs: the background keeps waiting. A third
	// begins before the second ends, and is waited for too.
	third := g.Enter()
	second()
	select {
	case <-done:
		t.Fatal("Yield returned while foreground work ran")
	case <-time.After(20 * time.Millisecond):
	}
	third()
	if d := <-done; d <= 0 {
		t.Fatalf("Yield waited %s, want more than 0", d)
	}
	if s := g.Stats(); s.Yields != 1 || s.Waiting != 0 || s.Waited <= 0 || s.Entered != 3 {
		t.Fatalf("stats %+v, want 3 entered, one yield that waited, none waiting", s)
	}
}

func TestYieldWaitsAtMostMaxWait(t *testing.T) {
	g := New(30 * time.Millisecond)
	defer g.Enter()() // foreground that outlasts the test
	d := g.Yield(context.Background())
	if d < 30*time.Millisecond {
		t.Fatalf("Yield returned after %s, before MaxWait (30ms) with the foreground still running", d)
	}
}

func TestYieldEndsWithContext(t *testing.T) {
	g := New(time.Hour)
	defer g.Enter()()
	ctx, cancel := context.WithCancel(context.Background())
	done := yieldAsync(ctx, g)
	waitWaiting(t, g, 1)
	cancel()
	<-done // would hang for an hour if ctx were ignored
}

func TestNilGateNeverWaits(t *testing.T) {
	var g *Gate
	g.Enter()()
	if d := g.Yield(context.Background()); d != 0 {
		t.Fatalf("nil gate waited %s", d)
	}
	if s := g.Stats(); s != (Stats{}) {
		t.Fatalf("nil gate stats %+v", s)
	}
}

func TestCollectors(t *testing.T) {
	g := New(time.Hour)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g.Collectors()...)
	leave := g.Enter()
	done := yieldAsync(context.Background(), g)
	waitWaiting(t, g, 1)
	if n := testutil.ToFloat64(g.Collectors()[3]); n != 1 {
		t.Errorf("waiting gauge %v, want 1", n)
	}
	leave()
	<-done
	n, err := testutil.GatherAndCount(reg, "wikistream_priority_foreground_total", "wikistream_priority_yields_total",
		"wikistream_priority_yield_seconds_total", "wikistream_priority_waiting")
	if err != nil || n != 4 {
		t.Fatalf("gathered %d metrics (%v), want 4", n, err)
	}
	for _, c := range []struct {
		i    int
		want float64
	}{{0, 1}, {1, 1}, {3, 0}} {
		if got := testutil.ToFloat64(g.Collectors()[c.i]); got != c.want {
			t.Errorf("collector %d: %v, want %v", c.i, got, c.want)
		}
	}
	if s := testutil.ToFloat64(g.Collectors()[2]); s <= 0 {
		t.Errorf("yield seconds %v, want more than 0", s)
	}
}
