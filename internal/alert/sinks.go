package alert

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// SinksConfig names the optional outputs of a process, one flag each. The
// log and ops.alerts sinks are always built.
type SinksConfig struct {
	// WebhookURL (--alert-webhook-url) gets each alert as JSON.
	WebhookURL string
	// WebhookSecret (--alert-webhook-secret, better
	// WIKISTREAM_ALERT_WEBHOOK_SECRET) signs the webhook's requests.
	WebhookSecret string
	// SlackURL (--alert-slack-url) is a Slack-compatible incoming webhook.
	SlackURL string
	// AlertmanagerURL (--alertmanager-url) is Alertmanager's base URL.
	AlertmanagerURL string
	// Timeout bounds each HTTP request. Default 10s.
	Timeout time.Duration
}

// LogValue masks the secrets, so that logging the configuration shows
// which outputs are set and nothing more.
func (c SinksConfig) LogValue() slog.Value {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return RedactURL(s)
	}
	secret := ""
	if c.WebhookSecret != "" {
		secret = "****"
	}
	return slog.GroupValue(
		slog.String("webhook_url", mask(c.WebhookURL)),
		slog.String("webhook_secret", secret),
		slog.String("slack_url", mask(c.SlackURL)),
		slog.String("alertmanager_url", mask(c.AlertmanagerURL)),
		slog.Duration("timeout", c.Timeout))
}

// Sinks builds the sinks a process delivers to: the log, ops.alerts, and
// each output configured. Pass them to New.
func Sinks(cfg SinksConfig, lh *lakehouse.Lakehouse, log *slog.Logger) ([]Sink, error) {
	table, err := NewTableSink(lh)
	if err != nil {
		return nil, err
	}
	sinks := []Sink{NewLogSink(log), table}
	httpCfg := func(u string) HTTPConfig { return HTTPConfig{URL: u, Timeout: cfg.Timeout} }
	if cfg.WebhookSecret != "" && cfg.WebhookURL == "" {
		return nil, fmt.Errorf("alert webhook secret is set but no --alert-webhook-url")
	}
	if cfg.WebhookURL != "" {
		s, err := NewWebhookSink(WebhookConfig{HTTPConfig: httpCfg(cfg.WebhookURL), Secret: cfg.WebhookSecret})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	if cfg.SlackURL != "" {
		s, err := NewSlackSink(SlackConfig{HTTPConfig: httpCfg(cfg.SlackURL)})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	if cfg.AlertmanagerURL != "" {
		s, err := NewAlertmanagerSink(AlertmanagerConfig{HTTPConfig: httpCfg(cfg.AlertmanagerURL)})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	return sinks, nil
}
