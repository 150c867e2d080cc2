// Package schedule runs the incremental stages (silver, gold) inside a
// process: each run reads what its upstream table committed since the last
// one, so the stage only has to be run often, and not too often.
package schedule

import (
	"context"
	"sync/atomic"
	"time"
)

// Run is one incremental run: worked reports that it committed something,
// more that it stopped before reading everything available.
type Run func(ctx context.Context) (worked, more bool, err error)

// Incremental calls run every poll interval until ctx ends. After a run
// that worked it rests at least minInterval and at least as long as the run
// took: while a large backlog flows in, the stage then uses at most about
// half a core and batches more per run, instead of recomputing on every
// upstream commit. A run that reports more without having worked is
// followed at once by another. It returns the first error of a run, or nil
// when ctx ends.
// Once hurry is set (nil: never) it rests minInterval only.
func Incremental(ctx context.Context, poll, minInterval time.Duration, hurry *Hurry, run Run) error {
	return IncrementalRest(ctx, poll, minInterval, 1, hurry, run)
}

// Hurry tells incremental loops that the backlog they rest for is over: a
// drained run's source is done and bronze has committed all of it, so the
// stages after it have the cores to themselves and should finish. Resting
// then only delayed the end (gold's risk loop rests three times as long as
// its last run). Safe for concurrent use; the zero value does not hurry.
type Hurry struct{ on atomic.Bool }

// Set hurries the loops given h from their next poll on.
func (h *Hurry) Set() { h.on.Store(true) }

func (h *Hurry) set() bool { return h != nil && h.on.Load() }

// IncrementalRest is Incremental resting rest times as long as a run that
// worked took (and at least minInterval): a loop whose runs grow costly
// uses at most 1/(1+rest) of a core.
func IncrementalRest(ctx context.Context, poll, minInterval time.Duration, rest float64, hurry *Hurry, run Run) error {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var last time.Time
	var gap time.Duration
	for {
		if time.Since(last) >= gap || hurry.set() && time.Since(last) >= minInterval {
			began := time.Now()
			worked, more, err := run(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if worked {
				last, gap = time.Now(), max(minInterval, time.Duration(rest*float64(time.Since(began))))
			}
			if more && !worked {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
