package quality

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

// pins are the tables as a run found them: each loaded once, at the start,
// so that every check reads the same snapshot. A table that does not exist
// is nil.
type pins map[string]*table.Table

// pin loads every table the checks read.
func (s *Stage) pin(ctx context.Context) (pins, error) {
	p := pins{}
	for _, ident := range s.tables() {
		tbl, err := s.lh.Load(ctx, ident)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			p[lakehouse.Name(ident)] = nil
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pin %s: %w", lakehouse.Name(ident), err)
		}
		p[lakehouse.Name(ident)] = tbl
	}
	return p, nil
}

// table is the pinned table (nil when it does not exist).
func (p pins) table(ident table.Identifier) *table.Table { return p[lakehouse.Name(ident)] }

// snapshot is the pinned snapshot id of the table, 0 when it has none.
func (p pins) snapshot(ident table.Identifier) int64 {
	if tbl := p.table(ident); tbl != nil {
		return lakehouse.SnapshotID(tbl)
	}
	return 0
}

func (p pins) snapshots() map[string]int64 {
	out := map[string]int64{}
	for name, tbl := range p {
		if tbl != nil && tbl.CurrentSnapshot() != nil {
			out[name] = tbl.CurrentSnapshot().SnapshotID
		}
	}
	return out
}

// evaluation is one run's evaluation of the checks.
type evaluation struct {
	s      *Stage
	eng    *query.Engine // the run's
	pins   pins
	now    time.Time
	cutoff string            // first date covered; "" for all
	spans  map[string][]span // per table, computed once
}

// setCutoff sets the first date the row-level checks cover.
func (e *evaluation) setCutoff(ctx context.Context) error {
	days := e.s.cfg.LookbackDays
	if days == 0 {
		return nil
	}
	anchor := e.now.UTC().Format(time.DateOnly)
	if snap := e.pins.snapshot(lakehouse.BronzeRawEvents); snap != 0 {
		res, err := e.eng.Query(ctx, "SELECT max(event_date) FROM bronze.raw_events", query.At{Snapshot: snap})
		if err != nil {
			return fmt.Errorf("find the newest bronze event date: %w", err)
		}
		if d, ok := res.Rows[0][0].(string); ok && d < anchor {
			anchor = d
		}
	}
	t, err := time.Parse(time.DateOnly, anchor)
	if err != nil {
		return fmt.Errorf("newest bronze event date %q: %w", anchor, err)
	}
	e.cutoff = t.AddDate(0, 0, -days).Format(time.DateOnly)
	return nil
}

// query runs SQL over one table as of its pinned snapshot.
func (e *evaluation) query(ctx context.Context, ident table.Identifier, sql string) (*query.Result, error) {
	return e.queryAt(ctx, e.pins.snapshot(ident), sql)
}

// queryAt runs SQL pinned to a snapshot (which names its table).
func (e *evaluation) queryAt(ctx context.Context, snapshot int64, sql string) (*query.Result, error) {
	if snapshot == 0 {
		return nil, errors.New("no snapshot to read") // callers skip tables without one
	}
	return e.eng.Query(ctx, sql, query.At{Snapshot: snapshot})
}

// evaluate runs every check and returns the results in the checks' order.
func (e *evaluation) evaluate(ctx context.Context, checks []Check) []Result {
	e.spans = map[string][]span{}
	byName := map[string]Result{}
	// Row-level checks of one table are evaluated together, one scan per
	// chunk.
	var rowTables []string
	rowChecks := map[string][]Check{}
	for _, c := range checks {
		switch c.Kind {
		case KindCompleteness, KindAllowedValues, KindRange:
			name := lakehouse.Name(c.Table)
			if rowChecks[name] == nil {
				rowTables = append(rowTables, name)
			}
			rowChecks[name] = append(rowChecks[name], c)
		}
	}
	for _, name := range rowTables {
		began := time.Now()
		for n, r := range e.rowLevel(ctx, rowChecks[name]) {
			byName[n] = r
		}
		e.s.log.Debug("data-quality row checks evaluated", "table", name, "checks", len(rowChecks[name]),
			"seconds", time.Since(began).Seconds())
	}
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		r, ok := byName[c.Name]
		if !ok {
			began := time.Now()
			switch c.Kind {
			case KindUniqueness:
				r = e.uniqueness(ctx, c)
			case KindReconciliation:
				r = e.reconcile(ctx, c)
			case KindFreshness:
				r = e.freshness(ctx, c)
			case KindVolume:
				r = e.volume(ctx, c)
			}
			e.s.log.Debug("data-quality check evaluated", "check", c.Name, "seconds", time.Since(began).Seconds())
		}
		r.Check, r.Table, r.Kind, r.EvaluatedAt = c.Name, lakehouse.Name(c.Table), c.Kind, e.now
		if r.Detail == nil {
			r.Detail = map[string]any{}
		}
		if c.Description != "" {
			r.Detail["description"] = c.Description
		}
		out = append(out, r)
	}
	return out
}

// failed is the result of a check that could not be evaluated.
func failed(err error, expected string) Result {
	return Result{Status: StatusError, Observed: "could not be evaluated", Expected: expected,
		Detail: map[string]any{"error": err.Error()}}
}

// absent is the passing result of a check whose table has no data yet.
func (e *evaluation) absent(ident table.Identifier, expected string) (Result, bool) {
	tbl := e.pins.table(ident)
	switch {
	case tbl == nil:
		return Result{Status: StatusPass, Observed: "table does not exist yet: nothing to check", Expected: expected,
			Detail: map[string]any{"skipped": "table does not exist"}}, true
	case tbl.CurrentSnapshot() == nil:
		return Result{Status: StatusPass, Observed: "table is empty: nothing to check", Expected: expected,
			Detail: map[string]any{"skipped": "table has no snapshot"}}, true
	}
	return Result{}, false
}

// span is a half-open range of dates [lo, hi); an empty bound is open.
type span struct{ lo, hi string }

// sql is the predicate selecting the span's rows by the date column.
func (s span) sql(col string) string {
	var p []string
	if s.lo != "" {
		p = append(p, quoteIdent(col)+" >= "+quoteString(s.lo))
	}
	if s.hi != "" {
		p = append(p, quoteIdent(col)+" < "+quoteString(s.hi))
	}
	if len(p) == 0 {
		return "TRUE"
	}
	return strings.Join(p, " AND ")
}

// tableSpans cuts the table's covered dates into spans of at most
// ChunkRows rows (whole dates; a date larger than that is a span alone).
// The spans cover every date from the cutoff on, present or not. A table
// without a date column is one span.
func (e *evaluation) tableSpans(ctx context.Context, ident table.Identifier) ([]span, string, error) {
	name := lakehouse.Name(ident)
	col := tables[name].date
	if col == "" {
		return []span{{}}, "", nil
	}
	if sp, ok := e.spans[name]; ok {
		return sp, col, nil
	}
	res, err := e.query(ctx, ident, fmt.Sprintf("SELECT %[1]s, count(*) FROM %[2]s WHERE %[3]s GROUP BY 1 ORDER BY 1",
		quoteIdent(col), name, span{lo: e.cutoff}.sql(col)))
	if err != nil {
		return nil, col, fmt.Errorf("count rows by %s: %w", col, err)
	}
	sp := cutSpans(res.Rows, e.cutoff, e.s.cfg.ChunkRows)
	e.spans[name] = sp
	return sp, col, nil
}

// cutSpans packs (date, count) rows, sorted by date, into spans.
func cutSpans(rows [][]any, cutoff string, max int64) []span {
	spans := []span{{lo: cutoff}}
	var acc int64
	for _, r := range rows {
		d, _ := r[0].(string)
		n := toInt64(r[1])
		if acc > 0 && acc+n > max && d != "" {
			spans[len(spans)-1].hi = d
			spans = append(spans, span{lo: d})
			acc = 0
		}
		acc += n
	}
	return spans
}

// scope is the predicate of the rows a check covers in a span: its Where
// and the span.
func scope(c Check, sp span, dateCol string) string {
	p := "TRUE"
	if dateCol != "" {
		p = sp.sql(dateCol)
	}
	if c.Where != "" {
		p += " AND (" + c.Where + ")"
	}
	return p
}

// violation is the predicate true for a row the row-level check rejects.
func violation(c Check) string {
	if c.Violation != "" {
		return c.Violation
	}
	switch c.Kind {
	case KindCompleteness:
		var p []string
		for _, col := range c.Columns {
			q := quoteIdent(col)
			p = append(p, fmt.Sprintf("%s IS NULL OR trim(CAST(%s AS VARCHAR)) = ''", q, q))
		}
		return strings.Join(p, " OR ")
	case KindAllowedValues:
		vals := make([]string, len(c.Allowed))
		for i, v := range c.Allowed {
			vals[i] = quoteString(v)
		}
		q := quoteIdent(c.Columns[0])
		return fmt.Sprintf("%s IS NOT NULL AND %s NOT IN (%s)", q, q, strings.Join(vals, ", "))
	case KindRange:
		q := quoteIdent(c.Columns[0])
		return fmt.Sprintf("%s IS NOT NULL AND NOT (%s BETWEEN %s AND %s)", q, q, number(c.Min), number(c.Max))
	}
	return "FALSE"
}

// expectation is what a row-level check expects, for people.
func expectation(c Check) string {
	var what string
	switch {
	case c.Violation != "" && c.Description != "":
		what = c.Description
	case c.Violation != "":
		what = "no row with " + c.Violation
	case c.Kind == KindCompleteness:
		what = "every row has " + strings.Join(c.Columns, ", ")
	case c.Kind == KindAllowedValues:
		what = c.Columns[0] + " in " + strings.Join(c.Allowed, ", ")
	case c.Kind == KindRange:
		what = fmt.Sprintf("%s in [%s, %s]", c.Columns[0], number(c.Min), number(c.Max))
	}
	if c.MaxFraction > 0 {
		what += fmt.Sprintf(" (at most %s%% of rows may not)", number(100*c.MaxFraction))
	}
	return what
}

// rowLevel evaluates completeness, allowed_values and range checks of one
// table together: one aggregate query per span, then samples of what
// failed.
func (e *evaluation) rowLevel(ctx context.Context, checks []Check) map[string]Result {
	out := map[string]Result{}
	ident := checks[0].Table
	for _, c := range checks {
		if r, ok := e.absent(ident, expectation(c)); ok {
			out[c.Name] = r
		}
	}
	if len(out) == len(checks) {
		return out
	}
	spans, dateCol, err := e.tableSpans(ctx, ident)
	if err != nil {
		for _, c := range checks {
			out[c.Name] = failed(err, expectation(c))
		}
		return out
	}
	rows := make([]int64, len(checks))
	bad := make([]int64, len(checks))
	errs := make([]error, len(checks))
	for _, sp := range spans {
		var cols []string
		for _, c := range checks {
			s := scope(c, sp, dateCol)
			cols = append(cols, fmt.Sprintf("count(*) FILTER (WHERE %s)", s),
				fmt.Sprintf("count(*) FILTER (WHERE (%s) AND (%s))", s, violation(c)))
		}
		res, err := e.query(ctx, ident, "SELECT "+strings.Join(cols, ", ")+" FROM "+lakehouse.Name(ident))
		if err == nil {
			for i := range checks {
				rows[i] += toInt64(res.Rows[0][2*i])
				bad[i] += toInt64(res.Rows[0][2*i+1])
			}
			continue
		}
		if ctx.Err() != nil {
			for i := range errs {
				errs[i] = err
			}
			break
		}
		// One check's SQL may be at fault: evaluate them one by one, so
		// that only that check errs.
		for i, c := range checks {
			if errs[i] != nil {
				continue
			}
			s := scope(c, sp, dateCol)
			res, err := e.query(ctx, ident, fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE %s) FROM %s WHERE %s",
				violation(c), lakehouse.Name(ident), s))
			if err != nil {
				errs[i] = err
				continue
			}
			rows[i] += toInt64(res.Rows[0][0])
			bad[i] += toInt64(res.Rows[0][1])
		}
	}
	for i, c := range checks {
		if _, done := out[c.Name]; done {
			continue
		}
		exp := expectation(c)
		if errs[i] != nil {
			out[c.Name] = failed(errs[i], exp)
			continue
		}
		detail := map[string]any{"snapshot": e.pins.snapshot(ident), "rows": rows[i], "violations": bad[i],
			"violation": violation(c)}
		if e.cutoff != "" && dateCol != "" {
			detail["since"] = e.cutoff
		}
		if c.Where != "" {
			detail["where"] = c.Where
		}
		r := Result{Status: StatusPass, Expected: exp, Detail: detail,
			Observed: fmt.Sprintf("%d of %d rows offend", bad[i], rows[i])}
		if rows[i] == 0 {
			r.Observed = "no rows in scope"
		}
		if float64(bad[i]) > c.MaxFraction*float64(rows[i]) {
			r.Status = StatusFail
			samples, err := e.samples(ctx, c, span{lo: e.cutoff}, dateCol)
			if err != nil {
				detail["samples_error"] = err.Error()
			} else {
				detail["samples"] = samples
			}
		}
		out[c.Name] = r
	}
	return out
}

// samples returns offending rows of a row-level check.
func (e *evaluation) samples(ctx context.Context, c Check, sp span, dateCol string) ([]map[string]any, error) {
	if e.s.cfg.Samples == 0 {
		return nil, nil
	}
	cols := c.sampleColumns()
	quoted := make([]string, len(cols))
	for i, col := range cols {
		quoted[i] = quoteIdent(col)
	}
	res, err := e.query(ctx, c.Table, fmt.Sprintf("SELECT %s FROM %s WHERE (%s) AND (%s) LIMIT %d",
		strings.Join(quoted, ", "), lakehouse.Name(c.Table), scope(c, sp, dateCol), violation(c), e.s.cfg.Samples))
	if err != nil {
		return nil, err
	}
	return rowMaps(res), nil
}

// rowMaps turns a result into one map per row, with values JSON renders
// readably.
func rowMaps(res *query.Result) []map[string]any {
	out := make([]map[string]any, 0, len(res.Rows))
	for _, r := range res.Rows {
		m := make(map[string]any, len(r))
		for i, v := range r {
			m[res.Columns[i]] = jsonValue(v)
		}
		out = append(out, m)
	}
	return out
}

func jsonValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	case *big.Int:
		return v.String()
	}
	return v
}

// toInt64 reads an integer DuckDB returned (any integer type; NULL is 0).
func toInt64(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int8:
		return int64(v)
	case int:
		return int64(v)
	case uint64:
		return int64(v)
	case uint32:
		return int64(v)
	case *big.Int:
		return v.Int64()
	case float64:
		return int64(v)
	}
	return 0
}

// toUint64 reads an unsigned value (a hash) DuckDB returned.
func toUint64(v any) uint64 {
	switch v := v.(type) {
	case uint64:
		return v
	case int64:
		return uint64(v)
	case *big.Int:
		return v.Uint64()
	}
	return 0
}

// number formats a float without trailing zeros.
func number(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// quoteString quotes a SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent quotes a SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
