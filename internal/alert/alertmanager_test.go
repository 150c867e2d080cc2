package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/testtool"
)

// TestAlertmanagerBody checks the request against Alertmanager's v2
// PostableAlerts shape.
func TestAlertmanagerBody(t *testing.T) {
	srv := newHookServer(t, nil)
	now := t0.Add(time.Minute)
	s, err := NewAlertmanagerSink(AlertmanagerConfig{HTTPConfig: HTTPConfig{URL: srv.URL + "/"},
		ResolveTimeout: 2 * time.Hour, GeneratorURL: "http://127.0.0.1:8080/", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	a, b := sampleAlert(), sampleAlert()
	b.Key, b.Error, b.ExecutionID = "", "boom", ""
	if err := s.Send(context.Background(), []Alert{a, b}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want one for the batch", len(reqs))
	}
	var got []amAlert
	if err := json.Unmarshal(reqs[0].body, &got); err != nil {
		t.Fatalf("body is not a JSON array of alerts: %v\n%s", err, reqs[0].body)
	}
	if len(got) != 2 {
		t.Fatalf("%d alerts in the body, want 2", len(got))
	}
	want := map[string]string{"alertname": "dq_failure", "severity": "warning", "key": a.Key, "source": "wikistream"}
	if fmt.Sprint(got[0].Labels) != fmt.Sprint(want) {
		t.Errorf("labels %v, want %v", got[0].Labels, want)
	}
	if _, ok := got[1].Labels["key"]; ok {
		t.Errorf("labels %v: an empty key should not be a label", got[1].Labels)
	}
	ann := got[0].Annotations
	if ann["title"] != a.Title || ann["runbook"] != a.Runbook || ann["execution_id"] != a.ExecutionID || ann["alert_id"] != a.ID {
		t.Errorf("annotations %v, want title, runbook, execution_id and alert_id of %+v", ann, a)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(ann["evidence"]), &ev); err != nil || ev["check"] != "uniqueness_event_id" {
		t.Errorf("evidence annotation %q, want the evidence JSON (%v)", ann["evidence"], err)
	}
	if got[1].Annotations["error"] != "boom" {
		t.Errorf("error annotation %q, want boom", got[1].Annotations["error"])
	}
	if !got[0].StartsAt.Equal(a.CreatedAt) || !got[0].EndsAt.Equal(now.Add(2*time.Hour)) {
		t.Errorf("startsAt %s endsAt %s, want %s and %s", got[0].StartsAt, got[0].EndsAt, a.CreatedAt, now.Add(2*time.Hour))
	}
	if got[0].GeneratorURL != "http://127.0.0.1:8080/" {
		t.Errorf("generatorURL %q", got[0].GeneratorURL)
	}
}

// startAlertmanager runs Debian's prometheus-alertmanager on a free
// loopback port with its own configuration and storage, and returns its
// base URL once it is ready.
func startAlertmanager(tb testing.TB) string {
	tb.Helper()
	bin := testtool.Look(tb, "prometheus-alertmanager")
	dir := tb.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			tb.Fatalf("alertmanager exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("alertmanager not ready at %s within 20s (last: %v)\n%s", base, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAlertmanagerIntegration sends alerts through a dispatcher to a real
// Alertmanager and reads them back from its API.
func TestAlertmanagerIntegration(t *testing.T) {
	base := startAlertmanager(t)
	sink, err := NewAlertmanagerSink(AlertmanagerConfig{HTTPConfig: HTTPConfig{URL: base}, ResolveTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	d, err := New(context.Background(), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	start(t, d)
	created := time.Now().UTC().Truncate(time.Millisecond)
	sent := []Alert{
		{Type: RiskHigh, Key: "2026-11-25/198.51.100.7", Title: "High risk editor 198.51.100.7 on 2026-11-25: score 90",
			Evidence:    map[string]any{"entity": "198.51.100.7", "score": 90, "level": "HIGH"},
			ExecutionID: "gold.risk_scores@42", CreatedAt: created},
		{Type: JobFailed, Key: "silver", Title: "silver failed", Error: "commit silver batch 3: disk full",
			ExecutionID: "silver-7", CreatedAt: created},
	}
	for _, a := range sent {
		if err := d.Raise(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, d)
	if got := metric(t, reg, "wikistream_alert_sent_total", map[string]string{"sink": "alertmanager"}); got != 2 {
		t.Fatalf("sent_total{sink=alertmanager} %g, want 2", got)
	}

	type gettable struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
		Status      struct {
			State string `json:"state"`
		} `json:"status"`
	}
	tests := []struct {
		alert    Alert
		severity string
	}{
		{sent[0], "warning"},
		{sent[1], "critical"},
	}
	for _, tc := range tests {
		t.Run(string(tc.alert.Type), func(t *testing.T) {
			q := url.Values{"filter": {fmt.Sprintf("alertname=%q", tc.alert.Type)}}
			resp, err := http.Get(base + "/api/v2/alerts?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /api/v2/alerts: %s: %s", resp.Status, body)
			}
			var got []gettable
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			if len(got) != 1 {
				t.Fatalf("%d alerts named %s, want 1: %s", len(got), tc.alert.Type, body)
			}
			g := got[0]
			wantLabels := map[string]string{"alertname": string(tc.alert.Type), "severity": tc.severity,
				"key": tc.alert.Key, "source": "wikistream"}
			if fmt.Sprint(g.Labels) != fmt.Sprint(wantLabels) {
				t.Errorf("labels %v, want %v", g.Labels, wantLabels)
			}
			wantRunbook := "docs/RUNBOOK.md#" + string(tc.alert.Type)
			if g.Annotations["title"] != tc.alert.Title || g.Annotations["runbook"] != wantRunbook ||
				g.Annotations["execution_id"] != tc.alert.ExecutionID || g.Annotations["error"] != tc.alert.Error {
				t.Errorf("annotations %v, want title %q, runbook %q, execution_id %q, error %q", g.Annotations,
					tc.alert.Title, wantRunbook, tc.alert.ExecutionID, tc.alert.Error)
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(g.Annotations["evidence"]), &ev); err != nil {
				t.Errorf("evidence annotation %q is not JSON: %v", g.Annotations["evidence"], err)
			}
			if g.Status.State != "active" {
				t.Errorf("state %q, want active", g.Status.State)
			}
			if !g.StartsAt.Equal(created) {
				t.Errorf("startsAt %s, want %s", g.StartsAt, created)
			}
			if d := g.EndsAt.Sub(created); d < 59*time.Minute || d > 62*time.Minute {
				t.Errorf("endsAt %s is %s after startsAt, want about the 1h resolve timeout", g.EndsAt, d)
			}
		})
	}

}
