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
}

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
	return &Stage{cfg: cfg, lh: lh, eng: eng, log: log.With("stage", "gold")}, nil
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
	hours, hourRows, err := s.refresh(ctx, silverTbl, head, lakehouse.HourlyStatsTable, s.hourly)
	if err != nil {
		return res, err
	}
	days, risks, err := s.refresh(ctx, silverTbl, head, lakehouse.RiskScoresTable, s.risk)
	if err != nil {
		return res, err
	}
	res.Hours, res.HourlyRows, res.Days, res.Risks, res.Caught = hours, hourRows, days, risks, true
	return res, nil
}

// CaughtUp reports whether both gold tables reflect every silver commit
// that added rows.
func (s *Stage) CaughtUp(ctx context.Context) (bool, error) {
	silverTbl, err := s.lh.Load(ctx, lakehouse.SilverCleanedEvents)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, def := range []lakehouse.TableDef{lakehouse.HourlyStatsTable, lakehouse.RiskScoresTable} {
		tbl, err := s.lh.Load(ctx, def.Ident)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		added, err := lakehouse.AddedSince(ctx, silverTbl, lakehouse.ReadCheckpoint(tbl, lakehouse.SilverCleanedEvents))
		if err != nil || len(added) > 0 {
			return false, err
		}
	}
	return true, nil
}

// recompute builds the replacement rows of the touched keys and the filter
// selecting the rows they replace.
type recompute func(ctx context.Context, silverSnapshot int64, touched []key) (arrow.RecordBatch, iceberg.BooleanExpression, error)

// key is a touched (date, hour); hour is -1 for a whole day.
type key struct {
	date string
	hour int32
}

// refresh recomputes what the silver files added after the gold table's
// checkpoint touch, and commits the replacement with the new checkpoint.
func (s *Stage) refresh(ctx context.Context, silverTbl *table.Table, head lakehouse.Checkpoint, def lakehouse.TableDef, build recompute) (int, int, error) {
	goldTbl, err := s.lh.EnsureTable(ctx, def)
	if err != nil {
		return 0, 0, err
	}
	cp := lakehouse.ReadCheckpoint(goldTbl, lakehouse.SilverCleanedEvents)
	added, err := lakehouse.AddedSince(ctx, silverTbl, cp)
	if err != nil || len(added) == 0 {
		return 0, 0, err
	}
	byHour := lakehouse.Name(def.Ident) == lakehouse.Name(lakehouse.GoldHourlyStats)
	set := map[key]bool{}
	for _, f := range added {
		t, err := lakehouse.ReadFile(ctx, silverTbl, f.File, []string{"event_date", "event_hour"})
		if err != nil {
			return 0, 0, err
		}
		tr := array.NewTableReader(t, 1<<16)
		for tr.Next() {
			rec := tr.RecordBatch()
			dates, hrs := rec.Column(0).(*array.String), rec.Column(1).(*array.Int32)
			for i := range int(rec.NumRows()) {
				k := key{date: dates.Value(i), hour: -1}
				if byHour {
					k.hour = hrs.Value(i)
				}
				set[k] = true
			}
		}
		tr.Release()
		t.Release()
	}
	touched := make([]key, 0, len(set))
	for k := range set {
		touched = append(touched, k)
	}
	sort.Slice(touched, func(i, j int) bool {
		return touched[i].date < touched[j].date || (touched[i].date == touched[j].date && touched[i].hour < touched[j].hour)
	})
	rec, filter, err := build(ctx, head.Snapshot, touched)
	if err != nil {
		return 0, 0, err
	}
	defer rec.Release()
	schema := rec.Schema()
	_, err = s.lh.Commit(ctx, def.Ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		props := lakehouse.CheckpointProps(lakehouse.SilverCleanedEvents, head)
		props["wikistream.stage"] = "gold"
		return tx.Overwrite(ctx, rdr, props, table.WithOverwriteFilter(filter))
	})
	if err != nil {
		return 0, 0, fmt.Errorf("commit %s: %w", lakehouse.Name(def.Ident), err)
	}
	s.log.Debug("gold committed", "table", lakehouse.Name(def.Ident), "keys", len(touched), "rows", rec.NumRows())
	return len(touched), int(rec.NumRows()), nil
}

// sqlString quotes a string literal for DuckDB.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// hourly recomputes gold.hourly_stats for the touched hours.
func (s *Stage) hourly(ctx context.Context, snapshot int64, touched []key) (arrow.RecordBatch, iceberg.BooleanExpression, error) {
	var where []string
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, k := range touched {
		where = append(where, fmt.Sprintf("(event_date = %s AND event_hour = %d)", sqlString(k.date), k.hour))
		filter = iceberg.NewOr(filter, iceberg.NewAnd(
			iceberg.EqualTo(iceberg.Reference("stat_date"), k.date),
			iceberg.EqualTo(iceberg.Reference("stat_hour"), k.hour)))
	}
	schema, err := table.SchemaToArrowSchema(lakehouse.HourlyStatsTable.Schema(), nil, false, false)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	if len(where) > 0 {
		res, err := s.eng.Query(ctx, `SELECT event_date, event_hour, domain, min(region), min(language),
			count(*)::BIGINT, count(DISTINCT user_normalized)::BIGINT,
			sum(greatest(length_delta, 0))::BIGINT, sum(greatest(-length_delta, 0))::BIGINT,
			round(100.0 * avg(is_bot::INT), 2)::DOUBLE,
			sum((NOT is_bot AND NOT is_anonymous)::INT)::BIGINT, sum(is_bot::INT)::BIGINT, sum(is_anonymous::INT)::BIGINT,
			sum(is_new_page::INT)::BIGINT, count(DISTINCT title)::BIGINT
			FROM silver.cleaned_events WHERE is_valid AND (`+strings.Join(where, " OR ")+`)
			GROUP BY ALL ORDER BY 1, 2, 3`, query.At{Snapshot: snapshot})
		if err != nil {
			return nil, nil, fmt.Errorf("recompute hourly stats: %w", err)
		}
		now := arrow.Timestamp(time.Now().UTC().UnixMicro())
		for _, r := range res.Rows {
			b.Field(0).(*array.StringBuilder).Append(r[0].(string))
			b.Field(1).(*array.Int32Builder).Append(toInt32(r[1]))
			b.Field(2).(*array.StringBuilder).Append(r[2].(string))
			b.Field(3).(*array.StringBuilder).Append(r[3].(string))
			appendOptString(b.Field(4).(*array.StringBuilder), r[4])
			for i := 5; i <= 8; i++ {
				b.Field(i).(*array.Int64Builder).Append(toInt64(r[i]))
			}
			b.Field(9).(*array.Float64Builder).Append(r[9].(float64))
			for i := 10; i <= 14; i++ {
				b.Field(i).(*array.Int64Builder).Append(toInt64(r[i]))
			}
			b.Field(15).(*array.TimestampBuilder).Append(now)
			b.Field(16).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
		}
	}
	return b.NewRecordBatch(), filter, nil
}

// risk recomputes gold.risk_scores for the touched days.
func (s *Stage) risk(ctx context.Context, snapshot int64, touched []key) (arrow.RecordBatch, iceberg.BooleanExpression, error) {
	var dates []string
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, k := range touched {
		dates = append(dates, sqlString(k.date))
		filter = iceberg.NewOr(filter, iceberg.EqualTo(iceberg.Reference("stat_date"), k.date))
	}
	schema, err := table.SchemaToArrowSchema(lakehouse.RiskScoresTable.Schema(), nil, false, false)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	if len(dates) > 0 {
		res, err := s.eng.Query(ctx, `WITH e AS (
				SELECT event_date, user_normalized AS entity, event_hour, domain, title, revision_new, event_timestamp,
					event_id, is_bot, is_anonymous, is_large_deletion, length_delta
				FROM silver.cleaned_events
				WHERE is_valid AND event_type IN ('edit', 'new') AND user_normalized IS NOT NULL
					AND event_date IN (`+strings.Join(dates, ", ")+`)),
			hours AS (SELECT event_date, entity, event_hour, count(*) AS n FROM e GROUP BY ALL),
			peak AS (SELECT event_date, entity, max(n) AS peak, arg_max(event_hour, n) AS peak_hour FROM hours GROUP BY ALL)
			SELECT e.event_date, e.entity, count(*)::BIGINT, any_value(peak.peak)::BIGINT, any_value(peak.peak_hour)::INTEGER,
				sum(is_large_deletion::INT)::BIGINT, min(length_delta)::BIGINT, sum(is_anonymous::INT)::BIGINT,
				count(DISTINCT domain)::BIGINT, list(DISTINCT domain ORDER BY domain),
				arg_min(title, {'t': event_timestamp, 'id': event_id}, 5) FILTER (WHERE is_large_deletion AND title IS NOT NULL),
				arg_min(revision_new, {'t': event_timestamp, 'id': event_id}, 5) FILTER (WHERE is_large_deletion AND revision_new IS NOT NULL),
				arg_min(title, {'t': event_timestamp, 'id': event_id}, 5) FILTER (WHERE title IS NOT NULL),
				arg_min(revision_new, {'t': event_timestamp, 'id': event_id}, 5) FILTER (WHERE revision_new IS NOT NULL),
				bool_or(is_bot), bool_and(is_anonymous)
			FROM e JOIN peak USING (event_date, entity)
			GROUP BY e.event_date, e.entity ORDER BY 1, 2`, query.At{Snapshot: snapshot})
		if err != nil {
			return nil, nil, fmt.Errorf("recompute risk scores: %w", err)
		}
		now := arrow.Timestamp(time.Now().UTC().UnixMicro())
		for _, r := range res.Rows {
			a := Activity{Date: r[0].(string), Entity: r[1].(string), Edits: toInt64(r[2]), PeakHourEdits: toInt64(r[3]),
				PeakHour: toInt32(r[4]), LargeDeletions: toInt64(r[5]), LargestRemoval: toInt64(r[6]),
				AnonymousEdits: toInt64(r[7]), Domains: toInt64(r[8]), DomainList: strings10(r[9]),
				DeletionTitles: strings5(r[10]), DeletionRevs: ints5(r[11]), SampleTitles: strings5(r[12]),
				SampleRevisions: ints5(r[13]), IsBot: r[14] == true, Anonymous: r[15] == true}
			score, level, ev := Score(a, s.cfg.LargeDeletionBytes)
			b.Field(0).(*array.StringBuilder).Append(a.Date)
			b.Field(1).(*array.StringBuilder).Append(a.Entity)
			b.Field(2).(*array.Float64Builder).Append(float64(score))
			b.Field(3).(*array.StringBuilder).Append(level)
			b.Field(4).(*array.StringBuilder).Append(ev.JSON())
			b.Field(5).(*array.BooleanBuilder).Append(level == LevelHigh && (s.cfg.AlertBots || !a.IsBot))
			b.Field(6).(*array.BooleanBuilder).Append(a.IsBot)
			b.Field(7).(*array.BooleanBuilder).Append(a.Anonymous)
			b.Field(8).(*array.Int64Builder).Append(a.Edits)
			b.Field(9).(*array.Int32Builder).Append(int32(a.Domains))
			b.Field(10).(*array.TimestampBuilder).Append(now)
			b.Field(11).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
		}
	}
	return b.NewRecordBatch(), filter, nil
}
