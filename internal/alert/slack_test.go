package alert

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestSlackBody: the posted body is a readable Slack message with a
// fallback text, a header with severity and title, evidence fields, the
// error, and a context line with the runbook link.
func TestSlackBody(t *testing.T) {
	srv := newHookServer(t, nil)
	s, err := NewSlackSink(SlackConfig{HTTPConfig: HTTPConfig{URL: srv.URL + "/services/T/B/x"}})
	if err != nil {
		t.Fatal(err)
	}
	a := sampleAlert()
	a.Severity = Critical
	a.Error = "commit silver batch 7: <conflict> & retry"
	a.Runbook = "https://github.com/wikistream/wikistream/blob/main/docs/RUNBOOK.md#dq_failure"
	if err := s.Send(context.Background(), []Alert{a}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"fields"`
			Elements []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(reqs[0].body, &msg); err != nil {
		t.Fatalf("body is not the JSON expected: %v\n%s", err, reqs[0].body)
	}
	if want := "[CRITICAL] dq_failure: " + a.Title; msg.Text != want {
		t.Errorf("text %q, want %q", msg.Text, want)
	}
	var types []string
	for _, b := range msg.Blocks {
		types = append(types, b.Type)
	}
	if got := strings.Join(types, ","); got != "header,section,section,context" {
		t.Fatalf("blocks %s, want header,section,section,context", got)
	}
	header, fields, errBlock, ctx := msg.Blocks[0], msg.Blocks[1], msg.Blocks[2], msg.Blocks[3]
	if header.Text == nil || header.Text.Type != "plain_text" || !strings.Contains(header.Text.Text, "CRITICAL: "+a.Title) {
		t.Errorf("header %+v, want plain_text with CRITICAL and the title", header.Text)
	}
	// Scalars first, in key order, then the list.
	var fieldTexts []string
	for _, f := range fields.Fields {
		if f.Type != "mrkdwn" {
			t.Errorf("field type %q, want mrkdwn", f.Type)
		}
		fieldTexts = append(fieldTexts, f.Text)
	}
	want := []string{"*check*\nuniqueness_event_id", "*duplicates*\n12", "*sample*\n[\"a1\",\"b2\"]"}
	if strings.Join(fieldTexts, "|") != strings.Join(want, "|") {
		t.Errorf("fields %q, want %q", fieldTexts, want)
	}
	if errBlock.Text == nil || !strings.Contains(errBlock.Text.Text, "&lt;conflict&gt; &amp; retry") {
		t.Errorf("error block %+v, want the error escaped for mrkdwn", errBlock.Text)
	}
	if len(ctx.Elements) != 1 || !strings.Contains(ctx.Elements[0].Text, "<"+a.Runbook+"|Runbook>") ||
		!strings.Contains(ctx.Elements[0].Text, a.ID) || !strings.Contains(ctx.Elements[0].Text, a.ExecutionID) {
		t.Errorf("context %+v, want the runbook link, alert_id and execution_id", ctx.Elements)
	}
}

// TestSlackMessageLimits: long titles and many evidence keys stay within
// Slack's block limits; a relative runbook is shown as text.
func TestSlackMessageLimits(t *testing.T) {
	ev := map[string]any{}
	for i := range 30 {
		ev[strings.Repeat("k", i+1)] = strings.Repeat("v", 5000)
	}
	a := Alert{ID: "id", Type: RiskHigh, Severity: Warning, Title: strings.Repeat("t", 400), Evidence: ev,
		Runbook: "docs/RUNBOOK.md#risk_high", CreatedAt: t0}
	b, err := json.Marshal(SlackMessage(a))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Blocks []struct {
			Text *struct {
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Text string `json:"text"`
			} `json:"fields"`
			Elements []struct {
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(msg.Blocks[0].Text.Text)); n > 150 {
		t.Errorf("header has %d characters, want at most 150", n)
	}
	if n := len(msg.Blocks[1].Fields); n != 10 {
		t.Errorf("%d fields, want 10 (Slack's maximum)", n)
	}
	for _, f := range msg.Blocks[1].Fields {
		if n := len([]rune(f.Text)); n > 2000 {
			t.Errorf("a field has %d characters, want at most 2000", n)
		}
	}
	last := msg.Blocks[len(msg.Blocks)-1]
	if !strings.Contains(last.Elements[0].Text, "Runbook: `docs/RUNBOOK.md#risk_high`") {
		t.Errorf("context %q, want the relative runbook as text", last.Elements[0].Text)
	}
}
