package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

// evidenceRevisions are the revisions a served risk row's evidence names:
// its sample revisions and those of its large deletions.
func evidenceRevisions(ev map[string]any) []string {
	var revs []string
	add := func(l any) {
		list, _ := l.([]any)
		for _, v := range list {
			revs = append(revs, strconv.FormatInt(int64(v.(float64)), 10))
		}
	}
	add(ev["sample_revisions"])
	factors, _ := ev["factors"].([]any)
	for _, f := range factors {
		if d, ok := f.(map[string]any)["detail"].(map[string]any); ok {
			add(d["revisions"])
		}
	}
	return revs
}

// TestRiskFeedLinksAsFromSilver: the risk feed serves each row's top wiki
// and sample edits from the evidence exactly as it served them when it
// read them from silver (the same queries, run here), and reads no table
// but gold.risk_scores: its engine has no other.
func TestRiskFeedLinksAsFromSilver(t *testing.T) {
	_, p := goldServer(t)
	goldOnly, err := query.Open(context.Background(), p.LH, []table.Identifier{lakehouse.GoldRiskScores}, query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { goldOnly.Close() })
	s, err := New(Config{Addr: "127.0.0.1:8080"}, goldOnly)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	silver, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silver.Close() })
	sql := func(q string) []map[string]any {
		t.Helper()
		res, err := silver.Query(context.Background(), q, query.At{})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return rowsJSON(res)
	}

	code, out := get(t, ts.URL+"/api/v1/risk?from=2026-10-01&to=2026-12-01&min_level=LOW&limit=1000")
	if code != 200 {
		t.Fatalf("risk: %d %v", code, out)
	}
	rows := rowsOf(t, out)
	if want := p.Query(t, "SELECT count(*) FROM gold.risk_scores")[0][0]; fmt.Sprint(len(rows)) != fmt.Sprint(want) {
		t.Fatalf("risk feed has %d rows, gold %v", len(rows), want)
	}
	samples := 0
	for _, r := range rows {
		k := fmt.Sprint(r["entity_id"], "|", r["stat_date"])
		ev, _ := r["evidence"].(map[string]any)
		if _, ok := ev["top_domain"]; ok || ev["samples"] != nil || ev["factors"] == nil {
			t.Errorf("%s: evidence %v, want its factors, without top_domain and samples (served beside it)", k, ev)
		}
		where := "event_date = " + quoteAll([]string{fmt.Sprint(r["stat_date"])}) + " AND user_normalized = " +
			quoteAll([]string{fmt.Sprint(r["entity_id"])}) + " AND is_valid AND event_type IN ('edit', 'new')"
		top := sql(`SELECT first(domain ORDER BY n DESC, domain) AS domain
			FROM (SELECT domain, count(*) AS n FROM silver.cleaned_events WHERE ` + where + ` GROUP BY ALL)`)
		if r["top_domain"] != top[0]["domain"] {
			t.Errorf("%s: top_domain %v, want %v", k, r["top_domain"], top[0]["domain"])
		}
		want := []map[string]any{}
		if revs := evidenceRevisions(ev); len(revs) > 0 {
			want = sql(`SELECT domain, title, revision_old, revision_new, length_delta, event_timestamp
				FROM silver.cleaned_events WHERE ` + where + ` AND revision_new IN (` + strings.Join(revs, ", ") + `)
				ORDER BY length_delta, event_timestamp, event_id`)
		}
		g, _ := json.Marshal(r["samples"])
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s: samples\n%s\nwant\n%s", k, g, w)
		}
		samples += len(want)
	}
	if samples == 0 {
		t.Error("no sample edits at all: the test must exercise them")
	}
}

// TestRiskLinksOfOldRows: a row gold wrote before the evidence named the
// top wiki and the sample edits is served with top_domain null and no
// samples, its evidence as it is.
func TestRiskLinksOfOldRows(t *testing.T) {
	for _, c := range []struct {
		name, evidence string
		want           any // the served evidence
	}{
		{"old evidence", `{"edits":3,"sample_revisions":[12]}`, map[string]any{"edits": 3.0, "sample_revisions": []any{12.0}}},
		{"top_domain empty", `{"edits":3,"top_domain":"","samples":[]}`, map[string]any{"edits": 3.0}},
		{"not JSON", `{"edits":`, `{"edits":`},
		{"not an object", `[1]`, []any{1.0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			row := map[string]any{"evidence": c.evidence}
			riskLinks(row)
			if fmt.Sprint(row["evidence"]) != fmt.Sprint(c.want) {
				t.Errorf("evidence %v, want %v", row["evidence"], c.want)
			}
			if samples, ok := row["samples"].([]any); row["top_domain"] != nil || !ok || len(samples) != 0 {
				t.Errorf("top_domain %v, samples %#v; want null and []", row["top_domain"], row["samples"])
			}
		})
	}
}

// TestRiskFeedReadsTheTopOfEachDay: the feed, which reads only the first
// rows of each day's file of gold.risk_scores (the table keeps them in the
// feed's order) and keeps them per day, has the rows a ranking of every
// row has, for every level and limits below a day's rows, as has the
// summary's risk counts; after a late event only its day is read again.
func TestRiskFeedReadsTheTopOfEachDay(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.VandalBurst = 6000, 23, 80
	cfg.Rate = float64(cfg.Count) / (3 * 24 * 3600) // three days
	p := goldPipeline(t, cfg)
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if order, err := eng.FileOrder(context.Background(), "gold.risk_scores"); err != nil || order != lakehouse.RiskScoresTable.FileOrder {
		t.Fatalf("gold.risk_scores keeps its files in %q (%v), want %q: the feed would read them whole", order, err, lakehouse.RiskScoresTable.FileOrder)
	}
	s, err := New(Config{Addr: "127.0.0.1:8080"}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	days := p.Query(t, "SELECT min(n) FROM (SELECT count(*) AS n FROM gold.risk_scores GROUP BY stat_date HAVING count(*) > 0)")
	perDay, _ := days[0][0].(int64)
	if len(p.Query(t, "SELECT DISTINCT stat_date FROM gold.risk_scores")) < 3 || perDay < 60 {
		t.Fatalf("%d rows in the smallest day: the test needs three days of more rows than its limits", perDay)
	}
	const rng = "from=2026-10-01&to=2026-12-01"
	check := func() {
		t.Helper()
		levels := map[string]string{"HIGH": "'HIGH'", "MEDIUM": "'HIGH', 'MEDIUM'", "LOW": "'HIGH', 'MEDIUM', 'LOW'"}
		for level, in := range levels {
			for _, limit := range []int{1, 5, 7, 9, 12, 50, 200} {
				var want []string
				for _, r := range p.Query(t, `SELECT entity_id, stat_date, risk_score, total_edits FROM gold.risk_scores WHERE risk_level IN (`+in+`)
					ORDER BY risk_score DESC, total_edits DESC, stat_date DESC, entity_id LIMIT `+strconv.Itoa(limit)) {
					want = append(want, fmt.Sprintf("%v|%v|%v|%v", r...))
				}
				code, out := get(t, ts.URL+"/api/v1/risk?"+rng+"&min_level="+level+"&limit="+strconv.Itoa(limit))
				if code != 200 {
					t.Fatalf("risk: %d %v", code, out)
				}
				var got []string
				for _, r := range rowsOf(t, out) {
					got = append(got, fmt.Sprintf("%v|%v|%v|%v", r["entity_id"], r["stat_date"], r["risk_score"], r["total_edits"]))
				}
				if fmt.Sprint(got) != fmt.Sprint(want) || (level == "LOW" && len(want) != limit) {
					t.Errorf("%s feed, limit %d:\n got  %v\n want %v", level, limit, got, want)
				}
			}
		}
		want := p.Query(t, `SELECT count(*) FILTER (WHERE risk_level = 'HIGH'), count(*) FILTER (WHERE risk_level = 'MEDIUM') FROM gold.risk_scores`)
		_, out := get(t, ts.URL+"/api/v1/stats/summary?"+rng)
		risk, _ := out["risk"].(map[string]any)
		if fmt.Sprint(risk["high"], risk["medium"]) != fmt.Sprint(want[0]...) || fmt.Sprint(want[0]...) == "0 0" {
			t.Errorf("summary risk %v, want HIGH and MEDIUM %v", risk, want[0])
		}
	}
	check()
	check() // from the kept days
	if s.feedDays.kept.Load() == 0 || s.countDays.kept.Load() == 0 {
		t.Fatalf("no kept day answered (feed %d, counts %d)", s.feedDays.kept.Load(), s.countDays.kept.Load())
	}

	// A late event into the first day rewrites it alone.
	late := cfg
	late.Count, late.Seed, late.Rate = 300, 24, 1
	events, err := gen.Lines(late)
	if err != nil {
		t.Fatal(err)
	}
	p.Bronze(t, events)
	p.Silver(t)
	p.Gold(t)
	feedRead, countRead := s.feedDays.read.Load(), s.countDays.read.Load()
	check()
	if n := s.feedDays.read.Load() - feedRead; n != 1 {
		t.Errorf("the feed read %d days again after a late event into one, want 1", n)
	}
	if n := s.countDays.read.Load() - countRead; n != 1 {
		t.Errorf("the summary read %d days again after a late event into one, want 1", n)
	}

	// Feeds longer than the days' kept rows read more of the days whose
	// kept rows cannot tell them.
	defer func(n int) { feedHeadRows = n }(feedHeadRows)
	feedHeadRows = 4
	if s, err = New(Config{Addr: "127.0.0.1:8080"}, eng); err != nil {
		t.Fatal(err)
	}
	ts = httptest.NewServer(s)
	t.Cleanup(ts.Close)
	check()
	check()
	if s.feedDays.deep.Load() == 0 {
		t.Error("with 4 rows kept of each day, no feed read more of a day")
	}
}

// TestLiveUpdateCountsHighRisk: each live update says how many HIGH risk
// rows gold's newest day has, as gold.risk_scores does.
func TestLiveUpdateCountsHighRisk(t *testing.T) {
	ctx := context.Background()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.VandalBurst = 3000, 25, 80
	p := goldPipeline(t, cfg)
	eng, err := query.Open(ctx, p.LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	s, err := New(Config{Addr: "127.0.0.1:8080", Lakehouse: p.LH}, eng)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.live.update(ctx, map[string]int64{})
	if err != nil {
		t.Fatal(err)
	}
	var u liveUpdate
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	want := p.Query(t, `SELECT count(*) FROM gold.risk_scores WHERE risk_level = 'HIGH'
		AND stat_date = (SELECT max(stat_date) FROM gold.hourly_stats)`)[0][0]
	if fmt.Sprint(u.HighRisk) != fmt.Sprint(want) || u.HighRisk == 0 {
		t.Errorf("live update: %d HIGH risk rows on %s, want %v (and the vandal)", u.HighRisk, u.Hour, want)
	}
}
