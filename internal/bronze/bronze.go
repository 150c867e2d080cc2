// Package bronze is the first lakehouse stage: it consumes raw-events and
// dlq-events and commits them, in micro-batches, into the Iceberg tables
// bronze.raw_events and bronze.dlq_events, exactly once.
//
// Exactly once rests on two things. The consumed Kafka offsets are written
// into the snapshot summary of the same Iceberg commit as the rows, and on
// start (or when a partition is assigned) consumption resumes from the
// offsets of the table's latest snapshot, not from consumer-group commits.
// And every row is merged on its key (event_id, dlq_id): it is inserted only
// when absent, so producer retries, ingest restarts, replays of the whole
// topic and several bronze processes sharing the partitions add nothing
// twice.
package bronze

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sync/errgroup"

	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Config configures the bronze stage.
type Config struct {
	// RawTopic and DLQTopic are consumed into bronze.raw_events and
	// bronze.dlq_events.
	RawTopic string
	DLQTopic string
	// Group is the Kafka consumer group; processes in one group share the
	// partitions.
	Group string
	// Interval is the longest a consumed record waits before its batch is
	// committed. Default 1s: with silver and gold polling every 200ms
	// this keeps ingest → gold under 2 s (docs/PERFORMANCE.md).
	Interval time.Duration
	// BatchSize commits a batch early once it holds this many records.
	// Default 10,000: measured as fast as larger batches, with a third of the
	// memory of 100,000.
	BatchSize int
	// IndexKeys bounds how many row keys the merge index keeps in memory
	// (about 40 bytes each); older partitions are reloaded on demand.
	// Default 2,000,000.
	IndexKeys int
	// Replay, when set, starts every assigned partition at the earliest
	// record (or, with ReplayFrom, at the first record at or after that
	// time) instead of the table's offsets. Rows already present are not
	// inserted again, so a replay only fills gaps.
	Replay     bool
	ReplayFrom time.Time
	// ReplayOffset, with Replay and when not negative, starts every
	// partition at this offset.
	ReplayOffset int64
	// Logger receives progress.
	Logger *slog.Logger
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		RawTopic:     kafka.TopicRaw,
		DLQTopic:     kafka.TopicDLQ,
		Group:        "wikistream-bronze",
		ReplayOffset: -1,
		Interval:     time.Second,
		BatchSize:    10_000,
		IndexKeys:    2_000_000,
	}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.RawTopic == "" || c.DLQTopic == "" || c.RawTopic == c.DLQTopic:
		return fmt.Errorf("bronze topics: got %q and %q, want two different topic names", c.RawTopic, c.DLQTopic)
	case c.Group == "":
		return errors.New("bronze consumer group: empty; want a group name such as wikistream-bronze")
	case c.Interval <= 0:
		return fmt.Errorf("bronze interval: got %s, want a positive duration such as 2s", c.Interval)
	case c.BatchSize < 1:
		return fmt.Errorf("bronze batch size: got %d, want at least 1", c.BatchSize)
	case c.IndexKeys < 1:
		return fmt.Errorf("bronze index keys: got %d, want at least 1", c.IndexKeys)
	}
	return nil
}

// Stats are the stage's running totals.
type Stats struct {
	RawRows    int64 // rows committed to bronze.raw_events
	DLQRows    int64 // rows committed to bronze.dlq_events
	Duplicates int64 // records skipped because their key was present
	Commits    int64 // Iceberg commits
	Files      int64 // data files added
	CommitTime time.Duration
}

// Stage is the bronze stage.
type Stage struct {
	cfg     Config
	lh      *lakehouse.Lakehouse
	opts    []kgo.Opt
	metrics *Metrics
	log     *slog.Logger

	raw, dlq *sink

	mu        sync.Mutex
	stats     Stats
	committed lakehouse.Offsets // offsets committed to the tables, both topics
	progress  lakehouse.Offsets // offsets this run's own batches reached
	ends      lakehouse.Offsets // high watermarks seen in fetches
	pace      *pacer            // this run's pacing of the raw topic's partitions
}

// sink is one table and the topic feeding it.
type sink struct {
	def    lakehouse.TableDef
	topic  string
	schema *arrow.Schema
	idx    *lakehouse.KeyIndex
	rows   []row
	next   map[int32]int64 // next offsets of the records in rows
	add    func(*columns, row)
	hints  lakehouse.SizeHints
}

// New builds a bronze stage over the lakehouse, consuming with a Kafka
// client built from kafkaOpts. metrics may be nil.
func New(cfg Config, lh *lakehouse.Lakehouse, kafkaOpts []kgo.Opt, metrics *Metrics) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		metrics = NewMetrics(prometheus.NewRegistry())
	}
	s := &Stage{cfg: cfg, lh: lh, opts: kafkaOpts, metrics: metrics, log: log.With("stage", "bronze"),
		committed: lakehouse.Offsets{}, progress: lakehouse.Offsets{}, ends: lakehouse.Offsets{}}
	var err error
	if s.raw, err = newSink(lakehouse.RawEventsTable, cfg.RawTopic, cfg.IndexKeys, rawFilter, (*columns).appendRaw); err != nil {
		return nil, err
	}
	if s.dlq, err = newSink(lakehouse.DLQEventsTable, cfg.DLQTopic, cfg.IndexKeys, dlqFilter, (*columns).appendDLQ); err != nil {
		return nil, err
	}
	return s, nil
}

func newSink(def lakehouse.TableDef, topic string, indexKeys int, filter func(string) (iceberg.BooleanExpression, error), add func(*columns, row)) (*sink, error) {
	schema, err := arrowSchema(def)
	if err != nil {
		return nil, fmt.Errorf("arrow schema of %s: %w", lakehouse.Name(def.Ident), err)
	}
	keyCol := def.Fields[0].Name
	return &sink{def: def, topic: topic, schema: schema, idx: lakehouse.NewKeyIndex(keyCol, indexKeys, filter),
		next: map[int32]int64{}, add: add}, nil
}

// rawFilter selects one (event_date, event_hour) partition: "2026-11-25/13".
func rawFilter(part string) (iceberg.BooleanExpression, error) {
	var date string
	var hour int32
	if _, err := fmt.Sscanf(part, "%10s/%d", &date, &hour); err != nil {
		return nil, fmt.Errorf("bad raw partition %q: %w", part, err)
	}
	return iceberg.NewAnd(
		iceberg.EqualTo(iceberg.Reference("event_date"), date),
		iceberg.EqualTo(iceberg.Reference("event_hour"), hour)), nil
}

// dlqFilter selects one ingest_date partition.
func dlqFilter(part string) (iceberg.BooleanExpression, error) {
	return iceberg.EqualTo(iceberg.Reference("ingest_date"), part), nil
}

// Stats returns a snapshot of the running totals.
func (s *Stage) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Committed returns the offsets committed to the tables so far.
func (s *Stage) Committed() lakehouse.Offsets {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed.Clone()
}

// Progress returns the offsets that this run's own committed batches
// reached; unlike Committed it starts empty, which is what a replay needs.
func (s *Stage) Progress() lakehouse.Offsets {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress.Clone()
}

// Run consumes and commits until ctx is cancelled. What is pending when ctx
// ends is not committed; the next run consumes it again from the offsets in
// the tables.
func (s *Stage) Run(ctx context.Context) error {
	// A supervisor may run the stage again after a failure: rows pending
	// from the last run were not committed and are consumed again.
	for _, sk := range []*sink{s.raw, s.dlq} {
		sk.rows, sk.next = nil, map[int32]int64{}
	}
	for _, sk := range []*sink{s.raw, s.dlq} {
		tbl, err := s.lh.EnsureTable(ctx, sk.def)
		if err != nil {
			return fmt.Errorf("bronze: %w", err)
		}
		off, err := lakehouse.CommittedOffsets(tbl)
		if err != nil {
			return fmt.Errorf("bronze: %w", err)
		}
		s.mu.Lock()
		s.committed.Merge(lakehouse.Offsets{sk.topic: off[sk.topic]})
		s.mu.Unlock()
	}
	s.pace = newPacer(paceWindow)
	unpace := func(_ context.Context, cl *kgo.Client, gone map[string][]int32) {
		if resume := s.pace.forget(gone[s.cfg.RawTopic]); len(resume) > 0 {
			cl.ResumeFetchPartitions(map[string][]int32{s.cfg.RawTopic: resume})
		}
	}
	cl, err := kgo.NewClient(append(s.opts[:len(s.opts):len(s.opts)],
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.OnPartitionsRevoked(unpace),
		kgo.OnPartitionsLost(unpace),
		kgo.ConsumeTopics(s.cfg.RawTopic, s.cfg.DLQTopic),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(s.startOffsets),
		// Fetched records wait, decompressed, until polled: bound them.
		kgo.FetchMaxBytes(8<<20),
		kgo.FetchMaxPartitionBytes(2<<20),
		kgo.MaxConcurrentFetches(2),
	)...)
	if err != nil {
		return fmt.Errorf("bronze: kafka client: %w", err)
	}
	defer cl.Close()
	s.log.Info("bronze starting", "group", s.cfg.Group, "interval", s.cfg.Interval, "batch_size", s.cfg.BatchSize)

	// The poll loop decodes the next batch while the committer writes the
	// previous one: at most one batch commits while one fills.
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []batch)
	g.Go(func() error { // ends when the poll loop closes batches
		for bs := range batches {
			for _, b := range bs {
				if err := s.commit(gctx, b); err != nil {
					return err
				}
			}
			// Consumer-group offsets are informational (lag for tools);
			// resuming always uses the tables' offsets.
			cl.CommitOffsetsSync(gctx, groupOffsets(bs), func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
				if err != nil && gctx.Err() == nil {
					s.log.Debug("could not commit consumer-group offsets", "err", err)
				}
			})
		}
		return nil
	})
	g.Go(func() error {
		defer close(batches)
		return s.poll(gctx, cl, batches)
	})
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("bronze: %w", err)
	}
	return nil
}

// errNothingToCommit ends a commit attempt that would change nothing.
var errNothingToCommit = lakehouse.ErrNoChange

// batch is the rows of one table and the offsets they end at.
type batch struct {
	sk   *sink
	rows []row
	next map[int32]int64
}

func groupOffsets(bs []batch) map[string]map[int32]kgo.EpochOffset {
	out := map[string]map[int32]kgo.EpochOffset{}
	for _, b := range bs {
		topic := b.sk.topic
		for p, off := range b.next {
			if out[topic] == nil {
				out[topic] = map[int32]kgo.EpochOffset{}
			}
			if off > out[topic][p].Offset {
				out[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: off}
			}
		}
	}
	return out
}

// poll consumes records into batches and hands each full or old enough
// batch to the committer.
func (s *Stage) poll(ctx context.Context, cl *kgo.Client, batches chan<- []batch) error {
	var first time.Time // when the oldest pending record was consumed
	for {
		wait := s.cfg.Interval
		if !first.IsZero() {
			wait = max(time.Until(first.Add(s.cfg.Interval)), 0)
		}
		pollCtx, cancel := context.WithTimeout(ctx, wait)
		fetches := cl.PollRecords(pollCtx, s.cfg.BatchSize-s.pending())
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			if errors.Is(fe.Err, kgo.ErrClientClosed) {
				return nil
			}
			s.log.Warn("fetch error", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
		}
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Err == nil && p.HighWatermark >= 0 {
				s.mu.Lock()
				s.ends.Merge(lakehouse.Offsets{p.Topic: {p.Partition: p.HighWatermark}})
				s.mu.Unlock()
				if p.Topic == s.cfg.RawTopic {
					s.pace.fetched(p.Partition, p.HighWatermark)
				}
			}
		})
		s.updateLag()
		fetches.EachRecord(func(r *kgo.Record) {
			if first.IsZero() {
				first = time.Now()
			}
			s.add(r)
		})
		if pause, resume := s.pace.plan(); len(pause) > 0 || len(resume) > 0 {
			if len(pause) > 0 {
				cl.PauseFetchPartitions(map[string][]int32{s.cfg.RawTopic: pause})
			}
			if len(resume) > 0 {
				cl.ResumeFetchPartitions(map[string][]int32{s.cfg.RawTopic: resume})
			}
			s.log.Debug("paced partitions", "paused", pause, "resumed", resume)
		}
		if s.pending() > 0 && (s.pending() >= s.cfg.BatchSize || time.Since(first) >= s.cfg.Interval) {
			// Dead letters first: an unusable raw record's offset is
			// committed with the raw table, so its dead letter must already
			// be safe.
			var bs []batch
			for _, sk := range []*sink{s.dlq, s.raw} {
				if len(sk.rows) > 0 || len(sk.next) > 0 {
					bs = append(bs, batch{sk: sk, rows: sk.rows, next: sk.next})
					sk.rows, sk.next = nil, map[int32]int64{}
				}
			}
			select {
			case batches <- bs:
			case <-ctx.Done():
				return nil
			}
			first = time.Time{}
		}
	}
}

func (s *Stage) pending() int { return len(s.raw.rows) + len(s.dlq.rows) }

// Lag returns, per topic, the records up to the high watermarks seen in
// fetches that are not committed to the tables yet.
func (s *Stage) Lag() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{s.cfg.RawTopic: 0, s.cfg.DLQTopic: 0}
	for topic, parts := range s.ends {
		for p, end := range parts {
			out[topic] += max(end-s.committed[topic][p], 0)
		}
	}
	return out
}

func (s *Stage) updateLag() {
	for topic, n := range s.Lag() {
		s.metrics.Lag.WithLabelValues(topic).Set(float64(n))
	}
}

// startOffsets replaces the consumer-group offsets of newly assigned
// partitions with the offsets committed in the tables.
func (s *Stage) startOffsets(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	for _, sk := range []*sink{s.raw, s.dlq} {
		parts, ok := assigned[sk.topic]
		if !ok {
			continue
		}
		tbl, err := s.lh.Load(ctx, sk.def.Ident)
		if err != nil {
			return nil, err
		}
		off, err := lakehouse.CommittedOffsets(tbl)
		if err != nil {
			return nil, err
		}
		for p := range parts {
			switch {
			case s.cfg.Replay && s.cfg.ReplayOffset >= 0:
				parts[p] = kgo.NewOffset().At(s.cfg.ReplayOffset)
			case s.cfg.Replay && !s.cfg.ReplayFrom.IsZero():
				parts[p] = kgo.NewOffset().AfterMilli(s.cfg.ReplayFrom.UnixMilli())
			case s.cfg.Replay:
				parts[p] = kgo.NewOffset().AtStart()
			default:
				parts[p] = kgo.NewOffset().At(off[sk.topic][p]).WithEpoch(-1)
			}
		}
		s.log.Info("partitions assigned", "topic", sk.topic, "partitions", len(parts), "from_table", lakehouse.Name(sk.def.Ident))
	}
	return assigned, nil
}

func (s *Stage) add(r *kgo.Record) {
	sk := s.raw
	var rw row
	if r.Topic == s.cfg.DLQTopic {
		sk = s.dlq
		rw = dlqRow(r, nil)
	} else {
		rw = rawRow(r)
		if rw.dlq != nil {
			s.pace.consumed(r.Partition, r.Offset, time.Time{}) // its time is when it was seen
			// Unusable raw record: it goes to the DLQ table, but its offset
			// belongs to the raw topic's progress.
			s.dlq.rows = append(s.dlq.rows, rw)
			s.raw.next[r.Partition] = max(s.raw.next[r.Partition], r.Offset+1)
			return
		}
		s.pace.consumed(r.Partition, r.Offset, rw.ts)
	}
	sk.rows = append(sk.rows, rw)
	sk.next[r.Partition] = max(sk.next[r.Partition], r.Offset+1)
}

// commit merges a batch into its table with the consumed offsets, in one
// Iceberg commit, retrying on conflicts. Only the committer calls it, so
// the merge indexes have one owner.
func (s *Stage) commit(ctx context.Context, b batch) error {
	sk := b.sk
	start := time.Now()
	var added map[string][]lakehouse.Key
	var kept, dups int
	var files int64
	tbl, err := s.lh.Commit(ctx, sk.def.Ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		touched := map[string]bool{}
		for _, r := range b.rows {
			touched[r.part] = true
		}
		if err := sk.idx.Sync(ctx, tbl, touched); err != nil {
			return err
		}
		// Insert only rows whose key is absent from the table and from the
		// rows before them in this batch.
		var keep []row
		keep, added = lakehouse.KeepAbsent(sk.idx, b.rows, rowPart, rowKey)
		kept, dups = len(keep), len(b.rows)-len(keep)
		off, err := lakehouse.CommittedOffsets(tbl)
		if err != nil {
			return err
		}
		before := off.Encode()
		off.Merge(lakehouse.Offsets{sk.topic: b.next})
		if len(keep) == 0 && off.Encode() == before {
			// A replay of rows already present: nothing to record.
			return errNothingToCommit
		}
		props := iceberg.Properties{lakehouse.SummaryOffsets: off.Encode(), "wikistream.stage": "bronze"}
		recs := records(sk.schema, keep, time.Now().UTC(), &sk.hints, sk.add)
		return lakehouse.AppendRecords(ctx, tx, sk.schema, recs, props)
	})
	if errors.Is(err, errNothingToCommit) {
		s.mu.Lock()
		s.stats.Duplicates += int64(dups)
		s.progress.Merge(lakehouse.Offsets{sk.topic: b.next})
		s.mu.Unlock()
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit %s: %w", lakehouse.Name(sk.def.Ident), err)
	}
	if snap := tbl.CurrentSnapshot(); snap != nil && snap.Summary != nil {
		fmt.Sscan(snap.Summary.Properties["added-data-files"], &files)
	}
	sk.idx.Committed(lakehouse.SnapshotID(tbl), added)
	elapsed := time.Since(start)
	s.mu.Lock()
	s.committed.Merge(lakehouse.Offsets{sk.topic: b.next})
	s.progress.Merge(lakehouse.Offsets{sk.topic: b.next})
	if sk == s.raw {
		s.stats.RawRows += int64(kept)
	} else {
		s.stats.DLQRows += int64(kept)
	}
	s.stats.Duplicates += int64(dups)
	s.stats.Commits++
	s.stats.Files += files
	s.stats.CommitTime += elapsed
	s.mu.Unlock()
	name := lakehouse.Name(sk.def.Ident)
	now := time.Now()
	latency := s.metrics.Latency.WithLabelValues(name)
	for _, r := range b.rows {
		latency.Observe(now.Sub(r.ingested).Seconds())
	}
	s.updateLag()
	s.metrics.Records.WithLabelValues(name).Add(float64(kept))
	s.metrics.Duplicates.WithLabelValues(name).Add(float64(dups))
	s.metrics.CommitSeconds.WithLabelValues(name).Observe(elapsed.Seconds())
	s.metrics.LastCommit.WithLabelValues(name).SetToCurrentTime()
	s.log.Debug("committed", "table", name, "rows", kept, "duplicates", dups, "files", files, "seconds", elapsed.Seconds())
	return nil
}
