package gold_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// TestHourlyRollupsEqualSilver: gold.hourly_stats, gold.contributors_hourly
// and gold.pages_hourly, kept up to date incrementally over many silver commits
// with late events touching past hours (whose state the stage has dropped
// and reads back from the table) and a restart, equal the same aggregates
// computed from all of silver at once, row for row, with each hour's
// rows written in several records.
func TestHourlyRollupsEqualSilver(t *testing.T) {
	defer gold.SetKeepHours(1)()
	defer gold.SetChunkRows(7)() // an hour's rows in several records
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.OutOfOrder, cfg.Rate, cfg.Duplicates = 3000, 5, 0.3, 0.3, 0.05
	events, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := stagetest.New(t)
	g, err := gold.New(context.Background(), gold.DefaultConfig(), p.LH)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { g.Close() }()
	for i := 0; i < len(events); i += 600 {
		feed(t, p, events[i:min(i+600, len(events))])
		if i == 1200 {
			// A restart: a new stage starts with no state, from the
			// tables' checkpoints.
			g.Close()
			if g, err = gold.New(context.Background(), gold.DefaultConfig(), p.LH); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := g.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := g.CaughtUp(context.Background()); err != nil || !ok {
		t.Fatalf("CaughtUp = %t, %v after the last run; want true", ok, err)
	}
	if n := gold.RollupLoads(g); n < 4 {
		t.Errorf("the rollups read %d hours back from their tables; the late events must make them read several", n)
	}
	if n := gold.HourlyReadWhole(g); n < 4 {
		t.Errorf("gold.hourly_stats read %d hours whole from silver; the late events must make it read several", n)
	}
	edits := "FROM silver.cleaned_events WHERE is_valid AND event_type IN ('edit', 'new')"
	for _, c := range []struct{ name, got, want string }{
		{"gold.contributors_hourly",
			`SELECT stat_date, stat_hour, domain, region, user_normalized, is_bot, is_anonymous, edits, bytes_added,
				bytes_removed, new_pages, last_edit FROM gold.contributors_hourly ORDER BY ALL`,
			`SELECT event_date, event_hour, domain, any_value(region), user_normalized, is_bot, is_anonymous, count(*),
				sum(CASE WHEN length_delta > 0 THEN length_delta ELSE 0 END), sum(CASE WHEN length_delta < 0 THEN -length_delta ELSE 0 END),
				count(*) FILTER (WHERE event_type = 'new'), max(event_timestamp) ` + edits + ` AND user_normalized IS NOT NULL
				GROUP BY event_date, event_hour, domain, user_normalized, is_bot, is_anonymous ORDER BY ALL`},
		{"gold.hourly_stats",
			`SELECT * EXCLUDE (gold_processed_at, schema_version) FROM gold.hourly_stats ORDER BY ALL`,
			// Written apart from gold's aggregation: every valid event counts.
			`SELECT event_date, event_hour, domain, min(region), min(language), count(*), count(DISTINCT user_normalized),
				sum(CASE WHEN length_delta > 0 THEN length_delta ELSE 0 END), sum(CASE WHEN length_delta < 0 THEN -length_delta ELSE 0 END),
				round(count(*) FILTER (WHERE is_bot) * 100.0 / count(*), 2)::DOUBLE,
				count(*) FILTER (WHERE NOT is_bot AND NOT is_anonymous), count(*) FILTER (WHERE is_bot),
				count(*) FILTER (WHERE is_anonymous), count(*) FILTER (WHERE is_new_page), count(DISTINCT title)
				FROM silver.cleaned_events WHERE is_valid GROUP BY event_date, event_hour, domain ORDER BY ALL`},
		{"gold.pages_hourly",
			`SELECT stat_date, stat_hour, domain, region, title, is_bot, edits, editors, bytes_delta, new_page, last_edit,
				first_revision, first_parent, last_revision FROM gold.pages_hourly ORDER BY ALL`,
			// The parent of the hour's first revision, by a self-join
			// rather than arg_min_null as gold computes it.
			`WITH e AS (SELECT * ` + edits + ` AND title IS NOT NULL),
			agg AS (SELECT event_date, event_hour, domain, any_value(region) AS region, title, is_bot, count(*) AS n,
				list_sort(list(DISTINCT user_normalized) FILTER (WHERE user_normalized IS NOT NULL)) AS editors,
				sum(length_delta) AS delta, bool_or(event_type = 'new') AS created, max(event_timestamp) AS last_edit,
				min(revision_new) AS first_rev, max(revision_new) AS last_rev
				FROM e GROUP BY event_date, event_hour, domain, title, is_bot)
			SELECT agg.event_date, agg.event_hour, agg.domain, agg.region, agg.title, agg.is_bot, n, coalesce(agg.editors, []),
				delta, created, agg.last_edit, first_rev,
				(SELECT any_value(revision_old) FROM e WHERE e.event_date = agg.event_date AND e.event_hour = agg.event_hour
					AND e.domain = agg.domain AND e.title = agg.title AND e.is_bot = agg.is_bot AND e.revision_new = agg.first_rev),
				last_rev FROM agg ORDER BY ALL`},
	} {
		sameRows(t, p, c.name, c.got, c.want)
	}
	// The sample must exercise what the rollups keep apart.
	multi := p.Query(t, `SELECT count(*) FILTER (WHERE len(editors) > 1), count(*) FILTER (WHERE first_parent IS NULL),
		count(*) FILTER (WHERE edits > 1) FROM gold.pages_hourly`)[0]
	for i, what := range []string{"pages with several editors in an hour", "page creations", "pages edited more than once in an hour"} {
		if toInt64(multi[i]) == 0 {
			t.Errorf("no %s in the sample", what)
		}
	}
}

// TestDailyRollupsEqualSilver: gold.contributors_daily and gold.pages_daily
// hold, for every day that is over (the newest event an hour past its
// end), the same sums as silver's events of the day, and no other day.
// The events span three days and a tenth of them arrive at the end, late
// into days already written; a daily commit fails after its hourly commit
// (and the stage restarts, or carries on), which the next run must make
// good. Days are merged from the hourly files, which gold writes in the
// order of the keys' ids, or (should a file be in another order) summed in
// several parts each.
func TestDailyRollupsEqualSilver(t *testing.T) {
	for _, merge := range []bool{true, false} {
		t.Run(fmt.Sprintf("merge %t", merge), func(t *testing.T) { dailyRollupsEqualSilver(t, merge) })
	}
}

func dailyRollupsEqualSilver(t *testing.T, merge bool) {
	defer gold.SetDailyPartRows(150)()
	defer gold.SetDailyMerge(merge)()
	// An hour's rows in several records, which must reach its file in
	// order for the days to merge.
	chunk := 50
	if merge {
		chunk = 5
	}
	defer gold.SetChunkRows(chunk)()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Duplicates = 1500, 6, 0.05
	cfg.Rate = float64(cfg.Count) / (3 * 24 * 3600)
	events := generated(t, cfg)
	events = holdBackTenth(events, rand.New(rand.NewPCG(6, 1)))
	p := stagetest.New(t)
	g := newStage(t, p)
	injected := errors.New("injected daily commit failure")
	failures := 0
	var written, merged, parts int
	for i, batch := 0, 0; i < len(events); i, batch = i+125, batch+1 {
		feed(t, p, events[i:min(i+125, len(events))])
		if batch == 4 || batch == 11 {
			defer gold.FailDailyCommits(1, injected)()
		}
		_, err := g.RunOnce(context.Background())
		if errors.Is(err, injected) {
			failures++
			if batch == 11 { // a restart; otherwise the stage carries on
				d, m, n := gold.DailyWritten(g)
				written, merged, parts = written+d, merged+m, parts+n
				g.Close()
				g = newStage(t, p)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.RunUntilCaught(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, err := g.CaughtUp(context.Background()); err != nil || !ok {
		t.Fatalf("CaughtUp = %t, %v after the last run; want true", ok, err)
	}
	d, m, pp := gold.DailyWritten(g)
	written, merged, parts = written+d, merged+m, parts+pp
	if failures != 2 {
		t.Errorf("%d daily commits failed; the test injects 2", failures)
	}
	edits := "FROM silver.cleaned_events WHERE is_valid AND event_type IN ('edit', 'new')"
	over := p.Query(t, `SELECT strftime(max(event_timestamp) - INTERVAL 25 HOUR, '%Y-%m-%d') `+edits)[0][0]
	days := p.Query(t, `SELECT count(DISTINCT event_date) `+edits+` AND event_date <= '`+fmt.Sprint(over)+`'`)[0][0]
	if toInt64(days) < 2 {
		t.Fatalf("%v days are over; the events must span more", days)
	}
	// Late events rewrite days already written. Gold's hourly files are
	// in the order of the ids, so every day merges; else it sums in parts.
	if written <= 2*int(toInt64(days)) {
		t.Errorf("the daily rollups wrote %d days (%d days are over); want days written again", written, toInt64(days))
	}
	if merge && (merged != written || parts != 0) {
		t.Errorf("%d of %d days merged from the hourly files, %d parts summed; want every day merged", merged, written, parts)
	}
	if !merge && (merged != 0 || parts <= written) {
		t.Errorf("%d days merged, %d days summed in %d parts; want several parts a day", merged, written, parts)
	}
	for _, c := range []struct{ name, got, want string }{
		{"gold.contributors_daily",
			`SELECT stat_date, domain, region, user_normalized, user_id, is_bot, is_anonymous, edits, bytes_added,
				bytes_removed, new_pages, last_edit, day_start FROM gold.contributors_daily ORDER BY ALL`,
			`SELECT event_date, domain, any_value(region), user_normalized, any_value((('0x' || left(md5(user_normalized), 16))::UBIGINT >> 1)::BIGINT), is_bot, is_anonymous, count(*),
				sum(CASE WHEN length_delta > 0 THEN length_delta ELSE 0 END), sum(CASE WHEN length_delta < 0 THEN -length_delta ELSE 0 END),
				count(*) FILTER (WHERE event_type = 'new'), max(event_timestamp), event_date::TIMESTAMPTZ ` + edits + `
				AND user_normalized IS NOT NULL AND event_date <= '` + fmt.Sprint(over) + `'
				GROUP BY event_date, domain, user_normalized, is_bot, is_anonymous ORDER BY ALL`},
		{"gold.pages_daily",
			`SELECT stat_date, domain, region, title, is_bot, edits, editors, bytes_delta, new_page, last_edit,
				first_revision, first_parent, last_revision, day_start FROM gold.pages_daily ORDER BY ALL`,
			`WITH e AS (SELECT * ` + edits + ` AND title IS NOT NULL AND event_date <= '` + fmt.Sprint(over) + `'),
			agg AS (SELECT event_date, domain, any_value(region) AS region, title, is_bot, count(*) AS n,
				list_sort(list(DISTINCT user_normalized) FILTER (WHERE user_normalized IS NOT NULL)) AS editors,
				sum(length_delta) AS delta, bool_or(event_type = 'new') AS created, max(event_timestamp) AS last_edit,
				min(revision_new) AS first_rev, max(revision_new) AS last_rev
				FROM e GROUP BY event_date, domain, title, is_bot)
			SELECT agg.event_date, agg.domain, agg.region, agg.title, agg.is_bot, n, coalesce(agg.editors, []),
				delta, created, agg.last_edit, first_rev,
				(SELECT any_value(revision_old) FROM e WHERE e.event_date = agg.event_date
					AND e.domain = agg.domain AND e.title = agg.title AND e.is_bot = agg.is_bot AND e.revision_new = agg.first_rev),
				last_rev, agg.event_date::TIMESTAMPTZ FROM agg ORDER BY ALL`},
	} {
		sameRows(t, p, c.name, c.got, c.want)
	}
}

// TestDailyDaysPerRun: a run writes at most two days over to each daily
// rollup besides the pending ones, oldest first, so that a first run over
// weeks of hourly rollups does not hold gold up; it reports that it is not
// caught up until the last day is written.
func TestDailyDaysPerRun(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 800, 7
	cfg.Rate = float64(cfg.Count) / (5 * 24 * 3600)
	p := stagetest.New(t)
	feed(t, p, generated(t, cfg))
	g := newStage(t, p)
	var runs []int
	for {
		res, err := g.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, res.DailyDays)
		ok, err := g.CaughtUp(context.Background())
		if err != nil || ok != res.Caught {
			t.Fatalf("run %d: CaughtUp = %t, %v; the run says caught up %t", len(runs), ok, err, res.Caught)
		}
		if res.Caught || len(runs) > 10 {
			break
		}
	}
	over := p.Query(t, `SELECT count(DISTINCT stat_date) FROM gold.pages_daily`)[0][0]
	if toInt64(over) < 4 {
		t.Fatalf("%v days over; the events must span more", over)
	}
	// Two rollups, two days each per run, until every day is written.
	total := 0
	for _, n := range runs {
		total += n
	}
	if len(runs) < 2 || runs[0] != 4 || int64(total) != 2*toInt64(over) {
		t.Errorf("days written per run: %v; want 4 (two rollups, two days each) a run until the %v days are written", runs, over)
	}
	if got := p.Query(t, `SELECT count(DISTINCT stat_date) FROM gold.contributors_daily`)[0][0]; got != over {
		t.Errorf("gold.contributors_daily has %v days, gold.pages_daily %v", got, over)
	}
}

// TestDailyWaitsForBacklog: while silver has commits a run has not read
// (a replay's backlog), the days over wait, and the run says it is not
// caught up; the next run, with nothing left to read, writes them.
func TestDailyWaitsForBacklog(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 600, 8
	cfg.Rate = float64(cfg.Count) / (3 * 24 * 3600)
	events := generated(t, cfg)
	p := stagetest.New(t)
	feed(t, p, events[:500])
	g := newStage(t, p)
	// A silver commit during the run, before it would write the days.
	fed := false
	restore := gold.BeforeBacklogCheck(func() {
		if !fed {
			fed = true
			feed(t, p, events[500:])
		}
	})
	res, err := g.RunOnce(context.Background())
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if days, _, _ := gold.DailyWritten(g); !fed || days != 0 || res.DailyDays != 0 || res.Caught {
		t.Fatalf("with a silver commit unread, the run wrote %d days (fed %t) and says caught up %t; want none written, not caught up", days, fed, res.Caught)
	}
	if ok, err := g.CaughtUp(context.Background()); err != nil || ok {
		t.Fatalf("CaughtUp = %t, %v with days waiting; want false", ok, err)
	}
	if _, err := g.RunUntilCaught(context.Background()); err != nil {
		t.Fatal(err)
	}
	if days, _, _ := gold.DailyWritten(g); days < 4 {
		t.Errorf("the runs after the backlog wrote %d days of the two rollups; want both days over of each", days)
	}
}
