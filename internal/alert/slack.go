package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// SlackConfig configures a Slack-compatible incoming webhook (Slack,
// Mattermost, Rocket.Chat and others accept the same body).
type SlackConfig struct {
	HTTPConfig
	// Name labels the sink; default "slack".
	Name string
}

// SlackSink posts each alert as a readable message: {"text": ..., "blocks":
// [...]} with the severity and title as the header, the top-level
// evidence as fields (scalars first, at most 10), the error, and a context
// line with the type, alert_id, execution_id, time and runbook link. text
// is the one-line fallback that notifications show.
type SlackSink struct {
	cfg SlackConfig
}

// NewSlackSink checks the configuration and builds the sink.
func NewSlackSink(cfg SlackConfig) (*SlackSink, error) {
	if err := cfg.HTTPConfig.validate("Slack webhook"); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "slack"
	}
	return &SlackSink{cfg: cfg}, nil
}

// Name is the sink's name.
func (s *SlackSink) Name() string { return s.cfg.Name }

// Send posts each alert of the batch.
func (s *SlackSink) Send(ctx context.Context, batch []Alert) error {
	for _, a := range batch {
		body, err := json.Marshal(SlackMessage(a))
		if err != nil {
			return fmt.Errorf("encode Slack message for alert %s: %w (%w)", a.ID, err, ErrPermanent)
		}
		if err := s.cfg.post(ctx, body, nil); err != nil {
			return fmt.Errorf("send alert %s: %w", a.ID, err)
		}
	}
	return nil
}

// Slack's limits on block text.
const (
	slackHeaderMax = 150
	slackFieldMax  = 300 // of the 2000 allowed: fields are meant to be glanced at
	slackTextMax   = 3000
	slackFieldsMax = 10
)

// SlackMessage is the webhook body for an alert.
func SlackMessage(a Alert) map[string]any {
	sev := strings.ToUpper(string(a.Severity))
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text",
			"text": truncate(severityEmoji(a.Severity)+" "+sev+": "+a.Title, slackHeaderMax), "emoji": true}},
	}
	if fields := slackFields(a.Evidence); len(fields) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	if a.Error != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn",
			"text": truncate("*Error*\n```"+slackEscape(a.Error)+"```", slackTextMax)}})
	}
	ctxLine := []string{"`" + string(a.Type) + "`", "alert_id " + a.ID}
	if a.ExecutionID != "" {
		ctxLine = append(ctxLine, "execution "+slackEscape(a.ExecutionID))
	}
	ctxLine = append(ctxLine, a.CreatedAt.UTC().Format(time.RFC3339))
	if strings.HasPrefix(a.Runbook, "http://") || strings.HasPrefix(a.Runbook, "https://") {
		ctxLine = append(ctxLine, "<"+a.Runbook+"|Runbook>")
	} else if a.Runbook != "" {
		ctxLine = append(ctxLine, "Runbook: `"+slackEscape(a.Runbook)+"`")
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []any{
		map[string]any{"type": "mrkdwn", "text": truncate(strings.Join(ctxLine, " · "), slackTextMax)}}})
	return map[string]any{
		"text":   fmt.Sprintf("[%s] %s: %s", sev, a.Type, a.Title),
		"blocks": blocks,
	}
}

func severityEmoji(s Severity) string {
	switch s {
	case Critical:
		return "🔴"
	case Warning:
		return "🟠"
	}
	return "🔵"
}

// slackFields renders the top-level evidence: scalars first, then lists
// and objects as compact JSON, each in key order.
func slackFields(ev map[string]any) []any {
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	scalar := func(v any) bool {
		switch v.(type) {
		case map[string]any, []any:
			return false
		}
		b, _ := json.Marshal(v)
		return len(b) == 0 || (b[0] != '{' && b[0] != '[')
	}
	sort.Slice(keys, func(i, j int) bool {
		si, sj := scalar(ev[keys[i]]), scalar(ev[keys[j]])
		if si != sj {
			return si
		}
		return keys[i] < keys[j]
	})
	var out []any
	for _, k := range keys {
		if len(out) == slackFieldsMax {
			break
		}
		var val string
		if s, ok := ev[k].(string); ok {
			val = s
		} else {
			b, err := json.Marshal(ev[k])
			if err != nil {
				continue
			}
			val = string(b)
		}
		out = append(out, map[string]any{"type": "mrkdwn",
			"text": truncate("*"+slackEscape(k)+"*\n"+slackEscape(val), slackFieldMax)})
	}
	return out
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
