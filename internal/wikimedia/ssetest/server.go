// Package ssetest provides a replay EventStreams server for tests: an
// httptest server that serves a fixed list of events on /v2/stream/{streams}
// as Wikimedia EventStreams does (event: message, a JSON-array id per event,
// ":" heartbeats, Last-Event-ID resume, ?since= backfill), with options for
// the unpleasant parts of a real network: forced disconnects, connections
// cut in the middle of a frame, retry changes, malformed frames, alternate
// line endings, multi-line data, stalls and 503 responses.
package ssetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/wikimedia"
)

// DefaultTopic is the Kafka topic named in the ids the server sends.
const DefaultTopic = "eqiad.mediawiki.recentchange"

// StreamPath is the path prefix streams are served under.
const StreamPath = "/v2/stream/"

// Kind says how an item is put on the wire.
type Kind string

// The kinds of items. KindEvent, KindMultiLine, KindCRLF and KindCR carry a
// served event; the others are injected malformed frames.
const (
	// KindEvent is an event as EventStreams sends it: event, id and one
	// data line, each ending in LF, then a blank line.
	KindEvent Kind = "event"
	// KindMultiLine is an event pretty-printed across several data lines;
	// the client must join them with "\n" (Item.Data holds the result).
	KindMultiLine Kind = "multi-line"
	// KindCRLF is an event with CRLF line endings.
	KindCRLF Kind = "crlf"
	// KindCR is an event with bare CR line endings.
	KindCR Kind = "cr"
	// KindNotJSON is a frame whose data is not JSON.
	KindNotJSON Kind = "not-json"
	// KindTruncatedJSON is a frame whose data is the first half of the
	// previous event.
	KindTruncatedJSON Kind = "truncated-json"
	// KindGarbageFields is a frame with unknown fields, lines without a
	// colon, a comment, an invalid retry and an id containing NUL around
	// its real id and data.
	KindGarbageFields Kind = "garbage-fields"
)

// Malformed reports whether the item is an injected malformed frame rather
// than one of the served events.
func (k Kind) Malformed() bool {
	return k == KindNotJSON || k == KindTruncatedJSON || k == KindGarbageFields
}

// Item is one frame the server sends, in stream order.
type Item struct {
	// Offset is the item's Kafka offset, unique and increasing.
	Offset int64
	// ID is the SSE id of the item.
	ID string
	// Data is what a correct client receives as the frame's data.
	Data []byte
	// Kind says how the item is encoded.
	Kind Kind
	// Event is the index of the served event the item carries, or -1 for
	// an injected malformed frame.
	Event int
	// TimestampMs is the event's time in milliseconds since the epoch
	// (from its "timestamp" field, or meta.dt), or -1 if it has none.
	TimestampMs int64

	wire []byte // the encoded frame
	eol  string // its line ending
}

// Options selects the faults the server injects. The zero value serves the
// events cleanly.
type Options struct {
	// Topic and Partition are named in the ids. Default DefaultTopic, 0.
	Topic     string
	Partition int32
	// KnownStreams, if set, are the only stream names served; others get
	// 404 as on EventStreams.
	KnownStreams []string
	// DisconnectEvery closes each connection after that many frames.
	// Disconnects alternate between an abrupt connection reset and a clean
	// end of the response.
	DisconnectEvery int
	// DisconnectProbability closes the connection before a frame with this
	// probability (drawn from Seed).
	DisconnectProbability float64
	// Seed seeds the random disconnects.
	Seed uint64
	// CutMidFrame makes every disconnect send part of the next frame
	// first: half of it, all but its final blank line, or up to the middle
	// of its id line, in turn.
	CutMidFrame bool
	// Retry are "retry" delays sent in turn: one at the start of every
	// connection and, with RetryEvery, inside every RetryEvery-th frame.
	Retry      []time.Duration
	RetryEvery int
	// MalformedEvery inserts a malformed frame after every that many
	// events, cycling through KindNotJSON, KindTruncatedJSON and
	// KindGarbageFields.
	MalformedEvery int
	// MultiLineEvery sends every that-many-th event pretty-printed across
	// several data lines.
	MultiLineEvery int
	// CRLFEvery sends every that-many-th event with CRLF line endings,
	// alternating with bare CR.
	CRLFEvery int
	// CommentEvery puts a ":" comment line before every that-many-th frame.
	CommentEvery int
	// Heartbeat is the interval of ":" heartbeat comments while there is
	// nothing to send (after the last event, and during a pause). Default
	// 15s.
	Heartbeat time.Duration
	// NoHeartbeat disables heartbeats.
	NoHeartbeat bool
	// PauseAfter and PauseFor pause the first connection after PauseAfter
	// frames for PauseFor, sending only heartbeats.
	PauseAfter int
	PauseFor   time.Duration
	// StallAfter stalls the first StallConnections connections (default 1)
	// after StallAfter frames: nothing more is sent, not even heartbeats,
	// until the client goes away.
	StallAfter       int
	StallConnections int
	// Unavailable answers the first that many requests with 503 and a
	// Retry-After of RetryAfter (rounded up to whole seconds; 0 sends no
	// Retry-After).
	Unavailable int
	RetryAfter  time.Duration
}

// Request is what the server recorded about one request.
type Request struct {
	// Streams are the stream names in the path.
	Streams []string
	// LastEventID is the Last-Event-ID header.
	LastEventID string
	// Since is the since query parameter.
	Since string
	// UserAgent and Accept are the request headers.
	UserAgent string
	Accept    string
	// Status is the status the server answered with.
	Status int
}

// Server is a replay EventStreams server. Create it with NewServer.
type Server struct {
	srv   *httptest.Server
	opts  Options
	items []Item
	done  chan struct{}
	once  sync.Once

	mu          sync.Mutex
	rng         *rand.Rand
	requests    []Request
	connections int
	disconnects int
	unavailable int
}

// NewServer starts a server replaying events (one JSON document each) and
// closes it when the test ends.
func NewServer(tb testing.TB, events [][]byte, opts Options) *Server {
	tb.Helper()
	if opts.Topic == "" {
		opts.Topic = DefaultTopic
	}
	if opts.StallAfter > 0 && opts.StallConnections == 0 {
		opts.StallConnections = 1
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 15 * time.Second
	}
	s := &Server{
		opts:  opts,
		items: plan(events, opts),
		done:  make(chan struct{}),
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server, ending every open stream.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// URL returns the server's root URL.
func (s *Server) URL() string { return s.srv.URL }

// BaseURL returns the URL stream names are appended to, for
// wikimedia.Config.BaseURL.
func (s *Server) BaseURL() string { return s.srv.URL + StreamPath }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Items returns the frames the server sends, in order.
func (s *Server) Items() []Item { return s.items }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// LastEventIDs returns the non-empty Last-Event-ID headers received so far,
// in order.
func (s *Server) LastEventIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, r := range s.requests {
		if r.LastEventID != "" {
			ids = append(ids, r.LastEventID)
		}
	}
	return ids
}

// Connections returns how many event streams the server has opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// Disconnects returns how many connections the server has cut on purpose.
func (s *Server) Disconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disconnects
}

// FormatID returns the EventStreams id of an offset in a topic partition.
func FormatID(topic string, partition int32, offset int64) string {
	return wikimedia.FormatPosition([]wikimedia.Offset{{Topic: topic, Partition: partition, Offset: &offset}})
}

// AppendFrame appends an event frame as EventStreams sends it.
func AppendFrame(dst []byte, id string, data []byte) []byte {
	dst = append(dst, "event: message\nid: "...)
	dst = append(dst, id...)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

// plan lays out the items and encodes them.
func plan(events [][]byte, o Options) []Item {
	var items []Item
	add := func(it Item) {
		it.Offset = int64(len(items))
		it.ID = FormatID(o.Topic, o.Partition, it.Offset)
		items = append(items, it)
	}
	malformed := 0
	for i, ev := range events {
		it := Item{Kind: KindEvent, Event: i, Data: ev, TimestampMs: timestampMs(ev)}
		if n := i + 1; o.MultiLineEvery > 0 && n%o.MultiLineEvery == 0 {
			var b bytes.Buffer
			if json.Indent(&b, ev, "", "  ") == nil {
				it.Kind, it.Data = KindMultiLine, b.Bytes()
			}
		} else if o.CRLFEvery > 0 && n%o.CRLFEvery == 0 {
			it.Kind = KindCRLF
			if (n/o.CRLFEvery)%2 == 0 {
				it.Kind = KindCR
			}
		}
		add(it)
		if o.MalformedEvery > 0 && (i+1)%o.MalformedEvery == 0 {
			m := Item{Event: -1, TimestampMs: -1}
			switch malformed % 3 {
			case 0:
				m.Kind, m.Data = KindNotJSON, fmt.Appendf(nil, "not json #%d {]", malformed)
			case 1:
				m.Kind, m.Data = KindTruncatedJSON, bytes.Clone(ev[:max(1, len(ev)/2)])
			case 2:
				m.Kind, m.Data = KindGarbageFields, fmt.Appendf(nil, `{"wikistream_test":"garbage-fields","n":%d}`, malformed)
			}
			malformed++
			add(m)
		}
	}
	for i := range items {
		encode(&items[i], o)
	}
	return items
}

// encode sets the item's wire form.
func encode(it *Item, o Options) {
	n := int(it.Offset) + 1
	var b []byte
	if o.CommentEvery > 0 && n%o.CommentEvery == 0 {
		b = append(b, ":still here\n"...)
	}
	retry := ""
	if o.RetryEvery > 0 && len(o.Retry) > 0 && n%o.RetryEvery == 0 {
		retry = "retry: " + strconv.FormatInt(o.Retry[(n/o.RetryEvery)%len(o.Retry)].Milliseconds(), 10) + "\n"
	}
	it.eol = "\n"
	switch it.Kind {
	case KindMultiLine:
		b = append(b, "event: message\n"+retry+"id: "+it.ID+"\n"...)
		for line := range bytes.Lines(it.Data) {
			b = append(b, "data: "...)
			b = append(b, bytes.TrimSuffix(line, []byte("\n"))...)
			b = append(b, '\n')
		}
		b = append(b, '\n')
	case KindGarbageFields:
		b = append(b, "event: message\nnocolonfield\nx-unknown: whatever\n:comment inside a frame\nretry: soon\n"...)
		b = append(b, "id: bad\x00id\nData: {\"capitalised\":\"ignored\"}\n"+retry+"id: "+it.ID+"\ndata:"...)
		b = append(b, it.Data...)
		b = append(b, "\nevent\n\n"...)
	default:
		if retry != "" {
			b = append(b, retry...)
		}
		b = AppendFrame(b, it.ID, it.Data)
		switch it.Kind {
		case KindCRLF:
			b, it.eol = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), "\r\n"
		case KindCR:
			b, it.eol = bytes.ReplaceAll(b, []byte("\n"), []byte("\r")), "\r"
		}
	}
	it.wire = b
}

// timestampMs returns an event's time in milliseconds: its "timestamp"
// (seconds) or else its meta.dt; -1 if it has neither.
func timestampMs(ev []byte) int64 {
	var v struct {
		Timestamp *float64 `json:"timestamp"`
		Meta      struct {
			DT string `json:"dt"`
		} `json:"meta"`
	}
	if json.Unmarshal(ev, &v) != nil {
		return -1
	}
	if v.Timestamp != nil {
		return int64(*v.Timestamp * 1000)
	}
	if t, err := time.Parse(time.RFC3339Nano, v.Meta.DT); err == nil {
		return t.UnixMilli()
	}
	return -1
}

// cut returns how much of the item to send before a mid-frame cut, in turn
// half of it, all but its final blank line, or up to the middle of its id.
func (it *Item) cut(turn int) int {
	switch turn % 3 {
	case 0:
		return len(it.wire) / 2
	case 1:
		return len(it.wire) - len(it.eol)
	default:
		if i := bytes.Index(it.wire, []byte("id: [")); i >= 0 {
			return i + 12
		}
		return len(it.wire) / 2
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req := Request{
		LastEventID: r.Header.Get("Last-Event-ID"),
		Since:       r.URL.Query().Get("since"),
		UserAgent:   r.Header.Get("User-Agent"),
		Accept:      r.Header.Get("Accept"),
	}
	status, start, msg := s.route(r, &req)
	s.mu.Lock()
	if status == http.StatusOK && s.unavailable < s.opts.Unavailable {
		s.unavailable++
		status, msg = http.StatusServiceUnavailable, "service unavailable (injected)"
	}
	req.Status = status
	s.requests = append(s.requests, req)
	conn := 0
	if status == http.StatusOK {
		s.connections++
		conn = s.connections
	}
	s.mu.Unlock()

	if status != http.StatusOK {
		if status == http.StatusServiceUnavailable && s.opts.RetryAfter > 0 {
			secs := (s.opts.RetryAfter + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", strconv.Itoa(int(secs)))
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":%d,"title":%q,"detail":%q}`, status, http.StatusText(status), msg)
		return
	}
	s.stream(w, r, conn, start)
}

// route checks the request and returns the status and the first item to
// send.
func (s *Server) route(r *http.Request, req *Request) (status, start int, msg string) {
	if !strings.HasPrefix(r.URL.Path, StreamPath) {
		return http.StatusNotFound, 0, "not a stream path"
	}
	req.Streams = strings.Split(strings.TrimPrefix(r.URL.Path, StreamPath), ",")
	for _, name := range req.Streams {
		if name == "" || (len(s.opts.KnownStreams) > 0 && !contains(s.opts.KnownStreams, name)) {
			return http.StatusNotFound, 0, fmt.Sprintf("stream %q not found", name)
		}
	}
	if req.LastEventID != "" {
		pos, err := wikimedia.ParsePosition(req.LastEventID)
		if err != nil {
			return http.StatusBadRequest, 0, "invalid Last-Event-ID: " + err.Error()
		}
		for _, p := range pos {
			if p.Topic != s.opts.Topic || p.Partition != s.opts.Partition {
				continue
			}
			switch {
			case p.Offset != nil && *p.Offset >= 0:
				return http.StatusOK, int(min(*p.Offset+1, int64(len(s.items)))), ""
			case p.Timestamp != nil:
				return http.StatusOK, s.startAt(*p.Timestamp), ""
			}
		}
	}
	if req.Since != "" {
		t, err := wikimedia.ParseSince(req.Since)
		if err != nil {
			return http.StatusBadRequest, 0, "invalid since: " + err.Error()
		}
		return http.StatusOK, s.startAt(t.UnixMilli()), ""
	}
	return http.StatusOK, 0, ""
}

// startAt returns the index of the first item at or after ms, as Kafka's
// offsets-for-times does: everything after that item follows, in order.
func (s *Server) startAt(ms int64) int {
	for i, it := range s.items {
		if it.TimestampMs >= 0 && it.TimestampMs >= ms {
			return i
		}
	}
	return len(s.items)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stream sends items from start on one connection.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, conn, start int) {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	hello := []byte(":ok\n\n")
	if len(s.opts.Retry) > 0 {
		hello = fmt.Appendf(hello, "retry: %d\n\n", s.opts.Retry[(conn-1)%len(s.opts.Retry)].Milliseconds())
	}
	if !write(hello) {
		return
	}
	sent := 0
	for i := start; i < len(s.items); i++ {
		it := &s.items[i]
		if conn <= s.opts.StallConnections && sent == s.opts.StallAfter {
			s.idle(r, write, 0, false) // stall: nothing until the client gives up
			return
		}
		if conn == 1 && s.opts.PauseFor > 0 && sent == s.opts.PauseAfter && sent > 0 {
			if !s.idle(r, write, s.opts.PauseFor, true) {
				return
			}
		}
		if sent > 0 && s.disconnectNow(sent) {
			s.mu.Lock()
			s.disconnects++
			turn := s.disconnects
			s.mu.Unlock()
			if s.opts.CutMidFrame {
				write(it.wire[:it.cut(turn)])
			}
			if turn%2 == 1 {
				panic(http.ErrAbortHandler) // reset the connection
			}
			return // end the response cleanly
		}
		if !write(it.wire) {
			return
		}
		sent++
	}
	s.idle(r, write, 0, true)
}

// disconnectNow decides whether to cut the connection after sent frames.
func (s *Server) disconnectNow(sent int) bool {
	if s.opts.DisconnectEvery > 0 && sent%s.opts.DisconnectEvery == 0 {
		return true
	}
	if s.opts.DisconnectProbability > 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.rng.Float64() < s.opts.DisconnectProbability
	}
	return false
}

// idle sends nothing but heartbeats (none when heartbeats is false) for d,
// or until the client or the server goes away when d is 0. It reports
// whether the stream may go on.
func (s *Server) idle(r *http.Request, write func([]byte) bool, d time.Duration, heartbeats bool) bool {
	var end <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		end = t.C
	}
	var tick <-chan time.Time
	if heartbeats && !s.opts.NoHeartbeat {
		t := time.NewTicker(s.opts.Heartbeat)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.Context().Done():
			return false
		case <-s.done:
			return false
		case <-end:
			return true
		case <-tick:
			if !write([]byte(":\n")) {
				return false
			}
		}
	}
}
