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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
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
	return Config{LargeDeletionBytes: 1000, Poll: 200 * time.Millisecond}
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
	}
	return nil
}

// Stage is the gold stage.
type Stage struct {
	cfg Config
	lh  *lakehouse.Lakehouse
	eng *query.Engine
	log *slog.Logger

	// days is the risk score's input, per day, as of the silver checkpoint
	// riskCP (valid only when daysValid); runs counts RunOnce calls.
	days      map[string]*dayActivity
	riskCP    lakehouse.Checkpoint
	daysValid bool
	runs      int64
	// scoreDrops counts days that let go of their scored rows (tests).
	scoreDrops int
	// rollups keep the top lists' hourly rollups.
	rollups []*rollup
	// hourlyState keeps the newest hours of gold.hourly_stats (hourly.go).
	hourlyState hourlyState

	// latency is, per gold commit, from the newest event time it includes
	// to the commit: how far behind the edits the gold numbers are.
	latency prometheus.Histogram
}

// keepDays bounds the days of activity kept between runs; older ones are
// read again from silver when a late event touches them.
const keepDays = 3

// New builds the gold stage. It reads silver through the SQL engine.
func New(ctx context.Context, cfg Config, lh *lakehouse.Lakehouse) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	eng, err := query.Open(ctx, lh, []table.Identifier{lakehouse.SilverCleanedEvents},
		query.Config{Timeout: 10 * time.Minute, MaxRows: 100_000_000, MemoryLimit: "1GB"})
	if err != nil {
		return nil, fmt.Errorf("gold: %w", err)
	}
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "wikistream", Subsystem: "gold",
		Name:    "end_to_end_latency_seconds",
		Help:    "From the newest event time in a gold commit to the commit: edit on the wiki to gold numbers (includes EventStreams' own delay).",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 16)})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(latency); err != nil {
			eng.Close()
			return nil, fmt.Errorf("gold metrics: %w", err)
		}
	}
	return &Stage{cfg: cfg, lh: lh, eng: eng, log: log.With("stage", "gold"), latency: latency, rollups: newRollups()}, nil
}

// Close releases the SQL engine.
func (s *Stage) Close() error { return s.eng.Close() }

// Result is what one run did.
type Result struct {
	Hours, Days       int // hours and days recomputed
	HourlyRows, Risks int // rows written
	Caught            bool
}

// Run keeps gold up to date until ctx is cancelled.
func (s *Stage) Run(ctx context.Context) error {
	err := schedule.Incremental(ctx, s.cfg.Poll, s.cfg.MinInterval, func(ctx context.Context) (bool, bool, error) {
		res, err := s.RunOnce(ctx)
		return res.Hours > 0 || res.Days > 0, false, err
	})
	if err != nil {
		return fmt.Errorf("gold: %w", err)
	}
	return nil
}

// RunOnce brings both gold tables up to silver's current snapshot.
func (s *Stage) RunOnce(ctx context.Context) (Result, error) {
	var res Result
	silverTbl, err := s.lh.Load(ctx, lakehouse.SilverCleanedEvents)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		res.Caught = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	head := lakehouse.Head(silverTbl)
	hours, rows, err := s.refreshHourly(ctx, silverTbl, head)
	if err != nil {
		return res, err
	}
	res.Hours, res.HourlyRows = hours, rows
	if hours > 0 && s.cfg.HourlyCommitted != nil {
		s.cfg.HourlyCommitted()
	}
	if err := s.refreshRollups(ctx, silverTbl, head); err != nil {
		return res, err
	}
	days, risks, err := s.refreshRisk(ctx, silverTbl, head)
	if err != nil {
		return res, err
	}
	res.Days, res.Risks, res.Caught = days, risks, true
	return res, nil
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
	return s.replaceWith(ctx, ident, func() (array.RecordReader, error) {
		return array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	}, filter, head)
}

// replaceWith is replace with the rows read from a reader that newReader
// makes afresh for every commit attempt.
func (s *Stage) replaceWith(ctx context.Context, ident table.Identifier, newReader func() (array.RecordReader, error), filter iceberg.BooleanExpression, head lakehouse.Checkpoint) error {
	_, err := s.lh.Commit(ctx, ident, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
		rdr, err := newReader()
		if err != nil {
			return err
		}
		defer rdr.Release()
		props := lakehouse.CheckpointProps(lakehouse.SilverCleanedEvents, head)
		props["wikistream.stage"] = "gold"
		return tx.Overwrite(ctx, rdr, props, table.WithOverwriteFilter(filter))
	})
	if err != nil {
		return fmt.Errorf("commit %s: %w", lakehouse.Name(ident), err)
	}
	return nil
}

// sqlString quotes a string literal for DuckDB.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// hourlySQL selects gold.hourly_stats' columns but the last two
// (gold_processed_at and schema_version), in order, for the silver rows
// matching where. The hours are recomputed whole: their distinct counts of
// users and pages do not merge.
const hourlySQL = `SELECT event_date, event_hour, domain, min(region), min(language),
	count(*)::BIGINT, count(DISTINCT user_normalized)::BIGINT,
	sum(greatest(length_delta, 0))::BIGINT, sum(greatest(-length_delta, 0))::BIGINT,
	round(100.0 * avg(is_bot::INT), 2)::DOUBLE,
	sum((NOT is_bot AND NOT is_anonymous)::INT)::BIGINT, sum(is_bot::INT)::BIGINT, sum(is_anonymous::INT)::BIGINT,
	sum(is_new_page::INT)::BIGINT, count(DISTINCT title)::BIGINT
	FROM silver.cleaned_events WHERE is_valid AND (%s)
	GROUP BY ALL ORDER BY 1, 2, 3`

// hourlyRows recomputes gold.hourly_stats' rows of the given hours from
// silver at its snapshot, with hourlySQL.
func (s *Stage) hourlyRows(ctx context.Context, snapshot int64, hours []key) ([][]any, error) {
	var where []string
	for _, k := range hours {
		where = append(where, fmt.Sprintf("(event_date = %s AND event_hour = %d)", sqlString(k.date), k.hour))
	}
	res, err := s.eng.Query(ctx, fmt.Sprintf(hourlySQL, strings.Join(where, " OR ")), query.At{Snapshot: snapshot})
	if err != nil {
		return nil, fmt.Errorf("recompute hourly stats: %w", err)
	}
	for _, r := range res.Rows {
		r[1] = toInt32(r[1])
	}
	return res.Rows, nil
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
	return b.NewRecordBatch(), hoursFilter(touched), nil
}

// refreshRisk brings gold.risk_scores up to silver's head: it adds the
// rows of the silver files committed since the table's checkpoint to the
// days of activity it keeps (reading a day whole from silver when it has
// not got it), and replaces the touched days' rows.
func (s *Stage) refreshRisk(ctx context.Context, silverTbl *table.Table, head lakehouse.Checkpoint) (int, int, error) {
	s.runs++
	goldTbl, err := s.lh.EnsureTable(ctx, lakehouse.RiskScoresTable)
	if err != nil {
		return 0, 0, err
	}
	cp := lakehouse.ReadCheckpoint(goldTbl, lakehouse.SilverCleanedEvents)
	if !s.daysValid || cp != s.riskCP {
		// First run, a failed commit, or another writer: start over.
		s.days, s.riskCP, s.daysValid = map[string]*dayActivity{}, cp, true
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
		err := lakehouseFileRows(ctx, silverTbl, f, func(rec arrow.RecordBatch) error {
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
	err = s.replaceWith(ctx, lakehouse.GoldRiskScores, func() (array.RecordReader, error) {
		return s.newRiskReader(dates, now)
	}, filter, head)
	if err != nil {
		return 0, 0, err
	}
	ok, s.riskCP = true, head
	s.dropIdleScores()
	if newest > 0 {
		s.latency.Observe(time.Since(time.UnixMicro(int64(newest))).Seconds())
	}
	s.evictDays()
	s.log.Debug("gold committed", "table", lakehouse.Name(lakehouse.GoldRiskScores), "days", len(dates), "rows", rows)
	return len(dates), rows, nil
}

// idleScoreRuns: a day no run touched for this many runs (about 30 s at
// the live rate) lets go of its entities' scored rows (a variable for
// tests).
var idleScoreRuns int64 = 30

// dropIdleScores lets the days that runs stopped touching go of their
// entities' scored rows, the evidence JSON above all (about 1 KB an
// entity): a day's rows are written again only when a run touches it, and
// saving the scoring of unchanged entities then is all a kept row is for.
// Their activity stays, for late events; a late event into such a day
// scores its entities again, once. This is for a long-running process:
// without it yesterday's evidence stayed for the three days of activity
// kept. It does not lower a replay's peak, whose gold runs are few and
// long (16 runs in a 3M-event replay) and whose active day's rows are all
// scored.
func (s *Stage) dropIdleScores() {
	for _, day := range s.days {
		if !day.scoresKept || s.runs-day.used < idleScoreRuns {
			continue
		}
		for _, e := range day.entities {
			e.scored = nil
		}
		day.scoresKept = false
		s.scoreDrops++
	}
}

// evictDays forgets the least recently touched days beyond keepDays.
func (s *Stage) evictDays() {
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

// riskReader scores every entity of the dates, in order, and fills a
// lazyReader's records with their rows, one day per record. Scores
// already computed since the entity's last new row are reused; now is the
// calculated_at of new ones.
type riskReader struct {
	s      *Stage
	dates  []string
	now    arrow.Timestamp
	di, ei int      // the next entity: order[ei] of dates[di]
	order  []string // the day's entities, HIGH and MEDIUM first; nil until scored
}

func (s *Stage) newRiskReader(dates []string, now arrow.Timestamp) (array.RecordReader, error) {
	schema, err := table.SchemaToArrowSchema(lakehouse.RiskScoresTable.Schema(), nil, false, false)
	if err != nil {
		return nil, err
	}
	r := &riskReader{s: s, dates: dates, now: now}
	return newLazyReader(schema, r.fill), nil
}

// flaggedFirst scores the day's entities that need it and returns them
// HIGH and MEDIUM first, each part in name order. With small row groups
// (the table's row-group limit), the risk feed and the summary, which
// read only HIGH and MEDIUM rows, skip the row groups of the LOW majority
// by their statistics instead of decoding a busy day's 100k rows.
func (r *riskReader) flaggedFirst(d string, day *dayActivity) []string {
	day.scoresKept = true
	entities := day.sortedEntities()
	flagged := make([]string, 0, len(entities)/8)
	var low []string
	for _, entity := range entities {
		e := day.entities[entity]
		if e.scored == nil {
			score, level, ev := Score(e.activity(d, entity), r.s.cfg.LargeDeletionBytes)
			e.scored = &scoredRow{score: score, level: level, evidence: ev.JSON(), calculatedAt: r.now}
		}
		if e.scored.level == LevelLow {
			low = append(low, entity)
		} else {
			flagged = append(flagged, entity)
		}
	}
	return append(flagged, low...)
}

func (r *riskReader) fill(b *array.RecordBuilder) bool {
	n := 0
	for n < chunkRows && r.di < len(r.dates) {
		d := r.dates[r.di]
		day := r.s.days[d]
		if r.order == nil {
			r.order = r.flaggedFirst(d, day)
		}
		if r.ei >= len(r.order) {
			r.di, r.ei, r.order = r.di+1, 0, nil
			if n > 0 {
				break // one day per record: the writer passes it through whole
			}
			continue
		}
		entity := r.order[r.ei]
		r.ei++
		n++
		e := day.entities[entity]
		b.Field(0).(*array.StringBuilder).Append(d)
		b.Field(1).(*array.StringBuilder).Append(entity)
		b.Field(2).(*array.Float64Builder).Append(float64(e.scored.score))
		b.Field(3).(*array.StringBuilder).Append(e.scored.level)
		b.Field(4).(*array.StringBuilder).Append(e.scored.evidence)
		b.Field(5).(*array.BooleanBuilder).Append(e.scored.level == LevelHigh && (r.s.cfg.AlertBots || !e.bot))
		b.Field(6).(*array.BooleanBuilder).Append(e.bot)
		b.Field(7).(*array.BooleanBuilder).Append(e.allAnonymous)
		b.Field(8).(*array.Int64Builder).Append(e.edits)
		b.Field(9).(*array.Int32Builder).Append(int32(len(e.domains)))
		b.Field(10).(*array.TimestampBuilder).Append(e.scored.calculatedAt)
		b.Field(11).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
	}
	return n > 0
}
