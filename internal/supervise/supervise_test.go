package supervise

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) on(_ context.Context, ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, ev.Stage+":"+string(ev.Kind))
	}
	return out
}

func fast(rec *recorder, reg prometheus.Registerer) Config {
	return Config{CheckInterval: 5 * time.Millisecond, StallAfter: 50 * time.Millisecond,
		InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, OnEvent: rec.on, Registerer: reg}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRestartsFailedStages: a stage that fails, and a daemon that returns
// early, are restarted and reported; a stage that finishes is not.
func TestRestartsFailedStages(t *testing.T) {
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	sup, err := New(fast(rec, reg))
	if err != nil {
		t.Fatal(err)
	}
	var failing, early, finite atomic.Int32
	sup.Add(Service{Name: "failing", Daemon: true, Run: func(ctx context.Context) error {
		if failing.Add(1) <= 3 {
			return errors.New("connection reset")
		}
		<-ctx.Done()
		return nil
	}})
	sup.Add(Service{Name: "early", Daemon: true, Run: func(ctx context.Context) error {
		if early.Add(1) == 1 {
			return nil // a daemon must not stop by itself
		}
		<-ctx.Done()
		return nil
	}})
	sup.Add(Service{Name: "finite", Run: func(context.Context) error { finite.Add(1); return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sup.Run(ctx) }()
	waitUntil(t, "every stage to settle", func() bool {
		ok, _ := sup.Ready()
		return ok && failing.Load() == 4 && early.Load() == 2
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := finite.Load(); got != 1 {
		t.Errorf("the finite stage ran %d times, want once", got)
	}
	got := strings.Join(rec.kinds(), " ")
	for _, want := range []string{"failing:failed", "failing:restarted", "early:failed", "early:restarted"} {
		if !strings.Contains(got, want) {
			t.Errorf("events %q lack %s", got, want)
		}
	}
	if strings.Contains(got, "finite:") {
		t.Errorf("events %q: the finite stage finished normally, want no event", got)
	}
	if n := testutil.ToFloat64(sup.metrics.restarts.WithLabelValues("failing", "failed")); n != 3 {
		t.Errorf("restarts of failing: got %v, want 3", n)
	}
	for _, st := range sup.States() {
		want := map[string]int{"failing": 3, "early": 1, "finite": 0}[st.Name]
		if st.Restarts != want || st.Status != map[string]string{"finite": "finished"}[st.Name] && st.Status != "stopped" {
			t.Errorf("state %+v: want %d restarts and stopped/finished", st, want)
		}
	}
}

// TestRestartsStalledStages: a stage that is behind and makes no progress
// is stopped and restarted; one that progresses, or has nothing to do, is
// left alone.
func TestRestartsStalledStages(t *testing.T) {
	rec := &recorder{}
	sup, err := New(fast(rec, nil))
	if err != nil {
		t.Fatal(err)
	}
	var stuckRuns, busyRuns, idleRuns atomic.Int32
	var progress atomic.Int64
	block := func(runs *atomic.Int32) func(context.Context) error {
		return func(ctx context.Context) error { runs.Add(1); <-ctx.Done(); return nil }
	}
	sup.Add(Service{Name: "stuck", Daemon: true, Run: block(&stuckRuns),
		Health: func(context.Context) (Health, error) {
			return Health{Progress: 7, Behind: true, Detail: map[string]any{"lag": 100}}, nil
		}})
	sup.Add(Service{Name: "busy", Daemon: true, Run: block(&busyRuns),
		Health: func(context.Context) (Health, error) { return Health{Progress: progress.Add(1), Behind: true}, nil }})
	sup.Add(Service{Name: "idle", Daemon: true, Run: block(&idleRuns),
		Health: func(context.Context) (Health, error) { return Health{Progress: 1}, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sup.Run(ctx) }()
	waitUntil(t, "the stuck stage to be restarted three times", func() bool { return stuckRuns.Load() >= 4 })
	cancel()
	<-done
	if busyRuns.Load() != 1 || idleRuns.Load() != 1 {
		t.Errorf("busy ran %d times, idle %d; want once each (never stalled)", busyRuns.Load(), idleRuns.Load())
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var stalled *Event
	for i, ev := range rec.events {
		if ev.Stage != "stuck" {
			t.Errorf("event for %s: %+v; only stuck stalls", ev.Stage, ev)
		}
		if ev.Kind == Stalled && stalled == nil {
			stalled = &rec.events[i]
		}
	}
	if stalled == nil {
		t.Fatal("no stalled event")
	}
	// Each stall in a row doubles the time the next run gets: 50, 100,
	// 200 ms (the first stall may come a probe interval late).
	var at []time.Time
	for _, ev := range rec.events {
		if ev.Kind == Stalled {
			at = append(at, ev.At)
		}
	}
	if len(at) < 3 {
		t.Fatalf("%d stalls, want 3", len(at))
	}
	if d := at[2].Sub(at[1]); d < 200*time.Millisecond {
		t.Errorf("the third run was stopped %s after the second: want at least 200ms (twice 100ms)", d)
	}
	if stalled.Health.Detail["lag"] != 100 || !strings.Contains(stalled.Err.Error(), "no progress") {
		t.Errorf("stalled event %+v: want the health detail (lag 100) and the reason", stalled)
	}
}

// TestHealthErrorsCountAsNoProgress: a stage whose probe keeps failing is
// unhealthy (not ready) and, after StallAfter, restarted.
func TestHealthErrorsCountAsNoProgress(t *testing.T) {
	rec := &recorder{}
	cfg := fast(rec, nil)
	cfg.StallAfter = 200 * time.Millisecond
	sup, _ := New(cfg)
	var runs atomic.Int32
	sup.Add(Service{Name: "bronze", Daemon: true,
		Run:    func(ctx context.Context) error { runs.Add(1); <-ctx.Done(); return nil },
		Health: func(context.Context) (Health, error) { return Health{}, errors.New("broker unreachable") }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sup.Run(ctx)
	waitUntil(t, "the stage to be unhealthy", func() bool {
		ok, states := sup.Ready()
		return !ok && states[0].Status == "running" && !states[0].Healthy
	})
	waitUntil(t, "a restart", func() bool { return runs.Load() >= 2 })
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{CheckInterval: -1}, "check interval"},
		{Config{StallAfter: -time.Second}, "stall-after"},
		{Config{InitialBackoff: time.Minute, MaxBackoff: time.Second}, "backoff"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v, want valid (defaults)", err)
	}
}

// TestMaxRestartsEndsRun: with MaxRestarts, a stage that keeps failing ends
// Run with its error and stops the other stages.
func TestMaxRestartsEndsRun(t *testing.T) {
	rec := &recorder{}
	cfg := fast(rec, nil)
	cfg.MaxRestarts = 2
	sup, _ := New(cfg)
	var runs atomic.Int32
	sup.Add(Service{Name: "broken", Daemon: true, Run: func(context.Context) error {
		runs.Add(1)
		return errors.New("table schema mismatch")
	}})
	other := make(chan struct{})
	sup.Add(Service{Name: "other", Daemon: true, Run: func(ctx context.Context) error {
		<-ctx.Done()
		close(other)
		return nil
	}})
	err := sup.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "broken failed 3 times in a row: table schema mismatch") {
		t.Fatalf("Run = %v, want broken's failure after 3 runs", err)
	}
	if runs.Load() != 3 {
		t.Errorf("broken ran %d times, want 3 (the first run and 2 restarts)", runs.Load())
	}
	select {
	case <-other:
	default:
		t.Error("the other stage was not stopped")
	}
}

// TestStatesWhileAdding: the HTTP server reads the stages' states while
// the stages are still being added (wikistream run starts it first); run
// with -race, this fails when Add does not hold the lock States takes.
func TestStatesWhileAdding(t *testing.T) {
	s, err := New(fast(&recorder{}, prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var read sync.WaitGroup
	read.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				_ = s.States()
			}
		}
	})
	for i := range 100 {
		s.Add(Service{Name: "stage" + strings.Repeat("x", i), Run: func(context.Context) error { return nil }})
	}
	close(done)
	read.Wait()
	if n := len(s.States()); n != 100 {
		t.Errorf("%d states after adding 100 stages", n)
	}
}
