package bronze

import (
	"slices"
	"sync"
	"time"
)

// paceWindow is how far in event time a raw-topic partition may run ahead
// of the slowest one while both have records left to consume.
const paceWindow = 15 * time.Minute

// paceStall: when the slowest partition with records left has not moved
// for this long (its fetches failing, say), pacing stops until it moves,
// so that it does not hold the others back.
const paceStall = time.Minute

// pacer keeps the raw topic's partitions in step by event time while they
// have a backlog (a replay, a catch-up), pausing those that run ahead.
//
// The topic is keyed by wiki, so its partitions hold very different numbers
// of events: 37k to 337k of a 1M-event replay. Read at similar byte rates,
// they drifted up to 20 hours of event time apart, every bronze batch
// spanned those hours, and each gold run touched up to 24 of them, holding
// their state at once (docs/PERFORMANCE.md). At the live rate no partition
// has a backlog and nothing is paused.
//
// The poll loop calls consumed, fetched and plan; the group's callbacks
// call forget, from another goroutine.
type pacer struct {
	mu     sync.Mutex
	window time.Duration
	now    func() time.Time
	// slow is the slowest partition's event time at the last plan, and
	// since when (wall clock) it has been that.
	slow, slowSince time.Time
	at              map[int32]time.Time // newest event time consumed
	next            map[int32]int64     // next offset to consume
	end             map[int32]int64     // high watermark last fetched
	paused          map[int32]bool
}

func newPacer(window time.Duration) *pacer {
	return &pacer{window: window, now: time.Now, at: map[int32]time.Time{}, next: map[int32]int64{},
		end: map[int32]int64{}, paused: map[int32]bool{}}
}

// consumed records a raw-topic record of the partition.
func (p *pacer) consumed(part int32, offset int64, ts time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ts.After(p.at[part]) {
		p.at[part] = ts
	}
	p.next[part] = max(p.next[part], offset+1)
}

// fetched records a partition's high watermark.
func (p *pacer) fetched(part int32, end int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.end[part] = end
}

// forget drops partitions this consumer no longer has and returns those
// of them it had paused, which the caller must resume: a paused partition
// stays paused in the client across rebalances.
func (p *pacer) forget(parts []int32) (resume []int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, part := range parts {
		if p.paused[part] {
			resume = append(resume, part)
		}
		delete(p.at, part)
		delete(p.next, part)
		delete(p.end, part)
		delete(p.paused, part)
	}
	return resume
}

// plan returns the partitions to pause and to resume now. A partition is
// paused when it has records left and its newest event is more than the
// window past the slowest partition that has records left; it is resumed
// once it is not, or when the slowest has not moved for paceStall.
// Partitions whose progress is unknown take no part.
func (p *pacer) plan() (pause, resume []int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	behind := func(part int32) bool {
		end, ok := p.end[part]
		_, seen := p.at[part]
		return ok && seen && end > p.next[part]
	}
	var slow time.Time
	n := 0
	for part, at := range p.at {
		if behind(part) {
			if n == 0 || at.Before(slow) {
				slow = at
			}
			n++
		}
	}
	if now := p.now(); !slow.Equal(p.slow) || p.slowSince.IsZero() {
		p.slow, p.slowSince = slow, now
	} else if now.Sub(p.slowSince) > paceStall {
		n = 0 // stalled: pace nothing until it moves
	}
	ahead := func(part int32) bool { return n > 1 && behind(part) && p.at[part].After(slow.Add(p.window)) }
	for part := range p.at {
		if ahead(part) && !p.paused[part] {
			pause = append(pause, part)
			p.paused[part] = true
		}
	}
	for part := range p.paused {
		if !ahead(part) {
			resume = append(resume, part)
			delete(p.paused, part)
		}
	}
	slices.Sort(pause)
	slices.Sort(resume)
	return pause, resume
}
