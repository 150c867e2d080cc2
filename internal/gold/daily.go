package gold

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
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
// Summing a day must not hold all of its keys: at the live feed's volume,
// a day of pages is about 800,000 hourly rows and 550,000 daily ones. Gold
// writes each hour's rows in the order of the keys' numeric ids (and
// compaction keeps that order), so a day is a merge of its hourly files,
// one id at a time, holding a batch of each file. A day with a file in
// another order (written by an older version, or another tool) is summed
// in parts of at most dailyPartRows hourly rows instead, by the ids modulo
// the number of parts, each part read from all of the day's files.

// Snapshot-summary keys of the daily rollups' bookkeeping.
const (
	newestKey  = "wikistream.daily.newest-event"
	pendingKey = "wikistream.daily.pending"
	throughKey = "wikistream.daily.through"
)

// dailyGrace is how long after a day ends (in event time) it is over:
// EventStreams delivers almost every event within minutes, and the
// recorded captures have none more than ten minutes late.
const dailyGrace = time.Hour

// dailyDaysPerRun bounds the days over that a run writes besides the
// pending ones: a day at the live feed's volume takes about 2 s to merge
// (6-8 s to sum in parts), and the first run over a month of hourly
// rollups would otherwise hold gold up for minutes.
const dailyDaysPerRun = 2

// dailyPartRows bounds the hourly rows summed at once when a day's hourly
// files are not in the order of the keys' ids (a variable for tests):
// about 30 MB of pages.
var dailyPartRows int64 = 100_000

// dailyMerge lets days be merged from ordered hourly files (a variable for
// tests, which sum days in parts too).
var dailyMerge = true

// daily keeps a rollup's daily table.
type daily struct {
	def lakehouse.TableDef
	// through is the last day over that the table is written up to;
	// pending are days up to it whose hours changed since. Both are as of
	// the hourly rollup's checkpoint when valid.
	through string
	pending map[string]bool
	valid   bool
	// written counts the days written, merged those merged from ordered
	// hourly files and parts the parts summed otherwise (tests).
	written, merged, parts int
}

// silverAheadHook, when set, is called before a run looks for silver
// commits it has not read (tests).
var silverAheadHook func()

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
	// While silver has commits gold has not read (a backlog, such as a
	// replay), the days wait: they would be written again as the rest of
	// their hours arrive, and each would lengthen a run, which then reads
	// more hours whole (a 2M-event replay wrote its first day twice).
	if behind, err := s.silverAhead(ctx); err != nil || behind {
		return err
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

// silverAhead reports whether silver has a commit newer than the run's
// head.
func (s *Stage) silverAhead(ctx context.Context) (bool, error) {
	if silverAheadHook != nil {
		silverAheadHook()
	}
	tbl, err := s.lh.Load(ctx, lakehouse.SilverCleanedEvents)
	if err != nil {
		return false, err
	}
	return lakehouse.Head(tbl).Sequence > s.head.Sequence, nil
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
// table's rows in the order of their keys' ids, chunkRows to a record and
// one day per record. rows counts the rows read out.
func (ru *rollup) dailyReader(ctx context.Context, hourlyTbl *table.Table, days []string, now arrow.Timestamp, rows *int) (array.RecordReader, error) {
	schema, err := table.SchemaToArrowSchema(ru.daily.def.Schema(), nil, false, false)
	if err != nil {
		return nil, err
	}
	strs := map[string]string{}
	intern := func(v string) string { return internIn(strs, v) }
	var (
		di  int       // the day being written
		src daySource // its rows; nil until opened
	)
	lr := newLazyReader(schema, func(b *array.RecordBuilder) (bool, error) {
		n := 0
		for di < len(days) && n < chunkRows {
			if src == nil {
				if src, err = ru.openDay(ctx, hourlyTbl, days[di], intern); err != nil {
					return false, fmt.Errorf("read %s %s: %w", lakehouse.Name(ru.def.Ident), days[di], err)
				}
			}
			added, done, err := src.fill(b, days[di], chunkRows-n)
			if err != nil {
				return false, fmt.Errorf("read %s %s: %w", lakehouse.Name(ru.def.Ident), days[di], err)
			}
			n += added
			if !done {
				break // the record is full
			}
			src.close()
			src, di = nil, di+1
			clear(strs)
			if n > 0 {
				break // one day per record: the writer passes it through whole
			}
		}
		for range n {
			b.Field(schema.NumFields() - 2).(*array.TimestampBuilder).Append(now)
			b.Field(schema.NumFields() - 1).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
		}
		*rows += n
		return n > 0, nil
	})
	lr.done = func() {
		if src != nil {
			src.close()
		}
	}
	return lr, nil
}

// daySource yields a day's daily rows.
type daySource interface {
	// fill appends up to room rows to b and reports whether none is left.
	fill(b *array.RecordBuilder, day string, room int) (int, bool, error)
	close()
}

// openDay returns the source of a day's daily rows: a merge of its hourly
// files when each is in the order of the keys' ids (gold writes them so,
// and compaction sorts them so), otherwise sums in parts.
func (ru *rollup) openDay(ctx context.Context, tbl *table.Table, day string, intern func(string) string) (daySource, error) {
	filter := iceberg.EqualTo(iceberg.Reference("stat_date"), day)
	tasks, err := tbl.Scan(table.WithRowFilter(filter)).PlanFiles(ctx)
	if err != nil {
		return nil, err
	}
	ordered := dailyMerge
	var n int64
	for _, t := range tasks {
		n += t.File.Count()
		if len(t.DeleteFiles) > 0 || len(t.EqualityDeleteFiles) > 0 {
			ordered = false // another writer's deletes: read through iceberg-go's scan
			break
		}
	}
	for _, t := range tasks {
		if !ordered {
			break
		}
		if ordered, err = idsOrdered(ctx, tbl, t.File, ru.idColumn); err != nil {
			return nil, err
		}
	}
	if ordered {
		ru.daily.merged++
		return newMergeSource(ctx, tbl, tasks, ru.idColumn, ru.newHour(), intern)
	}
	parts := max(1, (n+dailyPartRows-1)/dailyPartRows)
	ru.daily.parts += int(parts)
	return &partsSource{ctx: ctx, tbl: tbl, filter: filter, tasks: tasks, parts: parts, newHour: ru.newHour, intern: intern}, nil
}

// idsOrdered reports whether the ids of a data file never decrease.
func idsOrdered(ctx context.Context, tbl *table.Table, df iceberg.DataFile, idColumn string) (bool, error) {
	ordered, last := true, int64(math.MinInt64)
	err := lakehouse.ReadFile(ctx, tbl, df, []string{idColumn}, func(rec arrow.RecordBatch) error {
		ids, ok := rec.Column(0).(*array.Int64)
		if !ok {
			return fmt.Errorf("%s is %s", idColumn, rec.Column(0).DataType())
		}
		for i := range ids.Len() {
			if ids.Value(i) < last {
				ordered = false
				return errUnordered
			}
			last = ids.Value(i)
		}
		return nil
	})
	if errors.Is(err, errUnordered) {
		err = nil
	}
	return ordered, err
}

var errUnordered = errors.New("unordered")

// mergeSource merges the day's hourly files, each in the order of the
// keys' ids, and sums the rows of one id at a time: it holds a batch of
// each file and one key's rows instead of the day's keys.
type mergeSource struct {
	streams streamHeap
	state   hourState // the rows of the current id
	out     int       // of which appended
	intern  func(string) string
}

func newMergeSource(ctx context.Context, tbl *table.Table, tasks []table.FileScanTask, idColumn string, state hourState, intern func(string) string) (*mergeSource, error) {
	m := &mergeSource{state: state, intern: intern}
	for _, t := range tasks {
		s := &hourStream{idColumn: idColumn}
		s.next, s.stop = iter.Pull2(fileRecords(ctx, tbl, t.File, nil))
		if err := s.advance(); err != nil {
			s.close()
			m.close()
			return nil, err
		}
		if s.rec == nil {
			s.close()
			continue
		}
		m.streams = append(m.streams, s)
	}
	heap.Init(&m.streams)
	return m, nil
}

func (m *mergeSource) fill(b *array.RecordBuilder, day string, room int) (int, bool, error) {
	added := 0
	for added < room {
		if m.out < m.state.rows() {
			end := min(m.state.rows(), m.out+room-added)
			m.state.appendRows(b, day, -1, m.out, end)
			added, m.out = added+end-m.out, end
			continue
		}
		if len(m.streams) == 0 {
			return added, true, nil
		}
		m.state.reset()
		m.out = 0
		id := m.streams[0].id()
		for len(m.streams) > 0 && m.streams[0].id() == id {
			s := m.streams[0]
			j := s.i
			for j < s.n && s.ids.Value(j) == id {
				j++
			}
			if err := m.state.addGold(s.rec, m.intern, s.i, j, nil); err != nil {
				return added, false, err
			}
			if s.i = j; s.i < s.n {
				heap.Fix(&m.streams, 0)
				continue
			}
			if err := s.advance(); err != nil {
				return added, false, err
			}
			if s.rec == nil {
				s.close()
				heap.Pop(&m.streams)
			} else {
				heap.Fix(&m.streams, 0)
			}
		}
		m.state.sortKeys()
	}
	return added, false, nil
}

func (m *mergeSource) close() {
	for _, s := range m.streams {
		s.close()
	}
	m.streams = nil
}

// hourStream is one hourly file being merged: its current batch from row i.
type hourStream struct {
	idColumn string
	next     func() (arrow.RecordBatch, error, bool)
	stop     func()
	rec      arrow.RecordBatch // nil once the file is read
	ids      *array.Int64
	i, n     int
}

func (s *hourStream) id() int64 { return s.ids.Value(s.i) }

// advance moves to the file's next batch with rows.
func (s *hourStream) advance() error {
	if s.rec != nil {
		s.rec.Release()
		s.rec = nil
	}
	for {
		rec, err, ok := s.next()
		if !ok {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		ids, err := column[*array.Int64](rec, s.idColumn)
		if err != nil {
			rec.Release()
			return err
		}
		s.rec, s.ids, s.i, s.n = rec, ids, 0, int(rec.NumRows())
		return nil
	}
}

func (s *hourStream) close() {
	if s.rec != nil {
		s.rec.Release()
		s.rec = nil
	}
	s.stop()
}

// streamHeap orders streams by their current id (container/heap).
type streamHeap []*hourStream

func (h streamHeap) Len() int           { return len(h) }
func (h streamHeap) Less(i, j int) bool { return h[i].id() < h[j].id() }
func (h streamHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)        { *h = append(*h, x.(*hourStream)) }
func (h *streamHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// fileRecords yields the batches of a data file's columns (nil: all of
// them), in lakehouse.ReadFile's size; the consumer releases each.
func fileRecords(ctx context.Context, tbl *table.Table, df iceberg.DataFile, columns []string) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		stop := errors.New("stop")
		err := lakehouse.ReadFile(ctx, tbl, df, columns, func(rec arrow.RecordBatch) error {
			rec.Retain() // the reader reuses it after this returns
			if !yield(rec, nil) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(nil, err)
		}
	}
}

// partsSource sums a day whose hourly files are not in the order of the
// ids: in parts of at most dailyPartRows hourly rows, by the ids modulo
// the number of parts, each part read from all of the day's files.
type partsSource struct {
	ctx         context.Context
	tbl         *table.Table
	filter      iceberg.BooleanExpression
	tasks       []table.FileScanTask
	parts, part int64
	newHour     func() hourState
	intern      func(string) string
	state       hourState // the part's sums; nil until read
	out         int
}

func (p *partsSource) fill(b *array.RecordBuilder, day string, room int) (int, bool, error) {
	added := 0
	for p.part < p.parts && added < room {
		if p.state == nil {
			p.state, p.out = p.newHour(), 0
			parts, part := p.parts, p.part
			keep := func(id int64) bool { return id%parts == part }
			err := readHourly(p.ctx, p.tbl, p.tasks, p.filter, func(rec arrow.RecordBatch) error {
				return p.state.addGold(rec, p.intern, 0, int(rec.NumRows()), keep)
			})
			if err != nil {
				return added, false, err
			}
			p.state.sortKeys()
		}
		if p.out < p.state.rows() {
			end := min(p.state.rows(), p.out+room-added)
			p.state.appendRows(b, day, -1, p.out, end)
			added, p.out = added+end-p.out, end
			continue
		}
		p.state, p.part = nil, p.part+1
	}
	return added, p.part == p.parts, nil
}

func (p *partsSource) close() { p.state = nil }

// readHourly calls fn with the rows of the hourly table's files, one file
// after the other, or through iceberg-go's scan of the day when a file has
// deletes (gold's tables are copy-on-write, so only another writer's).
func readHourly(ctx context.Context, tbl *table.Table, tasks []table.FileScanTask, filter iceberg.BooleanExpression, fn func(arrow.RecordBatch) error) error {
	for _, t := range tasks {
		if len(t.DeleteFiles) > 0 || len(t.EqualityDeleteFiles) > 0 {
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
