package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// memSink records what it is sent. It fails its first fail sends, and
// each Send waits for gate when gate is not nil.
type memSink struct {
	name     string
	batch    int
	records  bool
	gate     chan struct{}
	mu       sync.Mutex
	fail     int
	attempts int
	got      []Alert
}

func (s *memSink) Name() string            { return s.name }
func (s *memSink) MaxBatch() int           { return s.batch }
func (s *memSink) RecordsSuppressed() bool { return s.records }

func (s *memSink) Send(ctx context.Context, batch []Alert) error {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.fail > 0 {
		s.fail--
		return errors.New("planted failure")
	}
	s.got = append(s.got, batch...)
	return nil
}

func (s *memSink) alerts() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Alert(nil), s.got...)
}

func (s *memSink) tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// testConfig is DefaultConfig with fast retries, a test clock and a
// registry.
func testConfig(c *clock, reg prometheus.Registerer) Config {
	cfg := DefaultConfig()
	cfg.Now = c.Now
	cfg.Registerer = reg
	cfg.RetryBackoff, cfg.MaxBackoff = time.Millisecond, 4*time.Millisecond
	cfg.SendTimeout = 5 * time.Second
	return cfg
}

// start runs the dispatcher until the test ends (or stop is called) and
// returns stop, which cancels Run and waits for it.
func start(tb testing.TB, d *Dispatcher) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("Run: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

func flush(tb testing.TB, d *Dispatcher) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// TestCoolDown raises a sequence of alerts at given times and checks which
// are sent and which are suppressed.
func TestCoolDown(t *testing.T) {
	type raise struct {
		at   time.Duration // after t0
		typ  Type
		key  string
		sent bool
	}
	tests := []struct {
		name   string
		raises []raise
	}{
		{"repeat within the cool-down is suppressed", []raise{
			{0, DQFailure, "a", true}, {time.Minute, DQFailure, "a", false}, {29 * time.Minute, DQFailure, "a", false}}},
		{"the cool-down expires", []raise{
			{0, DQFailure, "a", true}, {29*time.Minute + 59*time.Second, DQFailure, "a", false}, {30 * time.Minute, DQFailure, "a", true}}},
		{"it runs from the sent alert, not from the last repeat", []raise{
			{0, DQFailure, "a", true}, {20 * time.Minute, DQFailure, "a", false}, {40 * time.Minute, DQFailure, "a", true},
			{50 * time.Minute, DQFailure, "a", false}, {70 * time.Minute, DQFailure, "a", true}}},
		{"across a window boundary", []raise{
			{25 * time.Minute, DQFailure, "a", true}, {35 * time.Minute, DQFailure, "a", false}, {54 * time.Minute, DQFailure, "a", false},
			{55 * time.Minute, DQFailure, "a", true}}},
		{"other keys and types are not repeats", []raise{
			{0, DQFailure, "a", true}, {time.Minute, DQFailure, "b", true}, {2 * time.Minute, JobFailed, "a", true},
			{3 * time.Minute, DQFailure, "", true}, {4 * time.Minute, DQFailure, "", false}}},
		{"risk_high cools down for 192h", []raise{
			{0, RiskHigh, "2026-11-25/X", true}, {100 * time.Hour, RiskHigh, "2026-11-25/X", false},
			{191 * time.Hour, RiskHigh, "2026-11-25/X", false}, {192 * time.Hour, RiskHigh, "2026-11-25/X", true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t0)
			reg := prometheus.NewRegistry()
			out := &memSink{name: "out"}
			rec := &memSink{name: "rec", records: true, batch: 10}
			d, err := New(context.Background(), testConfig(c, reg), out, rec)
			if err != nil {
				t.Fatal(err)
			}
			start(t, d)
			var wantSent, wantSuppressed int
			for i, r := range tc.raises {
				c.Set(t0.Add(r.at))
				if err := d.Raise(context.Background(), Alert{Type: r.typ, Key: r.key, Title: fmt.Sprint("alert ", i)}); err != nil {
					t.Fatal(err)
				}
				flush(t, d)
				got := out.alerts()
				sent := len(got) > wantSent
				if sent != r.sent {
					t.Fatalf("raise %d (%s %q at +%s): sent %t, want %t", i, r.typ, r.key, r.at, sent, r.sent)
				}
				if sent {
					wantSent++
				} else {
					wantSuppressed++
				}
			}
			if got := metric(t, reg, "wikistream_alert_raised_total", nil); got != float64(len(tc.raises)) {
				t.Errorf("raised_total %g, want %d", got, len(tc.raises))
			}
			if got := metric(t, reg, "wikistream_alert_suppressed_total", nil); got != float64(wantSuppressed) {
				t.Errorf("suppressed_total %g, want %d", got, wantSuppressed)
			}
			if got := metric(t, reg, "wikistream_alert_sent_total", map[string]string{"sink": "out"}); got != float64(wantSent) {
				t.Errorf("sent_total{sink=out} %g, want %d", got, wantSent)
			}
			// The recording sink saw every sent alert, and suppressed ones
			// at most once per key and window, marked.
			var recSent int
			for _, a := range rec.alerts() {
				if !a.Suppressed {
					recSent++
				}
			}
			if recSent != wantSent {
				t.Errorf("recorder got %d sent alerts, want %d", recSent, wantSent)
			}
			for _, a := range out.alerts() {
				if a.Suppressed {
					t.Errorf("non-recording sink got suppressed alert %+v", a)
				}
			}
		})
	}
}

// TestSuppressedRecordedOncePerWindow: a storm of repeats lands one
// suppressed record per key and window, and every repeat is counted.
func TestSuppressedRecordedOncePerWindow(t *testing.T) {
	c := newClock(t0)
	rec := &memSink{name: "rec", records: true, batch: 100}
	reg := prometheus.NewRegistry()
	d, err := New(context.Background(), testConfig(c, reg), rec)
	if err != nil {
		t.Fatal(err)
	}
	start(t, d)
	for i := range 60 {
		// 10:20:00 .. 10:44:35, within the cool-down of the first, over
		// the windows [10:00, 10:30) and [10:30, 11:00).
		c.Set(t0.Add(20*time.Minute + time.Duration(i)*25*time.Second))
		if err := d.Raise(context.Background(), Alert{Type: DLQSpike, Key: "dlq", Title: "spike"}); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, d)
	var sent, suppressed []Alert
	for _, a := range rec.alerts() {
		if a.Suppressed {
			suppressed = append(suppressed, a)
		} else {
			sent = append(sent, a)
		}
	}
	if len(sent) != 1 || len(suppressed) != 2 {
		t.Fatalf("recorded %d sent and %d suppressed, want 1 and 2 (one per window)", len(sent), len(suppressed))
	}
	if suppressed[0].ID == suppressed[1].ID || suppressed[0].ID == sent[0].ID {
		t.Errorf("ids %s, %s, %s: want three different", sent[0].ID, suppressed[0].ID, suppressed[1].ID)
	}
	if got := metric(t, reg, "wikistream_alert_suppressed_total", nil); got != 59 {
		t.Errorf("suppressed_total %g, want 59", got)
	}
}

// TestAlertIDs: ids are deterministic per type, key and window.
func TestAlertIDs(t *testing.T) {
	w := window(t0.Add(7*time.Minute), 30*time.Minute)
	if !w.Equal(t0) {
		t.Fatalf("window of 10:07 with a 30m cool-down is %s, want %s", w, t0)
	}
	tests := []struct {
		name   string
		a, b   string
		sameID bool
	}{
		{"same inputs", alertID(DQFailure, "k", t0, false), alertID(DQFailure, "k", t0, false), true},
		{"other key", alertID(DQFailure, "k", t0, false), alertID(DQFailure, "k2", t0, false), false},
		{"other type", alertID(DQFailure, "k", t0, false), alertID(JobFailed, "k", t0, false), false},
		{"other window", alertID(DQFailure, "k", t0, false), alertID(DQFailure, "k", t0.Add(30*time.Minute), false), false},
		{"suppressed", alertID(DQFailure, "k", t0, false), alertID(DQFailure, "k", t0, true), false},
		{"no ambiguity between type and key", alertID("ab", "c", t0, false), alertID("a", "bc", t0, false), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.a == tc.b) != tc.sameID {
				t.Errorf("ids %s and %s: equal %t, want %t", tc.a, tc.b, tc.a == tc.b, tc.sameID)
			}
			if len(tc.a) != 32 {
				t.Errorf("id %q has %d characters, want 32", tc.a, len(tc.a))
			}
		})
	}
}

// TestRaiseFillsDefaults checks what Raise fills in and what it rejects.
func TestRaiseFillsDefaults(t *testing.T) {
	c := newClock(t0.Add(123456789 * time.Nanosecond))
	out := &memSink{name: "out"}
	cfg := testConfig(c, nil)
	cfg.Runbook = "https://example.org/wikistream/docs/RUNBOOK.md"
	d, err := New(context.Background(), cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	start(t, d)
	for _, bad := range []Alert{{Type: "nope", Title: "x"}, {Type: JobFailed}, {Type: JobFailed, Title: "x", Severity: "loud"},
		{Type: JobFailed, Title: "x", Evidence: map[string]any{"f": func() {}}}} {
		if err := d.Raise(context.Background(), bad); err == nil {
			t.Errorf("Raise(%+v) = nil, want an error", bad)
		}
	}
	// ID and Suppressed from the caller are ignored.
	if err := d.Raise(context.Background(), Alert{Type: PipelineStalled, Key: "silver", Title: "silver stalled",
		ID: "mine", Suppressed: true}); err != nil {
		t.Fatal(err)
	}
	// The evidence is copied: changing the map after Raise changes nothing sent.
	ev := map[string]any{"lag": 5}
	if err := d.Raise(context.Background(), Alert{Type: PipelineStalled, Key: "gold", Title: "gold stalled", Evidence: ev}); err != nil {
		t.Fatal(err)
	}
	ev["lag"] = 6
	flush(t, d)
	got := out.alerts()
	if len(got) != 2 {
		t.Fatalf("sent %d alerts, want 2", len(got))
	}
	if lag := got[1].Evidence["lag"]; lag != 5.0 {
		t.Errorf("evidence lag %v after the caller changed its map, want 5", lag)
	}
	a := got[0]
	want := Alert{ID: alertID(PipelineStalled, "silver", t0, false), Type: PipelineStalled, Severity: Critical,
		Title: "silver stalled", Runbook: "https://example.org/wikistream/docs/RUNBOOK.md#pipeline_stalled",
		CreatedAt: t0.Add(123456 * time.Microsecond), Key: "silver"}
	if a.ID != want.ID || a.Suppressed || a.Severity != want.Severity || a.Runbook != want.Runbook || !a.CreatedAt.Equal(want.CreatedAt) ||
		a.Evidence == nil || len(a.Evidence) != 0 {
		t.Errorf("got %+v, want %+v with evidence {}", a, want)
	}
}

// TestFailingSinkDoesNotBlockOthers: one sink hangs, one fails twice and
// is retried, one works; the others deliver everything while the hanging
// one is stuck, and it catches up once it recovers.
func TestFailingSinkDoesNotBlockOthers(t *testing.T) {
	c := newClock(t0)
	reg := prometheus.NewRegistry()
	hang := &memSink{name: "hang", gate: make(chan struct{})}
	flaky := &memSink{name: "flaky", fail: 2}
	good := &memSink{name: "good"}
	cfg := testConfig(c, reg)
	cfg.QueueSize = 16
	d, err := New(context.Background(), cfg, hang, flaky, good)
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, d)
	for i := range 10 {
		if err := d.Raise(context.Background(), Alert{Type: JobFailed, Key: fmt.Sprint(i), Title: "job failed"}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(good.alerts()) < 10 || len(flaky.alerts()) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("good sink got %d, flaky %d alerts, want 10 each", len(good.alerts()), len(flaky.alerts()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := len(hang.alerts()); got != 0 {
		t.Fatalf("the hanging sink delivered %d alerts before it was released, want 0", got)
	}
	if got := metric(t, reg, "wikistream_alert_sink_errors_total", map[string]string{"sink": "flaky"}); got != 2 {
		t.Errorf("sink_errors_total{sink=flaky} %g, want 2", got)
	}
	if got := flaky.tries(); got != 12 {
		t.Errorf("flaky sink tried %d times, want 12 (10 alerts + 2 retries)", got)
	}
	if got := metric(t, reg, "wikistream_alert_sent_total", nil); got != 20 {
		t.Errorf("sent_total %g, want 20 (10 each to good and flaky)", got)
	}
	close(hang.gate)
	flush(t, d)
	stop()
	if got := len(hang.alerts()); got != 10 {
		t.Errorf("after the hanging sink recovered it got %d alerts, want 10", got)
	}
}

// TestQueueBounds: a sink that hangs holds at most QueueSize alerts (plus
// the one in Send); Raise waits at most EnqueueWait for room and drops
// the rest for that sink only, counting them.
func TestQueueBounds(t *testing.T) {
	tests := []struct {
		queue, raises int
	}{
		{1, 5},
		{4, 10},
		{8, 8},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("queue %d, %d alerts", tc.queue, tc.raises), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			hang := &memSink{name: "hang", gate: make(chan struct{})}
			good := &memSink{name: "good"}
			cfg := testConfig(newClock(t0), reg)
			cfg.QueueSize, cfg.EnqueueWait = tc.queue, 20*time.Millisecond
			d, err := New(context.Background(), cfg, hang, good)
			if err != nil {
				t.Fatal(err)
			}
			// Not running yet: nothing leaves the queues, so the bound is
			// exact.
			began := time.Now()
			for i := range tc.raises {
				if err := d.Raise(context.Background(), Alert{Type: DLQSpike, Key: fmt.Sprint(i), Title: "spike"}); err != nil {
					t.Fatal(err)
				}
			}
			dropped := max(tc.raises-tc.queue, 0)
			if took, limit := time.Since(began), time.Duration(dropped)*cfg.EnqueueWait+time.Second; took > limit {
				t.Errorf("%d Raise calls took %s, want at most %s (EnqueueWait per drop)", tc.raises, took, limit)
			}
			for _, sink := range []string{"hang", "good"} {
				if got := metric(t, reg, "wikistream_alert_dropped_total", map[string]string{"sink": sink}); got != float64(dropped) {
					t.Errorf("dropped_total{sink=%s} %g, want %d", sink, got, dropped)
				}
			}
			stop := start(t, d)
			deadline := time.Now().Add(10 * time.Second)
			for len(good.alerts()) < tc.queue && len(good.alerts()) < tc.raises {
				if time.Now().After(deadline) {
					t.Fatalf("good sink got %d alerts, want its %d queued", len(good.alerts()), min(tc.queue, tc.raises))
				}
				time.Sleep(5 * time.Millisecond)
			}
			close(hang.gate)
			flush(t, d)
			stop()
			if got, want := len(hang.alerts()), min(tc.queue, tc.raises); got != want {
				t.Errorf("hanging sink got %d alerts once released, want the %d queued", got, want)
			}
		})
	}
}

// TestRetriesGiveUp: a sink that always fails gets MaxAttempts tries per
// batch, a permanent failure one.
func TestRetriesGiveUp(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		tries int
	}{
		{"transient", errors.New("503"), 3},
		{"permanent", fmt.Errorf("400: %w", ErrPermanent), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t0)
			s := &errSink{err: tc.err}
			reg := prometheus.NewRegistry()
			cfg := testConfig(c, reg)
			cfg.MaxAttempts = 3
			d, err := New(context.Background(), cfg, s)
			if err != nil {
				t.Fatal(err)
			}
			start(t, d)
			if err := d.Raise(context.Background(), Alert{Type: JobFailed, Title: "x"}); err != nil {
				t.Fatal(err)
			}
			flush(t, d)
			if got := s.tries(); got != tc.tries {
				t.Errorf("tried %d times, want %d", got, tc.tries)
			}
			if got := metric(t, reg, "wikistream_alert_dropped_total", map[string]string{"sink": "err"}); got != 1 {
				t.Errorf("dropped_total %g, want 1", got)
			}
		})
	}
}

type errSink struct {
	err error
	mu  sync.Mutex
	n   int
}

func (s *errSink) Name() string { return "err" }
func (s *errSink) Send(context.Context, []Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.err
}
func (s *errSink) tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// TestRunDrains: alerts queued before Run ends are delivered within the
// drain timeout; after Run ends Raise fails with ErrClosed; a sink that
// cannot deliver within the drain timeout does not hold Run.
func TestRunDrains(t *testing.T) {
	c := newClock(t0)
	good := &memSink{name: "good", batch: 3}
	hang := &memSink{name: "hang", gate: make(chan struct{})}
	reg := prometheus.NewRegistry()
	cfg := testConfig(c, reg)
	cfg.DrainTimeout = 200 * time.Millisecond
	d, err := New(context.Background(), cfg, good, hang)
	if err != nil {
		t.Fatal(err)
	}
	// Queued before Run starts.
	for i := range 7 {
		if err := d.Raise(context.Background(), Alert{Type: StageRestarted, Key: fmt.Sprint(i), Title: "restarted"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run starts already cancelled: it only drains
	began := time.Now()
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Run took %s to drain with a hanging sink, want about the 200ms drain timeout", took)
	}
	if got := len(good.alerts()); got != 7 {
		t.Errorf("good sink got %d alerts, want 7", got)
	}
	if got := metric(t, reg, "wikistream_alert_dropped_total", map[string]string{"sink": "hang"}); got != 7 {
		t.Errorf("dropped_total{sink=hang} %g, want 7", got)
	}
	if err := d.Raise(context.Background(), Alert{Type: JobFailed, Title: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Raise after Run = %v, want ErrClosed", err)
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Run = %v, want nil (nothing pending)", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"sub-second cool-down", func(c *Config) { c.CoolDown = 1500 * time.Millisecond }, "whole number of seconds"},
		{"zero cool-down", func(c *Config) { c.CoolDown = 0 }, "at least 1s"},
		{"unknown type", func(c *Config) { c.CoolDowns = map[Type]time.Duration{"x": time.Minute} }, `type "x"`},
		{"queue", func(c *Config) { c.QueueSize = 0 }, "queue size"},
		{"attempts", func(c *Config) { c.MaxAttempts = 0 }, "attempts"},
		{"backoff", func(c *Config) { c.MaxBackoff = time.Millisecond }, "backoff"},
		{"runbook", func(c *Config) { c.Runbook = "" }, "runbook"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.modify(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNewRejectsDuplicateSinkNames(t *testing.T) {
	_, err := New(context.Background(), DefaultConfig(), &memSink{name: "a"}, &memSink{name: "a"})
	if err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("New with two sinks named a = %v, want an error naming it", err)
	}
}

// metric sums the series of a metric family in reg whose labels include
// the given ones.
func metric(tb testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	tb.Helper()
	fams, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
