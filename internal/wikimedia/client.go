// Package wikimedia reads Wikimedia EventStreams
// (https://stream.wikimedia.org), the public server-sent events feed of
// recent changes on every Wikimedia wiki.
//
// Parser implements the WHATWG server-sent events parsing rules with a
// bounded frame size. Client keeps one long-lived connection to one or more
// streams: it reconnects after disconnects, idle periods and server errors
// with jittered exponential backoff, and resumes from the last event ID it
// handled, so that a consumer sees every event once across disconnects.
package wikimedia

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is the EventStreams endpoint stream names are appended to.
const DefaultBaseURL = "https://stream.wikimedia.org/v2/stream/"

// DefaultStream is the stream read when none is configured.
const DefaultStream = "recentchange"

// DefaultUserAgent follows Wikimedia's User-Agent policy
// (https://foundation.wikimedia.org/wiki/Policy:User-Agent_policy): it names
// the tool, its version and where to reach its maintainers.
var DefaultUserAgent = "WikiStream/" + version() + " (https://github.com/wikistream/wikistream; wikistream@example.org) Go-http-client"

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "dev"
}

// Config configures a Client. Start from DefaultConfig.
type Config struct {
	// BaseURL is the URL the comma-separated stream names are appended to.
	// Default DefaultBaseURL.
	BaseURL string
	// Streams are the streams to read, all in one connection
	// (.../v2/stream/recentchange,page-create). Default [DefaultStream].
	Streams []string
	// Since starts a backfill at a time: an ISO 8601 time
	// (2023-01-24T01:48:58Z) or milliseconds since the Unix epoch. It is
	// sent as ?since= and only when there is no event ID to resume from.
	// Default empty: the server starts at the newest events.
	Since string
	// LastEventID is the position to resume after, sent as the
	// Last-Event-ID header. The client replaces it with the id of every
	// event it handles. Default empty.
	LastEventID string
	// UserAgent is sent with every request; Wikimedia blocks clients
	// without a descriptive one. Default DefaultUserAgent.
	UserAgent string
	// IdleTimeout drops the connection and reconnects when no bytes at all
	// (events or ":" heartbeat comments) arrive for this long, including
	// while waiting for the response headers. Time spent in the handler
	// does not count. Default 60s.
	IdleTimeout time.Duration
	// MinBackoff is the base reconnection delay; a "retry" field from the
	// server replaces it (within MinBackoff and MaxBackoff). The delay
	// before the n-th consecutive reconnection without any event is drawn
	// uniformly from [0, min(MaxBackoff, base·2ⁿ)] ("full jitter").
	// Default 1s.
	MinBackoff time.Duration
	// MaxBackoff caps the reconnection delay. Default 60s.
	MaxBackoff time.Duration
	// MaxFrameBytes caps the data of one event; see ParserOptions.
	// Default DefaultMaxFrameBytes.
	MaxFrameBytes int
	// HTTPClient makes the requests. It must not have a Timeout, which
	// would cut long-lived streams; IdleTimeout covers stalls. Default: a
	// client with its own copy of http.DefaultTransport.
	HTTPClient *http.Client
	// Logger receives connection events. Default: discard.
	Logger *slog.Logger
	// OnReconnect, if set, is called before every reconnection with the
	// error that ended the previous attempt and the delay before the next.
	OnReconnect func(err error, delay time.Duration)
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	return Config{
		BaseURL:       DefaultBaseURL,
		Streams:       []string{DefaultStream},
		UserAgent:     DefaultUserAgent,
		IdleTimeout:   60 * time.Second,
		MinBackoff:    time.Second,
		MaxBackoff:    60 * time.Second,
		MaxFrameBytes: DefaultMaxFrameBytes,
	}
}

// Validate reports every invalid setting, naming the field and what was
// expected.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("BaseURL: got %q, want an absolute http(s) URL without query, such as %s", c.BaseURL, DefaultBaseURL)
	}
	if len(c.Streams) == 0 {
		bad("Streams: empty, want at least one stream name such as %q", DefaultStream)
	}
	for _, s := range c.Streams {
		if s == "" || strings.ContainsAny(s, ",/?#% \t\r\n") {
			bad("Streams: got %q, want a stream name such as %q (no commas, slashes or spaces)", s, DefaultStream)
		}
	}
	if c.Since != "" {
		if _, err := ParseSince(c.Since); err != nil {
			bad("Since: %v", err)
		}
	}
	if strings.ContainsAny(c.LastEventID, "\x00\r\n") {
		bad("LastEventID: got %q, want no NUL, CR or LF", c.LastEventID)
	}
	if strings.TrimSpace(c.UserAgent) == "" || strings.ContainsAny(c.UserAgent, "\r\n") {
		bad("UserAgent: got %q, want a descriptive single-line User-Agent such as %q", c.UserAgent, DefaultUserAgent)
	}
	if c.IdleTimeout <= 0 {
		bad("IdleTimeout: got %v, want > 0 (EventStreams sends heartbeats; 60s is typical)", c.IdleTimeout)
	}
	if c.MinBackoff <= 0 {
		bad("MinBackoff: got %v, want > 0", c.MinBackoff)
	}
	if c.MaxBackoff < c.MinBackoff {
		bad("MaxBackoff: got %v, want >= MinBackoff (%v)", c.MaxBackoff, c.MinBackoff)
	}
	if c.MaxFrameBytes <= 0 {
		bad("MaxFrameBytes: got %d, want > 0", c.MaxFrameBytes)
	}
	if c.HTTPClient != nil && c.HTTPClient.Timeout != 0 {
		bad("HTTPClient: has Timeout %v, want 0 (it would cut the stream; use IdleTimeout)", c.HTTPClient.Timeout)
	}
	if len(errs) > 0 {
		return fmt.Errorf("wikimedia config: %w", errors.Join(errs...))
	}
	return nil
}

// ParseSince parses a backfill start as EventStreams accepts it in ?since=:
// milliseconds since the Unix epoch, or an ISO 8601 time (RFC 3339, with or
// without fractional seconds, or a date alone, taken as UTC midnight).
func ParseSince(s string) (time.Time, error) {
	if ms, ok := parseDigits([]byte(s)); ok {
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("got %q, want an ISO 8601 time such as 2023-01-24T01:48:58Z or milliseconds since the Unix epoch", s)
}

// Stats are a Client's counters.
type Stats struct {
	// Connects counts connections that were accepted as event streams.
	Connects int64
	// Reconnects counts reconnection attempts after the first attempt.
	Reconnects int64
	// Frames counts frames received.
	Frames int64
	// Bytes counts bytes read from response bodies.
	Bytes int64
	// LastError is the error that ended the last connection attempt, or
	// nil.
	LastError error
	// LastEventID is the id of the last event handled: the position the
	// next connection resumes after.
	LastEventID string
}

// StatusError is the permanent error Run returns when the server rejects a
// request: a 4xx status other than 429, or a response that is not an event
// stream. Retrying would not help; the configuration needs fixing.
type StatusError struct {
	// URL is the requested URL.
	URL string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Status is the HTTP status line text.
	Status string
	// ContentType is the response's Content-Type.
	ContentType string
	// Body is the start of the response body.
	Body string
	// Hint says what configuration to check.
	Hint string
}

// Error describes the response and says what to check.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s: %s", e.URL, e.Status)
	if e.StatusCode == http.StatusOK {
		fmt.Fprintf(&b, " with Content-Type %q, not text/event-stream", e.ContentType)
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Client reads EventStreams over one long-lived connection, reconnecting
// and resuming as needed. Create it with NewClient.
type Client struct {
	cfg    Config
	http   *http.Client
	log    *slog.Logger
	url    string
	jitter func(time.Duration) time.Duration

	running    atomic.Bool
	connects   atomic.Int64
	reconnects atomic.Int64
	frames     atomic.Int64
	bytes      atomic.Int64

	mu      sync.Mutex
	lastID  string
	lastErr error
}

// NewClient validates cfg and returns a Client.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient, log: cfg.Logger, lastID: cfg.LastEventID, jitter: fullJitter}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	names := make([]string, len(cfg.Streams))
	for i, s := range cfg.Streams {
		names[i] = url.PathEscape(s)
	}
	c.url = strings.TrimSuffix(cfg.BaseURL, "/") + "/" + strings.Join(names, ",")
	return c, nil
}

// URL returns the stream URL, without the since parameter.
func (c *Client) URL() string { return c.url }

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Connects:    c.connects.Load(),
		Reconnects:  c.reconnects.Load(),
		Frames:      c.frames.Load(),
		Bytes:       c.bytes.Load(),
		LastError:   c.lastErr,
		LastEventID: c.lastID,
	}
}

// Run connects and calls handle for every frame, in stream order, until ctx
// is done, handle fails or the server rejects the request permanently. It
// reconnects after network errors, idle timeouts, server-side closes, 5xx,
// 429 and 503 (honouring Retry-After), and each reconnection resumes after
// the last frame handle accepted. Run returns ctx.Err() when ctx is done,
// handle's error wrapped, or a *StatusError. It must not be called
// concurrently.
func (c *Client) Run(ctx context.Context, handle func(ctx context.Context, f Frame) error) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("wikimedia: Run called while already running")
	}
	defer c.running.Store(false)
	base := c.cfg.MinBackoff
	attempt := 0
	for {
		res := c.connect(ctx, handle)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch res.kind {
		case failPermanent, failHandler:
			return res.err
		}
		if res.retry > 0 {
			base = min(max(res.retry, c.cfg.MinBackoff), c.cfg.MaxBackoff)
		}
		if res.delivered > 0 {
			attempt = 0
		}
		delay := res.retryAfter
		if delay <= 0 {
			delay = c.jitter(backoffCap(attempt, base, c.cfg.MaxBackoff))
		}
		attempt++
		c.mu.Lock()
		c.lastErr = res.err
		lastID := c.lastID
		c.mu.Unlock()
		c.reconnects.Add(1)
		if c.cfg.OnReconnect != nil {
			c.cfg.OnReconnect(res.err, delay)
		}
		level := slog.LevelWarn
		if errors.Is(res.err, errServerClosed) && res.delivered > 0 {
			level = slog.LevelInfo // EventStreams closes streams every ~15 minutes
		}
		c.log.LogAttrs(ctx, level, "eventstreams reconnecting",
			slog.String("url", c.url), slog.Any("err", res.err), slog.Duration("delay", delay),
			slog.Int("frames", res.delivered), slog.String("last_event_id", lastID))
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// backoffCap returns min(maxDelay, base·2^attempt) without overflowing.
func backoffCap(attempt int, base, maxDelay time.Duration) time.Duration {
	d := base
	for range attempt {
		if d >= maxDelay/2 {
			return maxDelay
		}
		d *= 2
	}
	return min(d, maxDelay)
}

// fullJitter returns a uniformly random duration in [0, d].
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type failure uint8

const (
	failRetry failure = iota
	failPermanent
	failHandler
)

// result is how one connection attempt ended.
type result struct {
	kind       failure
	err        error
	delivered  int           // frames handled
	retry      time.Duration // reconnection delay set by the server, or 0
	retryAfter time.Duration // Retry-After of a 429 or 503, or 0
}

var (
	errIdle         = errors.New("idle timeout: no bytes received")
	errServerClosed = errors.New("stream closed by the server")
)

// connect makes one connection and reads it until it fails.
func (c *Client) connect(ctx context.Context, handle func(context.Context, Frame) error) (res result) {
	connCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(c.cfg.IdleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	// Whatever error the transport reports, an idle timeout is the cause.
	defer func() {
		if res.kind == failRetry && errors.Is(context.Cause(connCtx), errIdle) {
			res.err = fmt.Errorf("GET %s: %w (%v)", c.url, errIdle, c.cfg.IdleTimeout)
		}
	}()

	c.mu.Lock()
	lastID := c.lastID
	c.mu.Unlock()
	u := c.url
	if lastID == "" && c.cfg.Since != "" {
		u += "?since=" + url.QueryEscape(c.cfg.Since)
	}
	req, err := http.NewRequestWithContext(connCtx, http.MethodGet, u, nil)
	if err != nil {
		return result{kind: failPermanent, err: fmt.Errorf("wikimedia: build request: %w", err)}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	if res, ok := c.checkResponse(resp); !ok {
		return res
	}
	c.connects.Add(1)
	c.log.LogAttrs(ctx, slog.LevelDebug, "eventstreams connected",
		slog.String("url", u), slog.String("last_event_id", lastID))

	body := &activityReader{r: resp.Body, idle: idle, timeout: c.cfg.IdleTimeout, n: &c.bytes}
	p := NewParser(body, ParserOptions{MaxFrameBytes: c.cfg.MaxFrameBytes, LastEventID: lastID})
	defer func() {
		res.retry, _ = p.RetryDelay()
		if res.kind != failHandler {
			// Every dispatched frame was handled; a frame without data
			// may still have moved the last event ID.
			c.setLastID(p.LastEventID())
		}
	}()
	delivered := 0
	done := ctx.Done()
	for {
		f, err := p.Next()
		if err == nil {
			select {
			case <-done: // do not hand over frames already buffered
				err = ctx.Err()
			default:
			}
		}
		if err != nil {
			if err == io.EOF {
				err = errServerClosed
			}
			return result{err: fmt.Errorf("read %s: %w", c.url, err), delivered: delivered}
		}
		c.frames.Add(1)
		idle.Stop() // time spent in handle is not idleness
		err = handle(ctx, f)
		idle.Reset(c.cfg.IdleTimeout)
		if err != nil {
			return result{kind: failHandler, err: fmt.Errorf("wikimedia: handle event %s: %w", f.ID, err), delivered: delivered}
		}
		c.setLastID(f.ID)
		delivered++
	}
}

func (c *Client) setLastID(id string) {
	c.mu.Lock()
	c.lastID = id
	c.mu.Unlock()
}

// checkResponse classifies a response that is not a usable event stream.
func (c *Client) checkResponse(resp *http.Response) (result, bool) {
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if resp.StatusCode == http.StatusOK && mt == "text/event-stream" {
		return result{}, true
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	serr := &StatusError{URL: resp.Request.URL.String(), StatusCode: resp.StatusCode, Status: resp.Status,
		ContentType: ct, Body: strings.TrimSpace(string(snippet))}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return result{err: serr, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}, false
	case code >= 500:
		return result{err: serr}, false
	case code == http.StatusOK:
		serr.Hint = "check BaseURL: it must point at an EventStreams server such as " + DefaultBaseURL
	case code == http.StatusBadRequest:
		serr.Hint = "check Since (an ISO 8601 time or milliseconds since the epoch) and LastEventID (an id the server sent)"
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		serr.Hint = "check UserAgent: Wikimedia refuses clients without a descriptive User-Agent with contact details"
	case code == http.StatusNotFound:
		serr.Hint = "check BaseURL and Streams: each stream must exist (see https://stream.wikimedia.org/?doc)"
	default:
		serr.Hint = "check BaseURL, Streams, Since and LastEventID"
	}
	return result{kind: failPermanent, err: fmt.Errorf("wikimedia: %w", serr)}, false
}

// parseRetryAfter parses a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		if s < 0 || s > int64(24*time.Hour/time.Second) {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 && d <= 24*time.Hour {
			return d
		}
	}
	return 0
}

// activityReader counts bytes and re-arms the idle timer whenever bytes
// arrive.
type activityReader struct {
	r       io.Reader
	idle    *time.Timer
	timeout time.Duration
	n       *atomic.Int64
}

func (a *activityReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		a.idle.Reset(a.timeout)
		a.n.Add(int64(n))
	}
	return n, err
}
