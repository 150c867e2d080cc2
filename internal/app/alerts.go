package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wikistream/wikistream/internal/alert"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/supervise"
)

// stageAlert is the alert of a supervisor event: a failure is job_failed,
// a stall pipeline_stalled, and the restart that follows either
// stage_restarted. Each has the stage as its key, so a stage failing in a
// loop alerts once per cool-down.
func stageAlert(ev supervise.Event) alert.Alert {
	evidence := map[string]any{"stage": ev.Stage, "attempt": ev.Attempt, "restarts": ev.Restarts,
		"backoff_seconds": ev.Backoff.Seconds()}
	for k, v := range ev.Health.Detail {
		evidence[k] = v
	}
	a := alert.Alert{Key: ev.Stage, Evidence: evidence, CreatedAt: ev.At,
		ExecutionID: fmt.Sprintf("%s#%d", ev.Stage, ev.Attempt)}
	if ev.Err != nil {
		a.Error = ev.Err.Error()
	}
	switch ev.Kind {
	case supervise.Failed:
		a.Type, a.Title = alert.JobFailed, fmt.Sprintf("Stage %s failed", ev.Stage)
	case supervise.Stalled:
		a.Type, a.Title = alert.PipelineStalled, fmt.Sprintf("Stage %s stalled: work waiting, no progress", ev.Stage)
	default:
		a.Type, a.Title = alert.StageRestarted, fmt.Sprintf("Stage %s restarted (restart %d)", ev.Stage, ev.Restarts)
	}
	return a
}

// dlqWatch raises dlq_spike when more than maxShare of the events read in
// a window were dead-lettered (and at least minEvents were read).
type dlqWatch struct {
	stats     func() ingest.Stats
	raise     alert.Raiser
	window    time.Duration
	maxShare  float64
	minEvents int64
	log       *slog.Logger
}

// Run checks every window until ctx ends.
func (w dlqWatch) Run(ctx context.Context) error {
	tick := time.NewTicker(w.window)
	defer tick.Stop()
	last := w.stats()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := w.stats()
		w.check(ctx, last, now)
		last = now
	}
}

func (w dlqWatch) check(ctx context.Context, before, after ingest.Stats) {
	read, dlq := after.Read-before.Read, after.DLQ-before.DLQ
	if read < w.minEvents || float64(dlq) <= w.maxShare*float64(read) {
		return
	}
	reasons := map[string]int64{}
	for r, n := range after.Reasons {
		if d := n - before.Reasons[r]; d > 0 {
			reasons[r] = d
		}
	}
	share := float64(dlq) / float64(read)
	err := w.raise.Raise(ctx, alert.Alert{Type: alert.DLQSpike, Key: "ingest",
		Title: fmt.Sprintf("%.1f%% of events dead-lettered in the last %s", 100*share, w.window),
		Evidence: map[string]any{"read": read, "dead_lettered": dlq, "share": share, "threshold": w.maxShare,
			"window_seconds": w.window.Seconds(), "reasons": reasons}})
	if err != nil {
		w.log.Warn("could not raise the dlq_spike alert", "err", err)
	}
}

// qualityAlerts raises one dq_failure alert per failed or unevaluable
// check of a data-quality run, keyed by the check, and job_failed when
// the run itself failed.
func qualityAlerts(raise alert.Raiser, log *slog.Logger) func(context.Context, quality.Report) {
	return func(ctx context.Context, r quality.Report) {
		var as []alert.Alert
		if r.Error != "" {
			as = append(as, alert.Alert{Type: alert.JobFailed, Key: "dq", Title: "Data-quality run failed",
				Error: r.Error, ExecutionID: r.RunID, Evidence: map[string]any{"run_id": r.RunID}})
		}
		for _, f := range r.Failures() {
			evidence := map[string]any{"check": f.Check, "table": f.Table, "kind": string(f.Kind), "status": string(f.Status),
				"observed": f.Observed, "expected": f.Expected}
			for k, v := range f.Detail {
				evidence[k] = v
			}
			as = append(as, alert.Alert{Type: alert.DQFailure, Key: f.Table + "/" + f.Check,
				Title:       fmt.Sprintf("%s: %s (observed %s, expected %s)", f.Table, f.Check, f.Observed, f.Expected),
				ExecutionID: r.RunID, Evidence: evidence})
		}
		for _, a := range as {
			if err := raise.Raise(ctx, a); err != nil {
				log.Warn("could not raise the data-quality alert", "key", a.Key, "err", err)
			}
		}
	}
}
