// Package memlimit keeps Go's soft memory limit above the live heap.
//
// Go's collector lets the heap grow to twice what the last collection
// found alive (GOGC=100) before it collects again. A replay's live heap
// peaks at a few hundred megabytes for a few seconds, so the process peaks
// at twice that: a 2M-event replay held about 450 MB alive and 1.1–1.2 GB
// resident (docs/PERFORMANCE.md, session 28). A soft limit (GOMEMLIMIT)
// makes the collector work harder only while the heap is near it, which
// in a replay is those few seconds: 700 MiB took the same replay to about
// 0.8 GB for no CPU that the runs could tell. But a fixed limit that suits
// a day's replay is below the live heap of a week's, where the collector
// would run all the time. Auto keeps the limit at a floor, and lifts it to
// a multiple of the live heap when that is larger.
//
// A limit that follows the live heap closely costs more: 1.75 times the
// live heap and at least 512 MiB gave the same 0.8 GB for 10% more CPU,
// because it made the collector work harder all through the replay rather
// than at its peak.
package memlimit

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Config is Auto's rule: after each collection the limit becomes
// max(Floor, Ratio × live heap + the runtime's memory outside the heap).
type Config struct {
	// Floor is the lowest limit, in bytes.
	Floor int64
	// Ratio is how large the heap may grow against what the last
	// collection found alive: 2 is Go's own default (GOGC=100); below
	// about 1.25 the collector runs most of the time.
	Ratio float64
}

// DefaultConfig is the rule `wikistream run` and `bench` use: 700 MiB, or
// half as much again as the live heap when that is larger. At the live
// feed's rate the process holds about 200 MB, and the floor never binds.
func DefaultConfig() Config { return Config{Floor: 700 << 20, Ratio: 1.5} }

// Validate reports the first bad setting, naming it.
func (c Config) Validate() error {
	if c.Floor < 0 {
		return fmt.Errorf("memory limit floor: got %d bytes, want 0 or more", c.Floor)
	}
	if !(c.Ratio >= 1) {
		return fmt.Errorf("memory limit ratio: got %v, want at least 1 (2 is Go's default growth)", c.Ratio)
	}
	return nil
}

// Governor is a running Auto.
type Governor struct {
	cfg     Config
	mu      sync.Mutex
	stopped bool
	limit   int64 // the limit last set
	updates int64 // collections seen
	samples []metrics.Sample
}

// Auto starts keeping the limit by cfg until Stop.
func Auto(cfg Config) (*Governor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Governor{cfg: cfg, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}}
	g.update()
	g.arm()
	return g, nil
}

// arm asks to be told of the next collection: the sentinel becomes
// unreachable at once, and its cleanup runs after the collection that
// finds it so.
func (g *Governor) arm() {
	s := new([64]byte) // not a tiny allocation, which may share a block
	runtime.AddCleanup(s, func(*Governor) {
		if g.update() {
			g.arm()
		}
	}, g)
}

// update sets the limit from the last collection's live heap; it reports
// false once stopped.
func (g *Governor) update() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	metrics.Read(g.samples)
	live := int64(g.samples[0].Value.Uint64())
	heap := int64(0)
	for _, s := range g.samples[2:] {
		heap += int64(s.Value.Uint64())
	}
	outside := max(int64(g.samples[1].Value.Uint64())-heap, 0) // stacks, the runtime's own structures
	g.limit = max(g.cfg.Floor, int64(g.cfg.Ratio*float64(live))+outside)
	g.updates++
	debug.SetMemoryLimit(g.limit)
	return true
}

// Limit is the limit last set and how many collections have set one.
func (g *Governor) Limit() (limit, updates int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit, g.updates
}

// Stop leaves the limit unset (math.MaxInt64), as Go starts.
func (g *Governor) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	debug.SetMemoryLimit(math.MaxInt64)
}
