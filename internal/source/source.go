// Package source is where ingest reads events from: the live Wikimedia
// EventStreams feed over server-sent events, or a recorded file (JSON lines,
// gzipped JSON lines, or a raw SSE capture), or standard input.
//
// Every message carries a resume token: passing a message's Position back
// to Run continues right after that message, so ingest can restart where
// the broker last acknowledged. File sources can replay at a multiple of the
// events' own pace.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/wikimedia"
)

// Message is one event's bytes and where it came from.
type Message struct {
	// Data is the event bytes exactly as received: one JSON document, or
	// garbage. It is owned by the receiver.
	Data []byte
	// Event is the SSE event type ("message"); empty for line files.
	Event string
	// Position is the resume token: passing it back as the resume argument
	// of Run continues after this message.
	Position string
	// Where is a human-readable source position for dead letters, such as
	// "events.jsonl.gz:line 1234", or the SSE id.
	Where string
	// Oversize reports that Data was cut at the size limit.
	Oversize bool
}

// Source is a stream of messages.
type Source interface {
	// Name is the source's stable identity (an absolute file path, or the
	// stream URL), stored with the records produced from it.
	Name() string
	// Run calls emit for every message after the resume position ("" for
	// the start), in order, and stops at the first error emit returns
	// (wrapped). It returns nil at the end of a file; a live stream only
	// ends with ctx (returning ctx.Err()) or a permanent error. A resume
	// token this source did not produce is an error.
	Run(ctx context.Context, resume string, emit func(ctx context.Context, m Message) error) error
}

// Config configures the sources Open returns. Start from DefaultConfig.
type Config struct {
	// Speed paces file replay by the events' own "timestamp" field (Unix
	// seconds): 1 is real time, 10 ten times faster. 0 (the default) reads
	// as fast as possible. Events without a readable timestamp do not wait.
	// Streams are never paced.
	Speed float64
	// MaxEventBytes caps one event; a longer one is emitted cut to this
	// size with Oversize set. Default wikimedia.DefaultMaxFrameBytes.
	MaxEventBytes int
	// Streams are read when an EventStreams URL names none (ends in "/").
	// Default [recentchange].
	Streams []string
	// Since starts an EventStreams backfill (ISO 8601 time or Unix
	// milliseconds) when there is no resume position. A since= parameter
	// in the URL is used when this is empty.
	Since string
	// UserAgent is sent to EventStreams. Default wikimedia.DefaultUserAgent.
	UserAgent string
	// IdleTimeout reconnects a stream that sends nothing for this long.
	// Default 60s.
	IdleTimeout time.Duration
	// MinBackoff and MaxBackoff bound stream reconnection delays. Default
	// 1s and 60s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// HTTPClient makes stream requests; it must have no Timeout. Default: a
	// dedicated client.
	HTTPClient *http.Client
	// OnReconnect, if set, is called before every stream reconnection.
	OnReconnect func(err error, delay time.Duration)
	// Logger receives progress. Default: discard.
	Logger *slog.Logger
	// Stdin is read for the spec "-". Default os.Stdin. A read blocked on
	// it is not interrupted by ctx.
	Stdin io.Reader
	// Now and Sleep are the clock used for Speed. Default time.Now and a
	// timer that honours ctx.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	w := wikimedia.DefaultConfig()
	return Config{
		MaxEventBytes: w.MaxFrameBytes,
		Streams:       w.Streams,
		UserAgent:     w.UserAgent,
		IdleTimeout:   w.IdleTimeout,
		MinBackoff:    w.MinBackoff,
		MaxBackoff:    w.MaxBackoff,
	}
}

// Validate reports every invalid setting, naming the field and what was
// expected.
func (c Config) Validate() error {
	var errs []error
	if c.Speed < 0 || math.IsNaN(c.Speed) || math.IsInf(c.Speed, 0) {
		errs = append(errs, fmt.Errorf("Speed: got %g, want 0 (as fast as possible) or a positive factor such as 1 (real time)", c.Speed))
	}
	if c.MaxEventBytes <= 0 {
		errs = append(errs, fmt.Errorf("MaxEventBytes: got %d, want > 0", c.MaxEventBytes))
	}
	// The stream settings have the same names here. Streams may be empty
	// when every URL names its streams; MaxEventBytes is checked above.
	wc := c.stream(wikimedia.DefaultBaseURL, c.Streams, c.Since)
	if len(wc.Streams) == 0 {
		wc.Streams = []string{wikimedia.DefaultStream}
	}
	wc.MaxFrameBytes = max(1, c.MaxEventBytes)
	if err := wc.Validate(); err != nil {
		errs = append(errs, errors.Unwrap(err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("source config: %w", errors.Join(errs...))
	}
	return nil
}

// stream returns the EventStreams client configuration.
func (c Config) stream(base string, streams []string, since string) wikimedia.Config {
	w := wikimedia.DefaultConfig()
	w.BaseURL, w.Streams, w.Since = base, streams, since
	w.UserAgent, w.IdleTimeout, w.MinBackoff, w.MaxBackoff = c.UserAgent, c.IdleTimeout, c.MinBackoff, c.MaxBackoff
	w.MaxFrameBytes, w.HTTPClient, w.Logger, w.OnReconnect = c.MaxEventBytes, c.HTTPClient, c.Logger, c.OnReconnect
	return w
}

// Open returns the source for spec:
//
//   - an http(s) URL: an EventStreams stream, such as
//     https://stream.wikimedia.org/v2/stream/recentchange,page-create
//     (a since= query parameter is honoured);
//   - "-": JSON lines from standard input;
//   - a path ending in .jsonl, .ndjson or .json: JSON lines;
//   - .jsonl.gz, .ndjson.gz or .json.gz: gzipped JSON lines;
//   - .sse or .events: a raw SSE capture, whose last frame may lack its
//     final blank line.
func Open(spec string, cfg Config) (Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	lower := strings.ToLower(spec)
	switch {
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
		return openStream(spec, cfg)
	case spec == "-":
		in := cfg.Stdin
		if in == nil {
			in = os.Stdin
		}
		return &lineSource{name: "stdin", where: "stdin", stdin: in, cfg: cfg}, nil
	case spec == "":
		return nil, errors.New("open source: empty spec, want an EventStreams URL, a file path or -")
	}
	kind, ok := fileKind(lower)
	if !ok {
		return nil, fmt.Errorf("open source %s: unknown file type, want .jsonl, .ndjson, .json (optionally .gz), .sse or .events", spec)
	}
	abs, err := filepath.Abs(spec)
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", spec, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open source %s: not a regular file", abs)
	}
	if kind == kindSSE {
		return &sseFileSource{path: abs, cfg: cfg}, nil
	}
	return &lineSource{name: abs, where: filepath.Base(abs), path: abs, gzip: kind == kindGzipLines, cfg: cfg}, nil
}

type fileType uint8

const (
	kindLines fileType = iota
	kindGzipLines
	kindSSE
)

func fileKind(lower string) (fileType, bool) {
	for _, ext := range []string{".jsonl", ".ndjson", ".json"} {
		switch {
		case strings.HasSuffix(lower, ext):
			return kindLines, true
		case strings.HasSuffix(lower, ext+".gz"):
			return kindGzipLines, true
		}
	}
	if strings.HasSuffix(lower, ".sse") || strings.HasSuffix(lower, ".events") {
		return kindSSE, true
	}
	return 0, false
}

// openStream returns the EventStreams source for a URL.
func openStream(spec string, cfg Config) (Source, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	since := cfg.Since
	q := u.Query()
	for k := range q {
		if k != "since" {
			return nil, fmt.Errorf("open source %s: unsupported query parameter %q, want only since", spec, k)
		}
	}
	if since == "" {
		since = q.Get("since")
	}
	u.RawQuery, u.Fragment = "", ""
	i := strings.LastIndex(u.Path, "/")
	if i < 0 {
		return nil, fmt.Errorf("open source %s: no stream path, want a URL such as https://stream.wikimedia.org/v2/stream/recentchange", spec)
	}
	streams := cfg.Streams
	if names := u.Path[i+1:]; names != "" {
		streams = strings.Split(names, ",")
	}
	u.Path = u.Path[:i+1]
	u.RawPath = ""
	wc := cfg.stream(u.String(), streams, since)
	if err := wc.Validate(); err != nil {
		return nil, fmt.Errorf("open source %s: %w", spec, err)
	}
	c, err := wikimedia.NewClient(wc) // validates, and gives the canonical URL
	if err != nil {
		return nil, fmt.Errorf("open source %s: %w", spec, err)
	}
	return &streamSource{name: c.URL(), cfg: wc}, nil
}

// streamSource reads EventStreams.
type streamSource struct {
	name string
	cfg  wikimedia.Config
}

func (s *streamSource) Name() string { return s.name }

// Run reads the stream; the resume token is an SSE event id, sent as
// Last-Event-ID.
func (s *streamSource) Run(ctx context.Context, resume string, emit func(context.Context, Message) error) error {
	cfg := s.cfg
	cfg.LastEventID = resume
	c, err := wikimedia.NewClient(cfg)
	if err != nil {
		return fmt.Errorf("resume position %q: %w", resume, err)
	}
	var n int64
	return c.Run(ctx, func(ctx context.Context, f wikimedia.Frame) error {
		n++
		where := f.ID
		if where == "" {
			where = fmt.Sprintf("%s frame %d", s.name, n)
		}
		return emit(ctx, Message{Data: f.Data, Event: f.Event, Position: f.ID, Where: where, Oversize: f.Oversize})
	})
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
