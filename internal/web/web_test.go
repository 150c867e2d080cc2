package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/priority"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

func TestBindingNeedsATokenOffLoopback(t *testing.T) {
	token := "0123456789abcdef0123"
	for _, c := range []struct {
		addr, token, want string
	}{
		{"127.0.0.1:8080", "", ""},
		{"localhost:8080", "", ""},
		{"[::1]:8080", "", ""},
		{"0.0.0.0:8080", "", "--http-token"},
		{":8080", "", "--http-token"},
		{"192.168.1.5:8080", "", "WIKISTREAM_HTTP_TOKEN"},
		{"0.0.0.0:8080", token, ""},
		{"0.0.0.0:8080", "short", "16 characters"},
		{"nohostport", "", "host:port"},
	} {
		err := Config{Addr: c.addr, Token: c.token}.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Validate(%s, token %q) = %v, want %q", c.addr, c.token, err, c.want)
		}
	}
}

// server is a Server over a small real pipeline's tables.
func server(t *testing.T, token string) (*httptest.Server, int) {
	t.Helper()
	events := ssetest.ReadLines(t, ssetest.SharedData(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"))[:500]
	p := stagetest.New(t)
	p.Bronze(t, events)
	n := len(p.Query(t, "SELECT event_id FROM bronze.raw_events"))
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	addr := "127.0.0.1:8080"
	if token != "" {
		addr = "0.0.0.0:8080"
	}
	s, err := New(Config{Addr: addr, Token: token}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, n
}

func post(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func sqlBody(sql string) string {
	b, _ := json.Marshal(map[string]string{"sql": sql})
	return string(b)
}

// TestQueryEndpoint: SQL over the tables as JSON; writes, ATTACH, COPY,
// file reads and extension loading are refused and change nothing.
func TestQueryEndpoint(t *testing.T) {
	ts, n := server(t, "")
	code, out := post(t, ts.URL, "", sqlBody("SELECT count(*) AS n, count(DISTINCT domain) AS domains FROM bronze.raw_events"))
	if code != 200 {
		t.Fatalf("status %d: %v", code, out)
	}
	rows := out["rows"].([]any)
	if got := rows[0].([]any)[0].(float64); int(got) != n {
		t.Errorf("count %v, want %d", got, n)
	}
	cols := out["columns"].([]any)
	if cols[0].(map[string]any)["name"] != "n" || cols[0].(map[string]any)["type"] != "BIGINT" {
		t.Errorf("columns %v, want n BIGINT first", cols)
	}
	if _, ok := out["snapshots"].(map[string]any)["bronze.raw_events"]; !ok {
		t.Errorf("snapshots %v: want the snapshot bronze.raw_events was read at", out["snapshots"])
	}
	for _, c := range []struct {
		name, sql string
	}{
		{"drop", "DROP TABLE bronze.raw_events"},
		{"insert", "INSERT INTO bronze.raw_events SELECT * FROM bronze.raw_events"},
		{"delete", "DELETE FROM bronze.raw_events"},
		{"attach", "ATTACH '/tmp/x.duckdb' AS x"},
		{"copy", "COPY (SELECT 1) TO '/tmp/wikistream-web-test.csv'"},
		{"read file", "SELECT * FROM read_csv('/etc/passwd')"},
		{"read text", "SELECT * FROM read_text('/etc/hostname')"},
		{"install", "INSTALL httpfs"},
		{"load", "LOAD httpfs"},
		{"two statements", "SELECT 1; DROP TABLE bronze.raw_events"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := post(t, ts.URL, "", sqlBody(c.sql))
			if code == 200 || out["error"] == nil || out["rows"] != nil {
				t.Fatalf("status %d, body %v: want a refusal with an error", code, out)
			}
		})
	}
	code, out = post(t, ts.URL, "", sqlBody("SELECT count(*) FROM bronze.raw_events"))
	if code != 200 || int(out["rows"].([]any)[0].([]any)[0].(float64)) != n {
		t.Errorf("after the refused statements: %d %v, want %d rows still", code, out, n)
	}
	for _, body := range []string{"", "{", `{"sql": ""}`, `{"query": "SELECT 1"}`} {
		if code, out := post(t, ts.URL, "", body); code != 400 || out["error"] == nil {
			t.Errorf("body %q: %d %v, want 400 with an error", body, code, out)
		}
	}
}

// TestTokenRequiredOffLoopback: with a token every request but /healthz
// needs it.
func TestTokenRequiredOffLoopback(t *testing.T) {
	token := "0123456789abcdef0123"
	ts, _ := server(t, token)
	if code, _ := post(t, ts.URL, "", sqlBody("SELECT 1")); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := post(t, ts.URL, "wrong-token-wrong-token", sqlBody("SELECT 1")); code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, out := post(t, ts.URL, token, sqlBody("SELECT 1 AS one")); code != 200 {
		t.Errorf("right token: %d %v, want 200", code, out)
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz without a token: %d, want 200", resp.StatusCode)
	}
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("/healthz asked for authentication")
	}
}

// goldServer is a Server over a pipeline run through gold with generated
// events (a vandal burst included), its clock at the events' end.
func goldServer(t *testing.T) (*httptest.Server, *stagetest.Pipeline) {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.VandalBurst, cfg.Rate = 4000, 21, 80, 1 // about 67 minutes: two or three hours
	p := goldPipeline(t, cfg)
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	now := func() time.Time { return cfg.Start.Add(3 * time.Hour) }
	s, err := New(Config{Addr: "127.0.0.1:8080", Now: now}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, p
}

// goldPipeline runs the events cfg generates through bronze, silver and
// gold.
func goldPipeline(tb testing.TB, cfg gen.Config) *stagetest.Pipeline {
	tb.Helper()
	events, err := gen.Lines(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	p := stagetest.New(tb)
	p.Bronze(tb, events)
	p.Silver(tb)
	p.Gold(tb)
	return p
}

// goldBatches returns a pipeline, the events cfg generates, and a func
// that runs a batch of them through bronze, silver and one run of a gold
// stage kept across the batches, as in a live process.
func goldBatches(t *testing.T, cfg gen.Config) (*stagetest.Pipeline, [][]byte, func(events [][]byte)) {
	t.Helper()
	events, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := stagetest.New(t)
	g, err := gold.New(context.Background(), gold.DefaultConfig(), p.LH)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return p, events, func(events [][]byte) {
		t.Helper()
		p.Bronze(t, events)
		p.Silver(t)
		if _, err := g.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode, out
}

func rowsOf(t *testing.T, out map[string]any) []map[string]any {
	t.Helper()
	raw, _ := out["rows"].([]any)
	rows := make([]map[string]any, len(raw))
	for i, r := range raw {
		rows[i] = r.(map[string]any)
	}
	return rows
}

// TestStatsAndRiskAPI: the hourly, regional and risk endpoints answer from
// gold with the filters applied; the expected numbers come from silver, a
// table the API does not read.
func TestStatsAndRiskAPI(t *testing.T) {
	ts, p := goldServer(t)
	want := map[string]int{} // "date Thh" -> valid events, from silver
	for _, r := range p.Query(t, `SELECT event_date || 'T' || lpad(event_hour::VARCHAR, 2, '0'), count(*) FROM silver.cleaned_events
		WHERE is_valid GROUP BY 1`) {
		want[fmt.Sprint(r[0])] = int(r[1].(int64))
	}
	if len(want) < 2 {
		t.Fatalf("the events span %d hours; the test needs several", len(want))
	}
	code, out := get(t, ts.URL+"/api/v1/stats/hourly?from=2026-10-01&to=2026-12-01")
	if code != 200 {
		t.Fatalf("hourly: %d %v", code, out)
	}
	got := map[string]int{}
	for _, r := range rowsOf(t, out) {
		got[fmt.Sprintf("%sT%02d", r["stat_date"], int(r["stat_hour"].(float64)))] = int(r["events"].(float64))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hourly events %v, want %v (silver)", got, want)
	}

	// By wiki, the two with the most events named and the others summed
	// per hour without a name.
	top := map[string]bool{}
	for _, r := range p.Query(t, `SELECT domain FROM silver.cleaned_events WHERE is_valid
		GROUP BY domain ORDER BY count(*) DESC, domain LIMIT 2`) {
		top[r[0].(string)] = true
	}
	wantWiki := map[string]int{}
	for _, r := range p.Query(t, `SELECT event_date || 'T' || lpad(event_hour::VARCHAR, 2, '0'), domain, count(*)
		FROM silver.cleaned_events WHERE is_valid GROUP BY ALL`) {
		k := fmt.Sprint(r[0], " ")
		if top[r[1].(string)] {
			k += r[1].(string)
		}
		wantWiki[k] += int(r[2].(int64))
	}
	code, out = get(t, ts.URL+"/api/v1/stats/hourly?from=2026-10-01&to=2026-12-01&group=domain&top=2")
	if code != 200 {
		t.Fatalf("hourly by wiki: %d %v", code, out)
	}
	gotWiki := map[string]int{}
	for _, r := range rowsOf(t, out) {
		d, _ := r["domain"].(string)
		gotWiki[fmt.Sprintf("%sT%02d %s", r["stat_date"], int(r["stat_hour"].(float64)), d)] += int(r["events"].(float64))
	}
	if len(wantWiki) <= len(want) || fmt.Sprint(gotWiki) != fmt.Sprint(wantWiki) {
		t.Errorf("hourly events of the top 2 wikis and the others %v, want %v (silver)", gotWiki, wantWiki)
	}
	for _, bad := range []string{"group=domain&top=0", "group=domain&top=101", "group=domain&top=x", "group=region&top=2", "top=2"} {
		if code, out := get(t, ts.URL+"/api/v1/stats/hourly?"+bad); code != 400 || !strings.Contains(fmt.Sprint(out), "top") {
			t.Errorf("hourly?%s: %d %v, want 400 naming top", bad, code, out)
		}
	}

	// One region, one domain: the filters reach the SQL.
	var region, domain string
	var wantRegion, wantDomain int
	for _, r := range p.Query(t, `SELECT region, domain, count(*) FROM silver.cleaned_events WHERE is_valid
		GROUP BY ALL ORDER BY 3 DESC LIMIT 1`) {
		region, domain, wantDomain = r[0].(string), r[1].(string), int(r[2].(int64))
	}
	wantRegion = int(p.Query(t, "SELECT count(*) FROM silver.cleaned_events WHERE is_valid AND region = '"+region+"'")[0][0].(int64))
	sum := func(url string) int {
		code, out := get(t, url)
		if code != 200 {
			t.Fatalf("%s: %d %v", url, code, out)
		}
		n := 0
		for _, r := range rowsOf(t, out) {
			n += int(r["events"].(float64))
		}
		return n
	}
	if n := sum(ts.URL + "/api/v1/stats/hourly?from=2026-10-01&to=2026-12-01&region=" + region); n != wantRegion {
		t.Errorf("region %s: %d events, want %d", region, n, wantRegion)
	}
	if n := sum(ts.URL + "/api/v1/stats/hourly?from=2026-10-01&to=2026-12-01&domain=" + domain); n != wantDomain {
		t.Errorf("domain %s: %d events, want %d", domain, n, wantDomain)
	}
	if n := sum(ts.URL + "/api/v1/stats/regions?from=2026-10-01&to=2026-12-01&region=" + region); n != wantRegion {
		t.Errorf("regions endpoint, %s: %d events, want %d", region, n, wantRegion)
	}
	// The default range is the 24 hours up to the clock (3 hours after the
	// events began): every event.
	total := 0
	for _, n := range want {
		total += n
	}
	if n := sum(ts.URL + "/api/v1/stats/hourly"); n != total {
		t.Errorf("default range: %d events, want all %d", n, total)
	}

	// The risk feed: HIGH entities first, with their evidence as JSON.
	wantHigh := p.Query(t, "SELECT entity_id FROM gold.risk_scores WHERE risk_level = 'HIGH' ORDER BY risk_score DESC, total_edits DESC, entity_id")
	code, out = get(t, ts.URL+"/api/v1/risk?from=2026-10-01&to=2026-12-01&min_level=high")
	if code != 200 {
		t.Fatalf("risk: %d %v", code, out)
	}
	rows := rowsOf(t, out)
	if len(rows) != len(wantHigh) || len(rows) == 0 {
		t.Fatalf("risk feed has %d HIGH entities, want %d (and at least the vandal)", len(rows), len(wantHigh))
	}
	for i, r := range rows {
		if r["entity_id"] != wantHigh[i][0] || r["risk_level"] != "HIGH" {
			t.Errorf("risk row %d: %v, want %v HIGH", i, r["entity_id"], wantHigh[i][0])
		}
		ev, ok := r["evidence"].(map[string]any)
		if !ok || ev["factors"] == nil {
			t.Errorf("risk row %d evidence %v: want the JSON object with its factors", i, r["evidence"])
		}
	}
	if code, out := get(t, ts.URL+"/api/v1/risk?from=2026-10-01&to=2026-12-01&min_level=LOW&limit=3"); code != 200 || len(rowsOf(t, out)) != 3 {
		t.Errorf("limit 3: %d, %d rows", code, len(rowsOf(t, out)))
	}
}

// TestAPIFiltersAreValidated: every bad parameter is a 400 naming it, and
// nothing reaches SQL unvalidated.
func TestAPIFiltersAreValidated(t *testing.T) {
	ts, _ := goldServer(t)
	for _, c := range []struct{ path, want string }{
		{"/api/v1/stats/hourly?from=yesterday", "from"},
		{"/api/v1/stats/hourly?to=2026-13-01", "to"},
		{"/api/v1/stats/hourly?from=2026-11-02&to=2026-11-01", "before"},
		{"/api/v1/stats/hourly?from=2020-01-01&to=2026-01-01", "366 days"},
		{"/api/v1/stats/hourly?region=antarctica", "region"},
		{"/api/v1/stats/hourly?domain=" + url.QueryEscape("en.wikipedia.org' OR 1=1 --"), "domain"},
		{"/api/v1/stats/hourly?group=user", "group"},
		{"/api/v1/stats/regions?region=europe,mars", "region"},
		{"/api/v1/risk?min_level=SEVERE", "min_level"},
		{"/api/v1/risk?limit=0", "limit"},
		{"/api/v1/risk?limit=ten", "limit"},
		{"/api/v1/risk?region=europe", "region"},
	} {
		code, out := get(t, ts.URL+c.path)
		msg, _ := out["error"].(string)
		if code != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %q, want 400 naming %s", c.path, code, msg, c.want)
		}
	}
}

// TestOpenAPIListsEveryRoute: api/openapi.yaml documents exactly the
// routes the server serves, with their methods.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", spec.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range spec.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := append(Routes(), "GET /metrics", "GET /readyz", "GET /api/v1/pipeline") // added by run
	for _, r := range served {
		if !documented[r] {
			t.Errorf("%s is served but not in api/openapi.yaml", r)
		}
		delete(documented, r)
	}
	for r := range documented {
		t.Errorf("%s is in api/openapi.yaml but not served", r)
	}
}

// TestLiveUpdates: /api/v1/live sends the current gold state on connecting
// and a new event when gold commits again, with the new totals.
func TestLiveUpdates(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Rate = 600, 5, 1
	p, events, batch := goldBatches(t, cfg)
	batch(events[:300])
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s, err := New(Config{Addr: "127.0.0.1:8080", Lakehouse: p.LH, LivePoll: 20 * time.Millisecond}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.RunLive(ctx)
	ts := httptest.NewServer(s)
	defer ts.Close()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	updates := make(chan liveUpdate, 8)
	go func() { // ends when the response body is closed
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "gold":
				var u liveUpdate
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &u) == nil {
					updates <- u
				}
			}
		}
	}()
	next := func() liveUpdate {
		select {
		case u := <-updates:
			return u
		case <-time.After(30 * time.Second):
			t.Fatal("no live update within 30 s")
		}
		return liveUpdate{}
	}
	total := func(u liveUpdate) (n int) {
		for _, r := range u.Regions {
			n += int(r["events"].(float64))
		}
		return n
	}
	wantTotal := func() int {
		rows := p.Query(t, `SELECT sum(total_events) FROM gold.hourly_stats WHERE stat_date || 'T' || lpad(stat_hour::VARCHAR, 2, '0') =
			(SELECT max(stat_date || 'T' || lpad(stat_hour::VARCHAR, 2, '0')) FROM gold.hourly_stats)`)
		var n int
		fmt.Sscan(fmt.Sprint(rows[0][0]), &n)
		return n
	}
	first := next()
	if total(first) != wantTotal() || first.Hour == "" {
		t.Fatalf("first update %+v: want the newest hour's %d events", first, wantTotal())
	}
	batch(events[300:])
	second := next()
	if second.Snapshots["gold.hourly_stats"] == first.Snapshots["gold.hourly_stats"] {
		t.Fatalf("second update has the same snapshot %v", second.Snapshots)
	}
	if total(second) != wantTotal() {
		t.Errorf("second update: %d events in %s, want %d", total(second), second.Hour, wantTotal())
	}
}

// The filters' condition selects exactly the hours from..to, whole days or
// not.
func TestFiltersSelectTheirHours(t *testing.T) {
	lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer lh.Close()
	eng, err := query.Open(context.Background(), lh, nil, query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ from, to string }{
		{"2026-11-02", "2026-11-03"},
		{"2026-11-02T05:00:00Z", "2026-11-03"},
		{"2026-11-02", "2026-11-03T07:00:00Z"},
		{"2026-11-02T05:00:00Z", "2026-11-03T07:00:00Z"},
		{"2026-11-02T05:00:00Z", "2026-11-02T05:00:00Z"},
		{"2026-11-02T23:00:00Z", "2026-11-03T00:00:00Z"},
	} {
		f, err := parseFilters(url.Values{"from": {c.from}, "to": {c.to}}, start)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(f.to.Sub(f.from)/time.Hour) + 1
		res, err := eng.Query(context.Background(), `SELECT count(*) FROM (SELECT strftime(ts, '%Y-%m-%d') AS stat_date,
			hour(ts) AS stat_hour FROM range(TIMESTAMP '2026-11-01', TIMESTAMP '2026-11-05', INTERVAL 1 HOUR) r(ts))
			WHERE `+f.where("stat_date", "stat_hour"), query.At{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rows[0][0].(int64); got != want {
			t.Errorf("from %s to %s: got %d hours, want %d", c.from, c.to, got, want)
		}
	}
}

// jsonRows writes what encoding rowsJSON writes.
func TestJSONRowsMatchRowsJSON(t *testing.T) {
	res := &query.Result{
		Columns: []string{"n", "small", "ok", "s", "f", "at", "null", `q"k`},
		Types:   []string{"BIGINT", "INTEGER", "BOOLEAN", "VARCHAR", "DOUBLE", "TIMESTAMPTZ", "VARCHAR", "VARCHAR"},
		Rows: [][]any{
			{int64(-5), int32(7), true, "a \"quoted\" <b>", 1.5, time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), nil, "x"},
			{int64(1) << 60, int32(0), false, "", 0.1, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), nil, "ü"},
		},
	}
	for _, r := range []*query.Result{res, {Columns: []string{"a"}, Types: []string{"BIGINT"}}} {
		got, err := json.Marshal(jsonRows{r})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(rowsJSON(r))
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("jsonRows wrote invalid JSON %s: %v", got, err)
		}
		json.Unmarshal(want, &w)
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestAPIRequestsGoFirst(t *testing.T) {
	gate := priority.New(time.Hour)
	s, err := New(Config{Addr: "127.0.0.1:8080", Gate: gate}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What the process's background work sees while a request runs.
	running := func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, gate.Stats().Foreground) }
	s.Handle("GET /api/v1/probe", http.HandlerFunc(running))
	s.Handle("GET /api/v1/live", http.HandlerFunc(running)) // stays open: not foreground work
	s.Handle("GET /metrics", http.HandlerFunc(running))
	ts := httptest.NewServer(s)
	defer ts.Close()
	for path, want := range map[string]string{"/api/v1/probe": "1", "/api/v1/live": "0", "/metrics": "0"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("%s: %s request(s) held the gate while it ran, want %s", path, body, want)
		}
	}
	if st := gate.Stats(); st.Foreground != 0 || st.Entered != 1 {
		t.Errorf("gate after the requests: %+v, want 1 entered and none running", st)
	}
}

func TestQueryThreadsLeaveACore(t *testing.T) {
	want := max(1, runtime.NumCPU()-1)
	eng, err := query.Open(context.Background(), stagetest.New(t).LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), "SELECT current_setting('threads')::BIGINT", query.At{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0]; got != int64(want) {
		t.Errorf("the API's engine runs %v DuckDB threads on %d cores, want %d", got, runtime.NumCPU(), want)
	}
}

// TestWriteJSONAsEncodingJSON: writeJSON writes what encoding/json's
// encoder writes, keys sorted and HTML escaped, with a result's rows as
// they make their JSON (not checked and compacted again), and without.
func TestWriteJSONAsEncodingJSON(t *testing.T) {
	res := &query.Result{Columns: []string{"domain", "n", "bot", "last", "tags", "score"},
		Types: []string{"VARCHAR", "BIGINT", "BOOLEAN", "TIMESTAMP WITH TIME ZONE", "VARCHAR[]", "DOUBLE"},
		Rows: [][]any{
			{"<en>&\"wiki\"", int64(3), true, time.Date(2026, 10, 30, 23, 0, 0, 0, time.UTC), []any{"a", "<b>"}, 1.5},
			{nil, int64(-1), false, nil, nil, nil},
		}}
	for _, v := range []any{
		map[string]any{"rows": jsonRows{res}, "filters": map[string]any{"from": "2026-10-01", "region": []string{}}, "truncated": true},
		map[string]any{"error": "a <b> & c"},
		map[string]string{"error": "not a map of any"},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(v); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		writeJSON(rec, 200, v)
		if got := rec.Body.String(); got != want.String() {
			t.Errorf("writeJSON wrote\n%s\nwant encoding/json's\n%s", got, want.String())
		}
	}
}
