package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

// Querier runs read-only SQL over the tables; *query.Engine is one. The
// engine given to RiskAlerts must include gold.risk_scores.
type Querier interface {
	Query(ctx context.Context, sql string, at query.At) (*query.Result, error)
}

// RiskKey is the dedupe key of a risk_high alert: the day and the entity,
// "2026-11-25/Example". The date has a fixed width, so keys never collide.
func RiskKey(statDate, entity string) string { return statDate + "/" + entity }

// RiskAlerts returns a risk_high alert for every row of gold.risk_scores
// with alert_triggered = true that gold wrote after since (by
// gold_processed_at), oldest first. Gold rewrites a whole day whenever new
// events touch it, so the same entity and day come back after every such
// rewrite; the dispatcher's cool-down (keyed by RiskKey) keeps them from
// being sent again, and RiskWatcher does not even raise them twice.
//
// The evidence is the row's evidence JSON (factors with their numbers,
// sample titles and revisions, edits, domains) plus entity, date, score,
// level, is_anonymous and gold_processed_at. execution_id names the gold
// snapshot read ("gold.risk_scores@<snapshot id>"). A table that does not
// exist yet has no alerts.
func RiskAlerts(ctx context.Context, q Querier, since time.Time) ([]Alert, error) {
	alerts, _, err := riskAlerts(ctx, q, since)
	return alerts, err
}

// riskAlerts is RiskAlerts, also returning the latest gold_processed_at.
func riskAlerts(ctx context.Context, q Querier, since time.Time) ([]Alert, time.Time, error) {
	var latest time.Time
	exists, err := q.Query(ctx, `SELECT count(*) FROM duckdb_views()
		WHERE database_name = current_database() AND schema_name = 'gold' AND view_name = 'risk_scores'`, query.At{})
	if err != nil {
		return nil, latest, fmt.Errorf("look for gold.risk_scores: %w", err)
	}
	if len(exists.Rows) != 1 || fmt.Sprint(exists.Rows[0][0]) == "0" {
		return nil, latest, nil
	}
	res, err := q.Query(ctx, `SELECT stat_date, entity_id, risk_score, risk_level, evidence, is_anonymous, gold_processed_at
		FROM gold.risk_scores
		WHERE alert_triggered AND gold_processed_at > `+timestampLiteral(since)+`
		ORDER BY gold_processed_at, stat_date, entity_id`, query.At{})
	if err != nil {
		return nil, latest, fmt.Errorf("read HIGH risk scores: %w", err)
	}
	exec := ""
	if snap, ok := res.Snapshots[lakehouse.Name(lakehouse.GoldRiskScores)]; ok {
		exec = fmt.Sprintf("%s@%d", lakehouse.Name(lakehouse.GoldRiskScores), snap)
	}
	out := make([]Alert, 0, len(res.Rows))
	for _, r := range res.Rows {
		date, _ := r[0].(string)
		entity, _ := r[1].(string)
		score, _ := r[2].(float64)
		level, _ := r[3].(string)
		raw, _ := r[4].(string)
		anonymous, _ := r[5].(bool)
		processed, _ := r[6].(time.Time)
		if processed.After(latest) {
			latest = processed
		}
		ev := map[string]any{}
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			// Keep what there is rather than lose the alert.
			ev = map[string]any{"evidence_raw": raw, "evidence_error": err.Error()}
		}
		ev["entity"], ev["date"], ev["score"], ev["level"] = entity, date, score, level
		ev["is_anonymous"] = anonymous
		ev["gold_processed_at"] = processed.UTC().Format(time.RFC3339Nano)
		title := fmt.Sprintf("High risk editor %s on %s: score %g", entity, date, score)
		if f := triggeredFactors(ev["factors"]); len(f) > 0 {
			title += " (" + strings.Join(f, ", ") + ")"
		}
		out = append(out, Alert{
			Type:        RiskHigh,
			Severity:    Warning,
			Key:         RiskKey(date, entity),
			Title:       title,
			Evidence:    ev,
			ExecutionID: exec,
		})
	}
	return out, latest, nil
}

// triggeredFactors lists the names of the factors that scored.
func triggeredFactors(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, f := range list {
		m, _ := f.(map[string]any)
		if name, ok := m["name"].(string); ok && m["triggered"] == true {
			out = append(out, name)
		}
	}
	return out
}

// timestampLiteral is a DuckDB TIMESTAMPTZ literal of t.
func timestampLiteral(t time.Time) string {
	return "TIMESTAMPTZ '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "+00'"
}

// RiskWatcherConfig configures a RiskWatcher.
type RiskWatcherConfig struct {
	// Interval is how often the watcher reads gold.risk_scores. Default 30s.
	Interval time.Duration
	// Lookback is how far back (by gold_processed_at) the first read goes
	// after a start. Default 48h; the dispatcher suppresses what was sent
	// before the restart.
	Lookback time.Duration
	// Overlap re-reads rows written this long before the newest one seen,
	// in case a slower commit lands behind it. Default 5m.
	Overlap time.Duration
	// Logger receives read failures. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultRiskWatcherConfig returns the defaults.
func DefaultRiskWatcherConfig() RiskWatcherConfig {
	return RiskWatcherConfig{Interval: 30 * time.Second, Lookback: 48 * time.Hour, Overlap: 5 * time.Minute, Now: time.Now}
}

// Validate reports the first bad setting.
func (c RiskWatcherConfig) Validate() error {
	switch {
	case c.Interval <= 0:
		return fmt.Errorf("risk watcher interval: got %s, want a positive duration", c.Interval)
	case c.Lookback <= 0:
		return fmt.Errorf("risk watcher lookback: got %s, want a positive duration", c.Lookback)
	case c.Overlap < 0:
		return fmt.Errorf("risk watcher overlap: got %s, want 0 or more", c.Overlap)
	case c.Now == nil:
		return errors.New("risk watcher clock (Now) is nil")
	}
	return nil
}

// RiskWatcher raises a risk_high alert once for every entity and day that
// gold.risk_scores marks alert_triggered.
type RiskWatcher struct {
	cfg   RiskWatcherConfig
	q     Querier
	r     Raiser
	log   *slog.Logger
	since time.Time
	seen  map[string]string // RiskKey → stat_date, of alerts raised
}

// NewRiskWatcher builds a watcher that reads through q and raises on r.
func NewRiskWatcher(cfg RiskWatcherConfig, q Querier, r Raiser) (*RiskWatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RiskWatcher{cfg: cfg, q: q, r: r, log: log.With("component", "risk-watcher"),
		since: cfg.Now().Add(-cfg.Lookback), seen: map[string]string{}}, nil
}

// RunOnce reads what gold wrote since the last read and raises an alert
// for each entity and day not raised before by this watcher. It returns
// how many it raised. Not safe for concurrent use.
func (w *RiskWatcher) RunOnce(ctx context.Context) (int, error) {
	alerts, latest, err := riskAlerts(ctx, w.q, w.since.Add(-w.cfg.Overlap))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range alerts {
		if _, done := w.seen[a.Key]; done {
			continue
		}
		if err := w.r.Raise(ctx, a); err != nil {
			return n, fmt.Errorf("raise risk alert %s: %w", a.Key, err)
		}
		w.seen[a.Key] = a.Evidence["date"].(string)
		n++
	}
	if latest.After(w.since) {
		w.since = latest
	}
	// Forget days that gold no longer recomputes.
	horizon := w.cfg.Now().UTC().Add(-RiskCoolDown).Format(time.DateOnly)
	for k, date := range w.seen {
		if date < horizon {
			delete(w.seen, k)
		}
	}
	return n, nil
}

// Run calls RunOnce every Interval until ctx ends, then returns nil. A
// failed read is logged and tried again at the next interval.
func (w *RiskWatcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("risk watcher read failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
