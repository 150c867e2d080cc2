package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sink delivers alerts somewhere. Send either delivers the whole batch or
// returns an error, after which the dispatcher sends the same batch again
// (with backoff, up to Config.MaxAttempts); a sink that delivers alert by
// alert may therefore deliver one twice, and receivers deduplicate on
// alert_id. An error wrapping ErrPermanent is not retried.
//
// A sink may also implement
//
//	MaxBatch() int             // the most alerts one Send takes (default 1)
//	RecordsSuppressed() bool   // true: it also gets suppressed repeats
//	Recent(ctx, since) ([]Record, error) // New seeds the cool-down from it
type Sink interface {
	// Name labels the sink's metrics and logs; unique per dispatcher.
	Name() string
	// Send delivers a batch of alerts.
	Send(ctx context.Context, batch []Alert) error
}

// Optional sink capabilities (see Sink).
type (
	batcher  interface{ MaxBatch() int }
	recorder interface{ RecordsSuppressed() bool }
	seeder   interface {
		Recent(ctx context.Context, since time.Time) ([]Record, error)
	}
)

// Record is an alert recorded before: what New needs to restore the
// cool-down state.
type Record struct {
	ID         string
	CreatedAt  time.Time
	Suppressed bool
}

// Raiser raises alerts; *Dispatcher is one. Stages take a Raiser.
type Raiser interface {
	Raise(ctx context.Context, a Alert) error
}

// Errors a caller may want to tell apart.
var (
	// ErrClosed: the dispatcher's Run has ended; the alert was not queued.
	ErrClosed = errors.New("alert dispatcher is closed")
	// ErrPermanent marks a sink error that retrying cannot fix (an HTTP
	// 4xx other than 408 and 429, a body the receiver rejects).
	ErrPermanent = errors.New("permanent failure")
)

// RiskCoolDown is the default cool-down of risk_high alerts: their key
// holds the day, and 8 days outlast the 7 days of lateness gold accepts,
// so a late event that recomputes a past day never re-sends its alerts.
const RiskCoolDown = 192 * time.Hour

// Config configures a Dispatcher. DefaultConfig gives every default.
type Config struct {
	// CoolDown is how long after an alert is sent its repeats (same Type
	// and Key) are suppressed. A whole number of seconds. Default 30m.
	CoolDown time.Duration
	// CoolDowns overrides CoolDown per type. Default: risk_high 192h (the
	// key holds the day; 8 days outlast gold's 7 days of lateness).
	CoolDowns map[Type]time.Duration
	// QueueSize bounds each sink's queue of alerts waiting to be sent.
	// Default 256.
	QueueSize int
	// EnqueueWait is the longest Raise waits for room in full queues; an
	// alert that finds no room is dropped for that sink, logged and counted
	// in wikistream_alert_dropped_total. Default 50ms.
	EnqueueWait time.Duration
	// SendTimeout bounds one Send. Default 10s.
	SendTimeout time.Duration
	// MaxAttempts is how often a batch is tried per sink before it is
	// dropped. Default 5.
	MaxAttempts int
	// RetryBackoff is the wait after the first failed attempt; it doubles
	// up to MaxBackoff, with jitter. Defaults 500ms and 30s.
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// DrainTimeout is how long Run keeps delivering queued alerts after
	// its context ends. Default 5s.
	DrainTimeout time.Duration
	// Runbook is the path or URL of docs/RUNBOOK.md that alerts link to,
	// with the alert type as the anchor. Default DefaultRunbook.
	Runbook string
	// Logger receives delivery failures and drops. Default: discard.
	Logger *slog.Logger
	// Registerer gets the dispatcher's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		CoolDown:     30 * time.Minute,
		CoolDowns:    map[Type]time.Duration{RiskHigh: RiskCoolDown},
		QueueSize:    256,
		EnqueueWait:  50 * time.Millisecond,
		SendTimeout:  10 * time.Second,
		MaxAttempts:  5,
		RetryBackoff: 500 * time.Millisecond,
		MaxBackoff:   30 * time.Second,
		DrainTimeout: 5 * time.Second,
		Runbook:      DefaultRunbook,
		Now:          time.Now,
	}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	checkCoolDown := func(name string, d time.Duration) error {
		if d < time.Second || d%time.Second != 0 {
			return fmt.Errorf("alert %s: got %s, want a whole number of seconds, at least 1s", name, d)
		}
		return nil
	}
	if err := checkCoolDown("cool-down", c.CoolDown); err != nil {
		return err
	}
	for t, d := range c.CoolDowns {
		if !t.Valid() {
			return fmt.Errorf("alert cool-down for type %q: want one of %v", t, Types)
		}
		if err := checkCoolDown("cool-down of "+string(t), d); err != nil {
			return err
		}
	}
	switch {
	case c.QueueSize < 1:
		return fmt.Errorf("alert queue size: got %d, want at least 1", c.QueueSize)
	case c.EnqueueWait < 0:
		return fmt.Errorf("alert enqueue wait: got %s, want 0 or more", c.EnqueueWait)
	case c.SendTimeout <= 0:
		return fmt.Errorf("alert send timeout: got %s, want a positive duration", c.SendTimeout)
	case c.MaxAttempts < 1:
		return fmt.Errorf("alert send attempts: got %d, want at least 1", c.MaxAttempts)
	case c.RetryBackoff <= 0 || c.MaxBackoff < c.RetryBackoff:
		return fmt.Errorf("alert retry backoff: got %s up to %s, want a positive duration up to a maximum no smaller",
			c.RetryBackoff, c.MaxBackoff)
	case c.DrainTimeout < 0:
		return fmt.Errorf("alert drain timeout: got %s, want 0 or more", c.DrainTimeout)
	case c.Runbook == "":
		return errors.New("alert runbook link is empty; want a path or URL of docs/RUNBOOK.md")
	case c.Now == nil:
		return errors.New("alert clock (Now) is nil")
	}
	return nil
}

// coolDown is the cool-down of type t.
func (c Config) coolDown(t Type) time.Duration {
	if d, ok := c.CoolDowns[t]; ok {
		return d
	}
	return c.CoolDown
}

// longestCoolDown is the longest cool-down of any type.
func (c Config) longestCoolDown() time.Duration {
	d := c.CoolDown
	for _, v := range c.CoolDowns {
		d = max(d, v)
	}
	return d
}

// Dispatcher raises alerts: it suppresses repeats within the cool-down and
// delivers the rest to its sinks asynchronously, each sink from its own
// bounded queue with its own retries, so a slow or failing sink delays
// none of the others and never the caller for long. It is safe for
// concurrent use.
type Dispatcher struct {
	cfg  Config
	log  *slog.Logger
	outs []*output
	m    metrics

	mu        sync.Mutex
	sent      map[string]time.Time // alert_id → created_at, of sent alerts within the longest cool-down
	recorded  map[string]time.Time // alert_id → created_at, of suppressed rows already queued
	lastPrune time.Time
	pending   int           // alerts queued and not yet delivered or dropped
	idle      chan struct{} // closed when pending drops to 0
	started   bool

	closeMu sync.RWMutex // Raise holds it shared while queueing; Run takes it to close
	closed  bool
}

// output is one sink and its queue.
type output struct {
	sink       Sink
	name       string
	queue      chan Alert
	batch      int
	suppressed bool
}

type metrics struct {
	raised, suppressed, sinkErrors, sent, dropped *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{
		raised: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wikistream_alert_raised_total",
			Help: "Alerts raised, suppressed repeats included."}, []string{"type", "severity"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wikistream_alert_suppressed_total",
			Help: "Alerts suppressed as repeats within their cool-down."}, []string{"type"}),
		sinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wikistream_alert_sink_errors_total",
			Help: "Failed attempts to deliver a batch of alerts to a sink."}, []string{"sink"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wikistream_alert_sent_total",
			Help: "Alerts delivered to a sink."}, []string{"sink"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wikistream_alert_dropped_total",
			Help: "Alerts given up for a sink: queue full, attempts exhausted, or not drained in time."}, []string{"sink"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.raised, m.suppressed, m.sinkErrors, m.sent, m.dropped} {
			if err := reg.Register(c); err != nil {
				return m, fmt.Errorf("register alert metrics: %w", err)
			}
		}
	}
	return m, nil
}

// New builds a dispatcher over the sinks and seeds its cool-down state
// from every sink that keeps a record (the TableSink: ops.alerts), reading
// back the longest cool-down. It starts nothing: alerts raised before Run
// wait in the queues.
func New(ctx context.Context, cfg Config, sinks ...Sink) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.CoolDowns = maps.Clone(cfg.CoolDowns)
	d := &Dispatcher{
		cfg:      cfg,
		log:      log.With("component", "alert"),
		sent:     map[string]time.Time{},
		recorded: map[string]time.Time{},
	}
	names := map[string]bool{}
	for _, s := range sinks {
		if s == nil {
			return nil, errors.New("alert: nil sink")
		}
		name := s.Name()
		if names[name] {
			return nil, fmt.Errorf("alert: two sinks are named %q; want unique names", name)
		}
		names[name] = true
		o := &output{sink: s, name: name, queue: make(chan Alert, cfg.QueueSize), batch: 1}
		if b, ok := s.(batcher); ok && b.MaxBatch() > 1 {
			o.batch = b.MaxBatch()
		}
		if r, ok := s.(recorder); ok {
			o.suppressed = r.RecordsSuppressed()
		}
		d.outs = append(d.outs, o)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	d.m = m
	since := cfg.Now().Add(-cfg.longestCoolDown())
	for _, s := range sinks {
		sd, ok := s.(seeder)
		if !ok {
			continue
		}
		recs, err := sd.Recent(ctx, since)
		if err != nil {
			return nil, fmt.Errorf("alert: seed cool-downs from sink %s: %w", s.Name(), err)
		}
		for _, r := range recs {
			if r.Suppressed {
				d.recorded[r.ID] = r.CreatedAt
			} else {
				d.sent[r.ID] = r.CreatedAt
			}
		}
		d.log.Debug("seeded alert cool-downs", "sink", s.Name(), "records", len(recs), "since", since)
	}
	return d, nil
}

// Raise fills in the alert's defaults, decides whether it repeats one
// within the cool-down, and queues it for the sinks: a new alert for
// every sink, a suppressed repeat only for those that record repeats (and
// once per key and cool-down window). It returns an error only for an
// invalid alert and after Run has ended (ErrClosed); a sink whose queue
// stays full for Config.EnqueueWait loses the alert, which is logged and
// counted.
func (d *Dispatcher) Raise(ctx context.Context, a Alert) error {
	a.ID, a.Suppressed = "", false // Raise decides both
	if a.CreatedAt.IsZero() {
		a.CreatedAt = d.cfg.Now()
	}
	a.CreatedAt = a.CreatedAt.UTC().Truncate(time.Microsecond) // what ops.alerts keeps
	if a.Severity == "" {
		a.Severity = DefaultSeverity(a.Type)
	}
	if a.Runbook == "" {
		a.Runbook = RunbookLink(d.cfg.Runbook, a.Type)
	}
	if err := a.validate(); err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	// A copy of the evidence through JSON: the sinks read it concurrently
	// and later than the caller, who may reuse the map, and it proves the
	// evidence encodes.
	ev, err := json.Marshal(a.Evidence)
	if err != nil {
		return fmt.Errorf("raise alert %q: encode evidence: %w", a.Title, err)
	}
	a.Evidence = nil
	json.Unmarshal(ev, &a.Evidence) // cannot fail: ev is an object, or null for nil evidence
	if a.Evidence == nil {
		a.Evidence = map[string]any{}
	}

	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	a, record := d.decide(a)
	d.m.raised.WithLabelValues(string(a.Type), string(a.Severity)).Inc()
	if a.Suppressed {
		d.m.suppressed.WithLabelValues(string(a.Type)).Inc()
		if !record {
			return nil
		}
	}
	var targets []*output
	for _, o := range d.outs {
		if !a.Suppressed || o.suppressed {
			targets = append(targets, o)
		}
	}
	d.enqueue(ctx, a, targets)
	return nil
}

// decide marks a as suppressed or not and gives it its id. record is false
// for a suppressed repeat whose window already has a recorded row.
func (d *Dispatcher) decide(a Alert) (Alert, bool) {
	cd := d.cfg.coolDown(a.Type)
	win := window(a.CreatedAt, cd)
	cur := alertID(a.Type, a.Key, win, false)
	prev := alertID(a.Type, a.Key, win.Add(-cd), false)

	d.mu.Lock()
	defer d.mu.Unlock()
	d.prune(a.CreatedAt)
	_, inWindow := d.sent[cur]
	prevAt, inPrev := d.sent[prev]
	if inWindow || (inPrev && a.CreatedAt.Sub(prevAt) < cd) {
		a.Suppressed = true
		a.ID = alertID(a.Type, a.Key, win, true)
		if _, done := d.recorded[a.ID]; done {
			return a, false
		}
		d.recorded[a.ID] = a.CreatedAt
		return a, true
	}
	a.ID = cur
	d.sent[cur] = a.CreatedAt
	return a, true
}

// prune forgets ids older than the longest cool-down, at most once a
// minute. d.mu is held.
func (d *Dispatcher) prune(now time.Time) {
	if now.Sub(d.lastPrune) < time.Minute {
		return
	}
	d.lastPrune = now
	// Two longest cool-downs: a window's start can lie up to one cool-down
	// before the alert that identifies it.
	horizon := now.Add(-2 * d.cfg.longestCoolDown())
	for _, m := range []map[string]time.Time{d.sent, d.recorded} {
		maps.DeleteFunc(m, func(_ string, t time.Time) bool { return t.Before(horizon) })
	}
}

// enqueue puts a on every target's queue, waiting at most EnqueueWait in
// all for room. d.closeMu is held shared.
func (d *Dispatcher) enqueue(ctx context.Context, a Alert, targets []*output) {
	var waitCtx context.Context // one deadline for all sinks; its Done stays closed once it passed
	for _, o := range targets {
		d.addPending(1)
		select {
		case o.queue <- a:
			continue
		default:
		}
		if waitCtx == nil {
			var cancel context.CancelFunc
			waitCtx, cancel = context.WithTimeout(ctx, d.cfg.EnqueueWait)
			defer cancel()
		}
		select {
		case o.queue <- a:
		case <-waitCtx.Done():
			reason := "queue full"
			if ctx.Err() != nil {
				reason = "raise canceled"
			}
			d.drop(o, []Alert{a}, reason)
		}
	}
}

// drop gives up alerts for a sink.
func (d *Dispatcher) drop(o *output, batch []Alert, reason string) {
	d.m.dropped.WithLabelValues(o.name).Add(float64(len(batch)))
	for _, a := range batch {
		d.log.Warn("alert dropped", "sink", o.name, "reason", reason, "alert_id", a.ID,
			"alert_type", a.Type, "title", a.Title)
	}
	d.addPending(-len(batch))
}

func (d *Dispatcher) addPending(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending == 0 && n > 0 {
		d.idle = make(chan struct{})
	}
	d.pending += n
	if d.pending == 0 && d.idle != nil {
		close(d.idle)
		d.idle = nil
	}
}

// Flush waits until every alert queued so far has been delivered or given
// up, or ctx ends. It needs Run to be running.
func (d *Dispatcher) Flush(ctx context.Context) error {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush alerts: %w", ctx.Err())
	}
}

// Run delivers queued alerts until ctx ends. Then it stops taking alerts
// (Raise returns ErrClosed), keeps delivering what is queued for up to
// Config.DrainTimeout, drops the rest, and returns nil. Run may be called
// once.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return errors.New("alert: dispatcher Run called twice")
	}
	d.started = true
	d.mu.Unlock()

	// sendCtx outlives ctx by the drain timeout.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopDrainTimer := context.AfterFunc(ctx, func() { time.AfterFunc(d.cfg.DrainTimeout, cancelSend) })
	defer stopDrainTimer()

	stop := make(chan struct{}) // closed once Raise queues nothing more
	var wg sync.WaitGroup
	for _, o := range d.outs {
		wg.Go(func() { d.work(sendCtx, stop, o) }) // ends once stop is closed and the queue is empty
	}
	<-ctx.Done()
	d.closeMu.Lock() // waits for Raise calls in flight, each bounded by EnqueueWait
	d.closed = true
	d.closeMu.Unlock()
	close(stop)
	wg.Wait()
	return nil
}

// work delivers one sink's queue in batches until stop is closed and the
// queue is empty. Once sendCtx has ended, what is left is dropped.
func (d *Dispatcher) work(sendCtx context.Context, stop <-chan struct{}, o *output) {
	for {
		var first Alert
		select {
		case first = <-o.queue:
		case <-stop:
			select {
			case first = <-o.queue:
			default:
				return
			}
		}
		batch := []Alert{first}
	fill:
		for len(batch) < o.batch {
			select {
			case a := <-o.queue:
				batch = append(batch, a)
			default:
				break fill
			}
		}
		if sendCtx.Err() != nil {
			d.drop(o, batch, "not drained in time")
			continue
		}
		d.deliver(sendCtx, o, batch)
	}
}

// deliver sends one batch to one sink, retrying with backoff.
func (d *Dispatcher) deliver(ctx context.Context, o *output, batch []Alert) {
	backoff := d.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
		err := o.sink.Send(sctx, batch)
		cancel()
		if err == nil {
			d.m.sent.WithLabelValues(o.name).Add(float64(len(batch)))
			d.addPending(-len(batch))
			return
		}
		d.m.sinkErrors.WithLabelValues(o.name).Inc()
		last := attempt >= d.cfg.MaxAttempts || errors.Is(err, ErrPermanent) || ctx.Err() != nil
		d.log.Warn("alert sink failed", "sink", o.name, "attempt", attempt, "alerts", len(batch),
			"giving_up", last, "err", err)
		if last {
			d.drop(o, batch, "delivery failed")
			return
		}
		wait := jitter(backoff)
		backoff = min(2*backoff, d.cfg.MaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			d.drop(o, batch, "not drained in time")
			return
		case <-t.C:
		}
	}
}

// jitter spreads a wait over [d/2, 3d/2).
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d) }
