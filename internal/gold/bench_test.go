package gold_test

import (
	"context"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// BenchmarkRiskRefresh times one refresh of gold.risk_scores late in a busy
// day, as the live risk loop runs it: a day of 200k generated events (about
// 20k editors) is in the table, and each refresh adds the 20 events of about
// a second, scores the editors they touch again and rewrites the day, the
// others' rows copied from the table:
//
//	go test -run '^$' -bench BenchmarkRiskRefresh -benchmem ./internal/gold
func BenchmarkRiskRefresh(b *testing.B) {
	ctx := context.Background()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Start = 200_000, 7, day
	cfg.Rate = float64(cfg.Count) / (20 * 3600) // midnight to 20:00
	p := stagetest.New(b)
	feed(b, p, generated(b, cfg))
	s, err := gold.New(ctx, gold.DefaultConfig(), p.LH)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, _, err := gold.RefreshRisk(ctx, s); err != nil {
		b.Fatal(err)
	}
	rows := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		more := gen.DefaultConfig()
		more.Count, more.Seed, more.Start, more.Rate = 20, int64(100+i), day.Add(20*time.Hour+time.Duration(i)*time.Second), 20
		feed(b, p, generated(b, more))
		b.StartTimer()
		_, n, err := gold.RefreshRisk(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	if copied := gold.RiskRowsCopied(s); copied == 0 {
		b.Fatal("no row was copied: the refreshes scored the day whole")
	}
	b.ReportMetric(float64(rows), "rows")
}
