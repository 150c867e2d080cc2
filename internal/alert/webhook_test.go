package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// received is one request a test server got.
type received struct {
	header http.Header
	body   []byte
}

// hookServer is an httptest server that keeps every request and answers
// with the status status() returns.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []received
	status func(n int) int // n counts requests from 1
}

func newHookServer(tb testing.TB, status func(n int) int) *hookServer {
	r := &hookServer{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{header: req.Header.Clone(), body: body})
		n := len(r.reqs)
		r.mu.Unlock()
		code := http.StatusOK
		if r.status != nil {
			code = r.status(n)
		}
		w.WriteHeader(code)
		io.WriteString(w, "answer "+strconv.Itoa(code))
	}))
	tb.Cleanup(r.Close)
	return r
}

func (r *hookServer) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

func sampleAlert() Alert {
	return Alert{
		ID: "0123456789abcdef0123456789abcdef", Type: DQFailure, Severity: Warning,
		Title:       "silver.cleaned_events: event_id is not unique",
		Evidence:    map[string]any{"check": "uniqueness_event_id", "duplicates": 12, "sample": []any{"a1", "b2"}},
		ExecutionID: "dq-2026-11-25T10:00:00Z", Error: "", Runbook: "docs/RUNBOOK.md#dq_failure",
		CreatedAt: t0, Key: "silver.cleaned_events/uniqueness_event_id",
	}
}

// TestWebhookSignature: the receiver recomputes the HMAC over the raw
// body with its own code and accepts; a tampered body, a wrong key, or an
// old timestamp are refused.
func TestWebhookSignature(t *testing.T) {
	secret := "s3cr3t-key"
	srv := newHookServer(t, nil)
	now := time.Unix(1795645199, 0)
	s, err := NewWebhookSink(WebhookConfig{HTTPConfig: HTTPConfig{URL: srv.URL + "/hook"}, Secret: secret,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	a := sampleAlert()
	if err := s.Send(context.Background(), []Alert{a}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	r := reqs[0]

	// The receiver's own computation, independent of Sign.
	ts := r.header.Get("X-WikiStream-Timestamp")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(r.body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.header.Get("X-WikiStream-Signature") != want {
		t.Errorf("signature %q, want %q", r.header.Get("X-WikiStream-Signature"), want)
	}
	if ts != "1795645199" {
		t.Errorf("timestamp %q, want 1795645199", ts)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	if got := r.header.Get("X-WikiStream-Alert-Id"); got != a.ID {
		t.Errorf("alert id header %q, want %q", got, a.ID)
	}

	// The body is the alert's JSON with DESIGN's fields.
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"alert_id": a.ID, "alert_type": "dq_failure", "severity": "warning",
		"title": a.Title, "execution_id": a.ExecutionID, "error": "", "runbook": a.Runbook,
		"created_at": "2026-11-25T10:00:00Z", "dedupe_key": a.Key} {
		if body[k] != want {
			t.Errorf("body %s = %v, want %v", k, body[k], want)
		}
	}
	if ev, ok := body["evidence"].(map[string]any); !ok || ev["duplicates"] != 12.0 {
		t.Errorf("body evidence = %v, want an object with duplicates 12", body["evidence"])
	}

	tests := []struct {
		name   string
		secret string
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"as sent", secret, r.body, now, true},
		{"within tolerance", secret, r.body, now.Add(4 * time.Minute), true},
		{"tampered body", secret, bytes.Replace(r.body, []byte("warning"), []byte("info"), 1), now, false},
		{"wrong key", "other", r.body, now, false},
		{"replayed later", secret, r.body, now.Add(10 * time.Minute), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySignature([]byte(tc.secret), r.header, tc.body, tc.now, 5*time.Minute)
			if (err == nil) != tc.ok {
				t.Errorf("VerifySignature = %v, want ok %t", err, tc.ok)
			}
		})
	}
}

func TestWebhookWithoutSecretIsUnsigned(t *testing.T) {
	srv := newHookServer(t, nil)
	s, err := NewWebhookSink(WebhookConfig{HTTPConfig: HTTPConfig{URL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), []Alert{sampleAlert(), sampleAlert()}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want one per alert (2)", len(reqs))
	}
	if h := reqs[0].header; h.Get(HeaderSignature) != "" || h.Get(HeaderTimestamp) != "" {
		t.Errorf("unsigned webhook sent %s=%q %s=%q, want neither", HeaderSignature, h.Get(HeaderSignature),
			HeaderTimestamp, h.Get(HeaderTimestamp))
	}
}

// TestWebhookErrorsKeepSecrets: failures are retried or not by status, and
// neither errors nor the dispatcher's logs contain the URL's token or the
// HMAC key.
func TestWebhookErrorsKeepSecrets(t *testing.T) {
	const token, secret = "T0KEN-in-path", "hmac-K3Y"
	tests := []struct {
		status    int
		permanent bool
	}{
		{http.StatusInternalServerError, false},
		{http.StatusTooManyRequests, false},
		{http.StatusBadRequest, true},
		{http.StatusNotFound, true},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			srv := newHookServer(t, func(int) int { return tc.status })
			s, err := NewWebhookSink(WebhookConfig{HTTPConfig: HTTPConfig{URL: srv.URL + "/services/" + token + "?sig=" + token},
				Secret: secret})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), []Alert{sampleAlert()})
			if err == nil {
				t.Fatal("Send = nil, want an error")
			}
			if errors.Is(err, ErrPermanent) != tc.permanent {
				t.Errorf("Send = %v: permanent %t, want %t", err, errors.Is(err, ErrPermanent), tc.permanent)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret) {
				t.Errorf("error %q leaks the token or key", err)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tc.status)) {
				t.Errorf("error %q does not say the status %d", err, tc.status)
			}
		})
	}

	// Through a dispatcher, with an unreachable host too: nothing logged
	// holds a secret.
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := newHookServer(t, func(int) int { return 500 })
	bad, err := NewWebhookSink(WebhookConfig{HTTPConfig: HTTPConfig{URL: srv.URL + "/x/" + token}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := NewWebhookSink(WebhookConfig{HTTPConfig: HTTPConfig{URL: "http://user:" + token + "@127.0.0.1:1/" + token},
		Secret: secret, Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(newClock(t0), prometheus.NewRegistry())
	cfg.Logger, cfg.MaxAttempts = log, 2
	d, err := New(context.Background(), cfg, bad, gone, NewLogSink(log))
	if err != nil {
		t.Fatal(err)
	}
	start(t, d)
	if err := d.Raise(context.Background(), Alert{Type: JobFailed, Title: "x"}); err != nil {
		t.Fatal(err)
	}
	flush(t, d)
	out := logs.String()
	if !strings.Contains(out, "alert sink failed") {
		t.Fatalf("logs do not report the failing sinks:\n%s", out)
	}
	if strings.Contains(out, token) || strings.Contains(out, secret) {
		t.Errorf("logs leak the token or key:\n%s", out)
	}
	// Building a sink from a bad URL does not echo it either.
	if _, err := NewWebhookSink(WebhookConfig{HTTPConfig: HTTPConfig{URL: "ftp://host/" + token}}); err == nil ||
		strings.Contains(err.Error(), token) {
		t.Errorf("NewWebhookSink(ftp URL) = %v, want an error without the token", err)
	}
}
