package quality

import (
	"context"
	"fmt"
	"strings"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// maxDupHashes bounds the duplicated hashes one span's exact count looks up.
const maxDupHashes = 1000

// uniqueness counts rows sharing the values of the check's columns. It
// groups by a 64-bit hash of the columns, which keeps memory at a few bytes
// a row, and confirms the duplicated hashes on the values themselves, so a
// hash collision is not reported as a duplicate.
func (e *evaluation) uniqueness(ctx context.Context, c Check) Result {
	cols := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		cols[i] = quoteIdent(col)
	}
	key := strings.Join(cols, ", ")
	exp := "each " + strings.Join(c.Columns, ", ") + " once"
	if len(c.Columns) > 1 {
		exp = "each (" + strings.Join(c.Columns, ", ") + ") once"
	}
	if r, ok := e.absent(c.Table, exp); ok {
		return r
	}
	spans, dateCol, err := e.tableSpans(ctx, c.Table)
	if err != nil {
		return failed(err, exp)
	}
	name := lakehouse.Name(c.Table)
	var rows, dupKeys, extra int64
	approx := false
	var samples []map[string]any
	for _, sp := range spans {
		where := scope(c, sp, dateCol)
		grouped := fmt.Sprintf("SELECT hash(%s) AS h, count(*) AS n FROM %s WHERE %s GROUP BY h", key, name, where)
		res, err := e.query(ctx, c.Table, "SELECT coalesce(sum(n), 0)::BIGINT, count(*) FILTER (WHERE n > 1), "+
			"coalesce(sum(n - 1) FILTER (WHERE n > 1), 0)::BIGINT FROM ("+grouped+")")
		if err != nil {
			return failed(err, exp)
		}
		rows += toInt64(res.Rows[0][0])
		hashes := toInt64(res.Rows[0][1])
		if hashes == 0 {
			continue
		}
		// The exact duplicates among the rows whose hash repeats.
		exact, err := e.query(ctx, c.Table, fmt.Sprintf(`SELECT %[1]s, count(*) AS copies FROM %[2]s
			WHERE %[3]s AND hash(%[1]s) IN (SELECT h FROM (%[4]s) WHERE n > 1 LIMIT %[5]d)
			GROUP BY ALL HAVING count(*) > 1 ORDER BY copies DESC`, key, name, where, grouped, maxDupHashes))
		if err != nil {
			return failed(err, exp)
		}
		if hashes > maxDupHashes {
			// More than the lookup covers: count by hash (collisions are
			// negligible at this scale).
			approx = true
			dupKeys += hashes
			extra += toInt64(res.Rows[0][2])
		} else {
			for _, r := range exact.Rows {
				dupKeys++
				extra += toInt64(r[len(r)-1]) - 1
			}
		}
		for _, m := range rowMaps(exact) {
			if len(samples) < e.s.cfg.Samples {
				samples = append(samples, m)
			}
		}
	}
	detail := map[string]any{"snapshot": e.pins.snapshot(c.Table), "rows": rows, "duplicated_keys": dupKeys,
		"extra_rows": extra}
	if e.cutoff != "" && dateCol != "" {
		detail["since"] = e.cutoff
	}
	r := Result{Status: StatusPass, Expected: exp, Detail: detail,
		Observed: fmt.Sprintf("%d rows, no duplicates", rows)}
	if rows == 0 {
		r.Observed = "no rows in scope"
	}
	if float64(extra) > c.MaxFraction*float64(rows) {
		about := ""
		if approx {
			about = "about "
		}
		r.Status = StatusFail
		r.Observed = fmt.Sprintf("%s%d values of %s appear more than once (%d extra rows) in %d rows", about, dupKeys,
			strings.Join(c.Columns, ", "), extra, rows)
		detail["samples"] = samples
	}
	return r
}
