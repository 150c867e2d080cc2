// Package ingest is the first stage of WikiStream: it reads recentchange
// events from a source (EventStreams or a file), validates them and produces
// every one of them into Kafka: valid events to raw-events, keyed by domain
// so one wiki's events stay ordered, and rejected ones to dlq-events with the
// original bytes and the reason. Each record carries its source position, so
// a restarted ingest resumes where the broker last acknowledged.
package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/source"
)

// Source is where events come from; internal/source implements it.
type Source interface {
	Name() string
	Run(ctx context.Context, resume string, emit func(ctx context.Context, m source.Message) error) error
}

// Config configures the ingest stage.
type Config struct {
	// RawTopic and DLQTopic are the topics valid and rejected events go to.
	RawTopic string
	DLQTopic string
	// Partitions and Replication are used when the topics must be created.
	Partitions  int32
	Replication int16
	// Filter selects the domains to keep. Default: every Wikipedia edition.
	Filter recentchange.Filter
	// Limits bound what validation accepts.
	Limits recentchange.Limits
	// Resume continues after the last position produced from the same
	// source, read back from the topics. Default true.
	Resume bool
	// Backfill marks a one-off re-ingest beside the live one: it neither
	// resumes nor saves checkpoints, and labels its records' source
	// "backfill:<source>" so the live ingest's resume position is not taken
	// from them.
	Backfill bool
	// StopAt, when set, ends the run at the first valid event stamped at or
	// after it (a backfill from EventStreams up to where live ingest began).
	StopAt time.Time
	// Now is the ingest clock. Default time.Now.
	Now func() time.Time
	// Logger receives progress and errors.
	Logger *slog.Logger
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	f, _ := recentchange.ParseFilter(recentchange.FilterWikipedia)
	return Config{
		RawTopic:    kafka.TopicRaw,
		DLQTopic:    kafka.TopicDLQ,
		Partitions:  6,
		Replication: -1,
		Filter:      f,
		Limits:      recentchange.DefaultLimits(),
		Resume:      true,
		Now:         time.Now,
	}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.RawTopic == "" || c.DLQTopic == "":
		return errors.New("ingest topics: raw and dead-letter topic names must not be empty")
	case c.RawTopic == c.DLQTopic:
		return fmt.Errorf("ingest topics: raw and dead-letter topic are both %q; want two topics", c.RawTopic)
	case c.Partitions < 1:
		return fmt.Errorf("partitions: got %d, want at least 1", c.Partitions)
	case c.Filter.String() == "":
		return errors.New("domain filter: not set; want high-activity, wikipedia, all or a list of domains")
	}
	return c.Limits.Validate()
}

// Stats are the stage's running totals.
type Stats struct {
	Read     int64            // messages read from the source
	Produced int64            // records acknowledged on the raw topic
	DLQ      int64            // records acknowledged on the dead-letter topic
	Filtered int64            // events of domains the filter drops
	Canary   int64            // canary events dropped
	Reasons  map[string]int64 // dead letters by reason
	Resumed  string           // the position ingest resumed from, if any
}

// Stage is the ingest stage.
type Stage struct {
	cfg     Config
	src     Source
	opts    []kgo.Opt
	metrics *Metrics
	log     *slog.Logger

	wm       watermark
	read     atomic.Int64
	produced atomic.Int64
	dlq      atomic.Int64
	filtered atomic.Int64
	canary   atomic.Int64

	mu      sync.Mutex
	reasons map[string]int64
	resumed string
	failure error // first produce failure; stops the stage
}

// New builds an ingest stage reading src and producing through a Kafka
// client built from kafkaOpts (kafka.ClientConfig.Opts). metrics may be nil.
func New(cfg Config, src Source, kafkaOpts []kgo.Opt, metrics *Metrics) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		metrics = NewMetrics(prometheus.NewRegistry())
	}
	return &Stage{cfg: cfg, src: src, opts: kafkaOpts, metrics: metrics,
		log: logger.With("stage", "ingest"), reasons: map[string]int64{}}, nil
}

// Stats returns a snapshot of the running totals.
func (s *Stage) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Read: s.read.Load(), Produced: s.produced.Load(), DLQ: s.dlq.Load(),
		Filtered: s.filtered.Load(), Canary: s.canary.Load(),
		Reasons: maps.Clone(s.reasons), Resumed: s.resumed,
	}
}

// Position is the position a restarted ingest would resume from now.
func (s *Stage) Position() string { return s.wm.position() }

// Run ingests until the source ends (a file) or ctx is cancelled (a live
// stream), then waits for every produced record to be acknowledged.
func (s *Stage) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(append(s.opts[:len(s.opts):len(s.opts)],
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordDeliveryTimeout(2*time.Minute),
		kgo.ProducerBatchMaxBytes(1<<20),
	)...)
	if err != nil {
		return fmt.Errorf("ingest: kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := kafka.EnsureTopics(ctx, adm, s.cfg.Partitions, s.cfg.Replication, s.cfg.RawTopic, s.cfg.DLQTopic); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	resume := ""
	// Standard input has no identity across runs: a new pipe starts over.
	persist := s.src.Name() != "stdin" && !s.cfg.Backfill
	if s.cfg.Resume && persist {
		if resume, err = s.findResume(ctx, adm); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	s.wm.reset(resume)
	s.mu.Lock()
	s.resumed = resume
	s.mu.Unlock()
	s.log.Info("ingest starting", "source", s.src.Name(), "resume", resume, "filter", s.cfg.Filter.String())

	saved := resume
	var wg sync.WaitGroup
	stopCheckpoints := make(chan struct{})
	if persist {
		wg.Add(1)
		go func() { // ends when the source is done
			defer wg.Done()
			tick := time.NewTicker(checkpointEvery)
			defer tick.Stop()
			for {
				select {
				case <-stopCheckpoints:
					return
				case <-tick.C:
					s.checkpoint(ctx, adm, &saved)
				}
			}
		}()
	}
	runErr := s.src.Run(ctx, resume, func(ctx context.Context, m source.Message) error {
		return s.handle(ctx, cl, m)
	})
	close(stopCheckpoints)
	wg.Wait()
	// Wait for what is in flight even when ctx is done, but not forever.
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	flushErr := cl.Flush(flushCtx)
	if flushErr == nil && persist && s.failed() == nil {
		// Everything is acknowledged: the position is exact.
		s.checkpoint(flushCtx, adm, &saved)
	}
	if err := s.failed(); err != nil {
		return fmt.Errorf("ingest: produce: %w", err)
	}
	if errors.Is(runErr, errStopAt) {
		runErr = nil
	}
	if runErr != nil {
		if ctx.Err() != nil && errors.Is(runErr, ctx.Err()) {
			return nil
		}
		return fmt.Errorf("ingest: read %s: %w", s.src.Name(), runErr)
	}
	if flushErr != nil {
		return fmt.Errorf("ingest: flush: %w", flushErr)
	}
	st := s.Stats()
	s.log.Info("ingest finished", "source", s.src.Name(), "read", st.Read, "produced", st.Produced,
		"dead_lettered", st.DLQ, "filtered", st.Filtered, "canary", st.Canary)
	return nil
}

// findResume returns where to continue reading the source: the newer of
// the checkpoint saved when ingest last stopped cleanly (or last saved it
// while running) and the resume header of the newest record produced from
// the source, read back from the last record of every partition. The
// header covers a crash between checkpoints; the checkpoint covers the
// records still in flight when the newest record was produced.
func (s *Stage) findResume(ctx context.Context, adm *kadm.Client) (string, error) {
	cp, err := kafka.LoadCheckpoint(ctx, adm, s.cfg.RawTopic, s.src.Name())
	if err != nil {
		return "", err
	}
	recs, err := kafka.LastRecords(ctx, s.opts, s.cfg.RawTopic, s.cfg.DLQTopic)
	if err != nil {
		return "", err
	}
	recs = slices.DeleteFunc(recs, func(r *kgo.Record) bool {
		return kafka.Header(r, kafka.HeaderSource) != s.src.Name()
	})
	if len(recs) == 0 {
		return cp.Position, nil
	}
	newest := slices.MaxFunc(recs, func(a, b *kgo.Record) int {
		return cmp.Compare(a.Timestamp.UnixNano(), b.Timestamp.UnixNano())
	})
	if !cp.At.IsZero() && !cp.At.Before(newest.Timestamp) {
		return cp.Position, nil
	}
	return kafka.Header(newest, kafka.HeaderResume), nil
}

// checkpointEvery is how often a running ingest saves its position.
const checkpointEvery = 5 * time.Second

// checkpoint saves the current resume position if it moved since last.
func (s *Stage) checkpoint(ctx context.Context, adm *kadm.Client, last *string) {
	pos := s.wm.position()
	if pos == "" || pos == *last {
		return
	}
	cp := kafka.Checkpoint{Source: s.src.Name(), Position: pos, At: time.Now().UTC()}
	if err := kafka.SaveCheckpoint(ctx, adm, s.cfg.RawTopic, cp); err != nil {
		s.log.Warn("could not save the ingest checkpoint; a restart re-reads a little more", "err", err)
		return
	}
	*last = pos
}

func (s *Stage) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// handle validates one message and produces it. It returns an error only
// when producing has failed, which stops the source.
func (s *Stage) handle(ctx context.Context, cl *kgo.Client, m source.Message) error {
	if err := s.failed(); err != nil {
		return err
	}
	now := s.cfg.Now()
	s.read.Add(1)
	s.metrics.Read.Inc()
	s.metrics.BytesRead.Add(float64(len(m.Data)))
	seq := s.wm.push(m.Position)

	var ev *recentchange.Event
	var err error
	if m.Oversize {
		err = &recentchange.Invalid{Reason: recentchange.ReasonOversize,
			Detail: fmt.Sprintf("event was cut at %d bytes by the source's size limit", len(m.Data))}
	} else {
		// The message's bytes are ours and become the record's value,
		// which nothing changes: the event may share them. It does not
		// outlive this call.
		ev, err = recentchange.DecodeShared(m.Data, now, s.cfg.Limits)
		if err == nil && !s.cfg.StopAt.IsZero() && !time.Unix(*ev.Timestamp, 0).Before(s.cfg.StopAt) {
			s.wm.ack(seq)
			return errStopAt
		}
	}
	domain := ""
	if ev != nil {
		domain = ev.Domain()
		if ev.IsCanary() {
			s.canary.Add(1)
			s.metrics.Canary.Inc()
			s.wm.ack(seq)
			return nil
		}
		if domain != "" && !s.cfg.Filter.Keep(domain) {
			s.filtered.Add(1)
			s.metrics.Filtered.Inc()
			s.wm.ack(seq)
			return nil
		}
	}
	headers := []kgo.RecordHeader{
		{Key: kafka.HeaderSource, Value: []byte(s.sourceLabel())},
		{Key: kafka.HeaderPosition, Value: []byte(m.Position)},
		{Key: kafka.HeaderResume, Value: []byte(s.wm.position())},
		{Key: kafka.HeaderIngestedAt, Value: now.UTC().AppendFormat(nil, time.RFC3339Nano)},
	}
	rec := &kgo.Record{Value: m.Data} // the client stamps it with the wall clock
	if domain != "" {
		rec.Key = []byte(domain)
	}
	if err != nil {
		reason := string(recentchange.ReasonOf(err))
		if reason == "" {
			reason = "invalid"
		}
		rec.Topic = s.cfg.DLQTopic
		rec.Headers = append(headers,
			kgo.RecordHeader{Key: kafka.HeaderReason, Value: []byte(reason)},
			kgo.RecordHeader{Key: kafka.HeaderDetail, Value: []byte(err.Error())},
			kgo.RecordHeader{Key: kafka.HeaderWhere, Value: []byte(m.Where)},
		)
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { s.acked(seq, reason, err) })
		return nil
	}
	rec.Topic = s.cfg.RawTopic
	rec.Headers = append(headers, kgo.RecordHeader{Key: kafka.HeaderEventID, Value: []byte(ev.EventID())})
	cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { s.acked(seq, "", err) })
	return nil
}

// errStopAt ends a run that reached Config.StopAt.
var errStopAt = errors.New("reached the stop time")

// sourceLabel is the source named in produced records.
func (s *Stage) sourceLabel() string {
	if s.cfg.Backfill {
		return "backfill:" + s.src.Name()
	}
	return s.src.Name()
}

// acked runs when the broker answered for a record; reason is empty for a
// valid event.
func (s *Stage) acked(seq uint64, reason string, err error) {
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return // shutting down: the watermark stays before this message
		}
		s.mu.Lock()
		if s.failure == nil {
			s.failure = err
		}
		s.mu.Unlock()
		s.metrics.ProduceErrors.Inc()
		return // the watermark stays before this message: a restart re-reads it
	}
	s.wm.ack(seq)
	if reason == "" {
		s.produced.Add(1)
		s.metrics.Produced.Inc()
		return
	}
	s.dlq.Add(1)
	s.metrics.DLQ.WithLabelValues(reason).Inc()
	s.mu.Lock()
	s.reasons[reason]++
	s.mu.Unlock()
}
