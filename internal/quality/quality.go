// Package quality is WikiStream's data-quality stage, in the spirit of
// Deequ: declarative checks ([Check]) over the Iceberg tables, evaluated with
// SQL through the DuckDB engine of package query, every 15 minutes by
// default. Each run writes one row per check to ops.dq_results, sets the
// wikistream_dq_* metrics, and hands a [Report] listing the failed checks
// with their evidence to Config.OnFailure, which the process connects to
// alerts.
//
// A run reads one consistent state. It pins each table's current snapshot
// when it starts and reads every table as of its pin. Reconciliation
// compares a table with its upstream as of the upstream snapshot the table
// has read (silver's checkpoint on bronze, gold's on silver, both kept in
// the snapshot summaries), so a downstream stage that lags behind is never
// mistaken for lost rows; the lag itself is what the freshness checks
// measure.
//
// Row-level checks cover the dates from Config.LookbackDays before the
// newest bronze event date (0: every date), and read the tables in chunks of
// dates of at most Config.ChunkRows rows, so that memory stays bounded as
// the tables grow.
package quality

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

// Config configures the data-quality stage.
type Config struct {
	// Interval is the time between runs in Run. Default 15m, the original
	// design's schedule.
	Interval time.Duration
	// FirstRunAfter is how long after Run starts its first run comes; 0:
	// at once. A process restarted late in a busy day reads the day back
	// and catches up meanwhile, and the checks over that day cost 4.2 s of
	// CPU in its first minute, beside gold's 6.7 s (docs/PERFORMANCE.md,
	// session 15). The last run's results stay in ops.dq_results until
	// then. Default 1m.
	FirstRunAfter time.Duration
	// LookbackDays bounds the row-level checks and reconciliations to the
	// event dates from this many days before the newest bronze event date
	// (or today, if that is earlier). Default 7, the late-event window:
	// older dates no longer change. 0 checks every date.
	LookbackDays int
	// MaxSourceAge fails bronze.freshness when bronze's newest commit is
	// older. Default 15m: at the live rate bronze commits every second, so
	// a quarter of an hour without one means ingest or bronze has stopped.
	// 0 leaves the check out, for an idle pipeline (a replayed file that has
	// ended).
	MaxSourceAge time.Duration
	// MaxLag fails the freshness of silver and gold when they have not read
	// an upstream commit older than this. Default 15m, three times the
	// original 5-minute schedule. A stage that has read everything has no
	// lag, so this holds for idle pipelines too. 0 leaves the checks out.
	MaxLag time.Duration
	// FutureTolerance is how far after its ingest (or processing) an
	// event's timestamp may lie: clock skew. Default 5m, as ingest accepts.
	FutureTolerance time.Duration
	// LateWindow is how much older than its ingest an event read from
	// EventStreams may be. Default 7 days, EventStreams' retention. Events
	// replayed from files are exempt. 0 leaves the check out.
	LateWindow time.Duration
	// VolumeWindow, VolumeZ and VolumeMinRows configure the volume checks:
	// the baseline is the VolumeWindow hours before the last complete hour;
	// that hour fails beyond VolumeZ standard deviations, when it or the
	// baseline mean has at least VolumeMinRows rows. Defaults 24, 4, 100.
	VolumeWindow  int
	VolumeZ       float64
	VolumeMinRows int64
	// Samples is how many offending rows a failed check records. Default 5.
	Samples int
	// ChunkRows bounds the rows one query reads: tables are read in chunks
	// of whole dates. Default 2,000,000.
	ChunkRows int64
	// Query bounds the DuckDB engine. Default 512MB, 5 minutes a query.
	Query query.Config
	// Checks replaces the built-in checks (DefaultChecks of this Config)
	// when not nil.
	Checks []Check
	// OnFailure, when set, is called after a run in which a check failed or
	// could not be evaluated, or the run itself failed (Report.Error), with
	// the report. The process connects it to alerts. It runs synchronously
	// in the run: keep it quick.
	OnFailure func(ctx context.Context, r Report)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives progress.
	Logger *slog.Logger
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		Interval:        15 * time.Minute,
		FirstRunAfter:   time.Minute,
		LookbackDays:    7,
		MaxSourceAge:    15 * time.Minute,
		MaxLag:          15 * time.Minute,
		FutureTolerance: 5 * time.Minute,
		LateWindow:      7 * 24 * time.Hour,
		VolumeWindow:    24,
		VolumeZ:         4,
		VolumeMinRows:   100,
		Samples:         5,
		ChunkRows:       2_000_000,
		Query:           query.Config{MemoryLimit: "512MB", Threads: 2, Timeout: 5 * time.Minute, MaxRows: 100_000},
	}
}

// Validate reports the first bad setting, naming it.
func (c Config) Validate() error {
	switch {
	case c.Interval <= 0:
		return fmt.Errorf("dq interval: got %s, want a positive duration such as 15m", c.Interval)
	case c.FirstRunAfter < 0:
		return fmt.Errorf("dq first run after: got %s, want 0 (at once) or more", c.FirstRunAfter)
	case c.LookbackDays < 0:
		return fmt.Errorf("dq lookback days: got %d, want 0 (every date) or more", c.LookbackDays)
	case c.MaxSourceAge < 0:
		return fmt.Errorf("dq max source age: got %s, want 0 (no check) or a positive duration", c.MaxSourceAge)
	case c.MaxLag < 0:
		return fmt.Errorf("dq max lag: got %s, want 0 (no check) or a positive duration", c.MaxLag)
	case c.FutureTolerance < 0:
		return fmt.Errorf("dq future tolerance: got %s, want 0 or a positive duration", c.FutureTolerance)
	case c.LateWindow < 0:
		return fmt.Errorf("dq late window: got %s, want 0 (no check) or a positive duration", c.LateWindow)
	case c.VolumeWindow < 2:
		return fmt.Errorf("dq volume window: got %d hours, want at least 2", c.VolumeWindow)
	case c.VolumeZ <= 0:
		return fmt.Errorf("dq volume z: got %g, want a positive number of standard deviations", c.VolumeZ)
	case c.VolumeMinRows < 0:
		return fmt.Errorf("dq volume min rows: got %d, want 0 or more", c.VolumeMinRows)
	case c.Samples < 0:
		return fmt.Errorf("dq samples: got %d, want 0 or more", c.Samples)
	case c.ChunkRows < 1:
		return fmt.Errorf("dq chunk rows: got %d, want at least 1", c.ChunkRows)
	}
	if err := c.Query.Validate(); err != nil {
		return fmt.Errorf("dq: %w", err)
	}
	if c.Checks != nil {
		return validateChecks(c.Checks)
	}
	return validateChecks(DefaultChecks(c))
}

// Stage is the data-quality stage.
type Stage struct {
	cfg     Config
	lh      *lakehouse.Lakehouse
	log     *slog.Logger
	checks  []Check
	metrics *metrics

	mu   sync.Mutex // one run at a time
	last Report     // guarded by lastMu
	has  bool
	// lastMu guards last and has apart from mu, so Last does not wait for
	// a run.
	lastMu sync.Mutex
}

// New builds the stage. Metrics are registered on reg when it is not nil.
// Each run opens its own SQL engine.
func New(cfg Config, lh *lakehouse.Lakehouse, reg prometheus.Registerer) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	checks := cfg.Checks
	if checks == nil {
		checks = DefaultChecks(cfg)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Stage{cfg: cfg, lh: lh, log: log.With("stage", "quality"), checks: checks, metrics: m}, nil
}

// Checks are the checks the stage runs.
func (s *Stage) Checks() []Check { return s.checks }

// Close waits for a run in progress to end; a run closes its SQL engine
// itself.
func (s *Stage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil
}

// Last returns the report of the last run, and whether there was one.
func (s *Stage) Last() (Report, bool) {
	s.lastMu.Lock()
	defer s.lastMu.Unlock()
	return s.last, s.has
}

// Run runs the checks FirstRunAfter after it starts (at once when 0) and
// then every Interval until ctx ends. A run
// that fails is logged, counted and reported to OnFailure, and the next one
// runs on schedule: Run returns nil when ctx ends.
func (s *Stage) Run(ctx context.Context) error {
	if s.cfg.FirstRunAfter > 0 {
		first := time.NewTimer(s.cfg.FirstRunAfter)
		select {
		case <-ctx.Done():
			first.Stop()
			return nil
		case <-first.C:
		}
	}
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		rep, err := s.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Error("data-quality run failed", "run_id", rep.RunID, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// RunOnce pins every table's snapshot, evaluates every check, writes the
// results to ops.dq_results and returns the report. Checks that fail or
// cannot be evaluated are in the report; the error is for a run that could
// not be carried out or recorded.
func (s *Stage) RunOnce(ctx context.Context) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	began := time.Now()
	started := s.cfg.Now().UTC()
	rep := Report{RunID: newRunID(started), StartedAt: started}
	err := s.run(ctx, &rep)
	rep.Duration = time.Since(began).Round(time.Millisecond)
	if err != nil {
		rep.Error = err.Error()
	}
	s.metrics.observe(rep)
	s.lastMu.Lock()
	s.last, s.has = rep, true
	s.lastMu.Unlock()
	if (err != nil || len(rep.Failures()) > 0) && s.cfg.OnFailure != nil && ctx.Err() == nil {
		s.cfg.OnFailure(ctx, rep)
	}
	if err != nil {
		return rep, fmt.Errorf("data-quality run %s: %w", rep.RunID, err)
	}
	failed := rep.Failures()
	lvl := slog.LevelInfo
	if len(failed) > 0 {
		lvl = slog.LevelWarn
	}
	s.log.Log(ctx, lvl, "data-quality run", "run_id", rep.RunID, "checks", len(rep.Results), "failed", len(failed),
		"duration", rep.Duration)
	for _, f := range failed {
		s.log.Warn("data-quality check failed", "run_id", rep.RunID, "check", f.Check, "table", f.Table,
			"status", f.Status, "observed", f.Observed, "expected", f.Expected)
	}
	return rep, nil
}

// run opens the SQL engine for the run and closes it after: DuckDB keeps
// much of what a run's queries used until the engine closes (over a week
// at the live feed's volume, 180 MB for the 15 minutes to the next run;
// docs/PERFORMANCE.md, session 11), and opening one costs less than a
// whole `wikistream query "SELECT 42"`, 0.17 s.
func (s *Stage) run(ctx context.Context, rep *Report) error {
	qcfg := s.cfg.Query
	if qcfg.Logger == nil {
		qcfg.Logger = s.log
	}
	eng, err := query.Open(ctx, s.lh, s.tables(), qcfg)
	if err != nil {
		return fmt.Errorf("open SQL engine: %w", err)
	}
	defer func() {
		if err := eng.Close(); err != nil {
			s.log.Warn("close the data-quality SQL engine", "err", err)
		}
	}()
	pins, err := s.pin(ctx)
	if err != nil {
		return err
	}
	rep.Snapshots = pins.snapshots()
	ev := &evaluation{s: s, eng: eng, pins: pins, now: rep.StartedAt}
	if err := ev.setCutoff(ctx); err != nil {
		return err
	}
	rep.Since = ev.cutoff
	rep.Results = ev.evaluate(ctx, s.checks)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := s.record(ctx, *rep); err != nil {
		return err
	}
	return nil
}

// tables are the tables the checks read (every query resolves each table
// the engine knows, so it knows only these): bronze.raw_events, which
// anchors the lookback, and each check's table and upstream.
func (s *Stage) tables() []table.Identifier {
	need := map[string]bool{lakehouse.Name(lakehouse.BronzeRawEvents): true}
	for _, c := range s.checks {
		need[lakehouse.Name(c.Table)] = true
		if c.Reconcile != nil {
			need[lakehouse.Name(c.Reconcile.Upstream)] = true
		}
		if c.Freshness != nil && len(c.Freshness.Upstream) == 2 {
			need[lakehouse.Name(c.Freshness.Upstream)] = true
		}
	}
	var out []table.Identifier
	for _, ident := range lakehouse.Tables() {
		if need[lakehouse.Name(ident)] {
			out = append(out, ident)
			delete(need, lakehouse.Name(ident))
		}
	}
	for name := range need { // tables of custom checks, in name order below
		ns, tbl, _ := strings.Cut(name, ".")
		out = append(out, table.Identifier{ns, tbl})
	}
	slices.SortStableFunc(out[len(out)-len(need):], func(a, b table.Identifier) int {
		return strings.Compare(lakehouse.Name(a), lakehouse.Name(b))
	})
	return out
}

// newRunID is a run id: the start time and a random suffix.
func newRunID(t time.Time) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "dq-" + t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
