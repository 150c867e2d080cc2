package gold

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// The hourly rollups behind the API's top lists, gold.contributors_hourly
// and gold.pages_hourly, are kept incrementally: every column merges (sums,
// minima and maxima, the union of editor names), so a run adds only the
// rows of the silver files committed since the table's checkpoint to the
// touched hours' state, and replaces those hours. Recomputing whole hours
// from silver with SQL on every run, as gold.hourly_stats does (its
// distinct counts do not merge), cost a 1.8M-event replay about 38 µs of
// CPU per event and 330 MB more at the peak, measured on a busy machine
// (docs/PERFORMANCE.md).
//
// The state of the hours touched recently is kept between runs; an hour
// not in it is loaded from the gold table itself (its rows are what the
// merge starts from), never from silver.

// keepHours bounds the hours of rollup state (and of gold.hourly_stats'
// kept hours) between runs: the current hour and the one before, for the
// events that arrive late across the hour. An hour of every wiki's pages
// is about 20 MB; a later event into an older hour reads it back (a
// variable for tests).
var keepHours = 2

// rollupColumns are the silver columns the rollups read, in the order
// silverRows expects them.
var rollupColumns = []string{"event_date", "event_hour", "domain", "region", "user_normalized", "title", "is_bot",
	"is_anonymous", "length_delta", "is_new_page", "event_timestamp", "revision_old", "revision_new", "is_valid", "event_type"}

// silverRow is one silver row as the rollups read it: a valid edit or page
// creation.
type silverRow struct {
	date                        string
	hour                        int32
	domain, region, user, title string
	hasUser, hasTitle           bool
	bot, anonymous, newPage     bool
	delta, ts                   int64
	revOld, revNew              int64
	hasRevOld, hasRevNew        bool
}

// silverRows calls fn with every valid edit and page creation of rec, a
// batch of rollupColumns.
func silverRows(rec arrow.RecordBatch, fn func(r *silverRow)) error {
	if int(rec.NumCols()) != len(rollupColumns) {
		return fmt.Errorf("rollups: %d columns, want %d", rec.NumCols(), len(rollupColumns))
	}
	date, ok0 := rec.Column(0).(*array.String)
	hour, ok1 := rec.Column(1).(*array.Int32)
	domain, ok2 := rec.Column(2).(*array.String)
	region, ok3 := rec.Column(3).(*array.String)
	user, ok4 := rec.Column(4).(*array.String)
	title, ok5 := rec.Column(5).(*array.String)
	bot, ok6 := rec.Column(6).(*array.Boolean)
	anon, ok7 := rec.Column(7).(*array.Boolean)
	delta, ok8 := rec.Column(8).(*array.Int64)
	created, ok9 := rec.Column(9).(*array.Boolean)
	ts, ok10 := rec.Column(10).(*array.Timestamp)
	revOld, ok11 := rec.Column(11).(*array.Int64)
	revNew, ok12 := rec.Column(12).(*array.Int64)
	valid, ok13 := rec.Column(13).(*array.Boolean)
	typ, ok14 := rec.Column(14).(*array.String)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9 && ok10 && ok11 && ok12 && ok13 && ok14) {
		return fmt.Errorf("rollups: unexpected silver column types %s", rec.Schema())
	}
	var r silverRow
	for i := range int(rec.NumRows()) {
		if !valid.Value(i) {
			continue
		}
		if t := typ.Value(i); t != "edit" && t != "new" {
			continue
		}
		r = silverRow{date: date.Value(i), hour: hour.Value(i), domain: domain.Value(i), region: region.Value(i),
			user: user.Value(i), hasUser: user.IsValid(i), title: title.Value(i), hasTitle: title.IsValid(i),
			bot: bot.Value(i), anonymous: anon.Value(i), newPage: created.Value(i), delta: delta.Value(i),
			ts: int64(ts.Value(i)), revOld: revOld.Value(i), hasRevOld: revOld.IsValid(i),
			revNew: revNew.Value(i), hasRevNew: revNew.IsValid(i)}
		fn(&r)
	}
	return nil
}

// hourState is one hour of a rollup.
type hourState interface {
	// addSilver adds one silver row of the hour.
	addSilver(r *silverRow, intern func(string) string)
	// addGold adds rows lo to hi of rec, rows of the hourly table (by
	// column name), whose key's numeric id keep accepts (nil: all).
	addGold(rec arrow.RecordBatch, intern func(string) string, lo, hi int, keep func(id int64) bool) error
	// rows is how many rows the hour has.
	rows() int
	// sortKeys puts the rows in the order of their keys' numeric ids
	// (then names), the order gold writes them in, so that the daily
	// rollups merge the hours' files instead of holding a day's keys.
	sortKeys()
	// reset forgets every row.
	reset()
	// appendRows appends the rows lo to hi, in the order their keys
	// appeared (or sortKeys put them), to b: the hourly table's columns
	// but the last two, or with hour < 0 the daily table's.
	appendRows(b *array.RecordBuilder, date string, hour int32, lo, hi int)
}

// keyed is a row's key and its numeric id.
type keyed[K any] struct {
	id int64
	k  K
}

// sortKeyed sorts es by id, then by tie, when its first sorted entries
// are in that order already: it sorts the others and merges them in.
func sortKeyed[K any](es []keyed[K], sorted int, tie func(a, b K) int) {
	if sorted >= len(es) {
		return
	}
	order := func(a, b keyed[K]) int {
		if a.id != b.id {
			return cmp.Compare(a.id, b.id)
		}
		return tie(a.k, b.k)
	}
	slices.SortFunc(es[sorted:], order)
	if sorted == 0 || order(es[sorted-1], es[sorted]) <= 0 {
		return
	}
	tail := slices.Clone(es[sorted:])
	i, j := sorted-1, len(tail)-1
	for w := len(es) - 1; j >= 0; w-- {
		if i >= 0 && order(es[i], tail[j]) > 0 {
			es[w], i = es[i], i-1
		} else {
			es[w], j = tail[j], j-1
		}
	}
}

// field returns the builder of the hourly table's column i, or of the
// daily table's column in its place (daily: no stat_hour, column 1).
func field(b *array.RecordBuilder, i int, daily bool) array.Builder {
	if daily && i > 0 {
		return b.Field(i - 1)
	}
	return b.Field(i)
}

// rowStart is hour_start, or with hour < 0 day_start.
func rowStart(date string, hour int32) arrow.Timestamp {
	return hourStart(date, max(hour, 0))
}

// rollup keeps one rollup table.
type rollup struct {
	def     lakehouse.TableDef
	newHour func() hourState
	hours   map[key]*rollupHour
	cp      lakehouse.Checkpoint // the table's checkpoint the state is as of
	valid   bool
	runs    int64
	loads   int               // hours read from the table, for tests
	strs    map[string]string // interned domains and regions
	// newest is the newest event time of the rows added (µs), kept in
	// the table's snapshots as newestKey.
	newest int64
	// idColumn is the column of the keys' numeric ids.
	idColumn string
	// daily keeps the rollup's days that are over (daily.go).
	daily *daily
}

// rollupHour is one hour of a rollup's state and the run that last
// touched it.
type rollupHour struct {
	state hourState
	used  int64
}

// newRollups returns gold's rollups, with no state yet.
func newRollups() []*rollup {
	return []*rollup{
		{def: lakehouse.ContributorsHourlyTable, newHour: func() hourState { return &contributorsHour{m: map[contributorKey]*contributorAgg{}} },
			idColumn: "user_id", daily: &daily{def: lakehouse.ContributorsDailyTable}},
		{def: lakehouse.PagesHourlyTable, newHour: func() hourState { return &pagesHour{m: map[pageKey]*pageAgg{}} },
			idColumn: "page_id", daily: &daily{def: lakehouse.PagesDailyTable}},
	}
}

// intern returns the kept copy of a domain or region (a few hundred
// values), so that the state does not hold the Arrow buffers it was read
// from.
func (ru *rollup) intern(s string) string { return internIn(ru.strs, s) }

// refreshRollups brings the rollup tables up to silver's head. Rollups
// whose tables have the same checkpoint (the usual case) read the new
// silver files together, once.
func (s *Stage) refreshRollups(ctx context.Context, silverTbl *table.Table, head lakehouse.Checkpoint) (int, error) {
	type group struct {
		rollups []*rollup
		tables  []*table.Table
	}
	groups := map[lakehouse.Checkpoint]*group{}
	var order []lakehouse.Checkpoint
	written := 0
	for _, ru := range s.rollups {
		written -= ru.daily.written
	}
	for _, ru := range s.rollups {
		ru.runs++
		goldTbl, err := s.lh.EnsureTable(ctx, ru.def)
		if err != nil {
			return 0, err
		}
		cp := lakehouse.ReadCheckpoint(goldTbl, lakehouse.SilverCleanedEvents)
		if !ru.valid || cp != ru.cp {
			// First run, a failed commit, or another writer: start over.
			ru.hours, ru.strs, ru.cp, ru.valid = map[key]*rollupHour{}, map[string]string{}, cp, true
			ru.daily.valid = false
		}
		if !ru.daily.valid {
			if err := s.startDaily(ctx, ru, goldTbl); err != nil {
				return 0, err
			}
		}
		g := groups[cp]
		if g == nil {
			g = &group{}
			groups[cp] = g
			order = append(order, cp)
		}
		g.rollups, g.tables = append(g.rollups, ru), append(g.tables, goldTbl)
	}
	for _, cp := range order {
		if err := s.refreshRollupGroup(ctx, silverTbl, head, cp, groups[cp].rollups, groups[cp].tables); err != nil {
			return 0, err
		}
	}
	for _, ru := range s.rollups {
		written += ru.daily.written
	}
	return written, nil
}

// refreshRollupGroup adds the silver rows committed after cp to the
// rollups' touched hours (loading from each table an hour its state lacks)
// and replaces those hours in each table.
func (s *Stage) refreshRollupGroup(ctx context.Context, silverTbl *table.Table, head, cp lakehouse.Checkpoint, rollups []*rollup, tables []*table.Table) error {
	added, err := lakehouse.AddedSince(ctx, silverTbl, cp)
	if err != nil {
		return err
	}
	if len(added) == 0 {
		// Days may be over, or pending since a failed daily commit.
		for _, ru := range rollups {
			if err := s.refreshDaily(ctx, ru, time.Now()); err != nil {
				return err
			}
		}
		return nil
	}
	ok := make([]bool, len(rollups))
	defer func() {
		for i, ru := range rollups {
			ru.valid = ru.valid && ok[i]
		}
	}()
	touched := map[key]bool{}
	var loadErr error
	for _, f := range added {
		err := s.lh.ReadFile(ctx, silverTbl, f.File, rollupColumns, func(rec arrow.RecordBatch) error {
			err := silverRows(rec, func(r *silverRow) {
				if loadErr != nil {
					return
				}
				k := key{date: r.date, hour: r.hour}
				touched[k] = true
				for i, ru := range rollups {
					ru.newest = max(ru.newest, r.ts)
					h := ru.hours[k]
					if h == nil {
						state, err := s.loadRollupHour(ctx, tables[i], ru, k)
						if err != nil {
							loadErr = err
							return
						}
						h = &rollupHour{state: state}
						ru.hours[k] = h
					}
					h.used = ru.runs
					h.state.addSilver(r, ru.intern)
				}
			})
			return cmp.Or(err, loadErr)
		})
		if err != nil {
			return err
		}
	}
	hours := slices.SortedFunc(maps.Keys(touched), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.date, b.date), cmp.Compare(a.hour, b.hour))
	})
	filter := hoursFilter("stat_date", "stat_hour", hours)
	now := arrow.Timestamp(time.Now().UTC().UnixMicro())
	for i, ru := range rollups {
		ru.daily.touch(hours)
		err := s.replaceWithProps(ctx, ru.def.Ident, func(context.Context, *table.Table) (array.RecordReader, error) {
			return ru.reader(hours, now)
		}, filter, head, ru.bookkeeping())
		if err != nil {
			return err
		}
		ok[i], ru.cp = true, head
		ru.evict()
		s.log.Debug("gold committed", "table", lakehouse.Name(ru.def.Ident), "hours", len(hours))
		if err := s.refreshDaily(ctx, ru, time.UnixMicro(int64(now))); err != nil {
			return err
		}
	}
	return nil
}

// reader returns the rows of the hours, in order, chunkRows at a time and
// one hour per record (the tables are partitioned by hour).
func (ru *rollup) reader(hours []key, now arrow.Timestamp) (array.RecordReader, error) {
	schema, err := table.SchemaToArrowSchema(ru.def.Schema(), nil, false, false)
	if err != nil {
		return nil, err
	}
	hi, next := 0, 0 // the next row: row next of hours[hi]
	// In the order of the keys' ids (sortKeys), which the daily rollups
	// merge the files by.
	return newOrderedReader(schema, func(b *array.RecordBuilder) (bool, error) {
		for ; hi < len(hours); hi, next = hi+1, 0 {
			k := hours[hi]
			st := ru.hours[k].state
			if next == 0 {
				st.sortKeys()
			}
			if next == st.rows() {
				continue
			}
			end := min(st.rows(), next+chunkRows)
			st.appendRows(b, k.date, k.hour, next, end)
			for range end - next {
				b.Field(schema.NumFields() - 2).(*array.TimestampBuilder).Append(now)
				b.Field(schema.NumFields() - 1).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
			}
			next = end
			return true, nil
		}
		return false, nil
	}), nil
}

// loadRollupHour reads one hour of the rollup table into a new state.
func (s *Stage) loadRollupHour(ctx context.Context, goldTbl *table.Table, ru *rollup, k key) (hourState, error) {
	h := ru.newHour()
	if goldTbl.CurrentSnapshot() == nil {
		return h, nil
	}
	ru.loads++
	_, recs, err := goldTbl.Scan(table.WithRowFilter(iceberg.NewAnd(
		iceberg.EqualTo(iceberg.Reference("stat_date"), k.date),
		iceberg.EqualTo(iceberg.Reference("stat_hour"), k.hour)))).ToArrowRecords(ctx)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s %02d: %w", lakehouse.Name(ru.def.Ident), k.date, k.hour, err)
	}
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("read %s %s %02d: %w", lakehouse.Name(ru.def.Ident), k.date, k.hour, err)
		}
		err = h.addGold(rec, ru.intern, 0, int(rec.NumRows()), nil)
		rec.Release()
		if err != nil {
			return nil, err
		}
	}
	return h, nil
}

// evict forgets the least recently touched hours beyond keepHours, the
// earliest first among those touched as recently.
func (ru *rollup) evict() {
	for len(ru.hours) > keepHours {
		oldest := slices.MinFunc(slices.Collect(maps.Keys(ru.hours)), func(a, b key) int {
			return cmp.Or(cmp.Compare(ru.hours[a].used, ru.hours[b].used), cmp.Compare(a.date, b.date), cmp.Compare(a.hour, b.hour))
		})
		delete(ru.hours, oldest)
	}
}

// column returns rec's column named name.
func column[T arrow.Array](rec arrow.RecordBatch, name string) (T, error) {
	var zero T
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return zero, fmt.Errorf("rollups: no column %s", name)
	}
	c, ok := rec.Column(idx[0]).(T)
	if !ok {
		return zero, fmt.Errorf("rollups: column %s is %s", name, rec.Column(idx[0]).DataType())
	}
	return c, nil
}

// contributorKey is a row of gold.contributors_hourly within its hour.
type contributorKey struct {
	domain, user   string
	bot, anonymous bool
}

type contributorAgg struct {
	region                          string
	edits, added, removed, newPages int64
	last                            int64 // event_timestamp, µs
	id                              int64 // KeyID of the user
}

// contributorsHour is an hour of gold.contributors_hourly; keys are its
// rows, written in the order of their ids (sortKeys). Sorting tens of
// thousands of keys by name on every run cost more than building the rows;
// a run sorts only the keys new since the last and merges them in.
type contributorsHour struct {
	m      map[contributorKey]*contributorAgg
	keys   []keyed[contributorKey]
	sorted int // keys[:sorted] are in sortKeys' order
}

func (h *contributorsHour) agg(k contributorKey, region string, intern func(string) string) *contributorAgg {
	a := h.m[k]
	if a == nil {
		k.domain, k.user = intern(k.domain), strings.Clone(k.user)
		a = &contributorAgg{region: intern(region), last: -1 << 63, id: KeyID(k.user)}
		h.m[k] = a
		h.keys = append(h.keys, keyed[contributorKey]{a.id, k})
	}
	return a
}

func (h *contributorsHour) addSilver(r *silverRow, intern func(string) string) {
	if !r.hasUser {
		return
	}
	a := h.agg(contributorKey{domain: r.domain, user: r.user, bot: r.bot, anonymous: r.anonymous}, r.region, intern)
	a.edits++
	if r.delta > 0 {
		a.added += r.delta
	} else {
		a.removed -= r.delta
	}
	if r.newPage {
		a.newPages++
	}
	a.last = max(a.last, r.ts)
}

func (h *contributorsHour) addGold(rec arrow.RecordBatch, intern func(string) string, lo, hi int, keep func(int64) bool) error {
	domain, err1 := column[*array.String](rec, "domain")
	region, err2 := column[*array.String](rec, "region")
	user, err3 := column[*array.String](rec, "user_normalized")
	bot, err4 := column[*array.Boolean](rec, "is_bot")
	anon, err5 := column[*array.Boolean](rec, "is_anonymous")
	edits, err6 := column[*array.Int64](rec, "edits")
	added, err7 := column[*array.Int64](rec, "bytes_added")
	removed, err8 := column[*array.Int64](rec, "bytes_removed")
	created, err9 := column[*array.Int64](rec, "new_pages")
	last, err10 := column[*array.Timestamp](rec, "last_edit")
	id, err11 := column[*array.Int64](rec, "user_id")
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11); err != nil {
		return err
	}
	for i := lo; i < hi; i++ {
		if keep != nil && !keep(id.Value(i)) {
			continue
		}
		a := h.agg(contributorKey{domain: domain.Value(i), user: user.Value(i), bot: bot.Value(i), anonymous: anon.Value(i)},
			region.Value(i), intern)
		a.edits += edits.Value(i)
		a.added += added.Value(i)
		a.removed += removed.Value(i)
		a.newPages += created.Value(i)
		a.last = max(a.last, int64(last.Value(i)))
	}
	return nil
}

func (h *contributorsHour) rows() int { return len(h.keys) }

func (h *contributorsHour) sortKeys() {
	sortKeyed(h.keys, h.sorted, func(a, b contributorKey) int {
		return cmp.Or(cmp.Compare(a.domain, b.domain), cmp.Compare(a.user, b.user), cmpBool(a.bot, b.bot), cmpBool(a.anonymous, b.anonymous))
	})
	h.sorted = len(h.keys)
}

func (h *contributorsHour) reset() { clear(h.m); h.keys, h.sorted = h.keys[:0], 0 }

func (h *contributorsHour) appendRows(b *array.RecordBuilder, date string, hour int32, lo, hi int) {
	start, daily := rowStart(date, hour), hour < 0
	for _, e := range h.keys[lo:hi] {
		k := e.k
		a := h.m[k]
		b.Field(0).(*array.StringBuilder).Append(date)
		if !daily {
			b.Field(1).(*array.Int32Builder).Append(hour)
		}
		field(b, 2, daily).(*array.StringBuilder).Append(k.domain)
		field(b, 3, daily).(*array.StringBuilder).Append(a.region)
		field(b, 4, daily).(*array.StringBuilder).Append(k.user)
		field(b, 5, daily).(*array.Int64Builder).Append(a.id)
		field(b, 6, daily).(*array.BooleanBuilder).Append(k.bot)
		field(b, 7, daily).(*array.BooleanBuilder).Append(k.anonymous)
		field(b, 8, daily).(*array.Int64Builder).Append(a.edits)
		field(b, 9, daily).(*array.Int64Builder).Append(a.added)
		field(b, 10, daily).(*array.Int64Builder).Append(a.removed)
		field(b, 11, daily).(*array.Int64Builder).Append(a.newPages)
		field(b, 12, daily).(*array.TimestampBuilder).Append(arrow.Timestamp(a.last))
		field(b, 13, daily).(*array.TimestampBuilder).Append(start)
	}
}

// pageKey is a row of gold.pages_hourly within its hour.
type pageKey struct {
	domain, title string
	bot           bool
}

type pageAgg struct {
	region      string
	edits       int64
	delta       int64
	newPage     bool
	last        int64    // event_timestamp, µs
	editors     []string // sorted, distinct
	firstRev    int64    // the smallest revision_new (hasRev)
	firstParent int64    // its revision_old (hasParent)
	lastRev     int64    // the largest revision_new (hasRev)
	hasRev      bool
	hasParent   bool
	id          int64 // KeyID of domain|title
}

// pagesHour is an hour of gold.pages_hourly, its keys as contributorsHour
// keeps them.
type pagesHour struct {
	m      map[pageKey]*pageAgg
	keys   []keyed[pageKey]
	sorted int // keys[:sorted] are in sortKeys' order
}

func (h *pagesHour) agg(k pageKey, region string, intern func(string) string) *pageAgg {
	a := h.m[k]
	if a == nil {
		k.domain, k.title = intern(k.domain), strings.Clone(k.title)
		a = &pageAgg{region: intern(region), last: -1 << 63, id: KeyID(k.domain + "|" + k.title)}
		h.m[k] = a
		h.keys = append(h.keys, keyed[pageKey]{a.id, k})
	}
	return a
}

// addEditor adds a name to the sorted, distinct editors.
func (a *pageAgg) addEditor(name string) {
	if i, found := slices.BinarySearch(a.editors, name); !found {
		a.editors = slices.Insert(a.editors, i, strings.Clone(name))
	}
}

// addRevisions merges revisions: the first (the smallest revision_new)
// with its parent, as arg_min_null(revision_old, revision_new) picks it,
// and the newest.
func (a *pageAgg) addRevisions(first, parent int64, hasParent bool, last int64) {
	if !a.hasRev || first < a.firstRev {
		a.firstRev, a.firstParent, a.hasParent = first, parent, hasParent
	}
	if !a.hasRev || last > a.lastRev {
		a.lastRev = last
	}
	a.hasRev = true
}

func (h *pagesHour) addSilver(r *silverRow, intern func(string) string) {
	if !r.hasTitle {
		return
	}
	a := h.agg(pageKey{domain: r.domain, title: r.title, bot: r.bot}, r.region, intern)
	a.edits++
	a.delta += r.delta
	a.newPage = a.newPage || r.newPage
	a.last = max(a.last, r.ts)
	if r.hasUser {
		a.addEditor(r.user)
	}
	if r.hasRevNew {
		a.addRevisions(r.revNew, r.revOld, r.hasRevOld, r.revNew)
	}
}

func (h *pagesHour) addGold(rec arrow.RecordBatch, intern func(string) string, lo, hi int, keep func(int64) bool) error {
	domain, err1 := column[*array.String](rec, "domain")
	region, err2 := column[*array.String](rec, "region")
	title, err3 := column[*array.String](rec, "title")
	bot, err4 := column[*array.Boolean](rec, "is_bot")
	edits, err5 := column[*array.Int64](rec, "edits")
	editors, err6 := column[*array.List](rec, "editors")
	delta, err7 := column[*array.Int64](rec, "bytes_delta")
	created, err8 := column[*array.Boolean](rec, "new_page")
	last, err9 := column[*array.Timestamp](rec, "last_edit")
	first, err10 := column[*array.Int64](rec, "first_revision")
	parent, err11 := column[*array.Int64](rec, "first_parent")
	lastRev, err12 := column[*array.Int64](rec, "last_revision")
	id, err13 := column[*array.Int64](rec, "page_id")
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12, err13); err != nil {
		return err
	}
	names, ok := editors.ListValues().(*array.String)
	if !ok {
		return fmt.Errorf("rollups: editors are %s", editors.ListValues().DataType())
	}
	for i := lo; i < hi; i++ {
		if keep != nil && !keep(id.Value(i)) {
			continue
		}
		a := h.agg(pageKey{domain: domain.Value(i), title: title.Value(i), bot: bot.Value(i)}, region.Value(i), intern)
		a.edits += edits.Value(i)
		a.delta += delta.Value(i)
		a.newPage = a.newPage || created.Value(i)
		a.last = max(a.last, int64(last.Value(i)))
		lo, hi := editors.ValueOffsets(i)
		for j := lo; j < hi; j++ {
			a.addEditor(names.Value(int(j)))
		}
		if first.IsValid(i) {
			a.addRevisions(first.Value(i), parent.Value(i), parent.IsValid(i), lastRev.Value(i))
		}
	}
	return nil
}

func (h *pagesHour) rows() int { return len(h.keys) }

func (h *pagesHour) sortKeys() {
	sortKeyed(h.keys, h.sorted, func(a, b pageKey) int {
		return cmp.Or(cmp.Compare(a.domain, b.domain), cmp.Compare(a.title, b.title), cmpBool(a.bot, b.bot))
	})
	h.sorted = len(h.keys)
}

func (h *pagesHour) reset() { clear(h.m); h.keys, h.sorted = h.keys[:0], 0 }

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func (h *pagesHour) appendRows(b *array.RecordBuilder, date string, hour int32, lo, hi int) {
	start, daily := rowStart(date, hour), hour < 0
	for _, e := range h.keys[lo:hi] {
		k := e.k
		a := h.m[k]
		b.Field(0).(*array.StringBuilder).Append(date)
		if !daily {
			b.Field(1).(*array.Int32Builder).Append(hour)
		}
		field(b, 2, daily).(*array.StringBuilder).Append(k.domain)
		field(b, 3, daily).(*array.StringBuilder).Append(a.region)
		field(b, 4, daily).(*array.StringBuilder).Append(k.title)
		field(b, 5, daily).(*array.Int64Builder).Append(a.id)
		field(b, 6, daily).(*array.BooleanBuilder).Append(k.bot)
		field(b, 7, daily).(*array.Int64Builder).Append(a.edits)
		lb := field(b, 8, daily).(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.StringBuilder)
		for _, e := range a.editors {
			vb.Append(e)
		}
		field(b, 9, daily).(*array.Int64Builder).Append(a.delta)
		field(b, 10, daily).(*array.BooleanBuilder).Append(a.newPage)
		field(b, 11, daily).(*array.TimestampBuilder).Append(arrow.Timestamp(a.last))
		appendOptInt(field(b, 12, daily).(*array.Int64Builder), a.firstRev, a.hasRev)
		appendOptInt(field(b, 13, daily).(*array.Int64Builder), a.firstParent, a.hasRev && a.hasParent)
		appendOptInt(field(b, 14, daily).(*array.Int64Builder), a.lastRev, a.hasRev)
		field(b, 15, daily).(*array.TimestampBuilder).Append(start)
	}
}

// hourStart is the first instant of an hour, as Arrow microseconds (zero
// for a date silver would not have written).
func hourStart(date string, hour int32) arrow.Timestamp {
	d, _ := time.Parse(time.DateOnly, date)
	return arrow.Timestamp(d.Add(time.Duration(hour) * time.Hour).UnixMicro())
}

func appendOptInt(b *array.Int64Builder, v int64, ok bool) {
	if ok {
		b.Append(v)
		return
	}
	b.AppendNull()
}

// KeyID is a rollup's numeric key of a name: the first 63 bits of its MD5.
// The API ranks by it and then checks that no two names of the ranked rows
// share one (a 63-bit hash: about one chance in 10^7 for a month of every
// wiki's pages).
func KeyID(name string) int64 {
	sum := md5.Sum([]byte(name))
	return int64(binary.BigEndian.Uint64(sum[:8]) >> 1)
}
