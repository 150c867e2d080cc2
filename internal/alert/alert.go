// Package alert tells people when something is wrong, with evidence: the
// alert JSON of DESIGN.md, a Dispatcher that suppresses repeats for a
// cool-down and delivers the rest asynchronously to sinks (log, the
// ops.alerts table, a generic webhook, a Slack-compatible webhook and
// Prometheus Alertmanager), and a RiskWatcher that turns HIGH rows of
// gold.risk_scores into risk_high alerts.
//
// # Raising an alert
//
//	d.Raise(ctx, alert.Alert{
//		Type:        alert.DQFailure,
//		Key:         "silver.cleaned_events/uniqueness_event_id",
//		Title:       "silver.cleaned_events: event_id is not unique",
//		Evidence:    map[string]any{"duplicates": 12, "sample": ids},
//		ExecutionID: runID,
//	})
//
// Raise fills in what the caller left empty (created_at from the clock,
// severity from DefaultSeverity, the runbook link, alert_id), decides
// whether the alert is a repeat, and queues it for every sink. It never
// blocks for longer than Config.EnqueueWait.
//
// # Cool-down and alert_id
//
// Alerts with the same Type and Key are repeats of each other. After one
// is sent, repeats raised within the type's cool-down (Config.CoolDown,
// default 30m; risk_high 192h by default, longer than the 7 days of
// lateness gold accepts, so a recomputed past day never re-alerts) are
// suppressed: counted in wikistream_alert_suppressed_total, recorded in
// ops.alerts with suppressed = true, logged at debug level, and sent to no
// one else. The cool-down runs from the alert sent, not from the last
// repeat, so a condition that persists is re-sent once per cool-down.
//
// alert_id is deterministic: the first 32 hex digits of
//
//	SHA-256(alert_type 0x00 key 0x00 window [0x00 "suppressed"])
//
// where window is created_at's cool-down window (created_at truncated to a
// multiple of the cool-down since the Unix epoch, in Unix seconds). Because
// two sent alerts of one key are at least a cool-down apart, they always
// fall in different windows and get different ids; the same alert raised
// twice (by a retry, a restart, or two processes) in one window gets the
// same id, which ops.alerts inserts only once. Every suppressed repeat in a
// window shares one id too, so ops.alerts holds at most one suppressed row
// per key and window however often a condition repeats. Receivers can
// deduplicate on alert_id.
//
// # Restarts
//
// New seeds the cool-down state from ops.alerts (through the TableSink):
// the ids and times of alerts sent or recorded within the longest
// cool-down. A later Raise looks for the ids its key would have had in the
// current and the previous window, which is where the last sent alert lies
// if it is still cooling down; the key itself need not be stored. So a
// restarted process does not re-send what it sent before. Changing a
// cool-down changes the windows: after such a change, one repeat may be
// sent again. Delivery is at least once: an alert sent to a webhook just
// before a crash, and not yet committed to ops.alerts, is sent again.
//
// # Wiring (internal/app)
//
//	// log + ops.alerts always (every alert lands in ops.alerts), plus
//	// --alert-webhook-url/--alert-webhook-secret, --alert-slack-url, --alertmanager-url
//	sinks, err := alert.Sinks(alert.SinksConfig{...}, lh, log)
//	cfg := alert.DefaultConfig() // --alert-cooldown sets cfg.CoolDown
//	cfg.Logger, cfg.Registerer = log, registry
//	d, err := alert.New(ctx, cfg, sinks...)          // seeds from ops.alerts
//	group.Go(func() error { return d.Run(ctx) })     // drains for cfg.DrainTimeout after ctx ends
//	eng, err := query.Open(ctx, lh, []table.Identifier{lakehouse.GoldRiskScores}, query.Config{})
//	w, err := alert.NewRiskWatcher(alert.DefaultRiskWatcherConfig(), eng, d)
//	group.Go(func() error { return w.Run(ctx) })
//
// Other stages get the *Dispatcher (or any Raiser) and call Raise. A
// one-shot command (dq --once) runs Run in a goroutine, raises, calls Flush,
// then cancels Run. URLs with tokens and the HMAC secret are never logged:
// sink errors name only the scheme and host of their URL. docs/RUNBOOK.md
// needs one section per alert type whose anchor is the type's name (a
// heading "## risk_high" gives #risk_high).
//
// # Delivery and metrics
//
// Each sink has its own queue (Config.QueueSize) and worker, which sends
// batches (up to the sink's MaxBatch) with a timeout per attempt and
// retries failures with jittered exponential backoff; ErrPermanent errors
// (HTTP 4xx) are not retried. A full queue drops the alert for that sink
// after Config.EnqueueWait. Metrics, on Config.Registerer:
//
//	wikistream_alert_raised_total{type,severity}  every valid Raise, repeats included
//	wikistream_alert_suppressed_total{type}       repeats within the cool-down
//	wikistream_alert_sent_total{sink}             alerts a sink accepted
//	wikistream_alert_sink_errors_total{sink}      failed attempts
//	wikistream_alert_dropped_total{sink}          alerts given up (queue full, attempts used up, drain deadline)
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Type is what kind of problem an alert reports.
type Type string

// The alert types of DESIGN.md.
const (
	RiskHigh        Type = "risk_high"        // an editor's risk score for a day is HIGH
	DQFailure       Type = "dq_failure"       // a data-quality check failed
	JobFailed       Type = "job_failed"       // a stage or batch job failed
	PipelineStalled Type = "pipeline_stalled" // a stage stopped making progress
	DLQSpike        Type = "dlq_spike"        // dead letters arrive faster than usual
	StageRestarted  Type = "stage_restarted"  // the supervisor restarted a stage
)

// Types lists every alert type.
var Types = []Type{RiskHigh, DQFailure, JobFailed, PipelineStalled, DLQSpike, StageRestarted}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, v := range Types {
		if t == v {
			return true
		}
	}
	return false
}

// Severity says how urgent an alert is.
type Severity string

// The severities.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Valid reports whether s is critical, warning or info.
func (s Severity) Valid() bool { return s == Critical || s == Warning || s == Info }

// DefaultSeverity is the severity Raise gives an alert of type t that has
// none: critical when data stops flowing (job_failed, pipeline_stalled),
// warning otherwise.
func DefaultSeverity(t Type) Severity {
	switch t {
	case JobFailed, PipelineStalled:
		return Critical
	}
	return Warning
}

// DefaultRunbook is the runbook Raise links to by default, relative to the
// repository root.
const DefaultRunbook = "docs/RUNBOOK.md"

// RunbookLink is the link to the runbook section of alert type t: base (a
// path or URL of docs/RUNBOOK.md) with the anchor named exactly as t, such
// as docs/RUNBOOK.md#dq_failure.
func RunbookLink(base string, t Type) string { return base + "#" + string(t) }

// Alert is one alert, as DESIGN.md specifies its JSON.
type Alert struct {
	// ID is alert_id; Raise computes it (see the package comment).
	ID string `json:"alert_id"`
	// Type is alert_type; required.
	Type Type `json:"alert_type"`
	// Severity defaults to DefaultSeverity(Type).
	Severity Severity `json:"severity"`
	// Title is one line for people; required.
	Title string `json:"title"`
	// Evidence holds the numbers behind the alert; it must marshal to a
	// JSON object. Nil becomes {}.
	Evidence map[string]any `json:"evidence"`
	// ExecutionID names the run or stage execution that raised it.
	ExecutionID string `json:"execution_id"`
	// Error is the error message, if an error caused the alert.
	Error string `json:"error"`
	// Runbook links to the runbook section; Raise sets it from
	// Config.Runbook and Type when empty.
	Runbook string `json:"runbook"`
	// CreatedAt defaults to the dispatcher's clock.
	CreatedAt time.Time `json:"created_at"`
	// Key says what the alert is about (an entity and date, a check's
	// name, a stage): alerts with the same Type and Key share a cool-down.
	// An empty Key makes the whole type one subject.
	Key string `json:"dedupe_key"`
	// Suppressed marks a repeat within the cool-down. Only sinks that
	// record suppressed alerts (the log and the table) ever see one.
	Suppressed bool `json:"suppressed,omitempty"`
}

// validate reports the first thing wrong with a filled-in alert.
func (a Alert) validate() error {
	switch {
	case !a.Type.Valid():
		return fmt.Errorf("alert type %q: want one of %v", a.Type, Types)
	case !a.Severity.Valid():
		return fmt.Errorf("alert severity %q: want critical, warning or info", a.Severity)
	case a.Title == "":
		return errors.New("alert has no title")
	}
	return nil
}

// window is the start of the cool-down window that t falls in.
// coolDown is a whole number of seconds (Config.Validate).
func window(t time.Time, coolDown time.Duration) time.Time {
	sec := int64(coolDown / time.Second)
	u := t.Unix()
	w := u / sec * sec
	if u < 0 && u%sec != 0 {
		w -= sec // floor, not toward zero
	}
	return time.Unix(w, 0).UTC()
}

// alertID is the deterministic alert_id (see the package comment).
func alertID(t Type, key string, win time.Time, suppressed bool) string {
	h := sha256.New()
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(win.Unix(), 10)))
	if suppressed {
		h.Write([]byte{0})
		h.Write([]byte("suppressed"))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
