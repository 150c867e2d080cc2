package gold

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// gold.hourly_stats counts distinct editors and pages per hour and wiki,
// and distinct counts do not merge: an hour is recomputed whole. The hours
// gold has seen from their first row on are kept in memory, with the sets
// of editors and titles (the newest keepHours of them), so that a run adds
// the new silver rows to them instead of asking DuckDB to aggregate the
// whole hour again from silver's files: at the live rate that query was
// half of gold's work, every second. An hour not kept (one that had rows
// before this process started, or that was dropped for a newer one) is
// read whole from silver (readHours) and kept from then on.

// hourlyColumns are the silver columns the kept hours read, in the order
// addHourlyRows expects them.
var hourlyColumns = []string{"event_date", "event_hour", "domain", "region", "language", "user_normalized",
	"title", "length_delta", "is_bot", "is_anonymous", "is_new_page", "is_valid"}

// hourlyHour is one kept hour: its wikis' aggregates, by domain.
type hourlyHour map[string]*hourlyAgg

// hourlyAgg is the state of one row of gold.hourly_stats. Its strings are
// copies (strings.Clone): a silver batch's strings point into its Arrow
// buffers, which the kept hours must not keep alive.
type hourlyAgg struct {
	region, language                  string // the least
	events, added, removed            int64
	humans, bots, anonymous, newPages int64
	users, titles                     map[string]struct{}
}

// hourlyState is the kept hours, as of the silver checkpoint cp of
// gold.hourly_stats (when valid).
type hourlyState struct {
	hours      map[key]hourlyHour
	cp         lakehouse.Checkpoint
	valid      bool
	recomputed int // hours read whole from silver, for tests
}

// addHourlyRows adds the valid rows of rec (hourlyColumns) to the hours of
// into, and notes every hour rec has a row of in touched.
func addHourlyRows(rec arrow.RecordBatch, into map[key]hourlyHour, touched map[key]bool) error {
	if int(rec.NumCols()) != len(hourlyColumns) {
		return fmt.Errorf("hourly stats: %d columns, want %d", rec.NumCols(), len(hourlyColumns))
	}
	date, ok0 := rec.Column(0).(*array.String)
	hour, ok1 := rec.Column(1).(*array.Int32)
	domain, ok2 := rec.Column(2).(*array.String)
	region, ok3 := rec.Column(3).(*array.String)
	language, ok4 := rec.Column(4).(*array.String)
	user, ok5 := rec.Column(5).(*array.String)
	title, ok6 := rec.Column(6).(*array.String)
	delta, ok7 := rec.Column(7).(*array.Int64)
	bot, ok8 := rec.Column(8).(*array.Boolean)
	anon, ok9 := rec.Column(9).(*array.Boolean)
	created, ok10 := rec.Column(10).(*array.Boolean)
	valid, ok11 := rec.Column(11).(*array.Boolean)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9 && ok10 && ok11) {
		return fmt.Errorf("hourly stats: unexpected silver column types %s", rec.Schema())
	}
	for i := range int(rec.NumRows()) {
		k := key{date: date.Value(i), hour: hour.Value(i)}
		touched[k] = true
		if !valid.Value(i) {
			continue
		}
		h := into[k]
		if h == nil {
			k.date = strings.Clone(k.date)
			h = hourlyHour{}
			into[k] = h
		}
		d := domain.Value(i)
		a := h[d]
		if a == nil {
			a = &hourlyAgg{region: strings.Clone(region.Value(i)), language: strings.Clone(language.Value(i)),
				users: map[string]struct{}{}, titles: map[string]struct{}{}}
			h[strings.Clone(d)] = a
		}
		a.region = minString(a.region, region.Value(i))
		a.language = minString(a.language, language.Value(i))
		a.events++
		if v := delta.Value(i); v > 0 {
			a.added += v
		} else {
			a.removed -= v
		}
		isBot, isAnon := bot.Value(i), anon.Value(i)
		switch {
		case isBot:
			a.bots++
		case !isAnon:
			a.humans++
		}
		if isAnon {
			a.anonymous++
		}
		if created.Value(i) {
			a.newPages++
		}
		if user.IsValid(i) {
			if u := user.Value(i); !has(a.users, u) {
				a.users[strings.Clone(u)] = struct{}{}
			}
		}
		if title.IsValid(i) {
			if t := title.Value(i); !has(a.titles, t) {
				a.titles[strings.Clone(t)] = struct{}{}
			}
		}
	}
	return nil
}

func has(m map[string]struct{}, s string) bool { _, ok := m[s]; return ok }

func minString(a, b string) string {
	if b < a {
		return strings.Clone(b)
	}
	return a
}

// merge adds from's aggregates to h.
func (h hourlyHour) merge(from hourlyHour) {
	for d, f := range from {
		a := h[d]
		if a == nil {
			h[d] = f
			continue
		}
		a.region, a.language = min(a.region, f.region), min(a.language, f.language)
		a.events += f.events
		a.added += f.added
		a.removed += f.removed
		a.humans += f.humans
		a.bots += f.bots
		a.anonymous += f.anonymous
		a.newPages += f.newPages
		for u := range f.users {
			a.users[u] = struct{}{}
		}
		for t := range f.titles {
			a.titles[t] = struct{}{}
		}
	}
}

// rows are the hour's rows of gold.hourly_stats (every column but the
// last two), by domain.
func (h hourlyHour) rows(k key) [][]any {
	domains := make([]string, 0, len(h))
	for d := range h {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	out := make([][]any, 0, len(h))
	for _, d := range domains {
		a := h[d]
		// round(100.0 * avg(is_bot::INT), 2), as DuckDB computes it.
		botPct := math.Round(100.0*(float64(a.bots)/float64(a.events))*100) / 100
		out = append(out, []any{k.date, k.hour, d, a.region, a.language, a.events, int64(len(a.users)),
			a.added, a.removed, botPct, a.humans, a.bots, a.anonymous, a.newPages, int64(len(a.titles))})
	}
	return out
}

// refreshHourly brings gold.hourly_stats up to silver's head: the hours
// the silver files added since its checkpoint touch are recomputed, from
// the kept hours where it can, and replaced in one commit.
func (s *Stage) refreshHourly(ctx context.Context, silverTbl *table.Table, head lakehouse.Checkpoint) (int, int, error) {
	def := lakehouse.HourlyStatsTable
	goldTbl, err := s.lh.EnsureTable(ctx, def)
	if err != nil {
		return 0, 0, err
	}
	cp := lakehouse.ReadCheckpoint(goldTbl, lakehouse.SilverCleanedEvents)
	added, err := lakehouse.AddedSince(ctx, silverTbl, cp)
	if err != nil || len(added) == 0 {
		return 0, 0, err
	}
	st := &s.hourlyState
	if !st.valid || st.cp != cp {
		// First run, a failed commit, or another writer: start over.
		st.hours, st.cp, st.valid = map[key]hourlyHour{}, cp, true
	}
	fresh, set := map[key]hourlyHour{}, map[key]bool{}
	for _, f := range added {
		err := s.lh.ReadFile(ctx, silverTbl, f.File, hourlyColumns, func(rec arrow.RecordBatch) error {
			return addHourlyRows(rec, fresh, set)
		})
		if err != nil {
			return 0, 0, err
		}
	}
	touched := make([]key, 0, len(set))
	var unknown []key // touched, not kept
	for k := range set {
		touched = append(touched, k)
		if st.hours[k] == nil {
			unknown = append(unknown, k)
		}
	}
	slices.SortFunc(touched, compareKeys)
	seen, err := hoursWithRows(ctx, goldTbl, unknown)
	if err != nil {
		return 0, 0, err
	}
	st.valid = false // until the commit below lands
	var rows [][]any
	var recompute []key
	for _, k := range touched {
		switch kept := st.hours[k]; {
		case kept != nil:
			kept.merge(fresh[k])
		case !seen[k]:
			// No row of the hour before: the new rows are all of it.
			kept = fresh[k]
			if kept == nil {
				kept = hourlyHour{} // only invalid rows so far
			}
			st.hours[key{date: strings.Clone(k.date), hour: k.hour}] = kept
		default:
			recompute = append(recompute, k)
			continue
		}
		rows = append(rows, st.hours[k].rows(k)...)
	}
	if len(recompute) > 0 {
		whole, err := readHours(ctx, silverTbl, recompute)
		if err != nil {
			return 0, 0, err
		}
		for _, k := range recompute {
			h := whole[k]
			if h == nil {
				h = hourlyHour{} // only invalid rows
			}
			st.hours[key{date: strings.Clone(k.date), hour: k.hour}] = h
			rows = append(rows, h.rows(k)...)
		}
		st.recomputed += len(recompute)
	}
	slices.SortFunc(rows, func(a, b []any) int {
		return cmp.Or(compareKeys(key{a[0].(string), a[1].(int32)}, key{b[0].(string), b[1].(int32)}),
			cmp.Compare(a[2].(string), b[2].(string)))
	})
	rec, filter, err := hourlyRecord(rows, touched)
	if err != nil {
		return 0, 0, err
	}
	defer rec.Release()
	if err := s.replace(ctx, def.Ident, rec, filter, head); err != nil {
		return 0, 0, err
	}
	st.cp, st.valid = head, true
	st.keepNewest(keepHours)
	s.log.Debug("gold committed", "table", lakehouse.Name(def.Ident), "keys", len(touched), "rows", rec.NumRows(),
		"read_whole", len(recompute))
	return len(touched), int(rec.NumRows()), nil
}

func compareKeys(a, b key) int {
	return cmp.Or(cmp.Compare(a.date, b.date), cmp.Compare(a.hour, b.hour))
}

// keepNewest drops all but the newest n kept hours.
func (st *hourlyState) keepNewest(n int) {
	if len(st.hours) <= n {
		return
	}
	keys := make([]key, 0, len(st.hours))
	for k := range st.hours {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys[:len(keys)-n] {
		delete(st.hours, k)
	}
}

// hoursWithRows returns which of hours gold.hourly_stats (tbl) has rows of.
func hoursWithRows(ctx context.Context, tbl *table.Table, hours []key) (map[key]bool, error) {
	out := map[key]bool{}
	if len(hours) == 0 || tbl.CurrentSnapshot() == nil {
		return out, nil
	}
	_, recs, err := tbl.Scan(table.WithRowFilter(hoursFilter("stat_date", "stat_hour", hours)),
		table.WithSelectedFields("stat_date", "stat_hour")).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the hours of gold.hourly_stats: %w", err)
	}
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("read the hours of gold.hourly_stats: %w", err)
		}
		dates, hrs := rec.Column(0).(*array.String), rec.Column(1).(*array.Int32)
		for i := range int(rec.NumRows()) {
			out[key{date: dates.Value(i), hour: hrs.Value(i)}] = true
		}
		rec.Release()
	}
	return out, nil
}

// readHours aggregates the given hours whole, from silver at silverTbl's
// snapshot, with the code that keeps the other hours. As a DuckDB query it
// left about 200 MB outside the Go heap in DuckDB's allocator during a
// replay, whose gold runs touch up to 24 hours: the topic is keyed by wiki,
// and its partitions, of very different sizes, are read hours of event
// time apart.
func readHours(ctx context.Context, silverTbl *table.Table, hours []key) (map[key]hourlyHour, error) {
	filter := hoursFilter("event_date", "event_hour", hours)
	_, recs, err := silverTbl.Scan(table.WithRowFilter(filter), table.WithSelectedFields(hourlyColumns...)).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("read silver hours: %w", err)
	}
	out, seen := map[key]hourlyHour{}, map[key]bool{}
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("read silver hours: %w", err)
		}
		// The scan may return the columns in schema order: put them in ours.
		ordered, err := selectColumns(rec, hourlyColumns)
		rec.Release()
		if err != nil {
			return nil, err
		}
		err = addHourlyRows(ordered, out, seen)
		ordered.Release()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// hoursFilter selects the rows of the given hours by a table's date and
// hour columns: stat_date and stat_hour in gold, event_date and event_hour
// in silver.
func hoursFilter(dateCol, hourCol string, hours []key) iceberg.BooleanExpression {
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, k := range hours {
		filter = iceberg.NewOr(filter, iceberg.NewAnd(
			iceberg.EqualTo(iceberg.Reference(dateCol), k.date),
			iceberg.EqualTo(iceberg.Reference(hourCol), k.hour)))
	}
	return filter
}
