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
		err := IncrementalRest(ctx, time.Millisecond, 0, rest, func(ctx context.Context) (bool, bool, error) {
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
	err := Incremental(ctx, time.Millisecond, 40*time.Millisecond, func(ctx context.Context) (bool, bool, error) {
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
	err := Incremental(ctx, time.Hour, 0, func(ctx context.Context) (bool, bool, error) {
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
