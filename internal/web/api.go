package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/wikimedia/sites"
)

// The JSON API over the gold tables. Every filter is validated against a
// strict pattern before it reaches SQL, and a bad one is answered 400 with
// the parameter's name and what is expected.

// filters are the common query parameters: a UTC time range of hours,
// regions and domains.
type filters struct {
	from, to time.Time // hours, to inclusive
	regions  []string
	domains  []string
}

var domainRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,99}$`)

// parseFilters reads from/to (RFC 3339 or YYYY-MM-DD; default: the last
// 24 hours up to now), region and domain (comma-separated or repeated).
func parseFilters(q url.Values, now time.Time) (filters, error) {
	f := filters{to: now.UTC().Truncate(time.Hour)}
	f.from = f.to.Add(-23 * time.Hour)
	parse := func(name string, v string) (time.Time, error) {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15", time.DateOnly} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC().Truncate(time.Hour), nil
			}
		}
		return time.Time{}, fmt.Errorf("%s: got %q, want a UTC time such as 2026-11-25T13:00:00Z or 2026-11-25", name, v)
	}
	var err error
	if v := q.Get("from"); v != "" {
		if f.from, err = parse("from", v); err != nil {
			return f, err
		}
	}
	if v := q.Get("to"); v != "" {
		if f.to, err = parse("to", v); err != nil {
			return f, err
		}
		if len(v) == len(time.DateOnly) {
			f.to = f.to.Add(23 * time.Hour) // a date ends at its last hour
		}
	}
	if f.to.Before(f.from) {
		return f, fmt.Errorf("to (%s) is before from (%s)", f.to.Format(time.RFC3339), f.from.Format(time.RFC3339))
	}
	if f.to.Sub(f.from) > 366*24*time.Hour {
		return f, fmt.Errorf("from..to spans more than 366 days; narrow the range")
	}
	for _, r := range list(q, "region") {
		if !slices.Contains(sites.Regions(), r) {
			return f, fmt.Errorf("region: got %q, want one of %s", r, strings.Join(sites.Regions(), ", "))
		}
		f.regions = append(f.regions, r)
	}
	for _, d := range list(q, "domain") {
		if !domainRe.MatchString(d) {
			return f, fmt.Errorf("domain: got %q, want a wiki's host name such as en.wikipedia.org", d)
		}
		f.domains = append(f.domains, d)
	}
	return f, nil
}

// list reads a parameter given as a comma-separated list, repeated, or both.
func list(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// where is the SQL condition of the filters over a table with a date
// column, an hour column and region and domain columns (hour may be "" for
// daily tables).
func (f filters) where(date, hour string) string {
	// The date range alone first: DuckDB skips files and row groups by it.
	from, to := f.from.Format(time.DateOnly), f.to.Format(time.DateOnly)
	c := []string{fmt.Sprintf("%s BETWEEN '%s' AND '%s'", date, from, to)}
	// The hours, as integers, only where the range cuts into a day.
	if hour != "" && f.from.Hour() > 0 {
		c = append(c, fmt.Sprintf("(%s > '%s' OR %s >= %d)", date, from, hour, f.from.Hour()))
	}
	if hour != "" && f.to.Hour() < 23 {
		c = append(c, fmt.Sprintf("(%s < '%s' OR %s <= %d)", date, to, hour, f.to.Hour()))
	}
	return f.and(c)
}

// whereHourStart is the SQL condition of the filters over a table with
// hour_start (the hour's first instant), region and domain columns: the
// hours as one range of one column, which DuckDB evaluates cheaply and
// skips files and row groups by, where where's conditions across date and
// hour cost a busy day's rollup 15 ms to evaluate. The rollups' stat_date
// follows from hour_start; filtering by it as well cost a 30-day list
// 3 of its 21 ms (every row compared as a string once more).
func (f filters) whereHourStart() string {
	return f.and([]string{
		fmt.Sprintf("hour_start BETWEEN TIMESTAMPTZ '%s' AND TIMESTAMPTZ '%s'", f.from.Format(time.RFC3339), f.to.Format(time.RFC3339)),
	})
}

// hours is how many hours the range holds.
func (f filters) hours() int { return int(f.to.Sub(f.from)/time.Hour) + 1 }

// and joins the conditions c and the filters' regions and domains.
func (f filters) and(c []string) string {
	if len(f.regions) > 0 {
		c = append(c, "region IN ("+quoteAll(f.regions)+")")
	}
	if len(f.domains) > 0 {
		c = append(c, "domain IN ("+quoteAll(f.domains)+")")
	}
	return strings.Join(c, " AND ")
}

// quoteAll quotes validated values as SQL string literals.
func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

// rowsJSON turns a result into one JSON object per row, keyed by column.
func rowsJSON(res *query.Result) []map[string]any {
	out := make([]map[string]any, len(res.Rows))
	for i := range res.Rows {
		m := make(map[string]any, len(res.Columns))
		for j, c := range res.Columns {
			m[c] = res.JSONValue(i, j)
		}
		out[i] = m
	}
	return out
}

// jsonRows writes a result as rowsJSON does, one object per row, without
// building a map per row: the keys in column order, each value as
// Result.JSONValue gives it. A 30-day hourly series has thousands of rows.
type jsonRows struct{ res *query.Result }

func (j jsonRows) MarshalJSON() ([]byte, error) {
	keys := make([][]byte, len(j.res.Columns))
	for c, name := range j.res.Columns {
		k, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		keys[c] = k
	}
	b := make([]byte, 0, 64*len(j.res.Rows)*max(len(keys), 1))
	b = append(b, '[')
	for i := range j.res.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for c, k := range keys {
			if c > 0 {
				b = append(b, ',')
			}
			b = append(b, k...)
			b = append(b, ':')
			var err error
			switch v := j.res.JSONValue(i, c).(type) {
			case int64:
				b = strconv.AppendInt(b, v, 10)
			case int32:
				b = strconv.AppendInt(b, int64(v), 10)
			case bool:
				b = strconv.AppendBool(b, v)
			case nil:
				b = append(b, "null"...)
			default:
				var e []byte
				e, err = json.Marshal(v)
				b = append(b, e...)
			}
			if err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// read runs sql for the JSON API: a table no stage has created yet reads
// as no rows (a fresh run shows empty panels, not errors).
func (s *Server) read(ctx context.Context, sql string) (*query.Result, error) {
	return s.readAt(ctx, sql, query.At{})
}

// readAt is read with at, such as a promise about the rows read
// (query.At.Since).
func (s *Server) readAt(ctx context.Context, sql string, at query.At) (*query.Result, error) {
	res, err := s.eng.Query(ctx, sql, at)
	if errors.Is(err, query.ErrNoTable) {
		return &query.Result{}, nil
	}
	return res, err
}

// run answers a GET with the rows of sql as {"filters": ..., "rows": [...]}.
func (s *Server) run(w http.ResponseWriter, r *http.Request, f filters, sql string) {
	res, err := s.read(r.Context(), sql)
	if err != nil {
		s.log.Warn("api query failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"filters": f.json(), "rows": jsonRows{res}, "truncated": res.Truncated,
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// statsHourly: GET /api/v1/stats/hourly — edit velocity per hour (and per
// region with group=region), summed over the filtered wikis.
func (s *Server) statsHourly(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilters(r.URL.Query(), s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	group := q.Get("group")
	cols := "stat_date, stat_hour"
	switch group {
	case "", "total":
	case "region":
		cols += ", region"
	case "domain":
		cols += ", domain"
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("group: got %q, want total, region or domain", group))
		return
	}
	sums := `sum(total_events)::BIGINT AS events, sum(human_events)::BIGINT AS human,
		sum(bot_events)::BIGINT AS bots, sum(anonymous_events)::BIGINT AS anonymous,
		sum(bytes_added)::BIGINT AS bytes_added, sum(bytes_removed)::BIGINT AS bytes_removed,
		sum(new_pages)::BIGINT AS new_pages`
	where := f.where("stat_date", "stat_hour")
	if v := q.Get("top"); v != "" {
		// The wikis with the most events, the others together: a month
		// of every wiki's hours is more rows than a response holds
		// (115,388 rows of 162 wikis at the live feed's volume), and the
		// dashboard shows a few wikis and the rest.
		top, err := strconv.Atoi(v)
		if err != nil || top < 1 || top > maxTopWikis || group != "domain" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("top: got %q, want a number of wikis from 1 to %d, with group=domain", v, maxTopWikis))
			return
		}
		s.run(w, r, f, `SELECT stat_date, stat_hour, top.domain AS domain, `+sums+`
			FROM (SELECT * FROM gold.hourly_stats WHERE `+where+`) AS h
			LEFT JOIN (SELECT domain FROM gold.hourly_stats WHERE `+where+`
				GROUP BY domain ORDER BY sum(total_events) DESC, domain LIMIT `+strconv.Itoa(top)+`) AS top ON h.domain = top.domain
			GROUP BY ALL ORDER BY ALL`)
		return
	}
	s.run(w, r, f, `SELECT `+cols+`, `+sums+` FROM gold.hourly_stats WHERE `+where+` GROUP BY ALL ORDER BY ALL`)
}

// maxTopWikis is the most wikis /api/v1/stats/hourly's top names.
const maxTopWikis = 100

// statsRegions: GET /api/v1/stats/regions — the regional comparison: events
// and the bot, human and anonymous shares per region over the range.
func (s *Server) statsRegions(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilters(r.URL.Query(), s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.run(w, r, f, `SELECT region, sum(total_events)::BIGINT AS events, count(DISTINCT domain)::BIGINT AS wikis,
		round(100.0 * sum(bot_events) / greatest(sum(total_events), 1), 2) AS bot_pct,
		round(100.0 * sum(human_events) / greatest(sum(total_events), 1), 2) AS human_pct,
		round(100.0 * sum(anonymous_events) / greatest(sum(total_events), 1), 2) AS anonymous_pct,
		sum(new_pages)::BIGINT AS new_pages
		FROM gold.hourly_stats WHERE `+f.where("stat_date", "stat_hour")+`
		GROUP BY region ORDER BY events DESC, region`)
}

// risk: GET /api/v1/risk — the risk feed: entities at or above a level
// over the range's days, highest scores first, with their evidence.
func (s *Server) risk(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseFilters(q, s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	levels := map[string]string{"HIGH": "'HIGH'", "MEDIUM": "'HIGH', 'MEDIUM'", "LOW": "'HIGH', 'MEDIUM', 'LOW'"}
	level := strings.ToUpper(q.Get("min_level"))
	if level == "" {
		level = "MEDIUM"
	}
	in, ok := levels[level]
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("min_level: got %q, want HIGH, MEDIUM or LOW", q.Get("min_level")))
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: got %q, want 1 to 1000", v))
			return
		}
	}
	if len(f.regions) > 0 || len(f.domains) > 0 {
		writeError(w, http.StatusBadRequest, "region and domain do not apply to /api/v1/risk: risk is per editor across wikis")
		return
	}
	res, ok, err := s.keptFeed(r.Context(), f, level, limit)
	if err == nil && !ok {
		res, err = s.riskFeed(r.Context(), f, in, limit)
	}
	if err != nil {
		s.log.Warn("api query failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	rows := rowsJSON(res)
	for _, row := range rows {
		riskLinks(row)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"filters": map[string]any{"from": f.from.Format(time.DateOnly), "to": f.to.Format(time.DateOnly),
			"min_level": level, "limit": limit},
		"rows": rows, "truncated": res.Truncated,
	})
}

// riskFeed reads the risk feed in one statement (where keptFeed cannot
// answer it from the days it keeps): the rows of the levels in (SQL
// literals) in the days of f, the highest scores first, then the most
// edits, the newest day, and by entity.
//
// Gold writes each day's rows in that order (the table's
// lakehouse.PropFileOrder; a file holds one day): the feed's rows are
// among the first limit rows of each file, as are the levels' (a level is
// a range of scores). So it reads those alone (query.At.Head), all their
// columns at once: read whole, DuckDB would rank every row of the days,
// then read the kept rows' other columns in a second scan of the files,
// and read each file's footer for both. A week of the live feed's volume
// (95,000 editors a day): the LOW feed took 27 ms instead of 115. A table
// created before gold kept that order is read whole.
func (s *Server) riskFeed(ctx context.Context, f filters, in string, limit int) (*query.Result, error) {
	sel := `SELECT stat_date, entity_id, risk_score, risk_level, alert_triggered,
		is_bot, is_anonymous, total_edits, domains, evidence
		FROM gold.risk_scores WHERE ` + f.where("stat_date", "") + ` AND risk_level IN (` + in + `)`
	rank := ` ORDER BY risk_score DESC, total_edits DESC, stat_date DESC, entity_id LIMIT ` + strconv.Itoa(limit)
	order, err := s.eng.FileOrder(ctx, lakehouse.Name(lakehouse.GoldRiskScores))
	if err != nil {
		return nil, err
	}
	if order != lakehouse.RiskScoresTable.FileOrder {
		return s.readAt(ctx, sel+rank, query.At{Since: f.from})
	}
	return s.readAt(ctx, `WITH feed AS MATERIALIZED (`+sel+`) SELECT * FROM feed`+rank,
		query.At{Since: f.from, Head: int64(limit), Order: order})
}

// riskLinks serves a risk row's evidence, stored as JSON text, as JSON,
// and moves to the row the wiki the entity edited most that day
// ("top_domain", for its Special:Contributions link) and its sample edits
// with their wiki, title and previous revision ("samples", for diff links;
// the largest removals first). Gold writes both into the evidence, so that
// the feed reads gold.risk_scores alone: reading them from silver made it
// too slow. Rows gold wrote before it did have top_domain null and no
// samples.
func riskLinks(row map[string]any) {
	row["top_domain"], row["samples"] = nil, []any{}
	text, ok := row["evidence"].(string)
	if !ok {
		return
	}
	var ev any
	if json.Unmarshal([]byte(text), &ev) != nil {
		return
	}
	row["evidence"] = ev
	m, ok := ev.(map[string]any)
	if !ok {
		return
	}
	if d, ok := m["top_domain"].(string); ok && d != "" {
		row["top_domain"] = d
	}
	if l, ok := m["samples"].([]any); ok {
		row["samples"] = l
	}
	// Served once, where the dashboard reads them.
	delete(m, "top_domain")
	delete(m, "samples")
}
