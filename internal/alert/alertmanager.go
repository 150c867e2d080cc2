package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AlertmanagerConfig configures delivery to Prometheus Alertmanager.
type AlertmanagerConfig struct {
	// HTTPConfig.URL is Alertmanager's base URL, such as
	// http://127.0.0.1:9093 (or the full .../api/v2/alerts).
	HTTPConfig
	// ResolveTimeout sets endsAt = now + ResolveTimeout: WikiStream's
	// alerts are events, not states it keeps re-asserting, so Alertmanager
	// resolves each after this long. Default 1h.
	ResolveTimeout time.Duration
	// GeneratorURL, when set, is the link back to WikiStream (its
	// dashboard) in every alert.
	GeneratorURL string
	// Name labels the sink; default "alertmanager".
	Name string
	// Now is the clock of endsAt. Default time.Now.
	Now func() time.Time
}

// AlertmanagerSink posts alerts to Alertmanager's v2 API (POST
// /api/v2/alerts, a JSON array), up to 64 in one request. Each becomes
//
//	labels:      alertname=<alert_type>, severity, key (when not empty), source=wikistream
//	annotations: title, summary (= title), evidence (JSON), runbook, error, execution_id, alert_id
//	startsAt:    created_at;  endsAt: now + ResolveTimeout
//
// Alertmanager groups, silences and routes them (email, PagerDuty, ...).
// Labels identify an alert there, so a repeat sent after the cool-down
// updates the same Alertmanager alert.
type AlertmanagerSink struct {
	cfg AlertmanagerConfig
}

// NewAlertmanagerSink checks the configuration and builds the sink.
func NewAlertmanagerSink(cfg AlertmanagerConfig) (*AlertmanagerSink, error) {
	if err := cfg.HTTPConfig.validate("Alertmanager"); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(strings.TrimRight(cfg.URL, "/"), "/api/v2/alerts") {
		cfg.URL = strings.TrimRight(cfg.URL, "/") + "/api/v2/alerts"
	}
	if cfg.ResolveTimeout < 0 {
		return nil, fmt.Errorf("alertmanager resolve timeout: got %s, want a positive duration", cfg.ResolveTimeout)
	}
	if cfg.ResolveTimeout == 0 {
		cfg.ResolveTimeout = time.Hour
	}
	if cfg.Name == "" {
		cfg.Name = "alertmanager"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &AlertmanagerSink{cfg: cfg}, nil
}

// Name is the sink's name.
func (s *AlertmanagerSink) Name() string { return s.cfg.Name }

// MaxBatch is the most alerts one request carries.
func (s *AlertmanagerSink) MaxBatch() int { return 64 }

// amAlert is Alertmanager's PostableAlert.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Send posts the batch in one request.
func (s *AlertmanagerSink) Send(ctx context.Context, batch []Alert) error {
	ends := s.cfg.Now().UTC().Add(s.cfg.ResolveTimeout)
	out := make([]amAlert, 0, len(batch))
	for _, a := range batch {
		ev, err := json.Marshal(a.Evidence)
		if err != nil {
			return fmt.Errorf("encode evidence of alert %s: %w (%w)", a.ID, err, ErrPermanent)
		}
		labels := map[string]string{"alertname": string(a.Type), "severity": string(a.Severity), "source": "wikistream"}
		if a.Key != "" {
			labels["key"] = a.Key
		}
		ann := map[string]string{"title": a.Title, "summary": a.Title, "evidence": string(ev),
			"runbook": a.Runbook, "alert_id": a.ID}
		if a.Error != "" {
			ann["error"] = a.Error
		}
		if a.ExecutionID != "" {
			ann["execution_id"] = a.ExecutionID
		}
		out = append(out, amAlert{Labels: labels, Annotations: ann, StartsAt: a.CreatedAt.UTC(),
			EndsAt: ends, GeneratorURL: s.cfg.GeneratorURL})
	}
	body, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode alerts for Alertmanager: %w (%w)", err, ErrPermanent)
	}
	if err := s.cfg.post(ctx, body, nil); err != nil {
		return fmt.Errorf("send %d alerts: %w", len(batch), err)
	}
	return nil
}
