package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
)

// Table maintenance keeps the streaming tables small and fast: each run
// compacts small files (compact.go), merges the manifests of closed days
// apart from the open day's (manifests.go), expires old snapshots and deletes the files
// only they referenced (expire.go), and removes orphan files (orphans.go),
// one table after another.
//
// Maintenance never changes what a table holds, and it keeps the
// bookkeeping the stages resume from:
//   - every compaction snapshot carries the newest wikistream.* summary
//     properties (bronze's Kafka offsets, silver's and gold's checkpoints;
//     Bookkeeping). The manifest rewrite's cannot: iceberg-go's
//     RewriteManifests takes no summary properties. Readers walk back from
//     the latest snapshot to the newest that carries them (CommittedOffsets,
//     ReadCheckpoint);
//   - expiry keeps history contiguous and never expires the newest snapshot
//     carrying such a property;
//   - compaction rewrites only files that every downstream consumer has
//     already read and gives the new files the data sequence number of
//     their newest input, so AddedSince neither misses nor repeats a row
//     (see the watermark rule in compact.go).

// MaintainConfig configures a Maintainer. A zero field is invalid; start
// from DefaultMaintainConfig.
type MaintainConfig struct {
	// Tables are maintained in this order. Default: Tables(), every
	// WikiStream table. A table that does not exist yet is skipped.
	Tables []table.Identifier
	// Interval is how often Run maintains every table. Default 1h.
	Interval time.Duration
	// FirstRunAfter is how long after Run starts its first full run
	// comes; 0: at once. A process started late in a busy day reads the
	// day back and catches up meanwhile: compacting what a replay left at
	// the same time made the first minute's events late (freshness p99
	// over 4 minutes 4.7 s; 2.2 s with the run 2 minutes in). Default 2m.
	FirstRunAfter time.Duration
	// ExpireInterval is how often Run expires snapshots between two full
	// runs; 0 expires only in full runs. Every snapshot is listed in the
	// metadata file that each commit rewrites: at a commit a second, the
	// snapshots of one hour made a bronze commit take ~20x longer in
	// measurements, so streaming tables are trimmed more often. Expiry is a
	// metadata-only commit. Default 5m.
	ExpireInterval time.Duration

	// TargetFileSize is the size compaction writes files toward, in bytes.
	// Files of at least three quarters of it are left alone. Default 256 MiB,
	// as the original design specifies.
	TargetFileSize int64
	// MinInputFiles is how many small files a partition must hold before it
	// is compacted; it keeps a closed partition that received a few late
	// rows from being rewritten every run. Default 5.
	MinInputFiles int
	// Policies says, per table name ("bronze.raw_events"), how rows are
	// sorted in rewritten files and whether the open partition is skipped.
	// A table without one is compacted unsorted, open partition included.
	// Default DefaultPolicies().
	Policies map[string]TablePolicy
	// SortBufferBytes bounds the Arrow memory holding one sorted run. A
	// compaction group holding more rows is sorted in runs of consecutive
	// inputs, written one after the other into files of about
	// TargetFileSize. Compaction needs a few times this (the run, its
	// sorted copy, the run the writer is encoding, and the Go heap's
	// headroom): with 256 MiB, compacting a day of 1.5M events peaked at
	// 1.7 GB of RSS, with 32 MiB 0.87 GB, with 16 MiB 0.61–0.63 GB, as
	// fast (docs/PERFORMANCE.md, session 29). Default 16 MiB.
	SortBufferBytes int64
	// Consumers lists, per upstream table name, the tables that read it
	// incrementally and keep a checkpoint on it (AddedSince). Compaction of
	// the upstream waits until each consumer exists and has a checkpoint.
	// Tables found carrying a checkpoint on it count as consumers too.
	// Default DefaultConsumers().
	Consumers map[string][]table.Identifier

	// KeepSnapshots is how many of the newest snapshots are always kept.
	// Default 10 (original design).
	KeepSnapshots int
	// SnapshotMaxAge: snapshots older than this are expired unless they are
	// among the newest KeepSnapshots. Default 168h (original design).
	SnapshotMaxAge time.Duration
	// MaxSnapshots caps how many snapshots SnapshotMaxAge keeps; 0 means no
	// cap. At a commit a second, 168h is about 600,000 snapshots, every one
	// of them in each metadata file a commit rewrites; the cap keeps the
	// streaming tables' history to the newest MaxSnapshots (about 8 minutes
	// at a commit a second) while slow tables (ops.*, dead letters) keep
	// the full 168h. Default 500.
	MaxSnapshots int

	// OrphanAge: files under a table's location that no metadata references
	// are deleted once older than this. Writers in flight have files not yet
	// referenced, so it must be far longer than any commit. Default 168h;
	// at least 1h.
	OrphanAge time.Duration

	// DryRun plans and reports without changing anything: the files
	// compaction would rewrite, the snapshots expiry would remove and the
	// orphans it would delete.
	DryRun bool

	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives progress. Default: discard.
	Logger *slog.Logger
	// Registerer, when set, receives the wikistream_maintain_* metrics.
	Registerer prometheus.Registerer
}

// TablePolicy is how compaction treats one table.
type TablePolicy struct {
	// SortBy are the columns rows are ordered by in rewritten files, the
	// event time first, so that time-range queries read few row groups; a
	// column followed by " DESC" is descending. Empty: inputs are packed as
	// they are.
	SortBy []string
	// SkipOpen leaves the open partition alone: the current UTC hour for a
	// table partitioned by *_date and *_hour, else the current UTC day (and
	// any later one).
	SkipOpen bool
}

// DefaultPolicies are the compaction policies of the WikiStream tables.
//
// bronze.raw_events skips its open hour: it receives a file a second, and
// compacting the whole hour once it is closed rewrites every row once.
// silver.cleaned_events, bronze.dlq_events and the ops tables are
// partitioned by day, and waiting a whole day would leave up to a day of
// one-second files in the partition queried most, so their open day is
// compacted as it grows (a compacted file is rewritten again only when the
// partition has MinInputFiles small files). The gold tables skip their open
// day: gold replaces the current hours on every commit (copy-on-write), and
// one compacted file spanning the day would be rewritten whole each time.
// The hourly rollups are sorted by their keys' ids, the order gold writes
// them in, which the daily rollups merge them by; gold.risk_scores by the
// risk feed's order, the order gold writes a day in (the highest scores
// first).
func DefaultPolicies() map[string]TablePolicy {
	return map[string]TablePolicy{
		Name(BronzeRawEvents):        {SortBy: []string{"event_timestamp", "event_id"}, SkipOpen: true},
		Name(BronzeDLQEvents):        {SortBy: []string{"first_seen", "dlq_id"}},
		Name(SilverCleanedEvents):    {SortBy: []string{"event_timestamp", "event_id"}},
		Name(GoldHourlyStats):        {SortBy: []string{"stat_hour", "domain"}, SkipOpen: true},
		Name(GoldRiskScores):         {SortBy: strings.Split(RiskScoresTable.FileOrder, ", "), SkipOpen: true},
		Name(GoldContributorsHourly): {SortBy: []string{"user_id", "domain", "user_normalized", "is_bot", "is_anonymous"}, SkipOpen: true},
		Name(GoldPagesHourly):        {SortBy: []string{"page_id", "domain", "title", "is_bot"}, SkipOpen: true},
		Name(OpsDQResults):           {SortBy: []string{"evaluated_at", "check"}},
		Name(OpsAlerts):              {SortBy: []string{"created_at", "alert_id"}},
	}
}

// DefaultConsumers are WikiStream's incremental readers: silver reads
// bronze.raw_events, gold reads silver.cleaned_events (every gold table
// keeps its own checkpoint).
func DefaultConsumers() map[string][]table.Identifier {
	return map[string][]table.Identifier{
		Name(BronzeRawEvents):     {SilverCleanedEvents},
		Name(SilverCleanedEvents): {GoldHourlyStats, GoldRiskScores, GoldContributorsHourly, GoldPagesHourly},
	}
}

// DefaultMaintainConfig returns the defaults.
func DefaultMaintainConfig() MaintainConfig {
	return MaintainConfig{
		Tables:          Tables(),
		Interval:        time.Hour,
		FirstRunAfter:   2 * time.Minute,
		ExpireInterval:  5 * time.Minute,
		TargetFileSize:  256 << 20,
		MinInputFiles:   5,
		Policies:        DefaultPolicies(),
		SortBufferBytes: 16 << 20,
		Consumers:       DefaultConsumers(),
		KeepSnapshots:   10,
		SnapshotMaxAge:  168 * time.Hour,
		MaxSnapshots:    500,
		OrphanAge:       168 * time.Hour,
	}
}

// Validate reports the first bad setting.
func (c MaintainConfig) Validate() error {
	switch {
	case len(c.Tables) == 0:
		return errors.New("maintain: no tables")
	case c.Interval <= 0:
		return fmt.Errorf("maintain interval: got %v, want more than 0", c.Interval)
	case c.FirstRunAfter < 0:
		return fmt.Errorf("maintain first run after: got %v, want 0 (at once) or more", c.FirstRunAfter)
	case c.ExpireInterval < 0:
		return fmt.Errorf("maintain expire interval: got %v, want 0 (with each run) or more", c.ExpireInterval)
	case c.TargetFileSize < 1<<20:
		return fmt.Errorf("target file size: got %d bytes, want at least 1 MiB", c.TargetFileSize)
	case c.MinInputFiles < 2:
		return fmt.Errorf("min input files: got %d, want at least 2", c.MinInputFiles)
	case c.SortBufferBytes < 1<<20:
		return fmt.Errorf("sort buffer: got %d bytes, want at least 1 MiB", c.SortBufferBytes)
	case c.KeepSnapshots < 1:
		return fmt.Errorf("keep snapshots: got %d, want at least 1", c.KeepSnapshots)
	case c.SnapshotMaxAge < 0:
		return fmt.Errorf("snapshot max age: got %v, want 0 or more", c.SnapshotMaxAge)
	case c.MaxSnapshots != 0 && c.MaxSnapshots < c.KeepSnapshots:
		return fmt.Errorf("max snapshots: got %d, want 0 (no cap) or at least keep snapshots (%d)", c.MaxSnapshots, c.KeepSnapshots)
	case c.OrphanAge < time.Hour:
		return fmt.Errorf("orphan age: got %v, want at least 1h (younger files may belong to commits in flight)", c.OrphanAge)
	}
	for name, p := range c.Policies {
		if len(strings.Split(name, ".")) < 2 {
			return fmt.Errorf("policy for %q: want a table name such as bronze.raw_events", name)
		}
		for _, col := range p.SortBy {
			if col == "" {
				return fmt.Errorf("policy for %s: empty sort column", name)
			}
		}
	}
	return nil
}

// Maintainer compacts, expires and cleans the tables of a lakehouse.
type Maintainer struct {
	lh      *Lakehouse
	cfg     MaintainConfig
	log     *slog.Logger
	metrics *maintainMetrics // nil: not measured
	// afterWrite, when set (tests), runs between writing compaction files
	// and committing them.
	afterWrite func()
}

// NewMaintainer validates cfg and returns a Maintainer.
func NewMaintainer(lh *Lakehouse, cfg MaintainConfig) (*Maintainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Policies = maps.Clone(cfg.Policies)
	cfg.Consumers = maps.Clone(cfg.Consumers)
	m := &Maintainer{lh: lh, cfg: cfg, log: cfg.Logger}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Registerer != nil {
		m.metrics = newMaintainMetrics(cfg.Registerer)
	}
	return m, nil
}

// Report is what one maintenance run did.
type Report struct {
	Tables   []TableReport
	DryRun   bool
	Duration time.Duration
}

// TableReport is what one maintenance run did to one table. In a dry run
// the counts are what it would do.
type TableReport struct {
	Table string
	// Missing: the table does not exist yet; nothing was done.
	Missing bool
	// FilesBefore and FilesAfter count live data files; BytesBefore and
	// BytesAfter are their total size.
	FilesBefore, FilesAfter int64
	BytesBefore, BytesAfter int64
	// Compaction: input files rewritten into FilesWritten files, in
	// Partitions partitions. CompactionSkipped says why nothing was
	// compacted when nothing was.
	FilesCompacted, FilesWritten, Partitions int
	CompactionSkipped                        string
	// Manifests: ManifestsRewritten manifests were rewritten into
	// ManifestsWritten, the closed days' apart from the open day's
	// (manifests.go).
	ManifestsRewritten, ManifestsWritten int
	// Expiry: snapshots before and expired, and the data, manifest and
	// manifest-list files only expired snapshots referenced, deleted.
	SnapshotsBefore, SnapshotsExpired int
	ExpiredFilesDeleted               int
	// Orphans: files no metadata references, older than OrphanAge, removed
	// (in a dry run: found), with their total size. OrphanPaths lists them.
	OrphansRemoved int
	OrphanBytes    int64
	OrphanPaths    []string
	Duration       time.Duration
	// Err is the first failure; the run went on with the next table.
	Err error
}

// RunOnce maintains every configured table once: compaction, snapshot
// expiry, orphan removal. A table's failure is reported in its
// TableReport and joined into the error; the other tables are still
// maintained.
func (m *Maintainer) RunOnce(ctx context.Context) (Report, error) {
	start := time.Now()
	rep := Report{DryRun: m.cfg.DryRun}
	var errs []error
	for _, ident := range m.cfg.Tables {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		tr := m.maintainTable(ctx, ident)
		rep.Tables = append(rep.Tables, tr)
		if tr.Err != nil {
			errs = append(errs, fmt.Errorf("maintain %s: %w", tr.Table, tr.Err))
		}
	}
	rep.Duration = time.Since(start)
	err := errors.Join(errs...)
	if ctx.Err() != nil {
		// Stopped (the process shuts down): the tables it did not finish
		// did not fail, and the run is not counted.
		failed := 0
		for _, tr := range rep.Tables {
			if tr.Err != nil && !errors.Is(tr.Err, ctx.Err()) {
				failed++
			}
		}
		m.log.Info("maintenance run stopped", "tables", len(rep.Tables), "seconds", rep.Duration.Seconds(),
			"dry_run", m.cfg.DryRun, "failed", failed, "reason", context.Cause(ctx))
		return rep, err
	}
	m.metrics.run(err)
	m.log.Info("maintenance run done", "tables", len(rep.Tables), "seconds", rep.Duration.Seconds(),
		"dry_run", m.cfg.DryRun, "failed", len(errs))
	return rep, err
}

// Run maintains every table FirstRunAfter after it starts and then every
// Interval, and expires snapshots every ExpireInterval in between, until
// ctx ends. A failed run is logged and counted; the next one tries again.
// It returns nil when ctx ends.
func (m *Maintainer) Run(ctx context.Context) error {
	full := time.NewTimer(m.cfg.FirstRunAfter)
	defer full.Stop()
	var expire <-chan time.Time
	if m.cfg.ExpireInterval > 0 && m.cfg.ExpireInterval < m.cfg.Interval {
		t := time.NewTicker(m.cfg.ExpireInterval)
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-full.C:
			if _, err := m.RunOnce(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("maintenance run failed", "err", err)
			}
			full.Reset(m.cfg.Interval)
		case <-expire:
			if _, err := m.Expire(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("snapshot expiry failed", "err", err)
			}
		}
	}
}

// Expire expires the snapshots of every table (and deletes the files only
// they referenced), without compacting or looking for orphans: what Run
// does every ExpireInterval between full runs.
func (m *Maintainer) Expire(ctx context.Context) (Report, error) {
	start := time.Now()
	rep := Report{DryRun: m.cfg.DryRun}
	var errs []error
	for _, ident := range m.cfg.Tables {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		t0 := time.Now()
		tr := TableReport{Table: Name(ident)}
		res, err := m.expireTable(ctx, ident)
		tr.SnapshotsBefore, tr.SnapshotsExpired, tr.ExpiredFilesDeleted = res.before, res.expired, res.filesDeleted
		tr.Duration = time.Since(t0)
		switch {
		case errors.Is(err, catalog.ErrNoSuchTable):
			tr.Missing = true
		case err != nil:
			tr.Err = err
			errs = append(errs, fmt.Errorf("expire snapshots of %s: %w", tr.Table, err))
		}
		if !m.cfg.DryRun {
			m.metrics.expiredOnly(tr.Table, res.expired)
		}
		rep.Tables = append(rep.Tables, tr)
	}
	rep.Duration = time.Since(start)
	return rep, errors.Join(errs...)
}

// maintainTable compacts, expires and cleans one table.
func (m *Maintainer) maintainTable(ctx context.Context, ident table.Identifier) TableReport {
	start := time.Now()
	tr := TableReport{Table: Name(ident)}
	tbl, err := m.lh.Load(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		tr.Missing = true
		return tr
	}
	if err != nil {
		tr.Err = err
		return tr
	}
	tr.FilesBefore, tr.BytesBefore = liveFiles(tbl)
	tr.FilesAfter, tr.BytesAfter = tr.FilesBefore, tr.BytesBefore
	log := m.log.With("table", tr.Table)

	cr, err := m.compact(ctx, ident)
	tr.FilesCompacted, tr.FilesWritten, tr.Partitions, tr.CompactionSkipped = cr.inputs, cr.outputs, cr.partitions, cr.skipped
	if err != nil {
		tr.Err = fmt.Errorf("compact: %w", err)
	}
	if cr.table != nil {
		tr.FilesAfter, tr.BytesAfter = liveFiles(cr.table)
	}
	if cr.inputs > 0 {
		log.Info("compacted", "files", cr.inputs, "written", cr.outputs, "partitions", cr.partitions,
			"files_before", tr.FilesBefore, "files_after", tr.FilesAfter, "seconds", cr.took.Seconds(), "dry_run", m.cfg.DryRun)
	} else if cr.skipped != "" {
		log.Debug("compaction skipped", "reason", cr.skipped)
	}

	clustering := time.Now()
	mr, err := m.clusterManifests(ctx, ident)
	tr.ManifestsRewritten, tr.ManifestsWritten = mr.rewritten, mr.written
	if err != nil && tr.Err == nil {
		tr.Err = fmt.Errorf("rewrite manifests of closed days: %w", err)
	}
	if mr.rewritten > 0 {
		log.Info("manifests of closed days rewritten", "manifests", mr.rewritten, "written", mr.written,
			"seconds", time.Since(clustering).Seconds(), "dry_run", m.cfg.DryRun)
	}

	expiring := time.Now()
	er, err := m.expireTable(ctx, ident)
	tr.SnapshotsBefore, tr.SnapshotsExpired, tr.ExpiredFilesDeleted = er.before, er.expired, er.filesDeleted
	if err != nil && tr.Err == nil {
		tr.Err = fmt.Errorf("expire snapshots: %w", err)
	}

	expired := time.Now()
	log.Debug("expiry done", "seconds", expired.Sub(expiring).Seconds())
	or, err := m.removeOrphans(ctx, ident)
	log.Debug("orphan scan done", "seconds", time.Since(expired).Seconds())
	tr.OrphansRemoved, tr.OrphanBytes, tr.OrphanPaths = len(or.paths), or.bytes, or.paths
	if err != nil && tr.Err == nil {
		tr.Err = fmt.Errorf("remove orphan files: %w", err)
	}
	if len(or.paths) > 0 {
		log.Info("orphan files", "removed", !m.cfg.DryRun, "files", len(or.paths), "bytes", or.bytes)
	}

	tr.Duration = time.Since(start)
	m.metrics.table(tr, m.cfg.DryRun)
	return tr
}

// liveFiles are the number and total size of tbl's live data files, from
// its current snapshot's summary.
func liveFiles(tbl *table.Table) (files, bytes int64) {
	s := tbl.CurrentSnapshot()
	if s == nil || s.Summary == nil {
		return 0, 0
	}
	return s.Summary.Properties.GetInt64("total-data-files", 0), s.Summary.Properties.GetInt64("total-files-size", 0)
}

// Bookkeeping returns the newest value of every wikistream.* snapshot
// summary property in tbl's history (bronze offsets, downstream
// checkpoints), as the summary of a maintenance snapshot must carry them:
// readers look at the latest snapshot, and the snapshots that carried them
// may later expire. "wikistream.stage" names the writer and is not carried.
func Bookkeeping(tbl *table.Table) map[string]string {
	out := map[string]string{}
	for s := tbl.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			for k, v := range s.Summary.Properties {
				if isBookkeeping(k) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = tbl.SnapshotByID(*s.ParentSnapshotID)
	}
	return out
}

// stageKey names the writer of a snapshot; it is not bookkeeping.
const stageKey = "wikistream.stage"

func isBookkeeping(key string) bool {
	return strings.HasPrefix(key, "wikistream.") && key != stageKey
}

// maintainMetrics are the wikistream_maintain_* metrics.
type maintainMetrics struct {
	compacted *prometheus.CounterVec
	expired   *prometheus.CounterVec
	orphans   *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	runs      *prometheus.CounterVec
}

func newMaintainMetrics(reg prometheus.Registerer) *maintainMetrics {
	m := &maintainMetrics{
		compacted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "maintain",
			Name: "files_compacted_total", Help: "Data files rewritten into larger ones by compaction."}, []string{"table"}),
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "maintain",
			Name: "snapshots_expired_total", Help: "Snapshots removed by expiry."}, []string{"table"}),
		orphans: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "maintain",
			Name: "orphans_removed_total", Help: "Files no table metadata referenced, deleted."}, []string{"table"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "wikistream", Subsystem: "maintain",
			Name: "duration_seconds", Help: "Time to maintain one table (compaction, expiry, orphans).",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 16)}, []string{"table"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "maintain",
			Name: "runs_total", Help: "Maintenance runs over every table, by result (ok or failed)."}, []string{"result"}),
	}
	m.compacted = register(reg, m.compacted)
	m.expired = register(reg, m.expired)
	m.orphans = register(reg, m.orphans)
	m.duration = register(reg, m.duration)
	m.runs = register(reg, m.runs)
	return m
}

func (m *maintainMetrics) table(tr TableReport, dryRun bool) {
	if m == nil || tr.Missing {
		return
	}
	m.duration.WithLabelValues(tr.Table).Observe(tr.Duration.Seconds())
	if dryRun {
		return
	}
	m.compacted.WithLabelValues(tr.Table).Add(float64(tr.FilesCompacted))
	m.expired.WithLabelValues(tr.Table).Add(float64(tr.SnapshotsExpired))
	m.orphans.WithLabelValues(tr.Table).Add(float64(tr.OrphansRemoved))
}

func (m *maintainMetrics) expiredOnly(name string, n int) {
	if m != nil && n > 0 {
		m.expired.WithLabelValues(name).Add(float64(n))
	}
}

func (m *maintainMetrics) run(err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.runs.WithLabelValues(result).Inc()
}
