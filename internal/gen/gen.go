// Package gen generates realistic synthetic Wikimedia EventStreams
// recentchange events for tests and benchmarks.
//
// Each line is one event as compact JSON with the real 2026 wire layout
// (field order, "$schema", a full "meta" envelope with millisecond dt,
// title_url, notify_url, per-type field sets). The output has the real mix of
// wikis, event types, namespaces, bots, registered, IP and temporary-account
// editors and heavy-tailed page-length changes, calibrated on the recorded
// data described in /work/shared/data/PROVENANCE.md (see calibration.go).
// Optionally it also contains what a real feed and a real pipeline see:
// exact duplicates (at-least-once delivery), malformed lines of every kind
// the decoder rejects, late (out-of-order) events, and a vandal-like burst by
// one anonymous editor.
//
// The same Config always produces byte-identical output.
package gen

import (
	"bufio"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// DefaultStart is the event time of the first event when Config.Start is zero.
// It is a fixed date so that output is reproducible.
var DefaultStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// DefaultRate is the mean event rate of the live feed, about 1.8 million
// events a day.
const DefaultRate = 21.0

// Config says what to generate. The zero value of Start and Rate means their
// default; every other zero value means "none".
type Config struct {
	// Seed makes output reproducible: the same Config gives byte-identical
	// output, a different Seed a different stream.
	Seed int64
	// Count is the number of distinct valid events to generate, not counting
	// the vandal burst, injected duplicates or malformed lines. Default 10000.
	Count int
	// Start is the event time of the first event. Default DefaultStart.
	Start time.Time
	// Rate is the mean number of events per second of event time; the gaps
	// between events are exponential (a Poisson process). Default 21.
	Rate float64
	// Domains restricts the output to these wikis, for example
	// "de.wikipedia.org" or "www.wikidata.org". Empty means the realistic
	// all-wiki mix. Known domains keep their calibrated share relative to
	// each other; other well-formed Wikimedia domains get the share of a small
	// wiki (as if seen 10 times in the 24,189 calibration events).
	Domains []string
	// Duplicates is the fraction of events that are emitted a second time,
	// byte for byte, a little later (1 to 2000 lines), as at-least-once
	// delivery does. Between 0 and 1.
	Duplicates float64
	// Malformed is the fraction of output lines that are malformed: truncated
	// JSON, text that is not JSON, a missing required field, a field of the
	// wrong JSON type, an unknown event type or an implausible timestamp.
	// Between 0 and 0.99.
	Malformed float64
	// OutOfOrder is the fraction of events that arrive late, after events
	// with later timestamps: each is held back by 2 s to 4 h of event time.
	// Between 0 and 1.
	OutOfOrder float64
	// VandalBurst, when positive, adds this many edits by one anonymous (IP)
	// editor within one clock hour, across 6 to 9 Wikipedias, about 45% of
	// them removing 1000 bytes or more (some blanking the page). The burst
	// lies in the clock hour around the middle of the generated time span.
	VandalBurst int
}

// DefaultConfig returns the default configuration: 10000 clean events from
// the all-wiki mix at the live rate, starting at DefaultStart, seed 1.
func DefaultConfig() Config {
	return Config{Seed: 1, Count: 10000, Start: DefaultStart, Rate: DefaultRate}
}

// Limits on Config fields.
const (
	maxRate        = 1e7
	maxMalformed   = 0.99
	maxVandalBurst = 10_000_000
)

var (
	minStart = time.Date(2001, 1, 15, 0, 0, 0, 0, time.UTC) // Wikipedia's first day
	maxStart = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate reports the first invalid field, naming it and what was expected.
func (c Config) Validate() error {
	if c.Count < 0 {
		return fmt.Errorf("gen: Count: got %d, want 0 or more events", c.Count)
	}
	if !c.Start.IsZero() && (c.Start.Before(minStart) || !c.Start.Before(maxStart)) {
		return fmt.Errorf("gen: Start: got %s, want a time from %s to before %s (or zero for the default)",
			c.Start.UTC().Format(time.RFC3339), minStart.Format(time.RFC3339), maxStart.Format(time.RFC3339))
	}
	if math.IsNaN(c.Rate) || c.Rate < 0 || c.Rate > maxRate {
		return fmt.Errorf("gen: Rate: got %v, want events per second in (0, %g] (or 0 for the default %g)",
			c.Rate, float64(maxRate), DefaultRate)
	}
	if err := checkFraction("Duplicates", c.Duplicates, 1); err != nil {
		return err
	}
	if err := checkFraction("Malformed", c.Malformed, maxMalformed); err != nil {
		return err
	}
	if err := checkFraction("OutOfOrder", c.OutOfOrder, 1); err != nil {
		return err
	}
	if c.VandalBurst < 0 || c.VandalBurst > maxVandalBurst {
		return fmt.Errorf("gen: VandalBurst: got %d, want 0 (none) to %d edits", c.VandalBurst, maxVandalBurst)
	}
	seen := make(map[string]bool, len(c.Domains))
	for i, d := range c.Domains {
		if _, err := lookupDomain(d); err != nil {
			return fmt.Errorf("gen: Domains[%d]: %w", i, err)
		}
		if seen[d] {
			return fmt.Errorf("gen: Domains[%d]: %q is listed twice, want each domain once", i, d)
		}
		seen[d] = true
	}
	return nil
}

func checkFraction(name string, v, max float64) error {
	if math.IsNaN(v) || v < 0 || v > max {
		return fmt.Errorf("gen: %s: got %v, want a fraction from 0 to %g", name, v, max)
	}
	return nil
}

// Stats counts what a Generator produced.
type Stats struct {
	// Events is the number of distinct valid events, the vandal burst
	// included.
	Events int
	// Duplicates is the number of extra, byte-identical copies of events.
	Duplicates int
	// Malformed is the number of malformed lines.
	Malformed int
	// Vandal is the number of events of the vandal burst.
	Vandal int
	// Bytes is the size of the output, one newline per line included.
	Bytes int64
}

// Lines is the number of lines produced.
func (s Stats) Lines() int { return s.Events + s.Duplicates + s.Malformed }

// Generator produces the events of one Config, one line at a time. It is not
// safe for concurrent use.
type Generator struct {
	cfg   Config
	r     *rng
	world *world

	// Event time, in nanoseconds since the Unix epoch.
	clock    int64
	meanGap  float64 // nanoseconds
	regular  int     // regular events still to generate
	vandal   vandalPlan
	vandalAt int // index of the next vandal event

	lineNo int64
	seq    int64
	held   lineHeap // late events, keyed by release time
	dups   lineHeap // duplicates, keyed by line number
	buf    []byte   // the line returned by Next
	ev     event    // scratch event
	mal    []byte   // scratch for malformed lines

	lastKind malformedKind // kind of the last line, for tests
	stats    Stats
}

// New returns a Generator for cfg after validating it.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	cfg.Domains = slices.Clone(cfg.Domains)
	r := newRNG(cfg.Seed)
	w, err := newWorld(cfg, r)
	if err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:     cfg,
		r:       r,
		world:   w,
		clock:   cfg.Start.UnixNano(),
		meanGap: 1e9 / cfg.Rate,
		regular: cfg.Count,
		buf:     make([]byte, 0, 4096),
		mal:     make([]byte, 0, 4096),
	}
	g.ev.init()
	g.vandal = planVandal(cfg, w, r)
	return g, nil
}

// Stats returns what the generator has produced so far.
func (g *Generator) Stats() Stats { return g.stats }

// Next returns the next line, without its newline, and true; or nil and false
// when the generator is done. The line is only valid until the next call.
func (g *Generator) Next() (line []byte, ok bool) {
	if !g.pending() {
		return nil, false
	}
	// One roll per line, so that Malformed is the share of lines.
	if g.cfg.Malformed > 0 && g.r.chance(g.cfg.Malformed) {
		g.buf = g.malformed(g.buf[:0])
		g.stats.Malformed++
		return g.emit(g.buf, false), true
	}
	for {
		// A duplicate that is due.
		if len(g.dups) > 0 && (g.dups[0].key <= g.lineNo || !g.moreEvents()) {
			it := heap.Pop(&g.dups).(heldLine)
			g.stats.Duplicates++
			g.lastKind = kindDuplicate
			return g.emit(it.line, false), true
		}
		// A late event whose time has come.
		if len(g.held) > 0 && (g.held[0].key <= g.clock || !g.moreEvents()) {
			it := heap.Pop(&g.held).(heldLine)
			g.lastKind = kindLate
			return g.emit(it.line, true), true
		}
		// The next event, unless it is held back to arrive late.
		if line, late := g.nextEvent(); !late {
			return line, true
		}
	}
}

// pending reports whether any line remains to be produced.
func (g *Generator) pending() bool {
	return g.moreEvents() || len(g.held) > 0 || len(g.dups) > 0
}

func (g *Generator) moreEvents() bool {
	return g.regular > 0 || g.vandalAt < len(g.vandal.times)
}

// nextEvent generates the next event in event-time order. If it is to arrive
// late it is held back and late is true; otherwise it is emitted.
func (g *Generator) nextEvent() (line []byte, late bool) {
	vandal := false
	if g.vandalAt < len(g.vandal.times) {
		vt := g.vandal.times[g.vandalAt]
		if g.regular == 0 || vt < g.clock {
			vandal = true
		}
	}
	var t int64
	if vandal {
		t = g.vandal.times[g.vandalAt]
		if t > g.clock {
			g.clock = t
		}
		g.buf = g.world.vandalEdit(g.buf[:0], &g.ev, g.r, &g.vandal, g.vandalAt, t)
		g.vandalAt++
		g.stats.Vandal++
	} else {
		t = g.clock
		g.buf = g.world.event(g.buf[:0], &g.ev, g.r, t)
		g.regular--
		// The next regular event comes after an exponential gap.
		g.clock += int64(g.r.expo() * g.meanGap)
	}
	g.stats.Events++
	g.lastKind = kindValid
	if !vandal && g.cfg.OutOfOrder > 0 && g.r.chance(g.cfg.OutOfOrder) {
		delay := g.r.logUniform(2, 4*3600) * 1e9
		g.seq++
		heap.Push(&g.held, heldLine{key: t + int64(delay), seq: g.seq, line: slices.Clone(g.buf)})
		return nil, true
	}
	return g.emit(g.buf, true), false
}

// emit accounts for line and, for a valid event, maybe schedules its
// duplicate.
func (g *Generator) emit(line []byte, valid bool) []byte {
	g.lineNo++
	g.stats.Bytes += int64(len(line)) + 1
	if valid && g.cfg.Duplicates > 0 && g.r.chance(g.cfg.Duplicates) {
		after := int64(g.r.logUniform(1, 2000))
		g.seq++
		heap.Push(&g.dups, heldLine{key: g.lineNo + after, seq: g.seq, line: slices.Clone(line)})
	}
	return line
}

// heldLine is a line waiting to be emitted.
type heldLine struct {
	key  int64 // release time (late events) or line number (duplicates)
	seq  int64 // tie-breaker: keeps the order reproducible
	line []byte
}

type lineHeap []heldLine

func (h lineHeap) Len() int { return len(h) }
func (h lineHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].seq < h[j].seq
}
func (h lineHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *lineHeap) Push(x any)   { *h = append(*h, x.(heldLine)) }
func (h *lineHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = heldLine{}
	*h = old[:len(old)-1]
	return it
}

// Write generates cfg's events to w, one per line, through a buffer, and
// returns what it wrote. It checks ctx every few thousand lines and returns
// ctx's error when it is done.
func Write(ctx context.Context, w io.Writer, cfg Config) (Stats, error) {
	g, err := New(cfg)
	if err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return g.Stats(), fmt.Errorf("gen: %w", err)
			}
		}
		line, ok := g.Next()
		if !ok {
			break
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return g.Stats(), fmt.Errorf("gen: write: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return g.Stats(), fmt.Errorf("gen: write: %w", err)
	}
	return g.Stats(), nil
}

// errDomain is wrapped by every domain error.
var errDomain = errors.New("want a Wikimedia wiki domain such as en.wikipedia.org, de.wiktionary.org, commons.wikimedia.org or www.wikidata.org")

func domainError(d, why string) error {
	if why != "" {
		return fmt.Errorf("%q %s: %w", d, why, errDomain)
	}
	return fmt.Errorf("%q: %w", d, errDomain)
}

// Lines generates every line of cfg into memory (each line its own copy),
// for tests and in-process benchmarks.
func Lines(cfg Config) ([][]byte, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for {
		l, ok := g.Next()
		if !ok {
			return out, nil
		}
		out = append(out, append([]byte(nil), l...))
	}
}
