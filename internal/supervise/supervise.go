// Package supervise runs WikiStream's stages under a supervisor, the
// in-process replacement of the original design's Lambda auto-restart: a
// stage that fails, returns while it should keep running, or stalls (work is
// waiting but its progress has not moved for a while) is restarted with
// exponential backoff, and every restart is reported as an Event that the
// process turns into a stage_restarted alert.
//
// A Service names a stage and how to run and probe it:
//
//	sup.Add(supervise.Service{Name: "bronze", Run: brz.Run, Health: bronzeHealth, Daemon: true})
//	err := sup.Run(ctx) // until ctx ends
//
// Run must be callable again after it returns: each attempt gets a fresh
// context, which the supervisor cancels to stop a stalled attempt.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes the supervisor. A zero field takes its default.
type Config struct {
	// CheckInterval is how often each running stage's health is probed.
	// Default 5s.
	CheckInterval time.Duration
	// StallAfter restarts a stage whose health reports work waiting while
	// its progress has not moved for this long. Default 2m.
	StallAfter time.Duration
	// InitialBackoff is the wait before the first restart; it doubles per
	// consecutive failure up to MaxBackoff. Default 1s.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between restarts. Default 1m.
	MaxBackoff time.Duration
	// StableAfter: an attempt that ran this long resets the backoff.
	// Default 5m.
	StableAfter time.Duration
	// MaxRestarts, when above 0, ends Run with an error once a stage has
	// failed this many times in a row (drained runs, tests); 0 restarts
	// forever.
	MaxRestarts int
	// OnEvent receives every failure, stall and restart, synchronously;
	// keep it quick. Optional.
	OnEvent func(context.Context, Event)
	// Registerer receives the supervisor metrics. Optional.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{CheckInterval: 5 * time.Second, StallAfter: 2 * time.Minute, InitialBackoff: time.Second,
		MaxBackoff: time.Minute, StableAfter: 5 * time.Minute}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"check interval", c.CheckInterval}, {"stall-after", c.StallAfter}, {"initial backoff", c.InitialBackoff},
		{"max backoff", c.MaxBackoff}, {"stable-after", c.StableAfter}} {
		if d.v < 0 {
			return fmt.Errorf("supervisor %s: got %s, want a positive duration", d.name, d.v)
		}
	}
	if c.MaxRestarts < 0 {
		return fmt.Errorf("supervisor max restarts: got %d, want 0 (unlimited) or more", c.MaxRestarts)
	}
	if c.MaxBackoff > 0 && c.InitialBackoff > c.MaxBackoff {
		return fmt.Errorf("supervisor backoff: initial %s is above the maximum %s", c.InitialBackoff, c.MaxBackoff)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.CheckInterval == 0 {
		c.CheckInterval = d.CheckInterval
	}
	if c.StallAfter == 0 {
		c.StallAfter = d.StallAfter
	}
	if c.InitialBackoff == 0 {
		c.InitialBackoff = d.InitialBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = max(d.MaxBackoff, c.InitialBackoff)
	}
	if c.StableAfter == 0 {
		c.StableAfter = d.StableAfter
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Health is what a stage reports about itself.
type Health struct {
	// Progress is any number that grows as the stage does work: records
	// committed, an offset sum, a checkpoint sequence.
	Progress int64
	// Behind reports work waiting (consumer lag, upstream commits not yet
	// read). A stage that is not behind is never stalled.
	Behind bool
	// Detail describes the state for logs and alerts (lag, checkpoint).
	Detail map[string]any
}

// Service is one supervised stage.
type Service struct {
	Name string
	// Run runs the stage until ctx ends or it fails.
	Run func(ctx context.Context) error
	// Health probes the running stage; nil disables stall detection. An
	// error counts as no progress.
	Health func(ctx context.Context) (Health, error)
	// Daemon stages run until the process stops: returning early without
	// an error is a failure too. Others (ingest of a file) may finish.
	Daemon bool
}

// EventKind says what happened to a stage.
type EventKind string

// The events.
const (
	// Failed: the stage's Run returned an error, or returned early.
	Failed EventKind = "failed"
	// Stalled: the stage was behind and made no progress for StallAfter.
	Stalled EventKind = "stalled"
	// Restarted: the stage runs again after a failure or stall.
	Restarted EventKind = "restarted"
)

// Event is one failure, stall or restart of a stage.
type Event struct {
	Kind  EventKind
	Stage string
	// Attempt counts the stage's runs, from 1; Restarts how many times it
	// was restarted so far.
	Attempt, Restarts int
	// Err is the failure (Failed) or the stall (Stalled).
	Err error
	// Backoff is the wait before the restart.
	Backoff time.Duration
	// Health is the last health report (Stalled).
	Health Health
	At     time.Time
}

// State is a stage's state as /readyz and the dashboard show it.
type State struct {
	Name     string    `json:"name"`
	Status   string    `json:"status"` // starting, running, backoff, finished, stopped
	Restarts int       `json:"restarts"`
	Since    time.Time `json:"since"`
	LastErr  string    `json:"last_error,omitempty"`
	Healthy  bool      `json:"healthy"` // running and, when probed, the last probe succeeded
}

// Supervisor runs services and restarts them.
type Supervisor struct {
	cfg      Config
	log      *slog.Logger
	services []Service
	metrics  *metrics

	mu    sync.Mutex
	state map[string]*State
}

// New returns a supervisor; add services, then Run.
func New(cfg Config) (*Supervisor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Supervisor{cfg: cfg, log: cfg.Logger, metrics: newMetrics(cfg.Registerer), state: map[string]*State{}}, nil
}

// Add adds a service. Call before Run; States may be read meanwhile (the
// HTTP server starts before the stages are added).
func (s *Supervisor) Add(svc Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services = append(s.services, svc)
	s.state[svc.Name] = &State{Name: svc.Name, Status: "starting", Since: time.Now()}
}

// Run runs every service until ctx ends, restarting failed and stalled
// ones. It returns nil when ctx ends, or the failure of a stage that failed
// more than MaxRestarts times in a row (the other stages are stopped).
func (s *Supervisor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	s.mu.Lock()
	services := slices.Clone(s.services)
	s.mu.Unlock()
	errs := make(chan error, len(services))
	for _, svc := range services {
		wg.Add(1)
		go func() { // ends when ctx ends, the service finishes or gives up
			defer wg.Done()
			if err := s.supervise(ctx, svc); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// States returns every stage's state, in the order they were added.
func (s *Supervisor) States() []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]State, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, *s.state[svc.Name])
	}
	return out
}

// Ready reports whether every stage is running (or finished) and healthy,
// and if not, which is not.
func (s *Supervisor) Ready() (bool, []State) {
	states := s.States()
	ok := true
	for _, st := range states {
		if st.Status != "finished" && !(st.Status == "running" && st.Healthy) {
			ok = false
		}
	}
	return ok, states
}

func (s *Supervisor) set(name string, f func(*State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.state[name])
}

// supervise runs one service until ctx ends, it finishes, or it failed
// more than MaxRestarts times in a row.
func (s *Supervisor) supervise(ctx context.Context, svc Service) error {
	backoff := s.cfg.InitialBackoff
	restarts, inARow, stalls := 0, 0, 0
	for attempt := 1; ; attempt++ {
		began := time.Now()
		s.set(svc.Name, func(st *State) { st.Status, st.Since, st.Healthy = "running", began, true })
		s.metrics.up.WithLabelValues(svc.Name).Set(1)
		// A stage restarted after a stall gets longer to show progress
		// (twice as long per stall in a row, up to 8 times): a stage that
		// needs long to start must not be stopped before it can.
		stalled, err := s.attempt(ctx, svc, s.cfg.StallAfter<<min(stalls, 3))
		s.metrics.up.WithLabelValues(svc.Name).Set(0)
		if ctx.Err() != nil {
			s.set(svc.Name, func(st *State) { st.Status, st.Since = "stopped", time.Now() })
			return nil
		}
		if err == nil && !svc.Daemon {
			s.log.Info("stage finished", "stage", svc.Name)
			s.set(svc.Name, func(st *State) { st.Status, st.Since = "finished", time.Now() })
			return nil
		}
		if err == nil {
			err = errors.New("the stage stopped by itself while the process runs")
		}
		if time.Since(began) >= s.cfg.StableAfter {
			backoff, inARow = s.cfg.InitialBackoff, 0
		}
		inARow++
		kind := Failed
		if stalled != nil {
			kind = Stalled
			stalls++
			s.metrics.stalls.WithLabelValues(svc.Name).Inc()
		} else {
			stalls = 0
			s.metrics.failures.WithLabelValues(svc.Name).Inc()
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.log.Error("stage failed; restarting", "stage", svc.Name, "kind", string(kind), "attempt", attempt,
			"err", err, "backoff", wait)
		ev := Event{Kind: kind, Stage: svc.Name, Attempt: attempt, Restarts: restarts, Err: err, Backoff: wait, At: time.Now()}
		if stalled != nil {
			ev.Health = *stalled
		}
		s.emit(ctx, ev)
		if s.cfg.MaxRestarts > 0 && inARow > s.cfg.MaxRestarts {
			s.set(svc.Name, func(st *State) { st.Status, st.Since, st.LastErr = "stopped", time.Now(), err.Error() })
			return fmt.Errorf("%s failed %d times in a row: %w", svc.Name, inARow, err)
		}
		s.set(svc.Name, func(st *State) {
			st.Status, st.Since, st.LastErr, st.Healthy = "backoff", time.Now(), err.Error(), false
		})
		select {
		case <-ctx.Done():
			s.set(svc.Name, func(st *State) { st.Status, st.Since = "stopped", time.Now() })
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
		restarts++
		s.metrics.restarts.WithLabelValues(svc.Name, string(kind)).Inc()
		s.set(svc.Name, func(st *State) { st.Restarts = restarts })
		s.log.Info("stage restarting", "stage", svc.Name, "attempt", attempt+1, "restarts", restarts)
		s.emit(ctx, Event{Kind: Restarted, Stage: svc.Name, Attempt: attempt + 1, Restarts: restarts, Err: err,
			Backoff: wait, Health: ev.Health, At: time.Now()})
	}
}

func (s *Supervisor) emit(ctx context.Context, ev Event) {
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(ctx, ev)
	}
}

// errStalled is the error of a stalled attempt.
type errStalled struct {
	after time.Duration
	h     Health
}

func (e errStalled) Error() string {
	return fmt.Sprintf("stalled: work waiting and no progress for %s (%v)", e.after.Round(time.Second), e.h.Detail)
}

// attempt runs the service once, watching its health. It returns Run's
// error, or the health that showed a stall and the stall.
func (s *Supervisor) attempt(ctx context.Context, svc Service, stallAfter time.Duration) (*Health, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { // waited for below in every case
		// The stage label follows every goroutine the stage starts, so a CPU
		// or heap profile of the process can be split by stage (-tagfocus).
		pprof.Do(actx, pprof.Labels("stage", svc.Name), func(ctx context.Context) { done <- svc.Run(ctx) })
	}()
	if svc.Health == nil {
		return nil, <-done
	}
	tick := time.NewTicker(s.cfg.CheckInterval)
	defer tick.Stop()
	var last int64 = -1
	moved := time.Now()
	for {
		select {
		case err := <-done:
			return nil, err
		case <-tick.C:
		}
		hctx, hcancel := context.WithTimeout(actx, s.cfg.CheckInterval)
		h, err := svc.Health(hctx)
		hcancel()
		s.set(svc.Name, func(st *State) { st.Healthy = err == nil })
		if err != nil {
			s.log.Warn("stage health check failed", "stage", svc.Name, "err", err)
			h = Health{Progress: last, Behind: true, Detail: map[string]any{"health_error": err.Error()}}
		}
		if h.Progress != last || !h.Behind {
			last, moved = h.Progress, time.Now()
			continue
		}
		if time.Since(moved) >= stallAfter {
			cancel()
			<-done
			return &h, errStalled{after: time.Since(moved), h: h}
		}
	}
}

type metrics struct {
	up                         *prometheus.GaugeVec
	failures, stalls, restarts *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "supervisor",
			Name: "stage_up", Help: "1 while the stage runs, 0 while it waits to restart or has stopped."}, []string{"stage"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "supervisor",
			Name: "stage_failures_total", Help: "Stage runs that failed (returned an error or stopped early)."}, []string{"stage"}),
		stalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "supervisor",
			Name: "stage_stalls_total", Help: "Stage runs stopped because work waited and progress did not move."}, []string{"stage"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "supervisor",
			Name: "stage_restarts_total", Help: "Stage restarts, by the reason (failed or stalled)."}, []string{"stage", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.up, m.failures, m.stalls, m.restarts)
	}
	return m
}
