// Package gold is the analytics stage: it keeps gold.hourly_stats (per
// date, hour and wiki) and gold.risk_scores (per editor and day) equal to a
// from-scratch recomputation from silver.cleaned_events, by recomputing only
// the hours and days that new silver rows touch and replacing them.
//
// Replacement is a copy-on-write overwrite: the touched hours (or days) are
// deleted and their recomputed rows appended in one Iceberg commit, which
// also records the silver checkpoint. Copy-on-write was measured against v3
// deletion vectors (docs/PERFORMANCE.md): no difference beyond noise, since
// recomputing dominates; copy-on-write keeps the tables plain Parquet that
// any engine reads without delete files.
package gold

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"math"
	"sort"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/schedule"
)

// Config configures the gold stage.
type Config struct {
	// LargeDeletionBytes is recorded in the evidence (silver flags the
	// deletions). Default 1000.
	LargeDeletionBytes int64
	// AlertBots lets bots trigger risk alerts; by default they do not.
	AlertBots bool
	// Poll is how often Run looks for new silver commits. Default 200ms.
	Poll time.Duration
	// MinInterval is the least time between two gold runs. Default 0.
	MinInterval time.Duration
	// RiskRest is how many times as long as its last run took Run waits
	// before refreshing gold.risk_scores again. Each refresh rewrites the
	// touched days' rows whole (tens of thousands of editors late in a busy
	// day), so Run refreshes the table in a loop of its own: the hourly
	// tables and rollups keep their cadence, and the risk loop uses at most
	// 1/(1+RiskRest) of a core. Default 3.
	RiskRest float64
	// Logger receives progress.
	Logger *slog.Logger
	// Registerer, when set, receives the gold metrics.
	Registerer prometheus.Registerer
	// HourlyCommitted, when set, is called after each commit to
	// gold.hourly_stats, from the stage's goroutine: it must not block.
	// run uses it to have the dashboard's engine copy the new numbers at
	// once instead of at its next poll.
	HourlyCommitted func()
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{LargeDeletionBytes: 1000, Poll: 200 * time.Millisecond, RiskRest: 3}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.LargeDeletionBytes < 1:
		return fmt.Errorf("large deletion bytes: got %d, want at least 1", c.LargeDeletionBytes)
	case c.Poll <= 0:
		return fmt.Errorf("gold poll interval: got %s, want a positive duration", c.Poll)
	case c.MinInterval < 0:
		return fmt.Errorf("gold interval: got %s, want 0 or a positive duration", c.MinInterval)
	case !(c.RiskRest >= 0) || math.IsInf(c.RiskRest, 0):
		return fmt.Errorf("gold risk rest: got %g, want 0 or a positive number (times a risk run's time)", c.RiskRest)
	}
	return nil
}

// Stage is the gold stage.
type Stage struct {
	cfg   Config
	hurry schedule.Hurry // Hurry
	lh    *lakehouse.Lakehouse
	log   *slog.Logger

	// days is the risk score's input, per day, as of the silver checkpoint
	// riskCP (valid only when daysValid); runs counts RunOnce calls.
	days      map[string]*dayActivity
	riskCP    lakehouse.Checkpoint
	daysValid bool
	runs      int64
	// newest is the latest event time of the rows added to days; evicted
	// are the days let go of as over, reloaded those read again after that
	// (kept from then on), loads counts the days read whole (tests).
	newest   arrow.Timestamp
	evicted  map[string]bool
	reloaded map[string]bool
	loads    int
	// riskCopied counts the risk rows copied from the table (tests).
	riskCopied int
	// rollups keep the top lists' hourly rollups.
	rollups []*rollup
	// hourlyState keeps the newest hours of gold.hourly_stats (hourly.go).
	hourlyState hourlyState

	// head is silver's snapshot the current run of the hourly tables and
	// rollups reads up to.
	head lakehouse.Checkpoint
	// dailyBehind is set while a daily rollup has days to write (CaughtUp
	// reads it from other goroutines).
	dailyBehind atomic.Bool

	// beforeRisk, when set (tests), is called as a risk refresh starts.
	beforeRisk func()

	// latency is, per gold commit, from the newest event time it includes
	// to the commit: how far behind the edits the gold numbers are.
	latency prometheus.Histogram
}

// keepDays bounds the days of activity kept between runs; older ones are
// read again from silver when a late event touches them.
const keepDays = 3

// A day of activity is let go before that once it is over: the newest
// event time is dayGrace past its end and the last idleRuns runs did not
// touch it. A replay otherwise held three days of every editor's activity
// (the live heap of a 5M-event replay grew by 210 MB with them), and a
// long-running process held yesterday and the day before. None of the
// recorded captures has an event more than ten minutes late; a day read
// again for a late event is kept from then on, so a trickle of them does
// not read it whole again and again. (During a replay's backlog gold runs
// every few seconds, and a day of events passes in under a minute.)
const dayGrace = time.Hour

const idleRuns = 1

// New builds the gold stage.
func New(ctx context.Context, cfg Config, lh *lakehouse.Lakehouse) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "wikistream", Subsystem: "gold",
		Name:    "end_to_end_latency_seconds",
		Help:    "From the newest event time in a gold commit to the commit: edit on the wiki to gold numbers (includes EventStreams' own delay).",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 16)})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(latency); err != nil {
			return nil, fmt.Errorf("gold metrics: %w", err)
		}
	}
	// The hourly statistics and the rollups read each new silver file
	// right after silver committed it: kept in memory for them. The risk
	// loop rests three times as long as it runs, and keeping the files
	// until it comes by held 200 MB more at the peak of a 2M replay.
	for _, columns := range [][]string{hourlyColumns, rollupColumns} {
		lh.ReadsRecent(lakehouse.SilverCleanedEvents, columns)
	}
	return &Stage{cfg: cfg, lh: lh, log: log.With("stage", "gold"), latency: latency, rollups: newRollups()}, nil
}

// Close releases the stage. Gold reads silver without DuckDB and holds
// nothing that needs releasing, but callers close it all the same.
func (s *Stage) Close() error { return nil }

// Result is what one run did.
type Result struct {
	Hours, Days       int // hours and days recomputed
	HourlyRows, Risks int // rows written
	// DailyDays are the days written to the daily rollups.
	DailyDays int
	// Caught reports that nothing is left to do: a run writes at most a
	// few days over to the daily rollups (dailyDaysPerRun).
	Caught bool
}

// Hurry has Run's loops stop resting between runs (schedule.Hurry): the
// stages before gold have the last of a backlog, and no more comes.
func (s *Stage) Hurry() { s.hurry.Set() }

// Run keeps gold up to date until ctx is cancelled: the hourly tables and
// rollups in one loop, gold.risk_scores in another (Config.RiskRest).
func (s *Stage) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return schedule.Incremental(ctx, s.cfg.Poll, s.cfg.MinInterval, &s.hurry, func(ctx context.Context) (bool, bool, error) {
			s.lh.Gate().Yield(ctx) // requests first (package priority)
			silverTbl, err := s.loadSilver(ctx)
			if silverTbl == nil {
				return false, false, err
			}
			res, err := s.refreshTables(ctx, silverTbl)
			return res.Hours > 0 || res.DailyDays > 0, !res.Caught, err
		})
	})
	g.Go(func() error {
		return schedule.IncrementalRest(ctx, s.cfg.Poll, s.cfg.MinInterval, s.cfg.RiskRest, &s.hurry, func(ctx context.Context) (bool, bool, error) {
			s.lh.Gate().Yield(ctx)
			silverTbl, err := s.loadSilver(ctx)
			if silverTbl == nil {
				return false, false, err
			}
			days, _, err := s.refreshRisk(ctx, silverTbl, lakehouse.Head(silverTbl))
			return days > 0, false, err
		})
	})
	if err := g.Wait(); err != nil {
		return fmt.Errorf("gold: %w", err)
	}
	return nil
}

// loadSilver loads silver.cleaned_events; nil and no error when it does
// not exist yet.
func (s *Stage) loadSilver(ctx context.Context) (*table.Table, error) {
	tbl, err := s.lh.Load(ctx, lakehouse.SilverCleanedEvents)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, nil
	}
	return tbl, err
}

// RunOnce brings the gold tables up to silver's current snapshot (the
// daily rollups a few days at a time: Result.Caught).
func (s *Stage) RunOnce(ctx context.Context) (Result, error) {
	silverTbl, err := s.loadSilver(ctx)
	if silverTbl == nil {
		return Result{Caught: err == nil}, err
	}
	res, err := s.refreshTables(ctx, silverTbl)
	if err != nil {
		return res, err
	}
	res.Days, res.Risks, err = s.refreshRisk(ctx, silverTbl, lakehouse.Head(silverTbl))
	return res, err
}

// refreshTables brings gold.hourly_stats and the rollups up to silver's
// snapshot silverTbl.
func (s *Stage) refreshTables(ctx context.Context, silverTbl *table.Table) (Result, error) {
	var res Result
	head := lakehouse.Head(silverTbl)
	s.head = head
	hours, rows, err := s.refreshHourly(ctx, silverTbl, head)
	if err != nil {
		return res, err
	}
	res.Hours, res.HourlyRows = hours, rows
	if hours > 0 && s.cfg.HourlyCommitted != nil {
		s.cfg.HourlyCommitted()
	}
	s.dailyBehind.Store(true)
	if res.DailyDays, err = s.refreshRollups(ctx, silverTbl, head); err != nil {
		return res, err
	}
	behind := false
	for _, ru := range s.rollups {
		behind = behind || ru.daily.behind(ru.newest)
	}
	s.dailyBehind.Store(behind)
	res.Caught = !behind
	return res, nil
}

// RunUntilCaught runs until nothing is left to do (RunOnce, Result.Caught)
// and adds up what the runs did.
func (s *Stage) RunUntilCaught(ctx context.Context) (Result, error) {
	var sum Result
	for {
		res, err := s.RunOnce(ctx)
		sum.Hours, sum.Days, sum.DailyDays = sum.Hours+res.Hours, sum.Days+res.Days, sum.DailyDays+res.DailyDays
		sum.HourlyRows, sum.Risks, sum.Caught = sum.HourlyRows+res.HourlyRows, sum.Risks+res.Risks, res.Caught
		if err != nil || res.Caught {
			return sum, err
		}
	}
}

// Tables are the gold tables, in the order a run refreshes them.
func Tables() []lakehouse.TableDef {
	out := []lakehouse.TableDef{lakehouse.HourlyStatsTable}
	for _, ru := range newRollups() {
		out = append(out, ru.def)
	}
	return append(out, lakehouse.RiskScoresTable)
}

// CaughtUp reports whether every gold table reflects every silver commit
// that added rows.
func (s *Stage) CaughtUp(ctx context.Context) (bool, error) {
	silverTbl, err := s.lh.Load(ctx, lakehouse.SilverCleanedEvents)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if s.dailyBehind.Load() {
		return false, nil
	}
	head := lakehouse.Head(silverTbl)
	for _, def := range Tables() {
		tbl, err := s.lh.Load(ctx, def.Ident)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		cp := lakehouse.ReadCheckpoint(tbl, lakehouse.SilverCleanedEvents)
		if cp == head {
			continue // read up to silver's current snapshot: nothing to list
		}
		if read, err := lakehouse.ReadAll(ctx, silverTbl, cp); err != nil || !read {
			return false, err
		}
	}
	return true, nil
}

// key is a touched (date, hour).
type key struct {
	date string
	hour int32
}

// replace overwrites the rows filter selects with rec, copy-on-write, in
// one commit that records the silver checkpoint head.
func (s *Stage) replace(ctx context.Context, ident table.Identifier, rec arrow.RecordBatch, filter iceberg.BooleanExpression, head lakehouse.Checkpoint) error {
	return s.replaceWith(ctx, ident, func(context.Context, *table.Table) (array.RecordReader, error) {
		return array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	}, filter, head)
}

// replaceWith is replace with the rows read from a reader that newReader
// makes afresh for every commit attempt, given the table the attempt
// replaces rows of.
func (s *Stage) replaceWith(ctx context.Context, ident table.Identifier, newReader func(context.Context, *table.Table) (array.RecordReader, error), filter iceberg.BooleanExpression, head lakehouse.Checkpoint) error {
	return s.replaceWithProps(ctx, ident, newReader, filter, head, nil)
}

// replaceWithProps is replaceWith recording extra in the snapshot summary
// as well.
func (s *Stage) replaceWithProps(ctx context.Context, ident table.Identifier, newReader func(context.Context, *table.Table) (array.RecordReader, error), filter iceberg.BooleanExpression, head lakehouse.Checkpoint, extra map[string]string) error {
	_, err := s.lh.Commit(ctx, ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		rdr, err := newReader(ctx, tbl)
		if err != nil {
			return err
		}
		defer rdr.Release()
		props := lakehouse.CheckpointProps(lakehouse.SilverCleanedEvents, head)
		maps.Copy(props, extra)
		props["wikistream.stage"] = "gold"
		return tx.Overwrite(ctx, rdr, props, table.WithOverwriteFilter(filter))
	})
	if err != nil {
		return fmt.Errorf("commit %s: %w", lakehouse.Name(ident), err)
	}
	return nil
}

// hourlyRecord builds the replacement rows of gold.hourly_stats (every
// column but the last two, in order) and the filter selecting the rows of
// the touched hours they replace.
func hourlyRecord(rows [][]any, touched []key) (arrow.RecordBatch, iceberg.BooleanExpression, error) {
	schema, err := table.SchemaToArrowSchema(lakehouse.HourlyStatsTable.Schema(), nil, false, false)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	now := time.Now().UTC()
	for _, r := range rows {
		if len(r) != schema.NumFields()-2 {
			return nil, nil, fmt.Errorf("recompute hourly stats: %d columns, want %d", len(r), schema.NumFields()-2)
		}
		for i, v := range append(r, now, int32(lakehouse.GoldSchemaVersion)) {
			if err := appendValue(b.Field(i), v); err != nil {
				return nil, nil, fmt.Errorf("recompute hourly stats: column %s: %w", schema.Field(i).Name, err)
			}
		}
	}
	return b.NewRecordBatch(), hoursFilter("stat_date", "stat_hour", touched), nil
}

// refreshRisk brings gold.risk_scores up to silver's head: it adds the
// rows of the silver files committed since the table's checkpoint to the
// days of activity it keeps (reading a day whole from silver when it has
// not got it), and replaces the touched days' rows.
func (s *Stage) refreshRisk(ctx context.Context, silverTbl *table.Table, head lakehouse.Checkpoint) (int, int, error) {
	if s.beforeRisk != nil {
		s.beforeRisk()
	}
	s.runs++
	goldTbl, err := s.lh.EnsureTable(ctx, lakehouse.RiskScoresTable)
	if err != nil {
		return 0, 0, err
	}
	cp := lakehouse.ReadCheckpoint(goldTbl, lakehouse.SilverCleanedEvents)
	if !s.daysValid || cp != s.riskCP {
		// First run, a failed commit, or another writer: start over.
		s.days, s.riskCP, s.daysValid = map[string]*dayActivity{}, cp, true
		s.newest, s.evicted, s.reloaded = 0, map[string]bool{}, map[string]bool{}
	}
	added, err := lakehouse.AddedSince(ctx, silverTbl, cp)
	if err != nil || len(added) == 0 {
		return 0, 0, err
	}
	ok := false
	defer func() {
		if !ok {
			s.daysValid = false
		}
	}()
	touched := map[string]bool{}
	var newest arrow.Timestamp
	for _, f := range added {
		err := activityRows(ctx, silverTbl, f, func(rec arrow.RecordBatch) error {
			dates := rec.Column(0).(*array.String)
			ts, _ := rec.Column(6).(*array.Timestamp)
			for i := range dates.Len() {
				touched[dates.Value(i)] = true
				if ts != nil && ts.Value(i) > newest {
					newest = ts.Value(i)
				}
			}
			return addRows(s.days, rec)
		})
		if err != nil {
			return 0, 0, err
		}
	}
	dates := make([]string, 0, len(touched))
	for d := range touched {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	for _, d := range dates {
		if s.days[d] == nil {
			day, err := loadDay(ctx, silverTbl, d)
			if err != nil {
				return 0, 0, err
			}
			s.days[d] = day
			s.loads++
			if s.evicted[d] {
				s.reloaded[d] = true
			}
		}
		s.days[d].used = s.runs
	}
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	rows := 0
	for _, d := range dates {
		filter = iceberg.NewOr(filter, iceberg.EqualTo(iceberg.Reference("stat_date"), d))
		rows += len(s.days[d].entities)
	}
	now := arrow.Timestamp(time.Now().UTC().UnixMicro())
	err = s.replaceWith(ctx, lakehouse.GoldRiskScores, func(ctx context.Context, tbl *table.Table) (array.RecordReader, error) {
		return s.newRiskReader(ctx, tbl, dates, now)
	}, filter, head)
	if err != nil {
		return 0, 0, err
	}
	ok, s.riskCP = true, head
	for _, d := range dates {
		s.days[d].written()
	}
	s.newest = max(s.newest, newest)
	if newest > 0 {
		s.latency.Observe(time.Since(time.UnixMicro(int64(newest))).Seconds())
	}
	s.evictDays()
	s.log.Debug("gold committed", "table", lakehouse.Name(lakehouse.GoldRiskScores), "days", len(dates), "rows", rows)
	return len(dates), rows, nil
}

// evictDays forgets the days that are over (see dayGrace), then the least
// recently touched days beyond keepDays.
func (s *Stage) evictDays() {
	for d, a := range s.days {
		if s.reloaded[d] || s.runs-a.used < idleRuns {
			continue
		}
		start, err := time.Parse(time.DateOnly, d)
		if err == nil && int64(s.newest) >= start.Add(24*time.Hour+dayGrace).UnixMicro() {
			delete(s.days, d)
			s.evicted[d] = true
		}
	}
	for len(s.days) > keepDays {
		oldest := ""
		for d, a := range s.days {
			if oldest == "" || a.used < s.days[oldest].used || (a.used == s.days[oldest].used && d < oldest) {
				oldest = d
			}
		}
		delete(s.days, oldest)
	}
}

// riskReader writes the risk rows of the dates, one day after the other,
// each day's rows in the table's order (riskKey.compare): the highest
// scores first, so that readers of the HIGH and MEDIUM levels skip the LOW
// majority's row groups by their statistics, and the risk feed's top rows
// of every level are a day's first rows (see the API's risk feed). The
// rows of entities no new row touched are copied from the table's current
// rows of the day, which are in that order, and merged with the touched
// (dirty) entities, scored again with calculated_at now.
//
// Keeping every entity's scored row in memory to rewrite the untouched
// ones held 74 MB at the peak of a 2M-event replay, the evidence JSON above
// all. Copying them from the table costs a read of the day's rows per run
// instead, 0.3 µs of CPU per event in that replay. The table's rows are
// copied only on a day this process wrote last (its entities are clean):
// a day read from silver is all dirty, so rows that another writer, or an
// older version that ordered them otherwise, wrote are scored again.
type riskReader struct {
	s     *Stage
	ctx   context.Context
	tbl   *table.Table // the table being replaced
	dates []string
	now   arrow.Timestamp

	di    int       // the day being written
	dirty []riskKey // the day's dirty entities in order; nil until listed
	ei    int       // the next of dirty

	copying bool                                    // the day has table rows left to copy
	next    func() (arrow.RecordBatch, error, bool) // the day's table rows; nil when not reading
	stop    func()
	old     arrow.RecordBatch // the table's rows being copied (riskColumns), from row oi
	oi      int
	ev      []byte  // a scored row's evidence JSON
	prev    riskKey // the table row before row oi, which it must follow
	hasPrev bool
}

// riskKey is where a row of gold.risk_scores goes in a day's order.
type riskKey struct {
	score  float64
	edits  int64
	entity string
}

// compare orders the rows of a day: by score and edits, the highest
// first, then by entity. The risk feed orders its rows the same way
// within a day.
func (a riskKey) compare(b riskKey) int {
	return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.edits, a.edits), cmp.Compare(a.entity, b.entity))
}

// riskColumns are gold.risk_scores' columns, in order.
var riskColumns = func() []string {
	var out []string
	for _, f := range lakehouse.RiskScoresTable.Fields {
		out = append(out, f.Name)
	}
	return out
}()

func (s *Stage) newRiskReader(ctx context.Context, tbl *table.Table, dates []string, now arrow.Timestamp) (array.RecordReader, error) {
	schema, err := table.SchemaToArrowSchema(lakehouse.RiskScoresTable.Schema(), nil, false, false)
	if err != nil {
		return nil, err
	}
	r := &riskReader{s: s, ctx: ctx, tbl: tbl, dates: dates, now: now}
	lr := newOrderedReader(schema, r.fill) // a day's rows in order
	lr.size = r.records
	lr.done = r.close
	return lr, nil
}

// close stops reading the table's rows.
func (r *riskReader) close() {
	if r.old != nil {
		r.old.Release()
		r.old = nil
	}
	if r.stop != nil {
		r.stop()
		r.next, r.stop = nil, nil
	}
}

// riskHeadRows is how many rows open each day's file, in a record and so
// a row group of their own, and riskRecordRows how many each later record
// holds. A risk feed ranks every row of its days but reads the evidence
// of the few it keeps, and DuckDB decompresses the evidence of every row
// group that holds one of them: the top of each day. In one 8192-row group,
// the LOW feed over 30 generated days decompressed every day's evidence
// (docs/PERFORMANCE.md, session 20). The table's writer properties make
// each record a row group (lakehouse.RiskScoresTable). Later records of
// 8192 rows (fewer row groups for the ranking to open) raised a 1M-event
// replay's peak RSS by about 100 MB.
func riskHeadRows() int   { return max(chunkRows/8, 1) }
func riskRecordRows() int { return chunkRows }

// records returns how many rows the next record holds: a day's first
// record is its head.
func (r *riskReader) records() int {
	if r.dirty == nil {
		return riskHeadRows()
	}
	return riskRecordRows()
}

func (r *riskReader) fill(b *array.RecordBuilder) (bool, error) {
	n, room := 0, r.records()
	for n < room && r.di < len(r.dates) {
		d := r.dates[r.di]
		day := r.s.days[d]
		if r.dirty == nil {
			r.dirty, r.ei = day.dirtyEntities(), 0
			r.copying, r.hasPrev = len(r.dirty) < len(day.entities), false
		}
		added, done, err := r.merge(b, d, day, room-n)
		n += added
		if err != nil {
			return false, err
		}
		if !done {
			break // the record is full
		}
		r.close()
		r.di, r.dirty = r.di+1, nil
		if n > 0 {
			break // one day per record: the writer passes it through whole
		}
	}
	return n > 0, nil
}

// merge appends up to room of the day's rows, the table's rows to copy
// and the dirty entities' scored rows in order, and reports whether none
// is left.
func (r *riskReader) merge(b *array.RecordBuilder, d string, day *dayActivity, room int) (int, bool, error) {
	added := 0
	for added < room {
		var old riskKey
		if r.copying {
			var err error
			if old, err = r.peek(d, day); err != nil {
				return added, false, err
			}
		}
		switch {
		case r.copying && (r.ei == len(r.dirty) || old.compare(r.dirty[r.ei]) < 0):
			if err := copyRow(b, r.old, r.oi); err != nil {
				return added, false, err
			}
			r.prev, r.hasPrev, r.oi = old, true, r.oi+1
			r.s.riskCopied++
		case r.ei < len(r.dirty):
			r.scoreRow(b, d, day.entities[r.dirty[r.ei].entity], r.dirty[r.ei])
			r.ei++
		default:
			return added, true, nil
		}
		added++
	}
	return added, false, nil
}

// peek positions the table's rows of the day on the next one to copy (of
// an entity the day has and no new row touched) and returns its key, or
// clears copying when none is left. A row of an entity the day's activity
// does not have is dropped, as a recomputation would. Rows out of order
// fail the run (the next one scores the day whole).
func (r *riskReader) peek(d string, day *dayActivity) (riskKey, error) {
	if r.next == nil {
		recs, err := dayRows(r.ctx, r.tbl, d)
		if err != nil {
			return riskKey{}, err
		}
		r.next, r.stop = iter.Pull2(recs)
	}
	for {
		if r.old == nil || r.oi >= int(r.old.NumRows()) {
			if r.old != nil {
				r.old.Release()
				r.old = nil
			}
			rec, err, ok := r.next()
			if !ok {
				r.close()
				r.copying = false
				return riskKey{}, nil
			}
			if err != nil {
				return riskKey{}, err
			}
			r.old, r.oi = rec, 0
		}
		entities, ok1 := r.old.Column(1).(*array.String)
		scores, ok2 := r.old.Column(2).(*array.Float64)
		edits, ok3 := r.old.Column(8).(*array.Int64)
		if !ok1 || !ok2 || !ok3 {
			return riskKey{}, fmt.Errorf("%s: unexpected column types %s", lakehouse.Name(lakehouse.GoldRiskScores), r.old.Schema())
		}
		for ; r.oi < int(r.old.NumRows()); r.oi++ {
			k := riskKey{score: scores.Value(r.oi), edits: edits.Value(r.oi), entity: entities.Value(r.oi)}
			if r.hasPrev && r.prev.compare(k) >= 0 {
				return riskKey{}, fmt.Errorf("%s %s: the table's rows are out of order at %s, after %s",
					lakehouse.Name(lakehouse.GoldRiskScores), d, k.entity, r.prev.entity)
			}
			if e := day.entities[k.entity]; e != nil && !e.dirty {
				return k, nil
			}
			r.prev, r.hasPrev = k, true
		}
	}
}

// scoreRow appends the row of a dirty entity, scored again.
func (r *riskReader) scoreRow(b *array.RecordBuilder, d string, e *entityDay, k riskKey) {
	score, level, ev := Score(e.activity(d, k.entity), r.s.cfg.LargeDeletionBytes)
	b.Field(0).(*array.StringBuilder).Append(d)
	b.Field(1).(*array.StringBuilder).Append(k.entity)
	b.Field(2).(*array.Float64Builder).Append(float64(score))
	b.Field(3).(*array.StringBuilder).Append(level)
	r.ev = ev.AppendJSON(r.ev[:0])
	b.Field(4).(*array.StringBuilder).BinaryBuilder.Append(r.ev)
	b.Field(5).(*array.BooleanBuilder).Append(level == LevelHigh && (r.s.cfg.AlertBots || !e.bot))
	b.Field(6).(*array.BooleanBuilder).Append(e.bot)
	b.Field(7).(*array.BooleanBuilder).Append(e.allAnonymous)
	b.Field(8).(*array.Int64Builder).Append(e.edits)
	b.Field(9).(*array.Int32Builder).Append(int32(len(e.domains)))
	b.Field(10).(*array.TimestampBuilder).Append(r.now)
	b.Field(11).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
}

// dayRows returns the table's rows of day d (riskColumns), read one data
// file after the other in records of lakehouse.ReadFile's size. iceberg-go's scan reads several
// files at once and buffers ahead of its reader: copying a day's rows
// through it held 240 MB at the peak of a 2M-event replay. The table is
// copy-on-write; a file with deletes is read through the scan instead.
func dayRows(ctx context.Context, tbl *table.Table, d string) (iter.Seq2[arrow.RecordBatch, error], error) {
	name := lakehouse.Name(lakehouse.GoldRiskScores)
	day := iceberg.EqualTo(iceberg.Reference("stat_date"), d)
	if tbl.CurrentSnapshot() == nil {
		return func(func(arrow.RecordBatch, error) bool) {}, nil
	}
	tasks, err := tbl.Scan(table.WithRowFilter(day)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", name, d, err)
	}
	for _, t := range tasks {
		if len(t.DeleteFiles) > 0 || len(t.EqualityDeleteFiles) > 0 {
			_, recs, err := tbl.Scan(table.WithRowFilter(day)).ToArrowRecords(ctx)
			if err != nil {
				return nil, fmt.Errorf("read %s %s: %w", name, d, err)
			}
			return func(yield func(arrow.RecordBatch, error) bool) {
				for rec, err := range recs {
					if err == nil {
						// The scan may return the columns in another order.
						ordered, serr := selectColumns(rec, riskColumns)
						rec.Release()
						rec, err = ordered, serr
					}
					if !yield(rec, err) {
						return
					}
				}
			}, nil
		}
	}
	return func(yield func(arrow.RecordBatch, error) bool) {
		for _, t := range tasks {
			for rec, err := range fileRecords(ctx, tbl, t.File, riskColumns) {
				if err != nil {
					yield(nil, fmt.Errorf("read %s %s: %w", name, d, err))
					return
				}
				if !yield(rec, nil) {
					return
				}
			}
		}
	}, nil
}

// copyRow appends row i of rec to b, column by column.
func copyRow(b *array.RecordBuilder, rec arrow.RecordBatch, i int) error {
	for c, col := range rec.Columns() {
		fb := b.Field(c)
		ok := copyValue[string, *array.String, *array.StringBuilder](fb, col, i) ||
			copyValue[float64, *array.Float64, *array.Float64Builder](fb, col, i) ||
			copyValue[bool, *array.Boolean, *array.BooleanBuilder](fb, col, i) ||
			copyValue[int64, *array.Int64, *array.Int64Builder](fb, col, i) ||
			copyValue[int32, *array.Int32, *array.Int32Builder](fb, col, i) ||
			copyValue[arrow.Timestamp, *array.Timestamp, *array.TimestampBuilder](fb, col, i)
		if !ok {
			return fmt.Errorf("%s: cannot copy column %s of type %s", lakehouse.Name(lakehouse.GoldRiskScores), rec.ColumnName(c), col.DataType())
		}
	}
	return nil
}

// copyValue appends value i of col to b and reports true when col is an A
// and b a B.
func copyValue[T any, A interface{ Value(int) T }, B interface{ Append(T) }](b array.Builder, col arrow.Array, i int) bool {
	from, ok1 := col.(A)
	to, ok2 := b.(B)
	if ok1 && ok2 {
		to.Append(from.Value(i))
	}
	return ok1 && ok2
}
