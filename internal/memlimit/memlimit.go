// Package memlimit holds Go's soft memory limit while it is cheap to.
//
// Go's collector lets the heap grow to twice what the last collection
// found alive (GOGC=100) before it collects again, so a process peaks at
// about twice its live heap: a 2M-event replay held up to about 500 MB
// alive and 1.0–1.2 GB resident (docs/PERFORMANCE.md, session 28). A soft
// limit (GOMEMLIMIT) makes the collector work harder only while the heap
// is near it: 700 MiB took that replay to about 0.8 GB for no CPU that the
// runs could tell. The closer the live heap comes to the limit, the more
// often the collector runs: a limit of 1.5 times the live heap cost a
// 4M-event replay (1.4–1.8 GB resident without a limit) a third more CPU.
// So Auto holds the limit only while the live heap leaves it some room,
// and lifts it (Go's own growth) once it does not. Even so, the 4M replay
// took 15–35% more CPU for no less memory, which is why it is not the
// commands' default but their --memory-limit auto. A process reading the
// live feed holds a lower limit by default (LiveConfig): its heap is small
// and its allocations slow, so a limit costs little there.
package memlimit

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Config is Auto's rule: after each collection the limit is Limit while
// the live heap, with the runtime's memory outside the heap, leaves Room
// of it free; otherwise there is none.
type Config struct {
	// Limit is the soft limit, in bytes.
	Limit int64
	// Room is the least share of the live heap the limit must leave above
	// it: at 1/3 the limit holds up to a live heap of 75% of it. Closer to
	// the live heap the collector runs most of the time.
	Room float64
}

// DefaultConfig is --memory-limit auto: 700 MiB while the live heap is
// under 525 MiB, which holds a 2M-event replay at about 0.8 GB for no CPU
// the runs could tell. At the live feed's rate the process holds about
// 200 MB, and the limit is never reached.
func DefaultConfig() Config { return Config{Limit: 700 << 20, Room: 1.0 / 3} }

// LiveConfig is --memory-limit live, the default of a process reading the
// live feed: 300 MiB while the live heap is under 225 MiB. Late in a busy
// day (docs/PERFORMANCE.md, session 30) a live process holds about 150 MB
// alive; without a limit the collector let the heap grow to twice that
// and the runtime kept up to 190 MB more of freed pages, and the process
// held 585–643 MB of RSS; with this limit 504–522 MB, for a few percent
// more CPU. Its compaction and a catch-up after a long stop hold more than
// 225 MiB alive and lift the limit: a second level of 600 MiB up to 450
// MiB alive lowered the first compaction's peak (0.84, 1.06 and 0.84 GB
// against 1.11–1.12) but the collector then ran through it, and the
// freshness p99 after the first minute reached 3.0 s in one run of three.
func LiveConfig() Config { return Config{Limit: 300 << 20, Room: 1.0 / 3} }

// Validate reports the first bad setting, naming it.
func (c Config) Validate() error {
	if c.Limit < 1 {
		return fmt.Errorf("memory limit: got %d bytes, want more than 0", c.Limit)
	}
	if !(c.Room > 0) {
		return fmt.Errorf("memory limit room: got %v, want more than 0 (a share of the live heap, such as 0.25)", c.Room)
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
	g.limit = g.cfg.limitFor(live + outside)
	g.updates++
	debug.SetMemoryLimit(g.limit)
	return true
}

// limitFor is the limit for used bytes alive: Limit while it leaves Room
// of used free, otherwise none (math.MaxInt64).
func (c Config) limitFor(used int64) int64 {
	if float64(used)*(1+c.Room) <= float64(c.Limit) {
		return c.Limit
	}
	return math.MaxInt64
}

// Limit is the limit last set (math.MaxInt64 for none) and how many
// collections have set one.
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
