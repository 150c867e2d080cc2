package gold

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// The daily rollups (gold.contributors_daily, gold.pages_daily) hold their
// hourly rollup's rows summed per day, for the days that are over: a day
// is over once the newest event time is dailyGrace past its end. The API
// reads a range's days that are over from them and its other hours from
// the hourly rollups.
//
// A day is written from the hourly table, after the hourly commit that
// closes it, and written again whenever a later hourly commit changes one
// of its hours (a late event). What a restart needs is kept in the
// snapshot summaries, carried forward by maintenance (lakehouse.Bookkeeping):
//   - the hourly table records the newest event time (newestKey) and the
//     days over whose hours changed since their daily rows were written
//     (pendingKey), in the same commit as the change;
//   - the daily table records the last day over (throughKey) and, as every
//     gold table, the silver checkpoint of the hourly rows it summed.
//
// Should a daily commit fail after its hourly commit, the next run finds
// the pending days in the hourly table and writes them. Daily rows are
// never newer than the hourly rows, and within a run they follow them.
//
// Summing a day holds all of its keys: at the live feed's volume, a day of
// pages is about a million hourly rows. The day is summed in parts of at
// most dailyPartRows hourly rows, by the keys' numeric ids modulo the
// number of parts, each part read from the day's files and written before
// the next is read.

// Snapshot-summary keys of the daily rollups' bookkeeping.
const (
	newestKey  = "wikistream.daily.newest-event"
	pendingKey = "wikistream.daily.pending"
	throughKey = "wikistream.daily.through"
)

// dailyGrace is how long after a day ends (in event time) it is over:
// EventStreams delivers almost every event within minutes, and the
// recorded captures have none more than ten minutes late (a variable for
// tests).
var dailyGrace = time.Hour

// dailyDaysPerRun bounds the days over that a run writes besides the
// pending ones: a day of the live feed's pages takes about 5 s to sum, and
// the first run over a month of hourly rollups would otherwise hold gold
// up for minutes.
const dailyDaysPerRun = 2

// dailyPartRows bounds the hourly rows summed at once (a variable for
// tests): about 30 MB of pages.
var dailyPartRows int64 = 100_000

// daily keeps a rollup's daily table.
type daily struct {
	def lakehouse.TableDef
	// through is the last day over that the table is written up to;
	// pending are days up to it whose hours changed since. Both are as of
	// the hourly rollup's checkpoint when valid.
	through string
	pending map[string]bool
	valid   bool
	// written and parts count the days written and the parts summed
	// (tests).
	written, parts int
}

// dailyCommitHook, when set, is called before each daily commit; an error
// fails it (tests).
var dailyCommitHook func() error

// startDaily reads the rollup's newest event time and its daily table's
// bookkeeping, as a run that starts over does.
func (s *Stage) startDaily(ctx context.Context, ru *rollup, hourlyTbl *table.Table) error {
	d := ru.daily
	d.valid, d.through, d.pending, ru.newest = false, "", map[string]bool{}, 0
	dailyTbl, err := s.lh.EnsureTable(ctx, d.def)
	if err != nil {
		return err
	}
	hb := lakehouse.Bookkeeping(hourlyTbl)
	if v, ok := hb[newestKey]; ok {
		if ru.newest, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%s: bad %s %q in its snapshot summary", lakehouse.Name(ru.def.Ident), newestKey, v)
		}
	} else if ru.newest, err = newestHour(ctx, hourlyTbl); err != nil {
		// Written before the daily rollups: its newest hour will do.
		return err
	}
	d.through = lakehouse.Bookkeeping(dailyTbl)[throughKey]
	// Pending days were written by a daily commit that summed the hourly
	// table at its checkpoint; otherwise they wait.
	if lakehouse.ReadCheckpoint(dailyTbl, lakehouse.SilverCleanedEvents) != lakehouse.ReadCheckpoint(hourlyTbl, lakehouse.SilverCleanedEvents) {
		for _, day := range strings.Split(hb[pendingKey], ",") {
			if day != "" {
				d.pending[day] = true
			}
		}
	}
	d.valid = true
	return nil
}

// behind reports whether days are left to write at the newest event time
// (µs), or the daily table's state needs reading again.
func (d *daily) behind(newest int64) bool {
	return !d.valid || len(d.pending) > 0 || overThrough(newest) > d.through
}

// touch marks the days over among the hours a commit replaces as pending.
func (d *daily) touch(hours []key) {
	for _, k := range hours {
		if d.through != "" && k.date <= d.through {
			d.pending[k.date] = true
		}
	}
}

// bookkeeping is what a commit of the hourly rollup records for its daily
// table.
func (ru *rollup) bookkeeping() map[string]string {
	return map[string]string{newestKey: strconv.FormatInt(ru.newest, 10),
		pendingKey: strings.Join(slices.Sorted(maps.Keys(ru.daily.pending)), ",")}
}

// overThrough is the last day over at the newest event time (µs), or ""
// when none is.
func overThrough(newest int64) string {
	if newest <= 0 {
		return ""
	}
	t := time.UnixMicro(newest).UTC().Add(-24*time.Hour - dailyGrace)
	if t.Before(time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)) {
		return ""
	}
	return t.Format(time.DateOnly)
}

// refreshDaily writes the days of the rollup's daily table that are
// pending or newly over, from the hourly table as its last commit left it
// (at the rollup's checkpoint, which the daily commit records too).
func (s *Stage) refreshDaily(ctx context.Context, ru *rollup, at time.Time) error {
	d := ru.daily
	if !d.valid {
		return fmt.Errorf("%s: not started", lakehouse.Name(d.def.Ident))
	}
	over := overThrough(ru.newest)
	if len(d.pending) == 0 && over <= d.through {
		return nil
	}
	hourlyTbl, err := s.lh.Load(ctx, ru.def.Ident)
	if err != nil {
		return err
	}
	days := map[string]bool{}
	for day := range d.pending {
		days[day] = true
	}
	through := max(over, d.through)
	if over > d.through {
		// The days with hours that are newly over, oldest first, at most
		// dailyDaysPerRun of them.
		filter := iceberg.BooleanExpression(iceberg.LessThanEqual(iceberg.Reference("stat_date"), over))
		if d.through != "" {
			filter = iceberg.NewAnd(filter, iceberg.GreaterThan(iceberg.Reference("stat_date"), d.through))
		}
		dates, err := partitionDates(ctx, hourlyTbl, filter)
		if err != nil {
			return err
		}
		if len(dates) > dailyDaysPerRun {
			dates = dates[:dailyDaysPerRun]
			through = dates[len(dates)-1]
		}
		for _, day := range dates {
			days[day] = true
		}
	}
	if len(days) == 0 {
		d.through = through
		return nil
	}
	sorted := slices.Sorted(maps.Keys(days))
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, day := range sorted {
		filter = iceberg.NewOr(filter, iceberg.EqualTo(iceberg.Reference("stat_date"), day))
	}
	if dailyCommitHook != nil {
		if err := dailyCommitHook(); err != nil {
			d.valid = false
			return err
		}
	}
	var rows int
	now := arrow.Timestamp(at.UTC().UnixMicro())
	err = s.replaceWithProps(ctx, d.def.Ident, func(ctx context.Context, _ *table.Table) (array.RecordReader, error) {
		rows = 0
		return ru.dailyReader(ctx, hourlyTbl, sorted, now, &rows)
	}, filter, ru.cp, map[string]string{throughKey: through})
	if err != nil {
		d.valid = false // read the bookkeeping again
		return err
	}
	d.through, d.pending = through, map[string]bool{}
	d.written += len(sorted)
	s.log.Debug("gold committed", "table", lakehouse.Name(d.def.Ident), "days", len(sorted), "rows", rows)
	return nil
}

// newestHour is the start of the newest hour of tbl's partitions (µs), or
// 0 for an empty table.
func newestHour(ctx context.Context, tbl *table.Table) (int64, error) {
	if tbl.CurrentSnapshot() == nil {
		return 0, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return 0, fmt.Errorf("list hours of %s: %w", lakehouse.Name(tbl.Identifier()), err)
	}
	dateID, err1 := fieldID(tbl, "stat_date")
	hourID, err2 := fieldID(tbl, "stat_hour")
	if err1 != nil || err2 != nil {
		return 0, cmp.Or(err1, err2)
	}
	var newest int64
	for _, t := range tasks {
		date, ok1 := t.File.Partition()[dateID].(string)
		hour, ok2 := t.File.Partition()[hourID].(int32)
		if ok1 && ok2 {
			newest = max(newest, int64(hourStart(date, hour)))
		}
	}
	return newest, nil
}

// partitionDates lists the stat_date partitions of tbl's data files that
// filter selects.
func partitionDates(ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression) ([]string, error) {
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	tasks, err := tbl.Scan(table.WithRowFilter(filter)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("list days of %s: %w", lakehouse.Name(tbl.Identifier()), err)
	}
	id, err := fieldID(tbl, "stat_date")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range tasks {
		if v, ok := t.File.Partition()[id].(string); ok {
			seen[v] = true
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// fieldID is the id of the partition field of tbl's column name (the key
// of its value in a data file's partition).
func fieldID(tbl *table.Table, name string) (int, error) {
	if f, ok := tbl.Schema().FindFieldByName(name); ok {
		spec := tbl.Spec()
		for _, pf := range spec.FieldsBySourceID(f.ID) {
			return pf.FieldID, nil
		}
	}
	return 0, fmt.Errorf("%s is not partitioned by %s", lakehouse.Name(tbl.Identifier()), name)
}

// dailyReader returns the daily rows of the days, summed from the hourly
// table's rows, one part of a day at a time (most edits first within a
// part), chunkRows to a record. rows counts the rows read out.
func (ru *rollup) dailyReader(ctx context.Context, hourlyTbl *table.Table, days []string, now arrow.Timestamp, rows *int) (array.RecordReader, error) {
	schema, err := table.SchemaToArrowSchema(ru.daily.def.Schema(), nil, false, false)
	if err != nil {
		return nil, err
	}
	var (
		di           int // the day being written
		tasks        []table.FileScanTask
		parts, part  int64     // the day's parts and the one being written
		state        hourState // the part's sums; nil until read
		next         int       // its next row
		strs         = map[string]string{}
		intern       = func(v string) string { return internIn(strs, v) }
		planned      bool
		withDeletes  bool
		filterForDay iceberg.BooleanExpression
	)
	return newLazyReader(schema, func(b *array.RecordBuilder) (bool, error) {
		for di < len(days) {
			day := days[di]
			if !planned {
				filterForDay = iceberg.EqualTo(iceberg.Reference("stat_date"), day)
				if tasks, err = hourlyTbl.Scan(table.WithRowFilter(filterForDay)).PlanFiles(ctx); err != nil {
					return false, fmt.Errorf("read %s %s: %w", lakehouse.Name(ru.def.Ident), day, err)
				}
				var n int64
				withDeletes = false
				for _, t := range tasks {
					n += t.File.Count()
					withDeletes = withDeletes || len(t.DeleteFiles) > 0 || len(t.EqualityDeleteFiles) > 0
				}
				parts, part, planned = max(1, (n+dailyPartRows-1)/dailyPartRows), 0, true
				ru.daily.parts += int(parts)
			}
			if state == nil {
				state, next = ru.newHour(), 0
				err := readHourly(ctx, hourlyTbl, tasks, withDeletes, filterForDay, func(rec arrow.RecordBatch) error {
					return state.addGold(rec, intern, parts, part)
				})
				if err != nil {
					return false, fmt.Errorf("read %s %s: %w", lakehouse.Name(ru.def.Ident), day, err)
				}
				state.sortByEdits()
			}
			if next < state.rows() {
				end := min(state.rows(), next+chunkRows)
				state.appendRows(b, day, -1, next, end)
				for range end - next {
					b.Field(schema.NumFields() - 2).(*array.TimestampBuilder).Append(now)
					b.Field(schema.NumFields() - 1).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
				}
				*rows += end - next
				next = end
				return true, nil
			}
			state = nil
			if part++; part == parts {
				di, planned = di+1, false
				clear(strs)
			}
		}
		return false, nil
	}), nil
}

// readHourly calls fn with the rows of the hourly table's files, one file
// after the other, or through iceberg-go's scan of the day when a file has
// deletes (gold's tables are copy-on-write, so only another writer's).
func readHourly(ctx context.Context, tbl *table.Table, tasks []table.FileScanTask, withDeletes bool, filter iceberg.BooleanExpression, fn func(arrow.RecordBatch) error) error {
	if withDeletes {
		_, recs, err := tbl.Scan(table.WithRowFilter(filter)).ToArrowRecords(ctx)
		if err != nil {
			return err
		}
		for rec, err := range recs {
			if err != nil {
				return err
			}
			err = fn(rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		return nil
	}
	for _, t := range tasks {
		if err := lakehouse.ReadFile(ctx, tbl, t.File, nil, fn); err != nil {
			return err
		}
	}
	return nil
}

// internIn returns the kept copy of s in strs.
func internIn(strs map[string]string, s string) string {
	if v, ok := strs[s]; ok {
		return v
	}
	v := strings.Clone(s)
	strs[v] = v
	return v
}
