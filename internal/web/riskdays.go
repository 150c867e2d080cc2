package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

// Risk by day: the risk feed and the summary's risk counts over a week or
// a month read gold.risk_scores' day files, and DuckDB reads each file's
// footer (its row groups' statistics; a day of the live feed's volume has
// 93 row groups, 314 KB of footer) on every query: 2 ms a day, 60 ms of a
// 30-day feed. A day's rows change only when a gold run rewrites its
// files (the current day on every run, a past one with a late event), so
// what the feed and the counts need of a day (its first rows, its HIGH
// and MEDIUM counts) is kept per day with the files it was read from
// (query.Engine.ValueFiles), and a request reads only the days whose
// files changed: at the live rate, today's.
//
// A request reads the days that changed at the snapshot their files were
// listed at; should a commit land in between, it answers from one query
// over its range, as it does when the engine cannot tell each day's files.

// riskTable is the table read by day.
const riskTable = "gold.risk_scores"

// maxRiskDays bounds the days kept (each of each kind; two months and
// more).
const maxRiskDays = 64

// riskDays keeps values of gold.risk_scores' days, per kind of value.
type riskDays[T any] struct {
	mu   sync.Mutex
	days map[string]riskDay[T]
	// read counts the days read, kept those answered from what was kept,
	// deep the days a feed read more of than was kept (for tests).
	read, kept, deep atomic.Int64
}

// riskDay is a kept day: its files (joined) and the value read from them.
type riskDay[T any] struct {
	files string
	v     T
}

// byDay returns the value of each day from..to (YYYY-MM-DD) that
// gold.risk_scores has files of: kept values of days whose files are
// unchanged, and read(days, since) for the others (days without a value
// there get the zero value). since is the first of those days as an
// instant, for query.At.Since. snap is the snapshot whose files they are;
// ok is false when it cannot tell (see above).
func byDay[T any](ctx context.Context, s *Server, c *riskDays[T], from, to string,
	read func(ctx context.Context, days []string, since time.Time) (map[string]T, int64, error)) (out map[string]T, snap int64, ok bool, err error) {
	snap, files, ok, err := s.eng.ValueFiles(ctx, riskTable)
	if err != nil || !ok {
		return nil, 0, false, err
	}
	out = map[string]T{}
	var missing []string
	c.mu.Lock()
	for day, fs := range files {
		if day < from || day > to {
			continue
		}
		if k, ok := c.days[day]; ok && k.files == strings.Join(fs, "\n") {
			out[day] = k.v
			continue
		}
		missing = append(missing, day)
	}
	c.mu.Unlock()
	c.kept.Add(int64(len(out)))
	if len(missing) == 0 {
		return out, snap, true, nil
	}
	slices.Sort(missing)
	since, err := time.Parse(time.DateOnly, missing[0])
	if err != nil {
		return nil, 0, false, nil // not a day: the range is read whole
	}
	got, at, err := read(ctx, missing, since)
	if err != nil || at != snap {
		return nil, 0, false, err
	}
	c.read.Add(int64(len(missing)))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil || len(c.days)+len(missing) > maxRiskDays {
		c.days = map[string]riskDay[T]{}
	}
	for _, day := range missing {
		out[day] = got[day]
		c.days[day] = riskDay[T]{files: strings.Join(files[day], "\n"), v: got[day]}
	}
	return out, snap, true, nil
}

// riskHead is a day's first feedHeadRows rows in the feed's order, with
// the feed's columns, and their DuckDB types.
type riskHead struct {
	rows  []feedRow
	types []string
}

// feedRow is a row of the feed with the values it is ordered by.
type feedRow struct {
	row         []any
	day, entity string
	score       float64
	edits       int64
	level       int
}

// feedHeadRows is how many of each day's rows the feed keeps: a feed of at
// most that many rows is answered from them (gold writes them as the
// day's first row group). A variable for tests.
var feedHeadRows = 128

// feedColumns are the risk feed's columns.
var feedColumns = []string{"stat_date", "entity_id", "risk_score", "risk_level", "alert_triggered",
	"is_bot", "is_anonymous", "total_edits", "domains", "evidence"}

// levelRank orders the risk levels.
var levelRank = map[string]int{gold.LevelLow: 1, gold.LevelMedium: 2, gold.LevelHigh: 3}

// readFeedRow reads a row of feedColumns.
func readFeedRow(row []any) (feedRow, error) {
	r := feedRow{row: row}
	var ok [5]bool
	r.day, ok[0] = row[0].(string)
	r.entity, ok[1] = row[1].(string)
	r.score, ok[2] = row[2].(float64)
	level, _ := row[3].(string)
	r.level, ok[3] = levelRank[level]
	r.edits, ok[4] = row[7].(int64)
	if slices.Contains(ok[:], false) {
		return r, fmt.Errorf("%s: a row of %T %T %T %v %T, want a day, an entity, a score, a level and edits",
			riskTable, row[0], row[1], row[2], row[3], row[7])
	}
	return r, nil
}

// keptFeed answers the risk feed from the days' kept first rows: the rows
// of levels at or above minLevel, the highest scores first, then the most
// edits, the newest day, and by entity, at most limit of them. It is false
// when it cannot (the table's files not in the feed's order, or byDay's
// reasons).
//
// A feed of more than feedHeadRows rows reads more of a day only where
// the kept rows cannot tell it: where the day's last kept row is of the
// levels and comes before the limit-th of all days' kept rows, the day's
// rows after it could come before that row too. A month's LOW feed of 500
// rows at the live feed's volume read the first 500 rows of every day,
// 130-195 ms on every request.
func (s *Server) keptFeed(ctx context.Context, f filters, minLevel string, limit int) (*query.Result, bool, error) {
	order, err := s.eng.FileOrder(ctx, riskTable)
	if err != nil || order != lakehouse.RiskScoresTable.FileOrder {
		return nil, false, err
	}
	head := func(ctx context.Context, days []string, since time.Time, n int) (map[string]riskHead, int64, error) {
		res, err := s.readAt(ctx, `SELECT `+strings.Join(feedColumns, ", ")+` FROM (SELECT *, row_number() OVER (
			PARTITION BY stat_date ORDER BY risk_score DESC, total_edits DESC, entity_id) AS n
			FROM gold.risk_scores WHERE stat_date IN (`+quoteAll(days)+`)) WHERE n <= `+strconv.Itoa(n),
			query.At{Since: since, Head: int64(n), Order: order})
		if err != nil {
			return nil, 0, err
		}
		out := map[string]riskHead{}
		for _, row := range res.Rows {
			r, err := readFeedRow(row)
			if err != nil {
				return nil, 0, err
			}
			h := out[r.day]
			h.rows, h.types = append(h.rows, r), res.Types
			out[r.day] = h
		}
		return out, res.Snapshots[riskTable], nil
	}
	heads, snap, ok, err := byDay(ctx, s, &s.feedDays, f.from.Format(time.DateOnly), f.to.Format(time.DateOnly),
		func(ctx context.Context, days []string, since time.Time) (map[string]riskHead, int64, error) {
			return head(ctx, days, since, feedHeadRows)
		})
	if err != nil || !ok {
		return nil, false, err
	}
	rows, types := feedOf(heads, minLevel)
	if limit > feedHeadRows {
		var deep []string
		for day, h := range heads {
			if len(h.rows) < feedHeadRows {
				continue // the day's rows, all of them
			}
			last := h.rows[len(h.rows)-1]
			if last.level >= levelRank[minLevel] && (len(rows) < limit || feedOrder(last, rows[limit-1]) < 0) {
				deep = append(deep, day)
			}
		}
		if len(deep) > 0 {
			slices.Sort(deep)
			since, err := time.Parse(time.DateOnly, deep[0])
			if err != nil {
				return nil, false, nil
			}
			more, at, err := head(ctx, deep, since, limit)
			if err != nil || at != snap {
				return nil, false, err
			}
			s.feedDays.deep.Add(int64(len(deep)))
			for _, day := range deep {
				heads[day] = more[day]
			}
			rows, types = feedOf(heads, minLevel)
		}
	}
	res := &query.Result{Columns: feedColumns, Types: types}
	for _, r := range rows[:min(limit, len(rows))] {
		res.Rows = append(res.Rows, r.row)
	}
	return res, true, nil
}

// feedOf is the rows of heads of levels at or above minLevel in the
// feed's order (feedOrder), and their DuckDB types.
func feedOf(heads map[string]riskHead, minLevel string) ([]feedRow, []string) {
	var rows []feedRow
	var types []string
	for _, h := range heads {
		for _, r := range h.rows {
			if r.level >= levelRank[minLevel] {
				rows = append(rows, r)
			}
		}
		if h.types != nil {
			types = h.types
		}
	}
	slices.SortFunc(rows, feedOrder)
	return rows, types
}

// feedOrder orders the feed's rows: the highest scores first, then the
// most edits, the newest day, and by entity.
func feedOrder(a, b feedRow) int {
	return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.edits, a.edits),
		strings.Compare(b.day, a.day), strings.Compare(a.entity, b.entity))
}

// riskCounts are a day's HIGH and MEDIUM rows.
type riskCounts struct{ high, medium int64 }

// riskCountsSQL is the columns high and medium, the HIGH and MEDIUM rows
// of gold.risk_scores where cond, and its FROM and WHERE. They are the rows
// of the levels' scores, which gold writes first in each file: DuckDB
// skips the other row groups by the scores' bounds (a week at the live
// feed's volume: 19 ms instead of 35).
func riskCountsSQL(cond string) string {
	return `count(*) FILTER (WHERE risk_level = 'HIGH')::BIGINT AS high,
		count(*) FILTER (WHERE risk_level = 'MEDIUM')::BIGINT AS medium
		FROM gold.risk_scores WHERE ` + cond + ` AND risk_score >= ` + strconv.Itoa(gold.MediumScore)
}

// keptRiskCounts returns the HIGH and MEDIUM rows of f's days, from the
// days' kept counts; false when it cannot (byDay).
func (s *Server) keptRiskCounts(ctx context.Context, f filters) (high, medium int64, ok bool, err error) {
	counts, _, ok, err := byDay(ctx, s, &s.countDays, f.from.Format(time.DateOnly), f.to.Format(time.DateOnly),
		func(ctx context.Context, days []string, since time.Time) (map[string]riskCounts, int64, error) {
			res, err := s.readAt(ctx, `SELECT stat_date, `+riskCountsSQL(`stat_date IN (`+quoteAll(days)+`)`)+`
				GROUP BY stat_date`, query.At{Since: since})
			if err != nil {
				return nil, 0, err
			}
			out := map[string]riskCounts{}
			for _, row := range res.Rows {
				day, _ := row[0].(string)
				h, _ := row[1].(int64)
				m, _ := row[2].(int64)
				out[day] = riskCounts{h, m}
			}
			return out, res.Snapshots[riskTable], nil
		})
	if err != nil || !ok {
		return 0, 0, false, err
	}
	for _, c := range counts {
		high += c.high
		medium += c.medium
	}
	return high, medium, true, nil
}
