package wikimedia_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/wikimedia"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

const realCapture = "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"

// t0 is the time of the first synthetic event.
var t0 = time.Date(2023, 1, 24, 1, 48, 0, 0, time.UTC)

// synthEvents returns n small recentchange-like events, 10 s apart.
func synthEvents(n int) [][]byte {
	evs := make([][]byte, n)
	for i := range evs {
		ts := t0.Add(time.Duration(i) * 10 * time.Second)
		evs[i] = fmt.Appendf(nil, `{"meta":{"dt":%q,"domain":"en.wikipedia.org"},"id":%d,"type":"edit","title":"Page %d","timestamp":%d}`,
			ts.Format(time.RFC3339), 1000+i, i, ts.Unix())
	}
	return evs
}

// reconnects records OnReconnect calls.
type reconnects struct {
	mu     sync.Mutex
	errs   []error
	delays []time.Duration
}

func (r *reconnects) hook(err error, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs, r.delays = append(r.errs, err), append(r.delays, d)
}

func (r *reconnects) get() ([]error, []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs), slices.Clone(r.delays)
}

// testConfig returns a configuration for the server with tiny backoffs.
func testConfig(tb testing.TB, base string, hc *http.Client, rec *reconnects) wikimedia.Config {
	cfg := wikimedia.DefaultConfig()
	cfg.BaseURL = base
	cfg.HTTPClient = hc
	cfg.MinBackoff = time.Millisecond
	cfg.MaxBackoff = 5 * time.Millisecond
	cfg.IdleTimeout = 10 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	if rec != nil {
		cfg.OnReconnect = rec.hook
	}
	return cfg
}

func newClient(tb testing.TB, cfg wikimedia.Config) *wikimedia.Client {
	tb.Helper()
	c, err := wikimedia.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// collect runs the client until it has handled n frames and returns them.
func collect(t *testing.T, c *wikimedia.Client, n int) []wikimedia.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var got []wikimedia.Frame
	err := c.Run(ctx, func(_ context.Context, f wikimedia.Frame) error {
		got = append(got, f)
		if len(got) == n {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(got) != n {
		t.Fatalf("Run returned %v after %d of %d frames; want context.Canceled after all of them", err, len(got), n)
	}
	return got
}

// checkSequence compares received frames with served items exactly: same
// length, same ids and data in the same order, so there are no gaps and no
// duplicates.
func checkSequence(t *testing.T, got []wikimedia.Frame, want []ssetest.Item) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d frames, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i].ID != want[i].ID || !bytes.Equal(got[i].Data, want[i].Data) || got[i].Event != "message" || got[i].Oversize {
			t.Fatalf("frame %d: got id %s event %q oversize %v data %.80q\nwant id %s (%s) event \"message\" data %.80q",
				i, got[i].ID, got[i].Event, got[i].Oversize, got[i].Data, want[i].ID, want[i].Kind, want[i].Data)
		}
	}
}

// TestClientReplayRealCapture replays every event of the real 18,935-event
// capture through disconnects, mid-frame cuts, retry changes and injected
// malformed frames, and checks the client receives exactly the served
// sequence.
func TestClientReplayRealCapture(t *testing.T) {
	events := ssetest.ReadLines(t, ssetest.SharedData(t, realCapture))
	if len(events) != 18935 {
		t.Fatalf("got %d events in %s, want 18935", len(events), realCapture)
	}
	srv := ssetest.NewServer(t, events, ssetest.Options{
		DisconnectEvery:       300,
		DisconnectProbability: 0.002,
		Seed:                  7,
		CutMidFrame:           true,
		Retry:                 []time.Duration{time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond},
		RetryEvery:            700,
		MalformedEvery:        250,
		MultiLineEvery:        97,
		CRLFEvery:             89,
		CommentEvery:          50,
	})
	items := srv.Items()
	var rec reconnects
	c := newClient(t, testConfig(t, srv.BaseURL(), srv.Client(), &rec))
	got := collect(t, c, len(items))

	checkSequence(t, got, items)

	// Every malformed frame exactly once, every served event exactly once.
	seen := map[string]int{}
	for _, f := range got {
		seen[f.ID]++
	}
	kinds := map[ssetest.Kind]int{}
	eventSeen := make([]int, len(events))
	for i, it := range items {
		kinds[it.Kind]++
		if n := seen[it.ID]; n != 1 {
			t.Errorf("item %d (%s) received %d times, want 1", i, it.Kind, n)
		}
		if it.Event >= 0 {
			eventSeen[it.Event]++
		}
		if it.Kind == ssetest.KindMultiLine {
			var compact bytes.Buffer
			if err := json.Compact(&compact, got[i].Data); err != nil || !bytes.Equal(compact.Bytes(), events[it.Event]) {
				t.Errorf("item %d: multi-line data does not reassemble into the event (%v)", i, err)
			}
		}
	}
	for i, n := range eventSeen {
		if n != 1 {
			t.Fatalf("event %d served %d times, want 1", i, n)
		}
	}
	for _, k := range []ssetest.Kind{ssetest.KindNotJSON, ssetest.KindTruncatedJSON, ssetest.KindGarbageFields, ssetest.KindMultiLine, ssetest.KindCRLF, ssetest.KindCR} {
		if kinds[k] == 0 {
			t.Errorf("no %s items were served; the test does not exercise them", k)
		}
	}

	// Reconnection really happened, resuming by Last-Event-ID.
	st := c.Stats()
	errs, _ := rec.get()
	conns, ids := srv.Connections(), srv.LastEventIDs()
	t.Logf("items %d (malformed %d), connections %d, forced disconnects %d, bytes %d",
		len(items), kinds[ssetest.KindNotJSON]+kinds[ssetest.KindTruncatedJSON]+kinds[ssetest.KindGarbageFields], conns, srv.Disconnects(), st.Bytes)
	if st.Reconnects == 0 || srv.Disconnects() < len(items)/300 {
		t.Errorf("got %d reconnects and %d forced disconnects, want > 0 and >= %d", st.Reconnects, srv.Disconnects(), len(items)/300)
	}
	if int(st.Reconnects) != conns-1 || len(errs) != conns-1 || int(st.Connects) != conns {
		t.Errorf("got %d reconnects, %d OnReconnect calls, %d connects; want %d, %d, %d (server connections %d)",
			st.Reconnects, len(errs), st.Connects, conns-1, conns-1, conns, conns)
	}
	if len(ids) != conns-1 {
		t.Errorf("server received Last-Event-ID on %d requests, want every reconnect (%d)", len(ids), conns-1)
	}
	if st.Frames != int64(len(items)) {
		t.Errorf("got %d frames counted, want %d (cut frames must not be dispatched)", st.Frames, len(items))
	}
	if st.LastEventID != items[len(items)-1].ID {
		t.Errorf("got last event id %s, want %s", st.LastEventID, items[len(items)-1].ID)
	}
}

func TestClientIdleTimeout(t *testing.T) {
	events := synthEvents(20)
	srv := ssetest.NewServer(t, events, ssetest.Options{StallAfter: 5, NoHeartbeat: true})
	var rec reconnects
	cfg := testConfig(t, srv.BaseURL(), srv.Client(), &rec)
	cfg.IdleTimeout = 300 * time.Millisecond
	c := newClient(t, cfg)
	got := collect(t, c, len(srv.Items()))
	checkSequence(t, got, srv.Items())
	errs, _ := rec.get()
	if len(errs) == 0 {
		t.Fatal("got no reconnects, want one after the stall")
	}
	for _, err := range errs { // a very slow machine may time out more than once
		if !strings.Contains(err.Error(), "idle timeout") {
			t.Errorf("got reconnect error %v, want an idle timeout", err)
		}
	}
	if ids := srv.LastEventIDs(); !slices.Contains(ids, srv.Items()[4].ID) {
		t.Errorf("got Last-Event-IDs %q, want the stalled connection's last id %s among them", ids, srv.Items()[4].ID)
	}
}

func TestClientHeartbeatsKeepConnection(t *testing.T) {
	srv := ssetest.NewServer(t, synthEvents(6), ssetest.Options{PauseAfter: 3, PauseFor: 1500 * time.Millisecond, Heartbeat: 25 * time.Millisecond})
	var rec reconnects
	cfg := testConfig(t, srv.BaseURL(), srv.Client(), &rec)
	cfg.IdleTimeout = 750 * time.Millisecond // half the pause: only heartbeats keep it open
	c := newClient(t, cfg)
	got := collect(t, c, 6)
	checkSequence(t, got, srv.Items())
	if errs, _ := rec.get(); len(errs) != 0 || srv.Connections() != 1 {
		t.Errorf("got reconnects %v and %d connections, want none and 1: heartbeat comments count as activity", errs, srv.Connections())
	}
}

func TestClientRetryAfter503(t *testing.T) {
	srv := ssetest.NewServer(t, synthEvents(5), ssetest.Options{Unavailable: 1, RetryAfter: time.Second})
	var rec reconnects
	c := newClient(t, testConfig(t, srv.BaseURL(), srv.Client(), &rec))
	start := time.Now()
	got := collect(t, c, 5)
	checkSequence(t, got, srv.Items())
	errs, delays := rec.get()
	if len(delays) != 1 || delays[0] != time.Second {
		t.Fatalf("got reconnect delays %v, want [1s] from Retry-After (MaxBackoff is 5ms)", delays)
	}
	var se *wikimedia.StatusError
	if !errors.As(errs[0], &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got reconnect error %v, want a 503 StatusError", errs[0])
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("got all frames after %v, want at least the 1s Retry-After", el)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Status != 503 || reqs[1].Status != 200 {
		t.Errorf("got requests %+v, want a 503 then a 200", reqs)
	}
}

// TestClientStatus checks which responses are retried and which end Run.
func TestClientStatus(t *testing.T) {
	tests := []struct {
		status    int
		ctype     string
		permanent bool
		hint      string
	}{
		{http.StatusTooManyRequests, "", false, ""},
		{http.StatusInternalServerError, "", false, ""},
		{http.StatusBadGateway, "", false, ""},
		{http.StatusServiceUnavailable, "", false, ""},
		{http.StatusGatewayTimeout, "", false, ""},
		{http.StatusBadRequest, "", true, "check Since"},
		{http.StatusUnauthorized, "", true, "check UserAgent"},
		{http.StatusForbidden, "", true, "check UserAgent"},
		{http.StatusNotFound, "", true, "check BaseURL and Streams"},
		{http.StatusGone, "", true, "check BaseURL"},
		{http.StatusNoContent, "", true, "check BaseURL"},
		{http.StatusOK, "text/html; charset=utf-8", true, "must point at an EventStreams server"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.ctype), func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if requests.Add(1) == 1 {
					if tt.ctype != "" {
						w.Header().Set("Content-Type", tt.ctype)
					}
					w.WriteHeader(tt.status)
					fmt.Fprint(w, "nope")
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, "id: 1\ndata: {}\n\n")
			}))
			defer srv.Close()
			c := newClient(t, testConfig(t, srv.URL+"/v2/stream/", srv.Client(), nil))
			var frames int
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := c.Run(ctx, func(context.Context, wikimedia.Frame) error { frames++; cancel(); return nil })
			if !tt.permanent {
				if !errors.Is(err, context.Canceled) || frames != 1 || requests.Load() != 2 {
					t.Fatalf("got error %v, %d frames, %d requests; want a retry that delivers 1 frame after 2 requests", err, frames, requests.Load())
				}
				return
			}
			var se *wikimedia.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status || !strings.Contains(err.Error(), tt.hint) {
				t.Fatalf("got error %v, want a permanent StatusError %d saying %q", err, tt.status, tt.hint)
			}
			if requests.Load() != 1 || frames != 0 {
				t.Errorf("got %d requests and %d frames, want 1 and 0: permanent errors are not retried", requests.Load(), frames)
			}
		})
	}
}

func TestClientUnknownStreamIsPermanent(t *testing.T) {
	srv := ssetest.NewServer(t, synthEvents(3), ssetest.Options{KnownStreams: []string{"recentchange"}})
	cfg := testConfig(t, srv.BaseURL(), srv.Client(), nil)
	cfg.Streams = []string{"recentchange", "no-such-stream"}
	err := newClient(t, cfg).Run(t.Context(), func(context.Context, wikimedia.Frame) error { return nil })
	var se *wikimedia.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound || !strings.Contains(err.Error(), "no-such-stream") || !strings.Contains(err.Error(), "check BaseURL and Streams") {
		t.Fatalf("got %v, want a 404 StatusError naming the stream and saying what to check", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("got %d requests, want 1", n)
	}
}

func TestClientContextCancel(t *testing.T) {
	t.Run("during a blocked read", func(t *testing.T) {
		srv := ssetest.NewServer(t, synthEvents(5), ssetest.Options{StallAfter: 2, NoHeartbeat: true})
		cfg := testConfig(t, srv.BaseURL(), srv.Client(), nil)
		cfg.IdleTimeout = time.Hour
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		canceledAt := make(chan time.Time, 1)
		frames := 0
		err := newClient(t, cfg).Run(ctx, func(context.Context, wikimedia.Frame) error {
			if frames++; frames == 2 { // the server stalls after this one
				time.AfterFunc(100*time.Millisecond, func() { canceledAt <- time.Now(); cancel() })
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || frames != 2 {
			t.Fatalf("got %v after %d frames, want context.Canceled after 2", err, frames)
		}
		if d := time.Since(<-canceledAt); d > 5*time.Second {
			t.Errorf("Run returned %v after cancel, want promptly", d)
		}
	})
	t.Run("during a backoff sleep", func(t *testing.T) {
		srv := ssetest.NewServer(t, synthEvents(1), ssetest.Options{Unavailable: 1, RetryAfter: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		cfg := testConfig(t, srv.BaseURL(), srv.Client(), nil)
		var canceledAt time.Time
		cfg.OnReconnect = func(error, time.Duration) { canceledAt = time.Now(); cancel() }
		err := newClient(t, cfg).Run(ctx, func(context.Context, wikimedia.Frame) error { return nil })
		if !errors.Is(err, context.Canceled) || canceledAt.IsZero() {
			t.Fatalf("got %v (reconnect seen: %v), want context.Canceled during the hour-long Retry-After", err, !canceledAt.IsZero())
		}
		if d := time.Since(canceledAt); d > 5*time.Second {
			t.Errorf("Run returned %v after cancel, want promptly", d)
		}
	})
	t.Run("no frame handled after cancel", func(t *testing.T) {
		srv := ssetest.NewServer(t, synthEvents(50), ssetest.Options{}) // all buffered at once
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		err := newClient(t, testConfig(t, srv.BaseURL(), srv.Client(), nil)).Run(ctx, func(context.Context, wikimedia.Frame) error {
			if n++; n == 2 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || n != 2 {
			t.Fatalf("got %v after %d frames, want context.Canceled after 2", err, n)
		}
	})
	t.Run("in the handler", func(t *testing.T) {
		srv := ssetest.NewServer(t, synthEvents(3), ssetest.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		err := newClient(t, testConfig(t, srv.BaseURL(), srv.Client(), nil)).Run(ctx, func(ctx context.Context, _ wikimedia.Frame) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		})
		if err != context.Canceled {
			t.Fatalf("got %v, want exactly context.Canceled", err)
		}
	})
}

func TestClientRequest(t *testing.T) {
	srv := ssetest.NewServer(t, synthEvents(3), ssetest.Options{})
	cfg := testConfig(t, srv.BaseURL(), srv.Client(), nil)
	cfg.Streams = []string{"recentchange", "page-create"}
	c := newClient(t, cfg)
	if got, want := c.URL(), srv.BaseURL()+"recentchange,page-create"; got != want {
		t.Errorf("got URL %s, want %s", got, want)
	}
	collect(t, c, 3)
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if !slices.Equal(r.Streams, []string{"recentchange", "page-create"}) {
		t.Errorf("got streams %q in one request, want [recentchange page-create]", r.Streams)
	}
	if r.Accept != "text/event-stream" || r.UserAgent != wikimedia.DefaultUserAgent || !strings.HasPrefix(r.UserAgent, "WikiStream/") {
		t.Errorf("got Accept %q, User-Agent %q; want text/event-stream and %q", r.Accept, r.UserAgent, wikimedia.DefaultUserAgent)
	}
	if r.LastEventID != "" || r.Since != "" {
		t.Errorf("got Last-Event-ID %q, since %q; want neither", r.LastEventID, r.Since)
	}
}

func TestClientSince(t *testing.T) {
	tests := []struct {
		since string
		first int // index of the first event the server must send
	}{
		{t0.Add(45 * time.Second).Format(time.RFC3339), 5},
		{strconv.FormatInt(t0.Add(50*time.Second).UnixMilli(), 10), 5},
		{strconv.FormatInt(t0.Add(50*time.Second).UnixMilli()+1, 10), 6},
		{"2000-01-01", 0},
	}
	for _, tt := range tests {
		t.Run(tt.since, func(t *testing.T) {
			srv := ssetest.NewServer(t, synthEvents(12), ssetest.Options{DisconnectEvery: 2})
			cfg := testConfig(t, srv.BaseURL(), srv.Client(), nil)
			cfg.Since = tt.since
			want := srv.Items()[tt.first:]
			got := collect(t, newClient(t, cfg), len(want))
			checkSequence(t, got, want)
			reqs := srv.Requests()
			if len(reqs) < 2 || reqs[0].Since != tt.since || reqs[0].LastEventID != "" {
				t.Fatalf("got requests %+v, want the first with since=%s and no Last-Event-ID", reqs, tt.since)
			}
			for i, r := range reqs[1:] {
				if r.Since != "" || r.LastEventID == "" {
					t.Errorf("reconnect %d: got since %q, Last-Event-ID %q; want only Last-Event-ID", i+1, r.Since, r.LastEventID)
				}
			}
		})
	}
}

func TestClientResumesFromConfiguredID(t *testing.T) {
	srv := ssetest.NewServer(t, synthEvents(12), ssetest.Options{})
	cfg := testConfig(t, srv.BaseURL(), srv.Client(), nil)
	cfg.LastEventID = srv.Items()[8].ID
	cfg.Since = "2000-01-01T00:00:00Z" // ignored: there is an id to resume from
	got := collect(t, newClient(t, cfg), 3)
	checkSequence(t, got, srv.Items()[9:])
	if r := srv.Requests()[0]; r.LastEventID != cfg.LastEventID || r.Since != "" {
		t.Errorf("got Last-Event-ID %q since %q, want %q and no since", r.LastEventID, r.Since, cfg.LastEventID)
	}
}

func TestClientHandlerError(t *testing.T) {
	srv := ssetest.NewServer(t, synthEvents(5), ssetest.Options{})
	c := newClient(t, testConfig(t, srv.BaseURL(), srv.Client(), nil))
	boom := errors.New("broker down")
	n := 0
	err := c.Run(t.Context(), func(context.Context, wikimedia.Frame) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), srv.Items()[2].ID) {
		t.Fatalf("got %v, want an error wrapping %v and naming event %s", err, boom, srv.Items()[2].ID)
	}
	if got, want := c.Stats().LastEventID, srv.Items()[1].ID; got != want {
		t.Errorf("got last event id %s, want %s: the failed event was not handled", got, want)
	}
}

func TestClientRetryReplacesBase(t *testing.T) {
	srv := ssetest.NewServer(t, synthEvents(8), ssetest.Options{DisconnectEvery: 2, Retry: []time.Duration{40 * time.Millisecond}})
	var rec reconnects
	cfg := testConfig(t, srv.BaseURL(), srv.Client(), &rec)
	cfg.MaxBackoff = time.Second
	c := newClient(t, cfg)
	wikimedia.SetJitter(c, func(d time.Duration) time.Duration { return d }) // the upper bound
	collect(t, c, 8)
	_, delays := rec.get()
	if len(delays) != 3 {
		t.Fatalf("got %d reconnects, want 3", len(delays))
	}
	for i, d := range delays {
		if d != 40*time.Millisecond {
			t.Errorf("reconnect %d: got delay bound %v, want the server's retry: 40ms (MinBackoff is 1ms)", i, d)
		}
	}
}

func TestClientBackoff(t *testing.T) {
	// Requests 1-3 and 5-6 fail; request 4 delivers one event and ends;
	// request 7 delivers the second event.
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := requests.Add(1); n {
		case 4, 7:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "id: %d\ndata: {}\n\n", n)
		default:
			http.Error(w, "overloaded", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	var rec reconnects
	cfg := testConfig(t, srv.URL+"/", srv.Client(), &rec)
	cfg.MaxBackoff = 3 * time.Millisecond
	c := newClient(t, cfg)
	wikimedia.SetJitter(c, func(d time.Duration) time.Duration { return d })
	collect(t, c, 2)
	_, delays := rec.get()
	ms := time.Millisecond
	if want := []time.Duration{ms, 2 * ms, 3 * ms, ms, 2 * ms, 3 * ms}; !slices.Equal(delays, want) {
		t.Errorf("got backoff bounds %v, want %v: doubling, capped at MaxBackoff, reset after a connection that delivered", delays, want)
	}
}

func TestClientOversizeFrame(t *testing.T) {
	events := [][]byte{[]byte(`{"small":1}`), []byte(`{"big":"` + strings.Repeat("x", 500) + `"}`), []byte(`{"small":2}`)}
	srv := ssetest.NewServer(t, events, ssetest.Options{})
	cfg := testConfig(t, srv.BaseURL(), srv.Client(), nil)
	cfg.MaxFrameBytes = 100
	got := collect(t, newClient(t, cfg), 3)
	if !got[1].Oversize || len(got[1].Data) != 100 || got[1].ID != srv.Items()[1].ID {
		t.Errorf("got frame 1 oversize %v with %d bytes, id %s; want oversize, 100 bytes, id %s", got[1].Oversize, len(got[1].Data), got[1].ID, srv.Items()[1].ID)
	}
	if got[0].Oversize || got[2].Oversize || string(got[2].Data) != `{"small":2}` {
		t.Errorf("got frames 0 and 2 %q, %q; want them intact", got[0].Data, got[2].Data)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*wikimedia.Config)
		field string // "" when valid
	}{
		{"default", func(*wikimedia.Config) {}, ""},
		{"since ISO", func(c *wikimedia.Config) { c.Since = "2023-01-24T01:48:58Z" }, ""},
		{"since ms", func(c *wikimedia.Config) { c.Since = "1674524938000" }, ""},
		{"since date", func(c *wikimedia.Config) { c.Since = "2023-01-24" }, ""},
		{"base URL relative", func(c *wikimedia.Config) { c.BaseURL = "/v2/stream/" }, "BaseURL"},
		{"base URL with query", func(c *wikimedia.Config) { c.BaseURL = "https://x/v2/stream/?a=b" }, "BaseURL"},
		{"no streams", func(c *wikimedia.Config) { c.Streams = nil }, "Streams"},
		{"stream with comma", func(c *wikimedia.Config) { c.Streams = []string{"a,b"} }, "Streams"},
		{"bad since", func(c *wikimedia.Config) { c.Since = "yesterday" }, "Since"},
		{"id with newline", func(c *wikimedia.Config) { c.LastEventID = "a\nb" }, "LastEventID"},
		{"no user agent", func(c *wikimedia.Config) { c.UserAgent = " " }, "UserAgent"},
		{"idle timeout", func(c *wikimedia.Config) { c.IdleTimeout = 0 }, "IdleTimeout"},
		{"min backoff", func(c *wikimedia.Config) { c.MinBackoff = 0 }, "MinBackoff"},
		{"max backoff", func(c *wikimedia.Config) { c.MaxBackoff = c.MinBackoff / 2 }, "MaxBackoff"},
		{"max frame", func(c *wikimedia.Config) { c.MaxFrameBytes = -1 }, "MaxFrameBytes"},
		{"http timeout", func(c *wikimedia.Config) { c.HTTPClient = &http.Client{Timeout: time.Second} }, "HTTPClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := wikimedia.DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tt.field != "" && (err == nil || !strings.Contains(err.Error(), tt.field+":")):
				t.Errorf("got %v, want an error naming %s", err, tt.field)
			}
		})
	}
}
