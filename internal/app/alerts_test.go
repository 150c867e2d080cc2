package app

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/alert"
	"github.com/wikistream/wikistream/internal/ingest"
)

type raised struct {
	mu     sync.Mutex
	alerts []alert.Alert
}

func (r *raised) Raise(_ context.Context, a alert.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a)
	return nil
}

// TestDLQWatch: a window with more than 5% dead letters raises dlq_spike
// with the reasons of that window only; 5% exactly, or too few events, do
// not.
func TestDLQWatch(t *testing.T) {
	for _, c := range []struct {
		name      string
		read, dlq int64
		want      bool
	}{
		{"6% of 1000", 1000, 60, true},
		{"5% of 1000", 1000, 50, false},
		{"half of 50 (too few events)", 50, 25, false},
		{"none", 1000, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &raised{}
			w := dlqWatch{raise: r, window: 5 * time.Minute, maxShare: 0.05, minEvents: 100, log: slog.New(slog.DiscardHandler)}
			before := ingest.Stats{Read: 500, DLQ: 7, Reasons: map[string]int64{"not_json": 7}}
			after := ingest.Stats{Read: 500 + c.read, DLQ: 7 + c.dlq, Reasons: map[string]int64{"not_json": 7 + c.dlq}}
			w.check(context.Background(), before, after)
			if got := len(r.alerts) == 1; got != c.want {
				t.Fatalf("alerts %+v, want one: %v", r.alerts, c.want)
			}
			if !c.want {
				return
			}
			a := r.alerts[0]
			if a.Type != alert.DLQSpike || a.Evidence["dead_lettered"] != c.dlq || a.Evidence["read"] != c.read {
				t.Errorf("alert %+v: want dlq_spike with the window's %d of %d", a, c.dlq, c.read)
			}
			if reasons := a.Evidence["reasons"].(map[string]int64); reasons["not_json"] != c.dlq {
				t.Errorf("reasons %v: want not_json %d (this window only)", reasons, c.dlq)
			}
		})
	}
}
