package schedule

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRestsAsLongAsTheRunTook: after a run that worked and took d, the next
// run starts no sooner than d later, or rest times d later with
// IncrementalRest (a lower bound only: a slow machine cannot make it fail).
func TestRestsAsLongAsTheRunTook(t *testing.T) {
	const took = 30 * time.Millisecond
	for _, rest := range []float64{1, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		var starts []time.Time
		err := IncrementalRest(ctx, time.Millisecond, 0, rest, nil, func(ctx context.Context) (bool, bool, error) {
			starts = append(starts, time.Now())
			time.Sleep(took)
			if len(starts) == 4 {
				cancel()
			}
			return true, false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := took + time.Duration(rest*float64(took))
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap < want {
				t.Errorf("rest %g: run %d started %s after run %d began; want at least %s (the run plus %g times its time)", rest, i, gap, i-1, want, rest)
			}
		}
	}
}

func TestMinIntervalAndErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var starts []time.Time
	boom := errors.New("boom")
	err := Incremental(ctx, time.Millisecond, 40*time.Millisecond, nil, func(ctx context.Context) (bool, bool, error) {
		starts = append(starts, time.Now())
		if len(starts) == 3 {
			return false, false, boom
		}
		return true, false, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Incremental returned %v, want the run's error", err)
	}
	if gap := starts[1].Sub(starts[0]); gap < 40*time.Millisecond {
		t.Errorf("second run %s after the first; want at least the 40ms minimum interval", gap)
	}
}

func TestMoreRunsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Incremental(ctx, time.Hour, 0, nil, func(ctx context.Context) (bool, bool, error) {
		calls++
		if calls == 5 {
			cancel()
			return false, false, nil
		}
		return false, true, nil // more to read, nothing committed yet
	})
	if err != nil || calls != 5 {
		t.Fatalf("calls %d, err %v; want 5 runs without waiting the hour-long poll", calls, err)
	}
}

// TestHurry: a loop resting 1000 times as long as its 20 ms run (20 s)
// runs again at its next poll once hurried, and not before.
func TestHurry(t *testing.T) {
	const took = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hurry Hurry
	var starts []time.Time
	hurried := make(chan time.Time, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // two runs would have been a mistake by then
		hurried <- time.Now()
		hurry.Set()
	}()
	err := IncrementalRest(ctx, 5*time.Millisecond, 0, 1000, &hurry, func(ctx context.Context) (bool, bool, error) {
		if ctx.Err() != nil {
			return false, false, nil // a poll after the cancel, before the loop saw it
		}
		starts = append(starts, time.Now())
		time.Sleep(took)
		if len(starts) == 2 {
			cancel()
		}
		return true, false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(starts) != 2 {
		t.Fatalf("%d runs, want 2", len(starts))
	}
	at := <-hurried
	if starts[1].Before(at) {
		t.Errorf("the second run began %s before the loop was hurried: it did not rest", at.Sub(starts[1]))
	}
	if gap := starts[1].Sub(starts[0]); gap > 10*time.Second {
		t.Errorf("the second run began %s after the first: hurrying did not end the 20 s rest", gap)
	}
}
