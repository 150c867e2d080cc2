// Package priority lets the work a person waits for go before the work
// nobody waits for. On a small machine (2 cores) a dashboard request that
// starts while the pipeline commits shares the CPU with the commit, and
// the slowest requests were the ones that met a commit's burst: iceberg-go
// reading the table's manifests, DuckDB copying the new rows into memory.
// The pipeline can spare a few hundred milliseconds of its freshness
// (DESIGN.md §5: 2 s from ingest to the API; about 1.5 s at p50 here); a
// request has tens of milliseconds.
//
// Foreground work (an API request) holds the gate open with Enter while it
// runs. Background work (a stage's run, a table commit, a refresh of the
// query engine's in-memory copies) calls Yield before each step: Yield
// returns at once when no foreground work runs, and otherwise waits until
// none does, or MaxWait at most, so that steady requests slow the pipeline
// but never stop it. A step that has begun is not interrupted.
package priority

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxWait is the longest one Yield waits: longer than most
// dashboard requests (10-50 ms), and short enough that a gold run, which
// yields at its start and before each of its five commits, is late by at
// most about half a second under requests that never stop.
const DefaultMaxWait = 100 * time.Millisecond

// Gate orders foreground before background work. The zero value is not
// usable; a nil *Gate never waits.
type Gate struct {
	maxWait time.Duration

	mu   sync.Mutex
	busy int           // foreground work running
	free chan struct{} // closed when busy falls to 0

	entered atomic.Int64 // foreground work begun
	yields  atomic.Int64 // Yields that waited
	waited  atomic.Int64 // nanoseconds waited
	waiting atomic.Int64 // Yields waiting now
}

// New returns a gate whose Yield waits at most maxWait (DefaultMaxWait
// when 0 or less).
func New(maxWait time.Duration) *Gate {
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Gate{maxWait: maxWait, free: make(chan struct{})}
}

// Process is the gate of this process, which its stages, its query engine
// and its HTTP server share unless given another: the CPU they share is
// the process's.
var Process = New(DefaultMaxWait)

// Enter marks foreground work as running until the returned function is
// called (once).
func (g *Gate) Enter() (leave func()) {
	if g == nil {
		return func() {}
	}
	g.entered.Add(1)
	g.mu.Lock()
	g.busy++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.busy--; g.busy == 0 {
				close(g.free)
				g.free = make(chan struct{})
			}
		})
	}
}

// Yield waits while foreground work runs, at most the gate's MaxWait (or
// until ctx ends), and reports how long it waited.
func (g *Gate) Yield(ctx context.Context) time.Duration {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	busy, free := g.busy, g.free
	g.mu.Unlock()
	if busy == 0 {
		return 0
	}
	began := time.Now()
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	for {
		select {
		case <-free:
		case <-timer.C:
		case <-ctx.Done():
		}
		g.mu.Lock()
		busy, free = g.busy, g.free
		g.mu.Unlock()
		// New foreground work may have begun as the last one ended: wait
		// for it too, within the same MaxWait.
		if busy == 0 || time.Since(began) >= g.maxWait || ctx.Err() != nil {
			break
		}
	}
	d := time.Since(began)
	g.yields.Add(1)
	g.waited.Add(int64(d))
	return d
}

// Stats are a gate's counts since it was made.
type Stats struct {
	Entered    int64         // foreground work begun
	Foreground int64         // foreground work running now
	Yields     int64         // background steps that waited
	Waited     time.Duration // the time they waited
	Waiting    int64         // background steps waiting now
}

// Stats returns the gate's counts.
func (g *Gate) Stats() Stats {
	if g == nil {
		return Stats{}
	}
	g.mu.Lock()
	busy := g.busy
	g.mu.Unlock()
	return Stats{Entered: g.entered.Load(), Foreground: int64(busy), Yields: g.yields.Load(),
		Waited: time.Duration(g.waited.Load()), Waiting: g.waiting.Load()}
}

// Collectors are the gate's metrics (wikistream_priority_*), to register
// once per registry.
func (g *Gate) Collectors() []prometheus.Collector {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "priority", Name: name, Help: help}
	}
	return []prometheus.Collector{
		prometheus.NewCounterFunc(opts("foreground_total", "Foreground work (API requests) that background work yields to."),
			func() float64 { return float64(g.Stats().Entered) }),
		prometheus.NewCounterFunc(opts("yields_total", "Background steps (stage runs, commits, in-memory copies) that waited for foreground work."),
			func() float64 { return float64(g.Stats().Yields) }),
		prometheus.NewCounterFunc(opts("yield_seconds_total", "Time background steps waited for foreground work."),
			func() float64 { return g.Stats().Waited.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "priority", Name: "waiting",
			Help: "Background steps waiting for foreground work now."},
			func() float64 { return float64(g.Stats().Waiting) }),
	}
}
