package bronze

import (
	"slices"
	"testing"
	"time"
)

// TestPacer: partitions with records left are held within the window of
// the slowest such partition, released as it catches up or runs out of
// records, and a partition this consumer loses is released at once.
func TestPacer(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := newPacer(15 * time.Minute)
	check := func(what string, wantPause, wantResume []int32) {
		t.Helper()
		pause, resume := p.plan()
		if !slices.Equal(pause, wantPause) || !slices.Equal(resume, wantResume) {
			t.Errorf("%s: pause %v, resume %v; want %v, %v", what, pause, resume, wantPause, wantResume)
		}
	}
	for part, at := range map[int32]time.Duration{0: 0, 1: 15 * time.Minute, 2: 2 * time.Hour, 3: 3 * time.Hour} {
		p.consumed(part, 99, t0.Add(at))
		p.fetched(part, 1000)
	}
	p.consumed(4, 5, t0.Add(5*time.Hour)) // no high watermark known yet: takes no part
	check("backlog", []int32{2, 3}, nil)
	check("again", nil, nil)

	p.consumed(0, 999, t0.Add(30*time.Minute)) // partition 0 runs out of records
	check("the slowest caught up", nil, nil)   // 1 is now the slowest: 2 and 3 are still ahead
	p.consumed(1, 500, t0.Add(105*time.Minute))
	check("partition 1 came within the window of 2", nil, []int32{2})
	p.consumed(1, 999, t0.Add(106*time.Minute)) // and ran out
	p.fetched(4, 1000)                          // 4 is known now, 2 is the slowest
	check("2 the slowest: 3 and 4 past 02:15", []int32{4}, nil)

	if resume := p.forget([]int32{2, 4}); !slices.Equal(resume, []int32{4}) {
		t.Errorf("forget: resume %v, want the paused one of them, 4", resume)
	}
	check("3 the only partition with records left", nil, []int32{3})

	p.consumed(3, 999, t0.Add(4*time.Hour))
	p.consumed(5, 10, t0)
	p.fetched(5, 11) // at its end: no backlog anywhere
	check("live", nil, nil)
}

// TestPacerStall: a slowest partition that stops moving releases the
// others after paceStall, and holds them again once it moves.
func TestPacerStall(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	p := newPacer(15 * time.Minute)
	p.now = func() time.Time { return clock }
	p.consumed(0, 9, t0)
	p.consumed(1, 9, t0.Add(time.Hour))
	p.fetched(0, 100)
	p.fetched(1, 100)
	if pause, _ := p.plan(); !slices.Equal(pause, []int32{1}) {
		t.Fatalf("pause %v, want [1]", pause)
	}
	clock = clock.Add(paceStall / 2)
	if pause, resume := p.plan(); pause != nil || resume != nil {
		t.Errorf("half the stall time: pause %v, resume %v; want nothing", pause, resume)
	}
	clock = clock.Add(paceStall)
	if _, resume := p.plan(); !slices.Equal(resume, []int32{1}) {
		t.Errorf("stalled: resume %v, want [1]", resume)
	}
	p.consumed(0, 10, t0.Add(time.Second)) // it moves again
	if pause, _ := p.plan(); !slices.Equal(pause, []int32{1}) {
		t.Errorf("moving again: pause %v, want [1]", pause)
	}
}
