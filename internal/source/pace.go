package source

import (
	"context"
	"encoding/json"
	"time"
)

// maxPaceGap is the most event time (seconds) a paced event may lie after
// the newest one paced before it. The live feed has no silence anywhere
// near an hour; a timestamp that far ahead is bogus (such events are dead
// letters anyway) and neither waits nor moves the schedule, instead of
// stalling the replay until that time.
const maxPaceGap = 3600

// pacer spaces file replay by the events' own timestamps: event i is due at
// start + (ts_i - ts_first) / speed on the wall clock. The schedule is
// absolute, so time spent outside wait (emitting) is not added to it, and
// an event older than its predecessors does not wait at all.
type pacer struct {
	speed   float64
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	started bool
	first   float64   // timestamp of the first paced event, in seconds
	wall    time.Time // when it was emitted
	newest  float64   // the newest timestamp paced so far
}

func newPacer(cfg Config) *pacer {
	return &pacer{speed: cfg.Speed, now: cfg.Now, sleep: cfg.Sleep}
}

// wait sleeps until the event in data is due. Events without a readable
// timestamp are due at once.
func (p *pacer) wait(ctx context.Context, data []byte) error {
	if p.speed <= 0 {
		return nil
	}
	ts, ok := eventTimestamp(data)
	if !ok {
		return nil
	}
	if !p.started {
		p.started, p.first, p.wall, p.newest = true, ts, p.now(), ts
		return nil
	}
	if ts > p.newest+maxPaceGap {
		return nil // a bogus timestamp: do not stall the replay
	}
	p.newest = max(p.newest, ts)
	offset := (ts - p.first) / p.speed // seconds after the first event
	due := p.wall.Add(time.Duration(offset * float64(time.Second)))
	if d := due.Sub(p.now()); d > 0 {
		return p.sleep(ctx, d)
	}
	return nil
}

// eventTimestamp returns an event's top-level "timestamp" (Unix seconds).
func eventTimestamp(data []byte) (float64, bool) {
	var v struct {
		Timestamp *float64 `json:"timestamp"`
	}
	if json.Unmarshal(data, &v) != nil || v.Timestamp == nil {
		return 0, false
	}
	return *v.Timestamp, true
}
