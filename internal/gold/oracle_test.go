package gold_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// referenceActivity is the risk score's input computed by SQL straight from
// silver: the reference gold's in-memory activity must equal. The peak
// hour is the earliest of the busiest; samples are the first five by
// (event_timestamp, event_id).
const referenceActivity = `WITH e AS (
		SELECT event_date, user_normalized AS entity, event_hour, domain, title, revision_new, event_timestamp,
			event_id, is_bot, is_anonymous, is_large_deletion, length_delta
		FROM silver.cleaned_events
		WHERE is_valid AND event_type IN ('edit', 'new') AND user_normalized IS NOT NULL),
	hours AS (SELECT event_date, entity, event_hour, count(*) AS n FROM e GROUP BY ALL),
	peak AS (SELECT event_date, entity, max(n) AS peak, min(event_hour) FILTER (WHERE n = peak_n) AS peak_hour
		FROM (SELECT *, max(n) OVER (PARTITION BY event_date, entity) AS peak_n FROM hours) GROUP BY ALL)
	SELECT e.event_date, e.entity, count(*), any_value(peak.peak), any_value(peak.peak_hour),
		sum(is_large_deletion::INT), min(length_delta), sum(is_anonymous::INT),
		count(DISTINCT domain), list(DISTINCT domain ORDER BY domain),
		list(title ORDER BY event_timestamp, event_id) FILTER (WHERE is_large_deletion AND title IS NOT NULL),
		list(revision_new ORDER BY event_timestamp, event_id) FILTER (WHERE is_large_deletion AND revision_new IS NOT NULL),
		list(title ORDER BY event_timestamp, event_id) FILTER (WHERE title IS NOT NULL),
		list(revision_new ORDER BY event_timestamp, event_id) FILTER (WHERE revision_new IS NOT NULL),
		bool_or(is_bot), bool_and(is_anonymous)
	FROM e JOIN peak USING (event_date, entity)
	GROUP BY e.event_date, e.entity ORDER BY 1, 2`

func firstStrings(v any, n int) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list[:min(n, len(list))] {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func firstInts(v any, n int) []int64 {
	list, _ := v.([]any)
	out := []int64{}
	for _, x := range list[:min(n, len(list))] {
		out = append(out, toInt64(x))
	}
	return out
}

// TestRiskEqualsSQLReference: every gold.risk_scores row, built
// incrementally over several silver commits by one stage, equals the score
// and evidence of the activity SQL computes from silver in one query.
func TestRiskEqualsSQLReference(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.VandalBurst, cfg.OutOfOrder, cfg.Rate = 3000, 11, 80, 0.2, 0.5
	events, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer gold.SetRiskChunk(97)() // several records per day, as a busy day has
	p := stagetest.New(t)
	g, err := gold.New(context.Background(), gold.DefaultConfig(), p.LH)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for i := 0; i < len(events); i += 700 {
		feed(t, p, events[i:min(i+700, len(events))])
		if _, err := g.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ref := p.Query(t, referenceActivity)
	got := p.Query(t, `SELECT stat_date, entity_id, risk_score, risk_level, evidence, alert_triggered, is_bot, is_anonymous,
		total_edits, domains FROM gold.risk_scores ORDER BY 1, 2`)
	if len(got) != len(ref) {
		t.Fatalf("gold has %d risk rows, the reference %d", len(got), len(ref))
	}
	var high, deletions int
	for i, r := range ref {
		a := gold.Activity{Date: fmt.Sprint(r[0]), Entity: fmt.Sprint(r[1]), Edits: toInt64(r[2]),
			PeakHourEdits: toInt64(r[3]), PeakHour: int32(toInt64(r[4])), LargeDeletions: toInt64(r[5]),
			LargestRemoval: toInt64(r[6]), AnonymousEdits: toInt64(r[7]), Domains: toInt64(r[8]),
			DomainList: firstStrings(r[9], 10), DeletionTitles: firstStrings(r[10], 5), DeletionRevs: firstInts(r[11], 5),
			SampleTitles: firstStrings(r[12], 5), SampleRevisions: firstInts(r[13], 5), IsBot: r[14] == true, Anonymous: r[15] == true}
		score, level, ev := gold.Score(a, 1000)
		want := fmt.Sprint([]any{a.Date, a.Entity, float64(score), level, ev.JSON(), level == gold.LevelHigh && !a.IsBot,
			a.IsBot, a.Anonymous, a.Edits, int32(a.Domains)})
		if g := fmt.Sprint(got[i]); g != want {
			t.Fatalf("row %d:\ngot  %s\nwant %s", i, g, want)
		}
		if level == gold.LevelHigh {
			high++
		}
		if a.LargeDeletions > 0 {
			deletions++
		}
	}
	if high == 0 || deletions == 0 {
		t.Errorf("%d HIGH entities and %d with large deletions: the sample must exercise them", high, deletions)
	}
}
