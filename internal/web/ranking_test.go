package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// TestRankingKeepsCollidingKeys: two pages (X and Y) share a key, and
// their rows inflate the lower bound the ranking skips pages by. Unless
// the ranking notices that the key holds two names, it skips every page
// (no row reaches the threshold the shared key sets) and the list is
// empty, with no collision for the server to rank by name on.
func TestRankingKeepsCollidingKeys(t *testing.T) {
	db := memDuckDB(t)
	hour := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := rankedSQL{
		table: `(SELECT *, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS hour_start FROM (VALUES ('d', 'X', 1::BIGINT, 6::BIGINT, false),
			('d', 'X', 1, 6, true), ('d', 'Y', 1, 6, false), ('d', 'Y', 1, 6, true), ('d', 'Z', 2, 11, false))
			AS v(domain, title, page_id, edits, is_bot))`,
		id: "page_id", name: "domain, title", limit: 1, rowsPerSpan: 2, span: span{f: filters{from: hour, to: hour}},
		cols:   "domain, title, edits",
		detail: `SELECT domain, title, sum(edits)::BIGINT AS edits FROM %s GROUP BY ALL`,
		rows:   `SELECT * FROM detail ORDER BY edits DESC, domain, title`,
	}
	list := func(byName bool) (title string, edits, collisions int64) {
		t.Helper()
		var domain string
		err := db.QueryRow(q.sql(byName, nil)).Scan(&domain, &title, &edits, &collisions)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("byName %t: %v", byName, err)
		}
		return title, edits, collisions
	}
	if title, _, c := list(false); c == 0 {
		t.Errorf("ranked by key: got %q and no collision, so the server would not rank by name", title)
	}
	if title, edits, _ := list(true); title != "X" || edits != 12 {
		t.Errorf("ranked by name: got %q with %d edits, want X with 12", title, edits)
	}
}

// dayAndHourList is a top list of one page over a whole day, 2026-01-01,
// whose pages A, B and C have 10, 9 and 5 edits, and the hour after it,
// whose rows are hours (VALUES rows of domain, title, page_id, edits).
func dayAndHourList(hours string) rankedSQL {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return rankedSQL{
		daily: `(SELECT *, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS day_start FROM (VALUES ('d', 'A', 1::BIGINT, 10::BIGINT),
			('d', 'B', 2::BIGINT, 9::BIGINT), ('d', 'C', 3::BIGINT, 5::BIGINT)) AS v(domain, title, page_id, edits))`,
		table: `(SELECT *, TIMESTAMPTZ '2026-01-02 00:00:00+00' AS hour_start FROM (VALUES ` + hours + `)
			AS v(domain, title, page_id, edits))`,
		id: "page_id", name: "domain, title", limit: 1,
		span:   span{f: filters{from: day, to: day.Add(24 * time.Hour)}, first: day, last: day},
		cols:   "domain, title, edits",
		detail: `SELECT domain, title, sum(edits)::BIGINT AS edits FROM %s GROUP BY ALL`,
		rows:   `SELECT * FROM detail ORDER BY edits DESC, domain, title`,
	}
}

// TestKeptRankingFindsEntitiesOutsideIt: a list over a whole day and the
// hour after it, ranked with a kept ranking of the day that holds pages A
// and B but not C (five edits that day: the bound). C's six edits in the
// hour make it the top page with 11, though the edits known of it (6) are
// below the cut (A's 10): it is a candidate by what it can have at most.
// With a bound at the cut the statement says the kept ranking cannot tell
// the list.
func TestKeptRankingFindsEntitiesOutsideIt(t *testing.T) {
	db := memDuckDB(t)
	q := dayAndHourList(`('d', 'C', 3::BIGINT, 6::BIGINT)`)
	list := func(top *closedTop) (title string, edits int64, inexact bool) {
		t.Helper()
		var domain string
		var collisions int64
		if err := db.QueryRow(q.sql(false, top)).Scan(&domain, &title, &edits, &inexact, &collisions); err != nil {
			t.Fatal(err)
		}
		return title, edits, inexact
	}
	if title, edits, inexact := list(&closedTop{keys: []int64{1, 2}, edits: []int64{10, 9}, bound: 5}); title != "C" || edits != 11 || inexact {
		t.Errorf("kept A and B, bound 5: got %q with %d edits (inexact %t), want C with 11", title, edits, inexact)
	}
	if _, _, inexact := list(&closedTop{keys: []int64{1}, edits: []int64{10}, bound: 9}); inexact {
		t.Errorf("kept A, bound 9 below the cut of 10: inexact")
	}
	if _, _, inexact := list(&closedTop{keys: []int64{2}, edits: []int64{9}, bound: 10}); !inexact {
		t.Errorf("kept B, bound 10 at the cut of 9 or more: not inexact")
	}
}

// TestKeptRankingSumsFewHours: with a kept ranking whose limit-th total
// (A's 100) is far above its bound (10), the hour after the day is summed
// for the kept pages and for those with a row that could lift them to the
// cut (openThreshold: 45 edits in the one row an hour gives a page
// without bots, counted twice). C, outside the kept ranking, has such a
// row and tops the list when A's hour is small; D has no such row and
// cannot make the list. The kept pages' hours are summed whatever their
// rows: B's 20 edits in the hour make it the top page.
func TestKeptRankingSumsFewHours(t *testing.T) {
	db := memDuckDB(t)
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	next := day.Add(24 * time.Hour)
	top := &closedTop{keys: []int64{1, 2}, edits: []int64{100, 90}, bound: 10}
	for _, c := range []struct {
		hourA, hourB int
		title        string
		edits        int64
	}{{7, 0, "A", 107}, {5, 0, "C", 106}, {7, 20, "B", 110}} {
		q := rankedSQL{
			daily: `(SELECT *, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS day_start FROM (VALUES ('d', 'A', 1::BIGINT, 100::BIGINT),
				('d', 'B', 2::BIGINT, 90::BIGINT), ('d', 'C', 3::BIGINT, 10::BIGINT), ('d', 'D', 4::BIGINT, 10::BIGINT))
				AS v(domain, title, page_id, edits))`,
			table: fmt.Sprintf(`(SELECT *, TIMESTAMPTZ '2026-01-02 00:00:00+00' AS hour_start FROM (VALUES ('d', 'A', 1::BIGINT, %d::BIGINT),
				('d', 'B', 2::BIGINT, %d::BIGINT), ('d', 'C', 3::BIGINT, 96::BIGINT), ('d', 'D', 4::BIGINT, 40::BIGINT))
				AS v(domain, title, page_id, edits))`, c.hourA, c.hourB),
			id: "page_id", name: "domain, title", limit: 1, rowsPerSpan: 1,
			span:   span{f: filters{from: day, to: next}, first: day, last: day},
			cols:   "domain, title, edits",
			detail: `SELECT domain, title, sum(edits)::BIGINT AS edits FROM %s GROUP BY ALL`,
			rows:   `SELECT * FROM detail ORDER BY edits DESC, domain, title`,
		}
		if got := q.openThreshold(top); got != 45 {
			t.Fatalf("threshold: got %d, want 45 = ceil((100 - 10) / 2)", got)
		}
		var domain, title string
		var edits, collisions int64
		var inexact bool
		if err := db.QueryRow(q.sql(false, top)).Scan(&domain, &title, &edits, &inexact, &collisions); err != nil {
			t.Fatal(err)
		}
		if title != c.title || edits != c.edits || inexact {
			t.Errorf("A's hour %d, B's %d: got %q with %d edits (inexact %t), want %q with %d", c.hourA, c.hourB, title, edits, inexact, c.title, c.edits)
		}
	}
}

// TestNewestDayKeptPerSnapshot: the top lists' newest whole day of the
// daily rollup (dailyDays) is asked once per snapshot of that rollup, and
// asked again when a day's rows are committed, so a list never reads its
// days by a stale answer. Engine.Snapshot, by which the kept rankings of
// whole days go, is the copy's snapshot, or without copies the catalog's.
func TestNewestDayKeptPerSnapshot(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := func(seed int64, from time.Time, days float64) [][]byte {
		return genEvents(t, seed, from, time.Duration(days*24*float64(time.Hour)), 2000)
	}
	p := stagetest.New(t)
	p.Bronze(t, batch(1, start, 2.5)) // the 1st, 2nd and half the 3rd
	p.Silver(t)
	p.Gold(t)
	eng, s, ts := servedGold(t, p)
	path := "/api/v1/top/pages?limit=10&from=2026-11-01T00:00:00Z&to=2026-11-04T23:00:00Z"
	list := func() []map[string]any {
		code, out := get(t, ts.URL+path)
		if code != 200 {
			t.Fatalf("%s: %d %v", path, code, out)
		}
		return rowsOf(t, out)
	}
	kept := func() map[newestDayKey]any {
		s.newestDays.mu.Lock()
		defer s.newestDays.mu.Unlock()
		return maps.Clone(s.newestDays.m)
	}

	first := list()
	snap, ok := eng.CopySnapshot("gold.pages_daily")
	if !ok {
		t.Fatal("gold.pages_daily has no in-memory copy")
	}
	if k := kept(); len(k) != 1 {
		t.Fatalf("kept %v after the first list, want one answer", k)
	}
	if got, ok, err := eng.Snapshot(ctx, "gold.pages_daily"); err != nil || !ok || got != snap {
		t.Fatalf("Snapshot of the copied gold.pages_daily: %d %t %v, want the copy's %d", got, ok, err, snap)
	}
	// Without in-memory copies the kept rankings of whole days go by the
	// catalog's snapshot, and the list is the same.
	files, err := query.Open(ctx, p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	tbl, err := p.LH.Load(ctx, lakehouse.GoldPagesDaily)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := files.Snapshot(ctx, "gold.pages_daily"); err != nil || !ok || got != tbl.CurrentSnapshot().SnapshotID {
		t.Fatalf("Snapshot of gold.pages_daily without a copy: %d %t %v, want %d", got, ok, err, tbl.CurrentSnapshot().SnapshotID)
	}
	if _, ok, err := files.Snapshot(ctx, "gold.no_such_table"); ok || err != nil {
		t.Fatalf("Snapshot of a table the engine does not have: %t %v", ok, err)
	}
	fromFiles, err := New(Config{Addr: "127.0.0.1:8080"}, files)
	if err != nil {
		t.Fatal(err)
	}
	fs := httptest.NewServer(fromFiles)
	defer fs.Close()
	if _, out := get(t, fs.URL+path); !reflect.DeepEqual(rowsOf(t, out), first) {
		t.Error("the list read from the files differs from the one read from the copies")
	}
	if told := fromFiles.closed.told.Load(); told != 1 {
		t.Errorf("%d lists read from the files were told by a kept ranking, want 1", told)
	}
	if again := list(); !reflect.DeepEqual(again, first) {
		t.Fatal("the same list twice differs")
	}
	if k := kept(); len(k) != 1 {
		t.Fatalf("kept %v after the same list again, want the one answer", k)
	}

	// The rest of the 3rd and the 4th: gold writes the 3rd's daily rows.
	p.Bronze(t, batch(2, start.Add(60*time.Hour), 1.4))
	p.Silver(t)
	p.Gold(t)
	if err := eng.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if now, _ := eng.CopySnapshot("gold.pages_daily"); now == snap {
		t.Fatal("gold did not commit gold.pages_daily again")
	}
	later := list()
	k := kept()
	if len(k) != 2 {
		t.Fatalf("kept %v after the daily rollup's commit, want an answer per snapshot", k)
	}
	var answers []any
	for _, v := range k {
		answers = append(answers, v)
	}
	if reflect.DeepEqual(answers[0], answers[1]) {
		t.Errorf("both snapshots' newest day is %v; the commit added a day", answers[0])
	}
	// A server without kept answers gives the same list.
	fresh, err := New(Config{Addr: "127.0.0.1:8080"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	fts := httptest.NewServer(fresh)
	defer fts.Close()
	_, out := get(t, fts.URL+path)
	if want := rowsOf(t, out); !reflect.DeepEqual(later, want) {
		t.Errorf("list after the commit differs from a fresh server's:\n got %v\nwant %v", later, want)
	}
}

// TestRangeRowsCountsTheRollups: the rows a top list's range reads, told
// from the in-memory copies' files without a query (rangeRows, which
// decides whether the ranking skips pages), equal the rows a query counts
// (the rollups' files each hold one hour or day), over a range of hours
// and over one with whole days from the daily rollup; a range older than
// a windowed copy has no answer.
func TestRangeRowsCountsTheRollups(t *testing.T) {
	ctx := context.Background()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Start = 3000, 5, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cfg.Rate = float64(cfg.Count) / (2.5 * 24 * 3600)
	p := goldPipeline(t, cfg)
	server := func(qc query.Config) *Server {
		eng, err := query.Open(ctx, p.LH, lakehouse.Tables(), qc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		if err := eng.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Addr: "127.0.0.1:8080"}, eng)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := server(QueryConfig())
	hours := filters{from: cfg.Start.Add(30 * time.Hour), to: cfg.Start.Add(53 * time.Hour)}
	days := filters{from: cfg.Start.Add(5 * time.Hour), to: cfg.Start.Add(58 * time.Hour)}
	for _, tc := range []struct {
		name  string
		f     filters
		daily bool
	}{{"24 hours", hours, false}, {"across days", days, true}} {
		q := trendingSQL(10, false)
		var err error
		if q.span, err = s.dailyDays(ctx, q.daily, tc.f); err != nil {
			t.Fatal(err)
		}
		if got := !q.span.first.IsZero(); got != tc.daily {
			t.Fatalf("%s: reads the daily rollup %t, want %t", tc.name, got, tc.daily)
		}
		res, err := s.eng.Query(ctx, "SELECT count(*) FROM "+q.base()+" AS b", query.At{})
		if err != nil {
			t.Fatal(err)
		}
		want := res.Rows[0][0].(int64)
		if n, ok := s.rangeRows(q); !ok || n != want || n == 0 {
			t.Errorf("%s: rangeRows %d, %t; want %d (counted), true", tc.name, n, ok, want)
		}
	}

	// The hourly rollup's copy windowed to its newest hours: the range
	// before them is read from the files, whose rows the copy cannot tell.
	tbl, err := p.LH.Load(ctx, lakehouse.GoldPagesHourly)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, task := range tasks {
		total += task.File.FileSizeBytes()
	}
	windowed := QueryConfig()
	windowed.ResidentMaxBytes = total - 1
	windowed.ResidentWindowSpan = 6 * time.Hour
	w := server(windowed)
	last := cfg.Start.Add(59 * time.Hour)
	for _, tc := range []struct {
		f  filters
		ok bool
	}{{filters{from: last.Add(-2 * time.Hour), to: last}, true}, {hours, false}} {
		q := trendingSQL(10, false)
		q.span = span{f: tc.f}
		if n, ok := w.rangeRows(q); ok != tc.ok || ok && n == 0 {
			t.Errorf("windowed copy, %s to %s: rangeRows %d, %t; want an answer %t", tc.f.from, tc.f.to, n, ok, tc.ok)
		}
	}
}

// TestExtentKeptPerSnapshot: the live poller reads gold's extent for each
// commit before it tells the dashboard, the summary serves the answer
// kept for the in-memory copy's snapshot, and after gold commits a later
// hour the summary's extent is the new one, never the kept older one.
func TestExtentKeptPerSnapshot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 600, 9
	cfg.Rate = float64(cfg.Count) / (5 * 3600) // five hours
	p, events, batch := goldBatches(t, cfg)
	batch(events[:300])
	eng, err := query.Open(ctx, p.LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s, err := New(Config{Addr: "127.0.0.1:8080", Lakehouse: p.LH, LivePoll: 20 * time.Millisecond}, eng)
	if err != nil {
		t.Fatal(err)
	}
	go s.RunLive(ctx)
	ts := httptest.NewServer(s)
	defer ts.Close()

	// want is the extent by SQL; kept waits for the poller to keep it for
	// the copy's current snapshot, with no request made.
	want := func() extent {
		rows := p.Query(t, `SELECT strftime(min(h), '%Y-%m-%dT%H:00:00Z'), strftime(max(h), '%Y-%m-%dT%H:00:00Z')
			FROM (SELECT stat_date::DATE + INTERVAL (stat_hour) HOUR AS h FROM gold.hourly_stats)`)
		return extent{first: rows[0][0].(string), last: rows[0][1].(string), ok: true}
	}
	kept := func() extent {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			snap, ok := eng.CopySnapshot("gold.hourly_stats")
			s.extent.mu.Lock()
			k, v := s.extent.snapshot, s.extent.extent
			s.extent.mu.Unlock()
			if ok && k == snap {
				return v
			}
		}
		t.Fatal("the live poller kept no extent for the copy's snapshot within 30 s")
		return extent{}
	}
	served := func() extent {
		t.Helper()
		code, out := get(t, ts.URL+"/api/v1/stats/summary")
		ext, _ := out["extent"].(map[string]any)
		if code != 200 || ext == nil {
			t.Fatalf("summary: %d %v", code, out)
		}
		first, _ := ext["first_hour"].(string)
		last, _ := ext["last_hour"].(string)
		return extent{first: first, last: last, ok: first != "" && last != ""}
	}

	first := want()
	if k := kept(); k != first {
		t.Fatalf("kept extent %+v, want %+v", k, first)
	}
	if got := served(); got != first {
		t.Fatalf("summary's extent %+v, want %+v", got, first)
	}
	batch(events[300:])
	second := want()
	if second.last == first.last {
		t.Fatalf("the second batch did not reach a later hour than %s", first.last)
	}
	if err := eng.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := served(); got != second {
		t.Fatalf("summary's extent after gold's commit %+v, want %+v", got, second)
	}
	if k := kept(); k != second {
		t.Fatalf("kept extent after gold's commit %+v, want %+v", k, second)
	}
}

// TestPagePartsSumLikeDetail: the trending pages' rows summed from parts
// (keptpages.go: pagePartsSQL over each part, added up in Go) equal the
// list's detail SQL over all the rows, however the rows are split between
// the days and the hours: editors counted once over both, the oldest first
// revision's parent (null for a creation), the newest revision, ties in
// edits ordered by editors, then domain and title. Two pages sharing a
// key make the sum refuse.
func TestPagePartsSumLikeDetail(t *testing.T) {
	rows := []string{ // domain, title, page_id, edits, editors, bytes_delta, new_page, last_edit (hour), last_revision, first_parent, first_revision
		`('d', 'A', 1, 3, ['u1', 'u2'], 10, false, 1, 105, 99, 100)`,
		`('d', 'A', 1, 2, ['u2', 'u3'], -4, true, 5, 110, NULL, 90)`,
		`('d', 'A', 1, 1, ['u1'], 7, false, 3, 107, 106, 107)`,
		`('d', 'B', 2, 4, ['u4'], 1, false, 2, 201, 200, 201)`,
		`('d', 'B', 2, 2, ['u5', 'u6', 'u7'], 2, false, 4, 203, 202, 203)`,
		`('e', 'B', 3, 6, ['u1'], -1, false, 6, 301, 300, 301)`,
		`('d', 'C', 4, 6, ['u8'], 0, false, 7, 401, 400, 401)`,
		`('d', 'D', 5, 1, [], 0, false, 8, NULL, NULL, NULL)`,
	}
	relation := func(rows []string) string {
		return `(SELECT domain, title, page_id::BIGINT AS rank_id, edits::BIGINT AS edits, editors::VARCHAR[] AS editors,
			bytes_delta::BIGINT AS bytes_delta, new_page, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_hours(h) AS last_edit,
			last_revision::BIGINT AS last_revision, first_parent::BIGINT AS first_parent, first_revision::BIGINT AS first_revision
			FROM (VALUES ` + strings.Join(rows, ", ") + `) AS v(domain, title, page_id, edits, editors, bytes_delta, new_page, h,
				last_revision, first_parent, first_revision))`
	}
	partsSumLikeDetail(t, pageParts.(partsOf[pagePart]), trendingSQL(10, false), relation, rows, 5,
		`('d', 'Z', 1, 1, ['u9'], 0, false, 1, 9, 8, 9)`)
}

// TestContributorPartsSumLikeDetail: the same for the top contributors:
// an editor's wikis counted once over the days and the hours, the wiki of
// most edits (the first by name of those tied) as the top one, bot and
// anonymous flags of any row, ties in edits ordered by name.
func TestContributorPartsSumLikeDetail(t *testing.T) {
	rows := []string{ // user_normalized, domain, user_id, edits, is_bot, is_anonymous, bytes_added, bytes_removed, new_pages, last_edit (hour)
		`('Ann', 'd', 1, 3, false, false, 10, 1, 0, 1)`,
		`('Ann', 'e', 1, 4, false, false, 5, 0, 1, 5)`, // as many as on d: d is the top wiki
		`('Ann', 'd', 1, 1, true, false, 0, 4, 0, 3)`,
		`('Bob', 'e', 2, 4, false, false, 1, 1, 0, 2)`,
		`('Bob', 'f', 2, 3, false, true, 2, 0, 2, 4)`,
		`('Bob', 'f', 2, 1, false, false, 0, 0, 0, 9)`,
		`('Cy', 'd', 3, 7, false, false, 0, 9, 0, 6)`,
		`('Dee', 'e', 4, 7, true, false, 3, 0, 0, 7)`,
		`('Eve', 'f', 5, 1, false, true, 0, 0, 0, 8)`,
	}
	relation := func(rows []string) string {
		return `(SELECT user_normalized, domain, user_id::BIGINT AS rank_id, edits::BIGINT AS edits, is_bot, is_anonymous,
			bytes_added::BIGINT AS bytes_added, bytes_removed::BIGINT AS bytes_removed, new_pages::BIGINT AS new_pages,
			TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_hours(h) AS last_edit
			FROM (VALUES ` + strings.Join(rows, ", ") + `) AS v(user_normalized, domain, user_id, edits, is_bot, is_anonymous,
				bytes_added, bytes_removed, new_pages, h))`
	}
	partsSumLikeDetail(t, contributorParts.(partsOf[contributorPart]), contributorsSQL(10, ""), relation, rows, 5,
		`('Zed', 'd', 1, 1, false, false, 0, 0, 0, 1)`)
}

// partsSumLikeDetail checks that the list q's rows summed from parts of
// rows, split between the days and the hours in every way, equal q's
// detail SQL over all of them (want rows), and that a row of another
// entity with a key of rows (collide) makes the sum refuse. relation
// turns rows (VALUES tuples) into the rollup's relation.
func partsSumLikeDetail[P any](t *testing.T, ps partsOf[P], q rankedSQL, relation func([]string) string, rows []string, want int, collide string) {
	t.Helper()
	db := memDuckDB(t)
	query := func(q string) [][]any {
		t.Helper()
		r, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cols, _ := r.Columns()
		var out [][]any
		for r.Next() {
			row := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range row {
				ptrs[i] = &row[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, row)
		}
		return out
	}
	read := func(rows []string) []P {
		t.Helper()
		if len(rows) == 0 {
			return nil
		}
		parts, err := ps.read(query(ps.sql(relation(rows))), nil)
		if err != nil {
			t.Fatal(err)
		}
		return parts
	}
	all := query(`WITH detail AS (` + fmt.Sprintf(q.detail, relation(rows)) + `) ` + q.rows)
	if len(all) != want {
		t.Fatalf("the detail SQL gave %d rows, want %d", len(all), want)
	}
	for split := range 1 << len(rows) { // each row to the days (bit set) or the hours
		var days, hours []string
		for i, r := range rows {
			if split&(1<<i) != 0 {
				days = append(days, r)
			} else {
				hours = append(hours, r)
			}
		}
		got, ok := ps.sum(append(read(days), read(hours)...), 10)
		if !ok {
			t.Fatalf("split %b: the sum refused", split)
		}
		if !reflect.DeepEqual(got.Rows, all) {
			t.Fatalf("split %b: got\n%v\nwant\n%v", split, got.Rows, all)
		}
	}
	if _, ok := ps.sum(read(append(slices.Clone(rows), collide)), 10); ok {
		t.Error("two entities sharing a key: the sum did not refuse")
	}
}

// memDuckDB opens an in-memory DuckDB database for the test, closed at
// its end.
func memDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPartsSince: a statement over a span's parts can promise the first of
// them as query.At.Since: the hours before the days, the days, the hours
// after them; and, for the open hours alone, the hour after the days.
func TestPartsSince(t *testing.T) {
	from := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first, last := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	q := rankedSQL{table: "h", daily: "d", span: span{f: filters{from: from, to: to}, first: first, last: last}}
	all := func(spanPart) bool { return true }
	open := func(p spanPart) bool { return !p.closed }
	closed := func(p spanPart) bool { return p.closed }
	daily := func(p spanPart) bool { return p.daily }
	for _, c := range []struct {
		name string
		keep func(spanPart) bool
		want time.Time
	}{
		{"all", all, from}, {"closed", closed, from}, {"open", open, last.Add(24 * time.Hour)}, {"daily", daily, first},
	} {
		if got := q.since(c.keep); !got.Equal(c.want) {
			t.Errorf("%s parts: since %v, want %v", c.name, got, c.want)
		}
	}
	// Whole days to the end: no open part.
	q.span.f.to = last.Add(23 * time.Hour)
	if got := q.since(open); !got.IsZero() {
		t.Errorf("no open hours: since %v, want none", got)
	}
	// No daily part: the hours alone, all open.
	q.span = span{f: filters{from: from, to: to}}
	if got := q.since(open); !got.Equal(from) {
		t.Errorf("hours only: since %v, want %v", got, from)
	}
}

// TestKeptRankingSumsKeptEntitiesHours: an entity outside the kept ranking
// needs the limit-th kept total less the bound in the hours to make the
// list, and the others' hours are left out of the ranking; a kept entity's
// hours count however few. B, kept with 9 edits over the day, tops the
// list with 2 more in the hour, below what one outside it would need (5);
// D, outside it, has 4 in the hour and cannot make it.
func TestKeptRankingSumsKeptEntitiesHours(t *testing.T) {
	db := memDuckDB(t)
	q := dayAndHourList(`('d', 'B', 2::BIGINT, 2::BIGINT), ('d', 'D', 4::BIGINT, 4::BIGINT)`)
	top := &closedTop{keys: []int64{1, 2}, edits: []int64{10, 9}, bound: 5}
	if need := q.openNeed(top); need != 5 {
		t.Fatalf("need %d edits in the hours, want 5 (10 less the bound)", need)
	}
	var domain, title string
	var edits, collisions int64
	var inexact bool
	if err := db.QueryRow(q.sql(false, top)).Scan(&domain, &title, &edits, &inexact, &collisions); err != nil {
		t.Fatal(err)
	}
	if title != "B" || edits != 11 || inexact {
		t.Errorf("got %q with %d edits (inexact %t), want B with 11", title, edits, inexact)
	}
}

// TestClosedTopBoundsPrunedKeys: a kept ranking of two days, pruned
// (closedTopSQL): the second largest sum of rows with 4 or more edits is
// B's 18, and a page has at most 2 rows in two days, counted twice for a
// shared key, so only the pages with a row of ceil(18 / 4) = 5 edits are
// summed. C's two rows of 4 are left out, and its 8 edits exceed E's 5,
// the largest total summed after the kept two: the bound must cover C by
// its rows (4 below the threshold, 4 of them), or a list would take the
// kept ranking as exact where C could make it. Kept rankings of three
// keys, or of a list without a bound on its rows, sum every page and
// bound the others by the next total.
func TestClosedTopBoundsPrunedKeys(t *testing.T) {
	db := memDuckDB(t)
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := rankedSQL{
		daily: `(SELECT * FROM (VALUES ('d', 'A', 1::BIGINT, 10::BIGINT, 0), ('d', 'A', 1::BIGINT, 10::BIGINT, 1),
			('d', 'B', 2::BIGINT, 9::BIGINT, 0), ('d', 'B', 2::BIGINT, 9::BIGINT, 1), ('d', 'C', 3::BIGINT, 4::BIGINT, 0),
			('d', 'C', 3::BIGINT, 4::BIGINT, 1), ('d', 'E', 5::BIGINT, 5::BIGINT, 1)) AS v(domain, title, page_id, edits, d)
			CROSS JOIN LATERAL (SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + d * INTERVAL 1 DAY AS day_start))`,
		table: "unused", id: "page_id", name: "domain, title", limit: 1, rowsPerSpan: 1,
		span: span{f: filters{from: day, to: day.Add(47 * time.Hour)}, first: day, last: day.Add(24 * time.Hour)},
		cols: "domain, title, edits",
	}
	ranking := func(q rankedSQL, keep int) (*closedTop, int64) {
		t.Helper()
		rows, err := db.Query(q.closedTopSQL(keep))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var all [][]any
		var threshold int64
		for rows.Next() {
			var k, e, th int64
			if err := rows.Scan(&k, &e, &th); err != nil {
				t.Fatal(err)
			}
			all, threshold = append(all, []any{k, e, th}), th
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		top, err := q.readClosedTop(all, keep)
		if err != nil {
			t.Fatal(err)
		}
		return top, threshold
	}
	// A ranking whose bound is at least half its first total (the list's
	// limit is 1) is flat, and keeps a tier of keys after its first ones:
	// their edits, and a floor on every other key's.
	defer func(n int) { maxTierKeys = n }(maxTierKeys)
	for _, c := range []struct {
		name        string
		rowsPerSpan int
		keep, tier  int
		threshold   int64
		keys        []int64
		edits       []int64
		bound       int64
		byKey       []int64 // keys and edits
		floor       int64
	}{
		{"pruned", 1, 2, 16384, 5, []int64{1, 2}, []int64{20, 18}, 16, []int64{1, 20, 2, 18, 5, 5}, 16},
		{"three keys", 1, 3, 16384, 2, []int64{1, 2, 3}, []int64{20, 18, 8}, 5, []int64{1, 20, 2, 18, 3, 8}, 5},
		{"rows unbounded", 0, 2, 16384, 1, []int64{1, 2}, []int64{20, 18}, 8, []int64{1, 20, 2, 18}, 8},
		{"flat, every key in the tier", 0, 1, 16384, 1, []int64{1}, []int64{20}, 18, []int64{1, 20, 2, 18, 3, 8, 5, 5}, 0},
		{"flat, tier of one", 0, 1, 1, 1, []int64{1}, []int64{20}, 18, []int64{1, 20, 2, 18}, 8},
		{"no tier", 0, 1, 0, 1, []int64{1}, []int64{20}, 18, []int64{1, 20}, 18},
	} {
		q.rowsPerSpan, maxTierKeys = c.rowsPerSpan, c.tier
		top, threshold := ranking(q, c.keep)
		var byKey []int64
		for i, k := range top.byKey {
			byKey = append(byKey, k, top.byKeyEdits[i])
		}
		if threshold != c.threshold || !slices.Equal(top.keys, c.keys) || !slices.Equal(top.edits, c.edits) || top.bound != c.bound ||
			!slices.Equal(byKey, c.byKey) || top.floor != c.floor {
			t.Errorf("%s: got threshold %d, keys %v with %v, bound %d, by key %v, floor %d; want %d, %v with %v, bound %d, by key %v, floor %d", c.name,
				threshold, top.keys, top.edits, top.bound, byKey, top.floor, c.threshold, c.keys, c.edits, c.bound, c.byKey, c.floor)
		}
	}
}

// TestNarrowByTierAndParts: a list of 2 over a kept ranking that knows
// A's 10 and B's 9 edits over the days, E's 8 from parts a request read
// before, and at most 3 for any other key. The totals it knows (E's 9
// with its hour) put the cut at 9 at least: C, with 6 edits in the hours,
// could reach it by the floor and stays; D, with 4, cannot. Left out by a
// floor of 0, C would be lost; with E's parts not counted, E would.
func TestNarrowByTierAndParts(t *testing.T) {
	top := &closedTop{byKey: []int64{1, 2}, byKeyEdits: []int64{10, 9}, floor: 3}
	kept := map[int64][]contributorPart{5: {{key: 5, edits: 5}, {key: 5, edits: 3}}}
	rows := [][]any{{int64(1), int64(0)}, {int64(2), int64(0)}, {int64(3), int64(6)}, {int64(4), int64(4)}, {int64(5), int64(1)}}
	ps := contributorParts.(partsOf[contributorPart])
	keys, err := ps.narrow(top, kept, rows, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []int64{1, 2, 3, 5}) {
		t.Errorf("got candidates %v, want A, B, C and E (1, 2, 3, 5)", keys)
	}
	if _, err := ps.narrow(top, kept, [][]any{{int64(1), "x"}}, 2); err == nil {
		t.Error("a candidate's edits of another type: no error")
	}
}

// TestRollingRankingsReadAhead: a top list asked for over a range ending
// at gold's newest hour has its kept ranking built ahead for the same
// range moved to the newest hour, once gold commits a later hour, so that
// the next request finds it; a list over another range is not read ahead.
// The list so answered equals a fresh server's.
func TestRollingRankingsReadAhead(t *testing.T) {
	ctx := context.Background()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 6000, 31
	cfg.Rate = float64(cfg.Count) / (60 * 3600) // 60 hours: whole days and hours around them
	p, events, batch := goldBatches(t, cfg)
	split := len(events) - int(3*3600*cfg.Rate) // the last three hours come later
	batch(events[:split])
	serve := func() (*Server, *httptest.Server) { return pipelineServer(t, p) }
	s, ts := serve()
	ranged := func(to time.Time, hours time.Duration) string {
		return "/api/v1/top/pages?limit=10&exclude_bots=true&from=" + to.Add(-hours*time.Hour).Format(time.RFC3339) + "&to=" + to.Format(time.RFC3339)
	}
	rolling := func(to time.Time) string { return ranged(to, 47) }
	newest, ok := s.newestHour(ctx)
	if !ok {
		t.Fatal("gold has no newest hour")
	}
	for _, path := range []string{rolling(newest), ranged(newest.Add(-5*time.Hour), 44)} {
		if code, out := get(t, ts.URL+path); code != 200 || len(rowsOf(t, out)) == 0 {
			t.Fatalf("%s: %d %v", path, code, out)
		}
	}
	if built := s.closed.built.Load(); built != 2 {
		t.Fatalf("%d kept rankings built for two ranges with whole days, want 2", built)
	}

	batch(events[split:])
	if err := s.eng.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	later, _ := s.newestHour(ctx)
	if !later.After(newest) {
		t.Fatalf("the newest hour is %v after the later events, was %v", later, newest)
	}
	if err := s.readAhead(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.warm.built.Load(); n != 1 {
		t.Fatalf("%d kept rankings built ahead, want 1: the range that ended at the newest hour", n)
	}
	built := s.closed.built.Load()
	code, out := get(t, ts.URL+rolling(later))
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	if n := s.closed.built.Load() - built; n != 0 {
		t.Errorf("the moved range's request built %d kept rankings, want 0: it was read ahead", n)
	}
	_, fresh := serve()
	_, want := get(t, fresh.URL+rolling(later))
	if g, w := fmt.Sprint(rowsOf(t, out)), fmt.Sprint(rowsOf(t, want)); g != w || len(rowsOf(t, want)) == 0 {
		t.Errorf("the list read ahead:\n%s\nwant a fresh server's\n%s", g, w)
	}
	// Read ahead again with nothing new: nothing built.
	if err := s.readAhead(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.warm.built.Load(); n != 1 {
		t.Errorf("%d kept rankings built ahead after a second read with no commit, want still 1", n)
	}

	// A server reads the dashboard's lists over 7 and 30 days ahead as it
	// starts, those its switches show too: its first request for one
	// builds nothing.
	first, fts := serve()
	first.warmDashboard(ctx)
	first.warm.reading.Lock() // until the lists are read
	first.warm.reading.Unlock()
	if n := first.warm.built.Load(); n != 12 {
		t.Fatalf("%d kept rankings built ahead at start, want 12: pages with and without bots and contributors of each kind, over 7 and 30 days", n)
	}
	month := "&from=" + later.Add(-719*time.Hour).Format(time.RFC3339) + "&to=" + later.Format(time.RFC3339)
	week := "&from=" + later.Add(-167*time.Hour).Format(time.RFC3339) + "&to=" + later.Format(time.RFC3339)
	var paths []string
	for _, r := range []string{month, week} {
		paths = append(paths, "/api/v1/top/pages?limit=15&exclude_bots=true"+r, "/api/v1/top/pages?limit=15&exclude_bots=false"+r)
		for kind := range contributorKinds {
			paths = append(paths, "/api/v1/top/contributors?limit=15&kind="+kind+r)
		}
	}
	for _, path := range paths {
		built := first.closed.built.Load()
		code, out := get(t, fts.URL+path)
		_, want := get(t, fresh.URL+path)
		if code != 200 || fmt.Sprint(rowsOf(t, out)) != fmt.Sprint(rowsOf(t, want)) || len(rowsOf(t, want)) == 0 {
			t.Errorf("%s: %d %v, want a fresh server's %v", path, code, rowsOf(t, out), rowsOf(t, want))
		}
		if n := first.closed.built.Load() - built; n != 0 {
			t.Errorf("%s built %d kept rankings, want 0: it was read ahead at start", path, n)
		}
	}
}

// pipelineServer serves p's tables, their copies made.
func pipelineServer(t *testing.T, p *stagetest.Pipeline) (*Server, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	eng, err := query.Open(ctx, p.LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := eng.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Addr: "127.0.0.1:8080", Lakehouse: p.LH}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// TestSettledHoursSeeLateEvents: late events into an hour a kept ranking
// holds as settled (span.settledTo) rewrite its files, and the next
// request reads the ranking again: the list equals a fresh server's, with
// the page the late events made the most edited first.
func TestSettledHoursSeeLateEvents(t *testing.T) {
	ctx := context.Background()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 3000, 41
	cfg.Rate = float64(cfg.Count) / (20 * 3600) // 20 hours
	p, events, batch := goldBatches(t, cfg)
	batch(events)
	s, ts := pipelineServer(t, p)
	newest, ok := s.newestHour(ctx)
	if !ok {
		t.Fatal("gold has no newest hour")
	}
	path := "/api/v1/top/pages?limit=10&exclude_bots=false&from=" + newest.Add(-12*time.Hour).Format(time.RFC3339) +
		"&to=" + newest.Format(time.RFC3339)
	if code, out := get(t, ts.URL+path); code != 200 || len(rowsOf(t, out)) == 0 {
		t.Fatalf("%d %v", code, out)
	}
	if n := s.closed.settled.Load(); n != 1 {
		t.Fatalf("%d kept rankings held settled hours, want 1", n)
	}

	// 30 edits of a new page, six hours before the newest: settled.
	var model map[string]any
	for _, line := range events {
		var ev map[string]any
		if json.Unmarshal(line, &ev) == nil && ev["type"] == "edit" && ev["bot"] == false &&
			strings.HasSuffix(ev["meta"].(map[string]any)["domain"].(string), ".wikipedia.org") {
			model = ev
			break
		}
	}
	if model == nil {
		t.Fatal("no human edit of a Wikipedia to copy")
	}
	const title = "Late edits into a settled hour"
	at := newest.Add(-6 * time.Hour)
	var late [][]byte
	for i := range 30 {
		model["id"], model["title"], model["user"] = 9_000_000_000+i, title, fmt.Sprintf("Late editor %d", i)
		model["timestamp"] = at.Add(time.Duration(i) * time.Second).Unix()
		model["meta"].(map[string]any)["dt"] = at.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		line, err := json.Marshal(model)
		if err != nil {
			t.Fatal(err)
		}
		late = append(late, line)
	}
	batch(late)
	if err := s.eng.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if later, _ := s.newestHour(ctx); !later.Equal(newest) {
		t.Fatalf("the late events moved the newest hour to %v from %v", later, newest)
	}
	code, out := get(t, ts.URL+path)
	rows := rowsOf(t, out)
	if code != 200 || len(rows) == 0 || rows[0]["title"] != title {
		t.Fatalf("after 30 late edits of %q: %d %v, want it first", title, code, rows)
	}
	if n := s.closed.settled.Load(); n != 2 {
		t.Errorf("%d kept rankings held settled hours, want 2: the late events' hour was read again", n)
	}
	_, fresh := pipelineServer(t, p)
	if _, want := get(t, fresh.URL+path); fmt.Sprint(rows) != fmt.Sprint(rowsOf(t, want)) {
		t.Errorf("after the late events:\n%v\nwant a fresh server's\n%v", rows, rowsOf(t, want))
	}
}

// TestSpanPartsClosedHours: a span without whole days whose first day is
// over (closedTo) has that day's hours as a closed part of the hourly
// rollup, and the other hours as the open part; without closedTo the
// range is one open part.
func TestSpanPartsClosedHours(t *testing.T) {
	from := time.Date(2026, 10, 29, 15, 0, 0, 0, time.UTC)
	to := from.Add(23 * time.Hour)
	q := rankedSQL{table: "h", daily: "d", span: span{f: filters{from: from, to: to}, closedTo: from.Add(8 * time.Hour)}}
	want := []spanPart{{table: "h", from: from, to: from.Add(8 * time.Hour), closed: true}, {table: "h", from: from.Add(9 * time.Hour), to: to}}
	if got := q.parts(); !slices.Equal(got, want) {
		t.Errorf("with the 29th over: got %+v, want %+v", got, want)
	}
	if rows := q.closedRows(); rows != 0 {
		t.Errorf("closed rows without a bound on rows: got %d, want 0", rows)
	}
	q.rowsPerSpan = 1
	if rows := q.closedRows(); rows != 2*9 {
		t.Errorf("closed rows of 9 hours, counted twice: got %d, want 18", rows)
	}
	q.span.closedTo = time.Time{}
	if got := q.parts(); !slices.Equal(got, []spanPart{{table: "h", from: from, to: to}}) {
		t.Errorf("without closedTo: got %+v, want one open part", got)
	}
}

// TestClosedHoursKeptUntilALateEvent: a range without whole days whose
// first day is over (the 1st's second half and the 2nd's first hours)
// keeps the 1st's hours with a ranking; late events into the 1st change
// its hours and daily rows, and the list then equals a fresh server's,
// not the kept one.
func TestClosedHoursKeptUntilALateEvent(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := stagetest.New(t)
	p.Bronze(t, genEvents(t, 1, start, 36*time.Hour, 3000)) // the 1st and half the 2nd
	p.Silver(t)
	p.Gold(t)
	eng, s, ts := servedGold(t, p)
	path := "/api/v1/top/pages?limit=10&from=2026-11-01T12:00:00Z&to=2026-11-02T06:00:00Z"
	list := func(base string) []map[string]any {
		t.Helper()
		code, out := get(t, base+path)
		if code != 200 || len(rowsOf(t, out)) == 0 {
			t.Fatalf("%s: %d %v", path, code, out)
		}
		return rowsOf(t, out)
	}
	first := list(ts.URL)
	if n := s.closed.closedHours.Load(); n != 1 {
		t.Fatalf("%d lists kept the 1st's hours with a ranking, want 1", n)
	}
	built := s.closed.built.Load()
	if again := list(ts.URL); !reflect.DeepEqual(again, first) || s.closed.built.Load() != built {
		t.Fatalf("the same list again: built %d more rankings, same %t; want none and the same", s.closed.built.Load()-built, reflect.DeepEqual(again, first))
	}

	// Late events into the 1st's afternoon: gold rewrites those hours
	// and the 1st's daily rows.
	p.Bronze(t, genEvents(t, 2, start.Add(15*time.Hour), time.Hour, 1500))
	p.Silver(t)
	p.Gold(t)
	if err := eng.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	later := list(ts.URL)
	if s.closed.built.Load() == built {
		t.Error("the late events did not lead to a new kept ranking")
	}
	fresh, err := New(Config{Addr: "127.0.0.1:8080"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	fts := httptest.NewServer(fresh)
	defer fts.Close()
	if want := list(fts.URL); !reflect.DeepEqual(later, want) {
		t.Errorf("the list after late events differs from a fresh server's:\n got %v\nwant %v", later, want)
	}
	if reflect.DeepEqual(later, first) {
		t.Error("1,500 late events left the list as it was; the test shows nothing")
	}
}

// genEvents generates count events from start, spread over span.
func genEvents(t *testing.T, seed int64, start time.Time, span time.Duration, count int) [][]byte {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Start = count, seed, start
	cfg.Rate = float64(count) / span.Seconds()
	events, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// servedGold serves p's tables: an engine with the server's configuration,
// refreshed, a server over it, and an HTTP server of that.
func servedGold(t *testing.T, p *stagetest.Pipeline) (*query.Engine, *Server, *httptest.Server) {
	t.Helper()
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := eng.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Addr: "127.0.0.1:8080"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return eng, s, ts
}

// TestLearnWithinBudgets: a kept ranking learns the parts of unkept keys
// while their editors' hashes fit its quarter of maxKeptHashes and what
// the kept rankings hold together, which then counts them.
func TestLearnWithinBudgets(t *testing.T) {
	defer func(n int) { maxKeptHashes = n }(maxKeptHashes)
	maxKeptHashes = 400
	ps := pageParts.(partsOf[pagePart])
	part := func(k int64, hashes int) []pagePart { return []pagePart{{key: k, editors: make([]uint64, hashes)}} }
	learned := func(top *closedTop, k int64) bool {
		_, ok := top.keptParts().(map[int64][]pagePart)[k]
		return ok
	}
	s := &Server{}
	top := &closedTop{parts: map[int64][]pagePart{}, kept: true}
	ps.learn(s, top, []int64{1}, part(1, 60)) // many more than maxKeptHashes/256
	if !learned(top, 1) || s.closed.hashes != 60 {
		t.Errorf("60 hashes within a quarter of 400: learned %v, the rankings hold %d; want learned, 60", learned(top, 1), s.closed.hashes)
	}
	ps.learn(s, top, []int64{2}, part(2, 50))
	if learned(top, 2) || s.closed.hashes != 60 {
		t.Errorf("50 more, past the ranking's quarter: learned %v, the rankings hold %d; want not, 60", learned(top, 2), s.closed.hashes)
	}
	s.closed.hashes = 380 // other kept rankings' parts
	other := &closedTop{parts: map[int64][]pagePart{}, kept: true}
	if ps.learn(s, other, []int64{3}, part(3, 30)); learned(other, 3) {
		t.Error("30 hashes past what the rankings may hold together: learned")
	}
	if ps.learn(s, other, []int64{3, 4}, part(3, 20)); !learned(other, 3) || !learned(other, 4) || s.closed.hashes != 400 {
		t.Errorf("20 hashes, and a key without parts, up to what the rankings may hold: learned %v %v, the rankings hold %d; want both, 400",
			learned(other, 3), learned(other, 4), s.closed.hashes)
	}
}

// TestSpareRankings: a spare ranking (read ahead, not asked for) is let
// go of before any ranking asked for, makes room among the spares alone,
// is not kept when they do not make room, and is a ranking like any other
// once asked for.
func TestSpareRankings(t *testing.T) {
	defer func(n int) { maxKeptHashes = n }(maxKeptHashes)
	maxKeptHashes = 400
	c := &closedTops{}
	key := func(name string) closedTopKey { return closedTopKey{sql: name} }
	ranking := func(hashes int) *closedTop {
		return &closedTop{snapshot: 1, parts: map[int64][]pagePart{}, partHashes: hashes}
	}
	asked, spare := ranking(150), ranking(100)
	c.keep(key("asked"), asked, false)
	c.keep(key("spare"), spare, true)
	late := ranking(100) // kept after the spare, asked for: the spare goes first
	c.keep(key("late"), late, false)
	if c.hashes != 350 {
		t.Fatalf("three rankings of 350 hashes hold %d", c.hashes)
	}
	full := ranking(100) // 450: the spare goes, though asked was used before it was kept
	c.keep(key("full"), full, false)
	if spare.kept || !asked.kept || !late.kept || c.hashes != 350 {
		t.Errorf("past the hashes: spare kept %v, asked %v, late %v, %d hashes; want the spare let go of alone, 350",
			spare.kept, asked.kept, late.kept, c.hashes)
	}
	big := ranking(100) // a spare that only rankings asked for could make room for
	c.keep(key("big"), big, true)
	if big.kept || c.get(key("big"), 1, 0, true) != nil || !asked.kept || !late.kept || !full.kept || c.hashes != 350 {
		t.Errorf("a spare past the hashes: kept %v, asked %v, late %v, full %v, %d hashes; want only the rankings asked for, 350",
			big.kept, asked.kept, late.kept, full.kept, c.hashes)
	}
	c.drop(key("full"), full) // 250
	s1, s2 := ranking(100), ranking(50)
	c.keep(key("s1"), s1, true)
	c.keep(key("s2"), s2, true) // 400: both fit
	// s1 is asked for: no longer a spare.
	if c.get(key("s1"), 1, 0, true) != s1 {
		t.Fatal("the first spare is not kept")
	}
	c.get(key("s2"), 1, 0, false) // read ahead again: still a spare
	s3 := ranking(50)             // 450: makes room among the spares: s2 goes, s1 was asked for
	c.keep(key("s3"), s3, true)
	if !s1.kept || s2.kept || !s3.kept || !asked.kept || !late.kept || c.hashes != 400 {
		t.Errorf("a spare past the hashes: s1 %v, s2 %v, s3 %v, asked %v, late %v, %d hashes; want s2 alone let go of, 400",
			s1.kept, s2.kept, s3.kept, asked.kept, late.kept, c.hashes)
	}
	// A spare the spares cannot make room for lets go of nothing.
	if c.keep(key("big2"), ranking(120), true) || !s3.kept || c.hashes != 400 {
		t.Errorf("a spare of 120 hashes among spares of 50: kept, or s3 let go of (kept %v, %d hashes)", s3.kept, c.hashes)
	}
	// A spare in place of a ranking asked for is no spare.
	again := ranking(150)
	if !c.keep(key("asked"), again, true) || again.used == 0 || asked.kept {
		t.Errorf("a spare in place of a ranking asked for: used %d (want not 0), the old one kept %v", again.used, asked.kept)
	}
}

// TestKeptRankingsLetGoOfTheLeastUsed: past maxKeptHashes the kept
// rankings used least recently are let go of, one by one, with the
// hashes they learned, for a ranking kept or for one learning; a ranking
// kept again under its key replaces the one before; a ranking let go of
// learns nothing.
func TestKeptRankingsLetGoOfTheLeastUsed(t *testing.T) {
	defer func(n int) { maxKeptHashes = n }(maxKeptHashes)
	maxKeptHashes = 400
	s := &Server{}
	c := &s.closed
	key := func(name string) closedTopKey { return closedTopKey{sql: name} }
	ranking := func(hashes int) *closedTop {
		return &closedTop{snapshot: 1, parts: map[int64][]pagePart{}, partHashes: hashes}
	}
	a, b := ranking(150), ranking(150)
	c.keep(key("a"), a, false)
	c.keep(key("b"), b, false)
	ps := pageParts.(partsOf[pagePart])
	ps.learn(s, a, []int64{7}, []pagePart{{key: 7, editors: make([]uint64, 50)}})
	if c.get(key("a"), 1, 0, true) != a || c.get(key("a"), 2, 0, true) != nil || c.hashes != 350 {
		t.Fatalf("got %v for a's key, %d hashes; want a at its snapshot alone, 350", c.get(key("a"), 1, 0, true), c.hashes)
	}
	third := ranking(100) // 450 with a and b: b, used least recently, goes
	c.keep(key("c"), third, false)
	if c.get(key("b"), 1, 0, true) != nil || c.get(key("a"), 1, 0, true) != a || c.get(key("c"), 1, 0, true) != third || c.hashes != 300 || b.kept {
		t.Errorf("after a third ranking: b %v, a %v, c %v, %d hashes; want b let go of, a and c kept, 300",
			c.get(key("b"), 1, 0, true), c.get(key("a"), 1, 0, true), c.get(key("c"), 1, 0, true), c.hashes)
	}
	newer := ranking(10)
	c.keep(key("a"), newer, false) // a newer snapshot's ranking: a and what it learned go
	if len(c.m) != 2 || c.hashes != 110 || a.kept {
		t.Errorf("a replaced: %d rankings, %d hashes; want 2, 110", len(c.m), c.hashes)
	}
	if ps.learn(s, a, []int64{8}, []pagePart{{key: 8, editors: make([]uint64, 5)}}); c.hashes != 110 {
		t.Errorf("a ranking let go of learned: the rankings hold %d hashes, want 110", c.hashes)
	}
	d := ranking(250)
	c.keep(key("d"), d, false)
	c.get(key("c"), 1, 0, true)
	// 80 more for newer: d, used least recently, goes to make room.
	ps.learn(s, newer, []int64{9}, []pagePart{{key: 9, editors: make([]uint64, 80)}})
	if _, ok := newer.keptParts().(map[int64][]pagePart)[9]; !ok || c.get(key("d"), 1, 0, true) != nil || c.get(key("c"), 1, 0, true) != third || c.hashes != 190 {
		t.Errorf("learning past what the rankings hold: learned %v, d %v, c %v, %d hashes; want learned, d let go of, c kept, 190",
			ok, c.get(key("d"), 1, 0, true), c.get(key("c"), 1, 0, true), c.hashes)
	}

	// A ranking holding no hashes (a contributors' list) is not let go of
	// to make room for hashes: that makes none.
	none, x, y := &closedTop{snapshot: 1}, ranking(300), ranking(300)
	c2 := &closedTops{}
	c2.keep(key("none"), none, false)
	c2.keep(key("x"), x, false)
	c2.keep(key("y"), y, false) // 600: x goes, though none was used before it
	if !none.kept || x.kept || !y.kept || c2.hashes != 300 {
		t.Errorf("past the hashes with a ranking of none: none kept %v, x %v, y %v, %d hashes; want x alone let go of, 300",
			none.kept, x.kept, y.kept, c2.hashes)
	}
}
