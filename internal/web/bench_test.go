package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// BenchmarkAPI measures the dashboard API over 30 days of generated events
// (DESIGN §5: p95 under 50 ms). It reports each endpoint's p50 and p95:
//
//	go test -run '^$' -bench BenchmarkAPI -benchtime 100x ./internal/web
//
// The engine is configured as `wikistream run` and `wikistream serve`
// configure it: gold.hourly_stats is resident (ResidentTables), copied into
// DuckDB memory in the background after each commit. The endpoints are
// timed warm (repeated requests between two commits), and the cold_*
// sub-benchmarks time the first request after a commit: before each timed
// request, a small batch of new events (the last hour) goes through bronze,
// silver and gold, and the engine is asked to copy it (Refresh, as the live
// poller does before it tells the dashboard; untimed), so every request
// reads new snapshots (gold.risk_scores' is planned on the request). They
// run at most coldRuns times. Table maintenance is not run: it would not change gold
// (one file per day and region already; compaction needs 5) nor most of
// silver's 150 partitions.
func BenchmarkAPI(b *testing.B) {
	p, start, end := loadMonth(b)
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	s, err := New(Config{Addr: "127.0.0.1:8080", Now: func() time.Time { return end }}, eng)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	month := "from=" + start.Format(time.DateOnly) + "&to=" + end.Format(time.DateOnly)
	get := func(b *testing.B, path string) time.Duration { return timeGet(b, ts.URL+path) }
	report := func(b *testing.B, took []time.Duration) { reportTimes(b, "", took) }
	// The first copy of gold is made in the background: time the warm
	// requests once it is there.
	if err := eng.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, path string }{
		{"hourly_24h", "/api/v1/stats/hourly"},
		{"hourly_30d_by_region", "/api/v1/stats/hourly?group=region&" + month},
		{"regions_30d", "/api/v1/stats/regions?" + month},
		{"risk_30d", "/api/v1/risk?" + month},
		{"hourly_30d_one_wiki", "/api/v1/stats/hourly?domain=en.wikipedia.org&" + month},
		{"summary_24h", "/api/v1/stats/summary"},
		{"summary_30d", "/api/v1/stats/summary?" + month},
		{"wikis_30d", "/api/v1/stats/wikis?limit=100&" + month},
		{"contributors_24h", "/api/v1/top/contributors?limit=15"},
		{"contributors_30d", "/api/v1/top/contributors?limit=15&" + month},
		{"pages_24h_no_bots", "/api/v1/top/pages?limit=15&exclude_bots=true"},
		{"pages_30d_no_bots", "/api/v1/top/pages?limit=15&exclude_bots=true&" + month},
		{"risk_30d_feed", "/api/v1/risk?limit=30&" + month},
		// The generated month has LOW risk rows only: at the default level
		// the feed has no rows, and no sample edits to show.
		{"risk_30d_feed_low", "/api/v1/risk?limit=30&min_level=LOW&" + month},
		{"quality", "/api/v1/quality"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				took = append(took, get(b, c.path))
			}
			report(b, took)
		})
	}

	// The first request after a commit.
	batch := 0
	commit := func(b *testing.B) {
		batch++
		c := gen.DefaultConfig()
		c.Count, c.Seed = 200, int64(1000+batch)
		c.Start = end.Add(-time.Hour)
		c.Rate = float64(c.Count) / 3600
		events, err := gen.Lines(c)
		if err != nil {
			b.Fatal(err)
		}
		p.Bronze(b, events)
		p.Silver(b)
		p.Gold(b)
		// As the live poller does on seeing the commit, before it tells
		// the dashboard (see BenchmarkAPILive for requests that do not
		// wait for it).
		if err := eng.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct{ name, path string }{
		{"cold_hourly_24h", "/api/v1/stats/hourly"},
		{"cold_hourly_30d_by_region", "/api/v1/stats/hourly?group=region&" + month},
		{"cold_summary_30d", "/api/v1/stats/summary?" + month},
		{"cold_risk_30d_feed", "/api/v1/risk?limit=30&" + month},
		{"cold_risk_30d_feed_low", "/api/v1/risk?limit=30&min_level=LOW&" + month},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for range min(b.N, coldRuns) {
				b.StopTimer()
				commit(b)
				b.StartTimer()
				took = append(took, get(b, c.path))
			}
			report(b, took)
		})
	}
}

// coldRuns bounds the cold_* sub-benchmarks: each run first puts a batch
// through the pipeline, which takes about a second.
const coldRuns = 20

// loadMonth puts 300k generated events spread over 30 days of event time
// through bronze, silver and gold, and returns the pipeline and the range
// of event time [start, end).
func loadMonth(b *testing.B) (p *stagetest.Pipeline, start, end time.Time) {
	b.Helper()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 300_000, 30
	cfg.Rate = float64(cfg.Count) / (30 * 24 * 3600) // 30 days of event time
	return goldPipeline(b, cfg), cfg.Start, cfg.Start.Add(30 * 24 * time.Hour)
}

// timeGet requests url, reads the whole answer and returns how long it took.
func timeGet(b *testing.B, url string) time.Duration {
	t0 := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %d %s", url, resp.StatusCode, body)
	}
	return time.Since(t0)
}

// reportTimes reports the p50 and p95 of took as the metrics
// <prefix>p50-ms and <prefix>p95-ms.
func reportTimes(b *testing.B, prefix string, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, prefix+"p95-ms")
}
