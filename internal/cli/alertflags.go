package cli

import (
	"flag"
	"fmt"
	"time"

	"github.com/wikistream/wikistream/internal/alert"
)

// alertFlags are where alerts go besides the log and ops.alerts.
type alertFlags struct {
	sinks    alert.SinksConfig
	coolDown time.Duration
	bots     bool
}

func addAlertFlags(fs *flag.FlagSet) *alertFlags {
	f := &alertFlags{}
	fs.StringVar(&f.sinks.WebhookURL, "alert-webhook-url", "", "POST every alert as JSON to this URL")
	fs.StringVar(&f.sinks.WebhookSecret, "alert-webhook-secret", "", "sign webhook requests with HMAC-SHA256 of this secret (prefer WIKISTREAM_ALERT_WEBHOOK_SECRET)")
	fs.StringVar(&f.sinks.SlackURL, "alert-slack-url", "", "a Slack-compatible incoming webhook URL for alerts")
	fs.StringVar(&f.sinks.AlertmanagerURL, "alertmanager-url", "", "Prometheus Alertmanager base URL, such as http://127.0.0.1:9093 (v2 API)")
	fs.DurationVar(&f.coolDown, "alert-cooldown", alert.DefaultConfig().CoolDown, "suppress repeats of an alert (same type and subject) for this long")
	fs.BoolVar(&f.bots, "alert-bots", false, "let bots trigger risk_high alerts (by default they are scored but not alerted)")
	return f
}

func (f *alertFlags) validate() error {
	if f.coolDown <= 0 || f.coolDown%time.Second != 0 {
		return fmt.Errorf("--alert-cooldown: got %s, want a positive whole number of seconds such as 30m", f.coolDown)
	}
	if f.sinks.WebhookSecret != "" && f.sinks.WebhookURL == "" {
		return fmt.Errorf("--alert-webhook-secret is set but --alert-webhook-url is not: give the URL the secret signs for")
	}
	return nil
}

// flagSet reports whether the flag was given on the command line (or in
// its environment variable).
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
