package alert

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestSinks(t *testing.T) {
	lh := openLakehouse(t, t.TempDir())
	tests := []struct {
		name  string
		cfg   SinksConfig
		names string
		err   string
	}{
		{"none", SinksConfig{}, "log,ops_alerts", ""},
		{"all", SinksConfig{WebhookURL: "https://example.org/hook", WebhookSecret: "k", SlackURL: "https://hooks.slack.com/services/T/B/x",
			AlertmanagerURL: "http://127.0.0.1:9093"}, "log,ops_alerts,webhook,slack,alertmanager", ""},
		{"secret without URL", SinksConfig{WebhookSecret: "k"}, "", "no --alert-webhook-url"},
		{"bad URL", SinksConfig{SlackURL: "hooks.slack.com/services/T/B/x"}, "", "absolute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sinks, err := Sinks(tc.cfg, lh, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Sinks = %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range sinks {
				names = append(names, s.Name())
			}
			if got := strings.Join(names, ","); got != tc.names {
				t.Errorf("sinks %s, want %s", got, tc.names)
			}
		})
	}
}

func TestSinksConfigLogMasksSecrets(t *testing.T) {
	var buf bytes.Buffer
	cfg := SinksConfig{WebhookURL: "https://example.org/hook?token=SECRET1", WebhookSecret: "SECRET2",
		SlackURL: "https://hooks.slack.com/services/T/B/SECRET3", AlertmanagerURL: "http://user:SECRET4@am:9093"}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "alerts", cfg)
	out := buf.String()
	if strings.Contains(out, "SECRET") {
		t.Errorf("logged configuration leaks a secret: %s", out)
	}
	if !strings.Contains(out, "hooks.slack.com") || !strings.Contains(out, "webhook_secret=****") {
		t.Errorf("logged configuration %s, want the hosts and a masked secret", out)
	}
}
