package quality

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// baseline is the trailing hours a volume is judged against.
type baseline struct {
	mean, std, sigma float64
}

// newBaseline is the mean and standard deviation of counts. sigma, the
// deviation a z-score divides by, is at least the square root of the mean
// (the noise of counting) and at least 1, so that a very regular or an
// empty history does not make every small change an anomaly.
func newBaseline(counts []int64) baseline {
	var b baseline
	if len(counts) == 0 {
		return b
	}
	for _, c := range counts {
		b.mean += float64(c)
	}
	b.mean /= float64(len(counts))
	for _, c := range counts {
		d := float64(c) - b.mean
		b.std += d * d
	}
	b.std = math.Sqrt(b.std / float64(len(counts)))
	b.sigma = max(b.std, math.Sqrt(b.mean), 1)
	return b
}

// z is how many sigmas x lies from the mean.
func (b baseline) z(x int64) float64 { return (float64(x) - b.mean) / b.sigma }

// volume compares the rows that arrived in the last complete hour with the
// hours before it. A table too young to have the whole window behind it
// passes with "not enough history".
func (e *evaluation) volume(ctx context.Context, c Check) Result {
	v := *c.Volume
	if v.Window == 0 {
		v.Window = 24
	}
	if v.Z == 0 {
		v.Z = 4
	}
	end := e.now.UTC().Truncate(time.Hour) // the end of the last complete hour
	last := end.Add(-time.Hour)
	start := last.Add(-time.Duration(v.Window) * time.Hour)
	exp := fmt.Sprintf("rows arriving %s–%s within %g standard deviations of the %d hours before", last.Format("15:04"),
		end.Format("15:04"), v.Z, v.Window)
	if r, ok := e.absent(c.Table, exp); ok {
		return r
	}
	name := lakehouse.Name(c.Table)
	ts := "(" + v.TimeColumn + ")"
	// The oldest row tells whether the baseline's whole window lies within
	// the table's history.
	first, err := e.query(ctx, c.Table, fmt.Sprintf("SELECT min(%s) FROM %s", ts, name))
	if err != nil {
		return failed(err, exp)
	}
	detail := map[string]any{"snapshot": e.pins.snapshot(c.Table), "hour": last.Format(time.RFC3339),
		"window_start": start.Format(time.RFC3339)}
	oldest, ok := first.Rows[0][0].(time.Time)
	if !ok {
		return Result{Status: StatusPass, Expected: exp, Detail: detail, Observed: "no rows: nothing to compare"}
	}
	detail["oldest_row"] = oldest.UTC().Format(time.RFC3339)
	if oldest.After(start) {
		detail["skipped"] = "not enough history"
		return Result{Status: StatusPass, Expected: exp, Detail: detail,
			Observed: fmt.Sprintf("not enough history: rows arrive since %s, the baseline needs them since %s",
				oldest.UTC().Format(time.RFC3339), start.Format(time.RFC3339))}
	}
	hours, err := e.hourly(ctx, c, ts, start, end)
	if err != nil {
		return failed(err, exp)
	}
	counts := make([]int64, v.Window)
	for i := range counts {
		counts[i] = hours[start.Add(time.Duration(i)*time.Hour)]
	}
	x := hours[last]
	b := newBaseline(counts)
	z := b.z(x)
	detail["rows"], detail["baseline_mean"], detail["baseline_std"], detail["z"] = x, b.mean, b.std, z
	detail["baseline_hours"] = counts
	r := Result{Status: StatusPass, Expected: exp, Detail: detail,
		Observed: fmt.Sprintf("%d rows in the hour; trailing mean %.1f ± %.1f (z = %.1f)", x, b.mean, b.std, z)}
	judged := x >= v.MinRows || b.mean >= float64(v.MinRows)
	switch {
	case !judged:
		detail["skipped"] = fmt.Sprintf("fewer than %d rows an hour: too few to judge", v.MinRows)
	case v.Spikes && z > v.Z:
		r.Status = StatusFail
		r.Observed = "spike: " + r.Observed
	case v.Drops && z < -v.Z:
		r.Status = StatusFail
		r.Observed = "drop: " + r.Observed
	}
	return r
}

// hourly counts the rows by arrival hour in [start, end).
func (e *evaluation) hourly(ctx context.Context, c Check, ts string, start, end time.Time) (map[time.Time]int64, error) {
	res, err := e.query(ctx, c.Table, fmt.Sprintf(`SELECT date_trunc('hour', %[1]s) AS h, count(*) FROM %[2]s
		WHERE %[1]s >= %[3]s AND %[1]s < %[4]s GROUP BY h`, ts, lakehouse.Name(c.Table), timestampLiteral(start),
		timestampLiteral(end)))
	if err != nil {
		return nil, err
	}
	out := map[time.Time]int64{}
	for _, r := range res.Rows {
		if t, ok := r[0].(time.Time); ok {
			out[t.UTC()] = toInt64(r[1])
		}
	}
	return out, nil
}

// timestampLiteral is a DuckDB TIMESTAMPTZ literal.
func timestampLiteral(t time.Time) string {
	return "TIMESTAMPTZ '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "+00'"
}
