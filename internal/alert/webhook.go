package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook POST.
const (
	// HeaderTimestamp is the Unix time (seconds) the request was signed.
	HeaderTimestamp = "X-WikiStream-Timestamp"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with the
	// shared secret, of the timestamp, a ".", and the raw body.
	HeaderSignature = "X-WikiStream-Signature"
	// HeaderAlertID repeats alert_id, for receivers that deduplicate
	// before parsing.
	HeaderAlertID = "X-WikiStream-Alert-Id"
)

// WebhookConfig configures a generic JSON webhook.
type WebhookConfig struct {
	HTTPConfig
	// Secret, when set, signs every request (see WebhookSink). Never
	// logged.
	Secret string
	// Name labels the sink; default "webhook". Give each webhook sink of a
	// dispatcher its own.
	Name string
	// Now is the clock of the timestamp. Default time.Now.
	Now func() time.Time
}

// WebhookSink POSTs each alert as its JSON object (the fields of Alert).
//
// With a secret, requests are signed so that the receiver can tell they
// come from WikiStream and are fresh:
//
//	X-WikiStream-Timestamp: 1795645199
//	X-WikiStream-Signature: sha256=<hex HMAC-SHA256(secret, "1795645199" + "." + body)>
//
// The receiver recomputes the HMAC over the raw body bytes (before any
// JSON parsing) with the timestamp header, compares it in constant time,
// and rejects timestamps more than a few minutes from its clock; a
// captured request therefore cannot be replayed later, and one replayed
// within the tolerance carries an alert_id the receiver has seen.
// VerifySignature does exactly this. Retries are signed anew.
type WebhookSink struct {
	cfg WebhookConfig
}

// NewWebhookSink checks the configuration and builds the sink.
func NewWebhookSink(cfg WebhookConfig) (*WebhookSink, error) {
	if err := cfg.HTTPConfig.validate("webhook"); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "webhook"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &WebhookSink{cfg: cfg}, nil
}

// Name is the sink's name.
func (s *WebhookSink) Name() string { return s.cfg.Name }

// Send posts each alert of the batch.
func (s *WebhookSink) Send(ctx context.Context, batch []Alert) error {
	for _, a := range batch {
		body, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode alert %s: %w (%w)", a.ID, err, ErrPermanent)
		}
		h := http.Header{}
		h.Set(HeaderAlertID, a.ID)
		if s.cfg.Secret != "" {
			ts := strconv.FormatInt(s.cfg.Now().Unix(), 10)
			h.Set(HeaderTimestamp, ts)
			h.Set(HeaderSignature, Sign([]byte(s.cfg.Secret), ts, body))
		}
		if err := s.cfg.post(ctx, body, h); err != nil {
			return fmt.Errorf("send alert %s: %w", a.ID, err)
		}
	}
	return nil
}

// Sign is the signature header value of body signed at timestamp ts (Unix
// seconds, as sent in HeaderTimestamp).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signed webhook request: the signature must match
// the body and timestamp, and the timestamp must lie within tolerance of
// now. It is what a receiver of WebhookSink's requests runs.
func VerifySignature(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := header.Get(HeaderTimestamp)
	sig := header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return fmt.Errorf("missing %s or %s header", HeaderTimestamp, HeaderSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q: want Unix seconds", HeaderTimestamp, ts)
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%s is %s away from now, more than the %s tolerated", HeaderTimestamp, age.Round(time.Second), tolerance)
	}
	if !strings.HasPrefix(sig, "sha256=") {
		return fmt.Errorf("%s: want sha256=<hex>", HeaderSignature)
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return errors.New("signature does not match the body")
	}
	return nil
}
