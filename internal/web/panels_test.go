package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
	"github.com/wikistream/wikistream/internal/web/ui"
	"github.com/wikistream/wikistream/internal/web/webtest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// recordedServer is a Server over a pipeline run through gold and one
// data-quality run with real recorded events of two hours a day apart (and
// repeatEdits' few), and those events.
func recordedServer(t *testing.T) (*httptest.Server, []webtest.Event, quality.Report) {
	t.Helper()
	p, sample, rep := recordedPipeline(t)
	return serveRecorded(t, p.LH, QueryConfig()), sample, rep
}

// recordedPipeline is recordedServer's pipeline, events and data-quality
// report.
func recordedPipeline(t *testing.T) (*stagetest.Pipeline, []webtest.Event, quality.Report) {
	t.Helper()
	events, lines := webtest.Clean(t, ssetest.ReadLines(t, ssetest.SharedData(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz")))
	var keep []int
	perDay := map[int]int{}
	for i, e := range events {
		if perDay[e.Time().Day()] < 2000 {
			perDay[e.Time().Day()]++
			keep = append(keep, i)
		}
	}
	var sample []webtest.Event
	var sampleLines [][]byte
	for _, i := range keep {
		sample, sampleLines = append(sample, events[i]), append(sampleLines, lines[i])
	}
	extra, extraLines := webtest.Clean(t, repeatEdits(t, sampleLines))
	if len(extra) != 8 {
		t.Fatalf("%d of the 8 repeated edits are clean", len(extra))
	}
	sample, sampleLines = append(sample, extra...), append(sampleLines, extraLines...)
	p := stagetest.New(t)
	p.Bronze(t, sampleLines)
	p.Silver(t)
	p.Gold(t)
	dq, err := quality.New(quality.DefaultConfig(), p.LH, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dq.Close() })
	rep, err := dq.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p, sample, rep
}

// serveRecorded is a Server over lh, with an engine of cfg.
func serveRecorded(t *testing.T, lh *lakehouse.Lakehouse, cfg query.Config) *httptest.Server {
	t.Helper()
	eng, err := query.Open(context.Background(), lh, lakehouse.Tables(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := eng.Refresh(context.Background()); err != nil { // the in-memory copies
		t.Fatal(err)
	}
	s, err := New(Config{Addr: "127.0.0.1:8080", Now: func() time.Time { return time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC) }}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// repeatEdits makes, from the first human edit of lines, eight edits of
// one new title over a day: six by that editor in six different hours,
// two by another. The recorded sample seldom has an editor return to a
// page hours later, which is what a page's distinct editors over a range
// (not the sum of each hour's) must count once.
func repeatEdits(t *testing.T, lines [][]byte) [][]byte {
	t.Helper()
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil || m["type"] != "edit" || m["bot"] == true {
			continue
		}
		var out [][]byte
		for k := range 8 {
			ts := time.Date(2023, 1, 24, 2+3*k, 10, 0, 0, time.UTC)
			m["id"] = float64(9_000_000_000 + k)
			m["timestamp"] = float64(ts.Unix())
			if meta, ok := m["meta"].(map[string]any); ok {
				meta["dt"] = ts.Format(time.RFC3339)
				meta["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", k)
			}
			m["title"] = "WikiStream repeated page"
			m["revision"] = map[string]any{"old": float64(2_000_000_000 + k), "new": float64(2_000_000_001 + k)}
			if k >= 6 {
				m["user"] = "Another repeat editor"
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	t.Fatal("no human edit in the sample")
	return nil
}

func counts(rows []map[string]any, name, n string) []webtest.Count {
	var out []webtest.Count
	for _, r := range rows {
		out = append(out, webtest.Count{Name: fmt.Sprint(r[name]), N: int(r[n].(float64))})
	}
	return out
}

// TestPanelsAPI: the endpoints behind the dashboard's panels answer with
// the figures computed in Go from the events fed (webtest), with their
// filters applied.
func TestPanelsAPI(t *testing.T) {
	ts, events, rep := recordedServer(t)
	all := webtest.Compute(events)
	const rng = "from=2023-01-24&to=2023-01-25"
	hours := map[time.Time]bool{}
	for _, e := range events {
		hours[e.Time().Truncate(time.Hour)] = true
	}

	// The summary, and gold's extent.
	code, out := get(t, ts.URL+"/api/v1/stats/summary?"+rng)
	if code != 200 {
		t.Fatalf("summary: %d %v", code, out)
	}
	tot := out["totals"].(map[string]any)
	for name, want := range map[string]int{"events": all.Events, "human": all.Human, "bots": all.Bots,
		"anonymous": all.Anonymous, "new_pages": all.NewPages, "wikis": len(all.Wikis), "hours_with_data": len(hours)} {
		if got := int(tot[name].(float64)); got != want {
			t.Errorf("summary %s: got %d, want %d", name, got, want)
		}
	}
	var first, last time.Time
	for _, e := range events {
		h := e.Time().Truncate(time.Hour)
		if first.IsZero() || h.Before(first) {
			first = h
		}
		if h.After(last) {
			last = h
		}
	}
	if ext := out["extent"].(map[string]any); ext["first_hour"] != first.Format(time.RFC3339) || ext["last_hour"] != last.Format(time.RFC3339) {
		t.Errorf("extent %v, want %s to %s", ext, first.Format(time.RFC3339), last.Format(time.RFC3339))
	}
	high, medium := 0, 0
	for _, r := range all.Risk {
		if r.Level == "HIGH" {
			high++
		} else {
			medium++
		}
	}
	if risk := out["risk"].(map[string]any); int(risk["high"].(float64)) != high || int(risk["medium"].(float64)) != medium {
		t.Errorf("summary risk %v, want %d HIGH and %d MEDIUM", risk, high, medium)
	}
	// Outside the data: zeros, and the extent still.
	if _, out := get(t, ts.URL+"/api/v1/stats/summary"); out["totals"].(map[string]any)["events"].(float64) != 0 ||
		out["extent"].(map[string]any)["last_hour"] != last.Format(time.RFC3339) {
		t.Errorf("summary of the default range (after the data): %v, want no events and the extent", out)
	}

	// The busiest wikis.
	_, out = get(t, ts.URL+"/api/v1/stats/wikis?limit=1000&"+rng)
	wikis := map[string]int{}
	for _, c := range counts(rowsOf(t, out), "domain", "events") {
		wikis[c.Name] = c.N
	}
	if fmt.Sprint(wikis) != fmt.Sprint(all.Wikis) {
		t.Errorf("wikis %v, want %v", wikis, all.Wikis)
	}

	// Top contributors: everyone, bots only, one region.
	_, out = get(t, ts.URL+"/api/v1/top/contributors?limit=10&"+rng)
	if got, want := counts(rowsOf(t, out), "user", "edits"), all.Contributors[:10]; !slices.Equal(got, want) {
		t.Errorf("top contributors %v, want %v", got, want)
	}
	for _, c := range []struct {
		query string
		keep  func(webtest.Event) bool
	}{
		{"kind=bot", func(e webtest.Event) bool { return e.Bot }},
		{"kind=human", func(e webtest.Event) bool { return !e.Bot && !e.Anonymous() }},
		{"kind=anonymous", func(e webtest.Event) bool { return e.Anonymous() }},
		{"region=europe", func(e webtest.Event) bool { return e.Region() == "europe" }},
		{"domain=en.wikipedia.org", func(e webtest.Event) bool { return e.Meta.Domain == "en.wikipedia.org" }},
		{"from=2023-01-25T17&to=2023-01-25T17", func(e webtest.Event) bool { return e.Time().Day() == 25 }},
	} {
		want := webtest.Compute(slices.Collect(func(yield func(webtest.Event) bool) {
			for _, e := range events {
				if c.keep(e) && !yield(e) {
					return
				}
			}
		}))
		q := c.query
		if !strings.Contains(q, "from=") {
			q += "&" + rng
		}
		_, out := get(t, ts.URL+"/api/v1/top/contributors?limit=5&"+q)
		if got := counts(rowsOf(t, out), "user", "edits"); !slices.Equal(got, want.Contributors[:min(5, len(want.Contributors))]) || len(got) == 0 {
			t.Errorf("top contributors, %s: %v, want %v", c.query, got, want.Contributors[:min(5, len(want.Contributors))])
		}
		_, out = get(t, ts.URL+"/api/v1/top/pages?exclude_bots=true&limit=5&"+q)
		if got := counts(rowsOf(t, out), "title", "edits"); len(want.Pages) > 0 && len(got) == 0 {
			t.Errorf("trending pages, %s: none, want %v", c.query, want.Pages[:min(5, len(want.Pages))])
		}
	}

	// Trending pages, bots left out; each with its newest revision.
	newest := map[string]int64{}           // domain|title -> the newest revision by a person
	firstRev := map[string]webtest.Event{} // and the first, whose parent the diff starts from
	for _, e := range events {
		if e.Edit() && !e.Bot && e.Revision != nil && e.Revision.New != nil {
			k := e.Meta.Domain + "|" + e.Title
			newest[k] = max(newest[k], *e.Revision.New)
			if f, ok := firstRev[k]; !ok || *e.Revision.New < *f.Revision.New {
				firstRev[k] = e
			}
		}
	}
	_, out = get(t, ts.URL+"/api/v1/top/pages?exclude_bots=true&limit=10&"+rng)
	rows := rowsOf(t, out)
	var pages []webtest.Count
	for _, r := range rows {
		k := fmt.Sprint(r["domain"], "|", r["title"])
		pages = append(pages, webtest.Count{Name: k, N: int(r["edits"].(float64))})
		if rev, _ := r["revision_new"].(float64); int64(rev) != newest[k] {
			t.Errorf("page %s: newest revision %v, want %d (for the link to its diff)", k, r["revision_new"], newest[k])
		}
		var parent any
		if old := firstRev[k].Revision.Old; old != nil {
			parent = float64(*old)
		}
		if r["revision_old"] != parent {
			t.Errorf("page %s: revision_old %v, want %v (the parent of the range's first revision)", k, r["revision_old"], parent)
		}
	}
	if want := all.Pages[:10]; !slices.Equal(pages, want) {
		t.Errorf("trending pages %v, want %v", pages, want)
	}

	// The risk feed names the wiki each editor edited most, and the wikis
	// of its sample edits.
	topWiki := map[string]string{} // entity|date -> domain
	per := map[string]map[string]int{}
	for _, e := range events {
		if !e.Edit() {
			continue
		}
		k := e.UserName() + "|" + e.Time().Format(time.DateOnly)
		if per[k] == nil {
			per[k] = map[string]int{}
		}
		per[k][e.Meta.Domain]++
	}
	for k, m := range per {
		best := ""
		for d, n := range m {
			if best == "" || n > m[best] || n == m[best] && d < best {
				best = d
			}
		}
		topWiki[k] = best
	}
	_, out = get(t, ts.URL+"/api/v1/risk?min_level=MEDIUM&"+rng)
	risk := rowsOf(t, out)
	if len(risk) != len(all.Risk) || len(risk) == 0 {
		t.Fatalf("risk feed: %d rows, want %d", len(risk), len(all.Risk))
	}
	for i, r := range risk {
		k := fmt.Sprint(r["entity_id"], "|", r["stat_date"])
		if w := all.Risk[i]; k != w.Entity+"|"+w.Date || int(r["risk_score"].(float64)) != w.Score {
			t.Errorf("risk row %d: %s %v, want %s|%s %d", i, k, r["risk_score"], w.Entity, w.Date, w.Score)
		}
		if r["top_domain"] != topWiki[k] {
			t.Errorf("risk row %s: top_domain %v, want %s", k, r["top_domain"], topWiki[k])
		}
		samples, _ := r["samples"].([]any)
		if len(samples) == 0 {
			t.Errorf("risk row %s has no sample edits", k)
		}
		for _, s := range samples {
			s := s.(map[string]any)
			if per[k][fmt.Sprint(s["domain"])] == 0 || s["revision_new"] == nil {
				t.Errorf("risk row %s: sample %v is not one of its edits", k, s)
			}
		}
	}

	// Data quality: the run the quality stage reported.
	_, out = get(t, ts.URL+"/api/v1/quality")
	latest, _ := out["latest"].(map[string]any)
	if latest == nil || latest["run_id"] != rep.RunID {
		t.Fatalf("quality latest %v, want run %s", out["latest"], rep.RunID)
	}
	for name, status := range map[string]quality.Status{"passed": quality.StatusPass, "failed": quality.StatusFail, "errors": quality.StatusError} {
		if got := int(latest[name].(float64)); got != rep.Count(status) {
			t.Errorf("quality %s: got %d, want %d", name, got, rep.Count(status))
		}
	}
	if checks := out["checks"].([]any); len(checks) != len(rep.Results) {
		t.Errorf("quality lists %d checks, the run had %d", len(checks), len(rep.Results))
	}

	// Bad parameters are refused with their name.
	for _, c := range []struct{ path, want string }{
		{"/api/v1/top/contributors?kind=robots", "kind"},
		{"/api/v1/top/contributors?limit=501", "limit"},
		{"/api/v1/top/pages?exclude_bots=maybe", "exclude_bots"},
		{"/api/v1/top/pages?region=atlantis", "region"},
		{"/api/v1/stats/wikis?limit=-1", "limit"},
		{"/api/v1/stats/summary?from=tomorrow", "from"},
		{"/api/v1/quality?limit=x", "limit"},
	} {
		code, out := get(t, ts.URL+c.path)
		if msg, _ := out["error"].(string); code != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %q, want 400 naming %s", c.path, code, msg, c.want)
		}
	}
}

// TestQualityBeforeTheFirstRun: no run yet is an answer, not an error.
func TestQualityBeforeTheFirstRun(t *testing.T) {
	ts, _ := server(t, "")
	code, out := get(t, ts.URL+"/api/v1/quality")
	if code != 200 || out["latest"] != nil || len(out["checks"].([]any)) != 0 {
		t.Errorf("quality with no run: %d %v, want 200 with latest null and no checks", code, out)
	}
}

func fetch(t *testing.T, url, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b []byte
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		b = make([]byte, 64)
		n, _ := io.ReadAtLeast(resp.Body, b, 1)
		b = b[:n]
	} else {
		b, _ = io.ReadAll(resp.Body)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// TestDashboardFilesAndToken: with a token every request but /healthz
// needs it, the dashboard's files included; opening the dashboard without
// it gives the sign-in page (with a 401); the live stream takes the token
// as a header like the rest.
func TestDashboardFilesAndToken(t *testing.T) {
	const token = "0123456789abcdef0123"
	p := stagetest.New(t)
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	files := fstest.MapFS{
		"index.html":         {Data: []byte(`<!doctype html><div id="app"></div><script src="/assets/app-1.js"></script>`)},
		"assets/app-1.js":    {Data: []byte(`console.log("dashboard")`)},
		"assets/style-1.css": {Data: []byte(`body{}`)},
	}
	s, err := New(Config{Addr: "0.0.0.0:8080", Token: token, Dashboard: files, Lakehouse: p.LH, LivePoll: 20 * time.Millisecond}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.RunLive(ctx)
	for _, c := range []struct {
		path, token string
		code        int
		want        string
	}{
		{"/", "", 401, `Open the dashboard`},
		{"/index.html", "", 401, `Open the dashboard`},
		{"/?token=" + token, "", 401, `Open the dashboard`},
		{"/", "wrong-token-0123456789", 401, `Open the dashboard`},
		{"/", token, 200, `<div id="app">`},
		{"/assets/app-1.js", "", 401, "bearer token"},
		{"/assets/app-1.js", token, 200, "dashboard"},
		{"/assets/missing.js", token, 404, "no such dashboard file"},
		{"/healthz", "", 200, ""},
		{"/elsewhere", "", 401, "bearer token"},
		{"/elsewhere", token, 404, "the dashboard is at /"},
		{"/api/v1/stats/summary", "", 401, "bearer token"},
		{"/api/v1/live", "", 401, "bearer token"},
		{"/api/v1/live?token=" + token, "", 401, "bearer token"},
		{"/api/v1/live", token, 200, "retry: 2000"},
		{"/api/v1/stats/summary", token, 200, `"extent"`},
	} {
		code, h, body := fetch(t, ts.URL+c.path, c.token)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("GET %s (token %v): %d %q, want %d with %q", c.path, c.token != "", code, body, c.code, c.want)
		}
		if code == 200 && (c.path == "/" && h.Get("Cache-Control") != "no-cache" || c.path == "/assets/app-1.js" && !strings.Contains(h.Get("Cache-Control"), "immutable")) {
			t.Errorf("GET %s: Cache-Control %q", c.path, h.Get("Cache-Control"))
		}
	}
	req, _ := http.NewRequest("POST", ts.URL+"/", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode == 200 {
		t.Errorf("POST / without a token: %v %v, want a refusal", resp.StatusCode, err)
	}
}

// TestDashboardNotBuilt: a binary built without the dashboard says how to
// build it, and the API still answers.
func TestDashboardNotBuilt(t *testing.T) {
	p := stagetest.New(t)
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s, err := New(Config{Addr: "127.0.0.1:8080", Dashboard: fstest.MapFS{"README.md": {Data: []byte("placeholder")}}}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	code, h, body := fetch(t, ts.URL+"/", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Dashboard not built: run <code>make ui</code>") ||
		!strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("GET / without the dashboard: %d %s %q, want 503 with a page saying to run make ui", code, h.Get("Content-Type"), body)
	}
	if code, _, body := fetch(t, ts.URL+"/api/v1/stats/summary", ""); code != 200 {
		t.Errorf("the API without the dashboard: %d %s", code, body)
	}
}

// TestEmbeddedDashboard: the built dashboard (make ui) is embedded and
// served with the assets its page names.
func TestEmbeddedDashboard(t *testing.T) {
	if _, ok := ui.Files(); !ok {
		if os.Getenv("WIKISTREAM_REQUIRE_TOOLS") == "1" {
			t.Fatal("the dashboard is not built into this binary: run make ui before the tests")
		}
		t.Skip("the dashboard is not built (make ui); TestDashboardNotBuilt covers a binary without it")
	}
	ts, _ := server(t, "")
	code, _, body := fetch(t, ts.URL+"/", "")
	if code != 200 || !strings.Contains(body, `<div id="app">`) {
		t.Fatalf("GET /: %d %q", code, body)
	}
	assets := 0
	for _, part := range strings.Split(body, `"`) {
		if strings.HasPrefix(part, "/assets/") {
			assets++
			if code, _, b := fetch(t, ts.URL+part, ""); code != 200 || len(b) == 0 {
				t.Errorf("GET %s: %d, %d bytes", part, code, len(b))
			}
		}
	}
	if assets < 2 {
		t.Errorf("the page names %d assets, want its script and its styles", assets)
	}
}

// The top lists as the API computed them from silver before gold kept
// hourly rollups: each event read on every request. The rollups must give
// the same rows for every range, region, wiki and kind of editor.
const (
	silverEdits        = `FROM silver.cleaned_events WHERE is_valid AND event_type IN ('edit', 'new') AND `
	silverContributors = `WITH per_wiki AS (
			SELECT user_normalized, domain, count(*) AS n, bool_or(is_bot) AS bot, bool_or(is_anonymous) AS anon,
				sum(greatest(length_delta, 0)) AS added, sum(greatest(-length_delta, 0)) AS removed,
				sum(is_new_page::INT) AS created, max(event_timestamp) AS last_edit
			` + silverEdits + `%s AND user_normalized IS NOT NULL%s GROUP BY ALL)
		SELECT user_normalized AS "user", sum(n)::BIGINT AS edits, count(*)::BIGINT AS wikis,
			first(domain ORDER BY n DESC, domain) AS top_domain, bool_or(bot) AS is_bot, bool_or(anon) AS is_anonymous,
			sum(added)::BIGINT AS bytes_added, sum(removed)::BIGINT AS bytes_removed, sum(created)::BIGINT AS new_pages,
			max(last_edit) AS last_edit
		FROM per_wiki GROUP BY user_normalized ORDER BY edits DESC, "user" LIMIT %d`
	silverPages = `SELECT domain, title, count(*)::BIGINT AS edits, count(DISTINCT user_normalized)::BIGINT AS editors,
			sum(length_delta)::BIGINT AS bytes_delta, bool_or(is_new_page) AS new_page, max(event_timestamp) AS last_edit,
			max(revision_new) AS revision_new, arg_min_null(revision_old, revision_new) AS revision_old
		` + silverEdits + `%s AND title IS NOT NULL%s
		GROUP BY domain, title ORDER BY edits DESC, editors DESC, domain, title LIMIT %d`
)

// TestTopListsEqualSilver: top contributors and trending pages, read from
// gold's hourly rollups, equal the same lists aggregated from every silver
// event, over whole days, ranges cutting into days, single hours, regions,
// wikis and kinds of editor.
func TestTopListsEqualSilver(t *testing.T) {
	ts, _, _ := recordedServer(t)
	// The recorded sample's ranges are all small: the server sums every
	// page unless told to skip them in ranges of any size.
	if n, _, _ := topListsEqualSilver(t, ts.URL); n < 1000 {
		t.Errorf("compared %d rows in all; the sample must give longer lists", n)
	}
	// The lists over the whole day (the 24th) add the other hours to a
	// kept ranking of the day (closedTops)...
	srv := ts.Config.Handler.(*Server)
	if told := srv.closed.told.Load(); told < 10 {
		t.Errorf("%d lists were told by a kept ranking of whole days; want many", told)
	}
	// The lists over the 24th's second half and the hour after it keep
	// the half day's hours with a ranking.
	if n := srv.closed.closedHours.Load(); n < 10 {
		t.Errorf("%d lists kept the hours of a day that is over without a whole day; want many", n)
	}
	// The hours after the others up to two before the newest are kept
	// with a ranking too (span.settledTo).
	if n := srv.closed.settled.Load(); n < 10 {
		t.Errorf("%d kept rankings held settled hours; want many", n)
	}
	// The lists without whole days sum their candidates' hours in parts
	// too (keptpages.go).
	if n := srv.closed.hourParts.Load(); n < 50 {
		t.Errorf("%d lists without whole days were summed in parts; want many", n)
	}
	// The lists add the kept days' rows of their candidates to their
	// hours in Go (keptpages.go).
	if n := srv.closed.keptParts.Load(); n < 10 {
		t.Errorf("%d lists were summed from kept parts; want many", n)
	}
	t.Logf("kept rankings: %d lists told, %d of them summed from kept parts; %d rankings pruned; %d lists of hours summed in parts", srv.closed.told.Load(), srv.closed.keptParts.Load(), srv.closed.pruned.Load(), srv.closed.hourParts.Load())
	// again forgets the kept rankings, compares the lists again, and
	// returns how much each counter grew.
	again := func(counters ...*atomic.Int64) []int64 {
		srv.closed.mu.Lock()
		srv.closed.m = nil
		srv.closed.mu.Unlock()
		grew := make([]int64, len(counters))
		for i, c := range counters {
			grew[i] = c.Load()
		}
		topListsEqualSilver(t, ts.URL)
		for i, c := range counters {
			grew[i] = c.Load() - grew[i]
		}
		return grew
	}
	// Without settled hours, the list of 5 pages over the day and the
	// hour after it sums that hour only for the kept pages and those with
	// a row that could lift them to the cut (rankedSQL.openThreshold; the
	// sample's other lists have too many hours, or cuts too low, to leave
	// any page out).
	lag := settledLag
	settledLag = 1 << 62
	if g := again(&srv.closed.fewHours, &srv.closed.settled); g[0] < 1 || g[1] != 0 {
		t.Errorf("without settled hours, %d lists summed the hours of a kept ranking for some pages only, %d rankings held settled hours; want some, none", g[0], g[1])
	}
	settledLag = lag
	// With the parts of the first key only, the other candidates' days
	// are read from the daily rollup with their hours.
	parts := keptPartKeys
	keptPartKeys = func(int) int { return 1 }
	if n := again(&srv.closed.keptParts)[0]; n < 10 {
		t.Errorf("with the parts of one key kept, %d lists were summed from them; want many", n)
	}
	keptPartKeys = parts
	// With room for the hashes of a few pages' editors, a ranking keeps the
	// parts of its first keys only, as many as fit.
	defer func(n int) { maxKeptHashes = n }(maxKeptHashes)
	maxKeptHashes = 4 * 12
	if g := again(&srv.closed.keptParts, &srv.closed.partsCut); g[0] < 10 || g[1] < 3 {
		t.Errorf("with room for 12 editors' hashes, %d lists were summed from kept parts, and %d rankings kept the parts of fewer keys; want many and several", g[0], g[1])
	}
	maxKeptHashes = 2 << 20
	// With room for 60 candidates, the lists with more are told by their
	// days summed exactly.
	// With room for 60 candidates and no tier, the lists with more are
	// told by their days summed exactly.
	defer func(n, m int) { maxKeptCandidates, maxTierKeys = n, m }(maxKeptCandidates, maxTierKeys)
	maxKeptCandidates, maxTierKeys = 60, 0
	g := again(&srv.closed.keptParts, &srv.closed.exact)
	if g[0] < 10 || g[1] < 3 {
		t.Errorf("with room for 60 candidates, %d lists were summed from kept parts, %d of them after exact sums; want many and several", g[0], g[1])
	}
	t.Logf("with room for 60 candidates: %d lists summed from kept parts, %d of them after exact sums", g[0], g[1])
	maxKeptCandidates = 1000
	// Kept rankings of limit keys and a tier of 5: the lists' candidates
	// are told apart by the tier's edits and its floor, and by the parts
	// that lists read before (partsOf.learn).
	keep := closedTopKeep
	closedTopKeep, maxTierKeys = func(limit int) int { return limit }, 5
	g = again(&srv.closed.told, &srv.closed.narrowed, &srv.closed.unkept, &srv.closed.learned)
	if g[0] < 10 || g[1] < 3 || g[2] < 10 || g[3] < 10 {
		t.Errorf("with kept rankings of limit keys and tiers of 5, %d lists were told by them, %d narrowed, %d read the days of candidates without kept parts, %d keys learned; want many, several, many and many", g[0], g[1], g[2], g[3])
	}
	t.Logf("with kept rankings of limit keys and tiers of 5: %d lists told by them, %d narrowed, %d read unkept candidates' days, %d keys learned", g[0], g[1], g[2], g[3])
	maxTierKeys = 16384
	// ...and when it keeps too few keys to tell a list, the list is
	// ranked again without it: kept rankings of limit keys, whose bound
	// is often the list's cut.
	g = again(&srv.closed.told, &srv.closed.untold)
	if g[0] < 3 || g[1] < 3 {
		t.Errorf("with kept rankings of limit keys, %d lists were told by them and %d not; want several of each", g[0], g[1])
	}
	// The rankings of limit keys have lower bounds high enough to leave
	// some pages out (closedTopSQL).
	if pruned := srv.closed.pruned.Load(); pruned < 1 {
		t.Error("no kept ranking left out the pages that could not be among its keys")
	}
	t.Logf("kept rankings of limit keys: %d lists told by them, %d not; %d rankings pruned", g[0], g[1], srv.closed.pruned.Load())
	closedTopKeep = keep
	defer func(rows int64) { minPrunedRangeRows = rows }(minPrunedRangeRows)
	minPrunedRangeRows = 0
	compared, pruned, daily := topListsEqualSilver(t, ts.URL)
	if compared < 1000 {
		t.Errorf("compared %d rows in all; the sample must give longer lists", compared)
	}
	// Ranges with a whole day that is over (the 24th) read it from the
	// daily rollups.
	if daily < 4 {
		t.Errorf("%d of the trending pages lists read days from gold.pages_daily; want several", daily)
	}
	// The trending pages skip the pages that cannot make the list
	// (rankedSQL.ranking) in some of the compared lists, or the test would
	// not check that they are the same.
	if pruned < 3 {
		t.Errorf("%d of the trending pages lists skipped pages; want several", pruned)
	}
	// Keys that some names share (500 keys for thousands of names, so that
	// merged keys push true top entries below the cut, which fails this
	// test unless the server notices and ranks by name): the lists equal
	// silver's all the same.
	defer func(keys map[string]string) { rankKeys = keys }(rankKeys)
	rankKeys = map[string]string{"contributors": "user_id % 500", "pages": "page_id % 500"}
	topListsEqualSilver(t, ts.URL)
}

// TestTopListsEqualSilverWindowed: the same over rollups too large to be
// resident whole (ResidentMaxBytes below their size): their newest hours
// are in memory, the older ones read from their files.
func TestTopListsEqualSilverWindowed(t *testing.T) {
	p, _, _ := recordedPipeline(t)
	// Room for the largest hour's file: every rollup splits.
	var largest int64
	for _, ident := range []table.Identifier{lakehouse.GoldContributorsHourly, lakehouse.GoldPagesHourly} {
		tbl, err := p.LH.Load(context.Background(), ident)
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := tbl.Scan().PlanFiles(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			largest = max(largest, task.File.FileSizeBytes())
		}
	}
	windowed := QueryConfig()
	windowed.ResidentMaxBytes = largest
	ts := serveRecorded(t, p.LH, windowed)
	for _, tbl := range []string{"gold.contributors_hourly", "gold.pages_hourly"} {
		code, res := post(t, ts.URL, "", sqlBody("EXPLAIN SELECT * FROM "+tbl))
		if plan := fmt.Sprint(res["rows"]); code != 200 || !strings.Contains(plan, "ws_resident") || !strings.Contains(plan, "READ_PARQUET") {
			t.Fatalf("%s is not read from memory and files both: %d %s", tbl, code, plan)
		}
	}
	if compared, _, _ := topListsEqualSilver(t, ts.URL); compared < 1000 {
		t.Errorf("compared %d rows in all; the sample must give longer lists", compared)
	}
}

// topListsEqualSilver compares the top lists of the server at base with
// silver's and returns how many rows it compared, how many of the trending
// pages lists were ranked over the pages that could make them only, and
// how many read days of the daily rollup.
func topListsEqualSilver(t *testing.T, base string) (compared, pruned, daily int) {
	t.Helper()
	// Whole days, a range around them, and ranges whose ends cut through hours with data: each
	// day's busiest hour alone, from it to the end, and up to it.
	// A whole day and the hour after it: few hours around a kept ranking.
	// Half a day that is over and the hour after it: no whole day, and
	// hours kept with a ranking (span.closedTo).
	ranges := []string{"from=2023-01-24&to=2023-01-25", "from=2023-01-23T12:00:00Z&to=2023-01-25T18:00:00Z",
		"from=2023-01-24&to=2023-01-25T00:00:00Z", "from=2023-01-24T12:00:00Z&to=2023-01-25T00:00:00Z"}
	code, res := post(t, base, "", sqlBody(`SELECT strftime(h, '%Y-%m-%dT%H:00:00Z') FROM (
		SELECT date_trunc('hour', event_timestamp) AS h, count(*) AS n FROM silver.cleaned_events GROUP BY 1)
		QUALIFY row_number() OVER (PARTITION BY h::DATE ORDER BY n DESC, h) = 1 ORDER BY 1`))
	busiest, _ := res["rows"].([]any)
	if code != 200 || len(busiest) != 2 {
		t.Fatalf("the busiest hour of each day: %d %v", code, res)
	}
	for _, row := range busiest {
		h := row.([]any)[0].(string)
		ranges = append(ranges, "from="+h+"&to="+h, "from="+h+"&to=2023-01-25", "from=2023-01-24&to="+h)
	}
	places := []string{"", "region=europe", "domain=en.wikipedia.org,commons.wikimedia.org", "region=asia_pacific,americas"}
	kinds := map[string]string{"all": "", "human": " AND NOT is_bot AND NOT is_anonymous", "bot": " AND is_bot",
		"anonymous": " AND is_anonymous"}
	for _, rng := range ranges {
		for _, place := range places {
			q, err := url.ParseQuery(rng + "&" + place)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseFilters(q, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			where := f.where("event_date", "event_hour")
			for kind, cond := range kinds {
				path := fmt.Sprintf("/api/v1/top/contributors?limit=50&kind=%s&%s&%s", kind, rng, place)
				compared += sameRows(t, base, path, fmt.Sprintf(silverContributors, where, cond, 50))
			}
			// Short lists too: their cut is high enough for the ranking
			// to skip pages that cannot make them.
			for _, noBots := range []bool{false, true} {
				for _, limit := range []int{50, 5} {
					cond := ""
					if noBots {
						cond = " AND NOT is_bot"
					}
					path := fmt.Sprintf("/api/v1/top/pages?limit=%d&exclude_bots=%t&%s&%s", limit, noBots, rng, place)
					compared += sameRows(t, base, path, fmt.Sprintf(silverPages, where, cond, limit))
					q := trendingSQL(limit, noBots)
					q.span = spanOf(t, base, q.daily, f)
					if !q.span.first.IsZero() {
						daily++
					}
					code, res := post(t, base, "", sqlBody("WITH "+q.ranking(q.base(), "rank_id")+" SELECT t FROM threshold"))
					rows, _ := res["rows"].([]any)
					if code != 200 || len(rows) != 1 {
						t.Fatalf("%s: the threshold: %d %v", path, code, res)
					}
					if tr := rows[0].([]any)[0]; tr != float64(1) {
						pruned++
					}
				}
			}
		}
	}
	return compared, pruned, daily
}

// spanOf is the span the server reads f's days of the daily rollup by.
func spanOf(t *testing.T, base, daily string, f filters) span {
	t.Helper()
	sql, first := newestDaySQL(daily, f)
	if sql == "" {
		return span{f: f}
	}
	code, res := post(t, base, "", sqlBody(sql))
	rows, _ := res["rows"].([]any)
	if code != 200 || len(rows) != 1 {
		t.Fatalf("the newest day: %d %v", code, res)
	}
	sp, err := spanTo(f, first, rows[0].([]any)[0])
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// sameRows fails the test unless the API's rows at path equal the rows of
// sql through /api/v1/query, column by column; it returns how many rows.
func sameRows(t *testing.T, base, path, sql string) int {
	t.Helper()
	_, out := get(t, base+path)
	got := rowsOf(t, out)
	code, res := post(t, base, "", sqlBody(sql))
	if code != 200 {
		t.Fatalf("%s: the silver query failed: %d %v", path, code, res)
	}
	want, _ := res["rows"].([]any)
	cols, _ := res["columns"].([]any)
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, silver %d", path, len(got), len(want))
	}
	for i, w := range want {
		for j, c := range cols {
			name := c.(map[string]any)["name"].(string)
			if g, w := fmt.Sprint(got[i][name]), fmt.Sprint(w.([]any)[j]); g != w {
				t.Fatalf("%s: row %d, %s: got %s, silver %s\n%v\n%v", path, i, name, g, w, got[i], want[i])
			}
		}
	}
	return len(got)
}
