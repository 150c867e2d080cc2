package gold_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// referenceActivity is the risk score's input computed by SQL straight from
// silver: the reference gold's in-memory activity must equal. The peak
// hour is the earliest of the busiest; samples are the first five by
// (event_timestamp, event_id). The top domain is the wiki with the most
// edits, the first by name on a tie (tied tells whether another wiki has as
// many); the sample edits are the first five with a revision and the first
// five large deletions with a revision, once each, by (length_delta,
// event_timestamp, event_id), as the risk feed read them from silver.
const referenceActivity = `WITH e AS (
		SELECT event_date, user_normalized AS entity, event_hour, domain, title, revision_old, revision_new,
			event_timestamp, event_id, is_bot, is_anonymous, is_large_deletion, length_delta
		FROM silver.cleaned_events
		WHERE is_valid AND event_type IN ('edit', 'new') AND user_normalized IS NOT NULL),
	hours AS (SELECT event_date, entity, event_hour, count(*) AS n FROM e GROUP BY ALL),
	peak AS (SELECT event_date, entity, max(n) AS peak, min(event_hour) FILTER (WHERE n = peak_n) AS peak_hour
		FROM (SELECT *, max(n) OVER (PARTITION BY event_date, entity) AS peak_n FROM hours) GROUP BY ALL),
	wikis AS (SELECT event_date, entity, domain, count(*) AS n FROM e GROUP BY ALL),
	top AS (SELECT event_date, entity, first(domain ORDER BY n DESC, domain) AS top_domain,
			count(*) FILTER (WHERE n = top_n) > 1 AS tied
		FROM (SELECT *, max(n) OVER (PARTITION BY event_date, entity) AS top_n FROM wikis) GROUP BY ALL),
	picked AS (
		SELECT * EXCLUDE (k) FROM (SELECT *, row_number() OVER (PARTITION BY event_date, entity
			ORDER BY event_timestamp, event_id) AS k FROM e WHERE revision_new IS NOT NULL) WHERE k <= 5
		UNION
		SELECT * EXCLUDE (k) FROM (SELECT *, row_number() OVER (PARTITION BY event_date, entity
			ORDER BY event_timestamp, event_id) AS k FROM e WHERE revision_new IS NOT NULL AND is_large_deletion) WHERE k <= 5),
	samples AS (SELECT event_date, entity, list({'domain': domain, 'title': title, 'revision_old': revision_old,
			'revision_new': revision_new, 'length_delta': length_delta, 'event_timestamp': event_timestamp}
			ORDER BY length_delta, event_timestamp, event_id) AS samples
		FROM picked GROUP BY ALL)
	SELECT e.event_date, e.entity, count(*), any_value(peak.peak), any_value(peak.peak_hour),
		sum(is_large_deletion::INT), min(length_delta), sum(is_anonymous::INT),
		count(DISTINCT domain), list(DISTINCT domain ORDER BY domain),
		list(title ORDER BY event_timestamp, event_id) FILTER (WHERE is_large_deletion AND title IS NOT NULL),
		list(revision_new ORDER BY event_timestamp, event_id) FILTER (WHERE is_large_deletion AND revision_new IS NOT NULL),
		list(title ORDER BY event_timestamp, event_id) FILTER (WHERE title IS NOT NULL),
		list(revision_new ORDER BY event_timestamp, event_id) FILTER (WHERE revision_new IS NOT NULL),
		bool_or(is_bot), bool_and(is_anonymous),
		any_value(top.top_domain), any_value(top.tied), any_value(samples.samples)
	FROM e JOIN peak USING (event_date, entity) JOIN top USING (event_date, entity)
		LEFT JOIN samples USING (event_date, entity)
	GROUP BY e.event_date, e.entity ORDER BY 1, 2`

// referenceSamples turns the samples column of referenceActivity, as the
// API renders SQL values (query.Result.JSONValue, which the risk feed's
// silver query went through), into the evidence's samples.
func referenceSamples(tb testing.TB, v any) []gold.Sample {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	out := []gold.Sample{}
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatalf("samples %s: %v", b, err)
	}
	return out
}

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
	defer gold.SetChunkRows(41)() // several records and row groups per day, as a busy day has
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
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), referenceActivity, query.At{})
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Rows
	if most := checkRiskOrder(t, p); most < 3 {
		t.Errorf("a day's file has at most %d row groups: the test does not exercise the head and several groups after it", most)
	}
	got := p.Query(t, `SELECT stat_date, entity_id, risk_score, risk_level, evidence, alert_triggered, is_bot, is_anonymous,
		total_edits, domains FROM gold.risk_scores ORDER BY 1, 2`)
	if len(got) != len(ref) {
		t.Fatalf("gold has %d risk rows, the reference %d", len(got), len(ref))
	}
	var high, deletions, tied, nullOld, union int
	for i, r := range ref {
		a := gold.Activity{Date: fmt.Sprint(r[0]), Entity: fmt.Sprint(r[1]), Edits: toInt64(r[2]),
			PeakHourEdits: toInt64(r[3]), PeakHour: int32(toInt64(r[4])), LargeDeletions: toInt64(r[5]),
			LargestRemoval: toInt64(r[6]), AnonymousEdits: toInt64(r[7]), Domains: toInt64(r[8]),
			DomainList: firstStrings(r[9], 10), DeletionTitles: firstStrings(r[10], 5), DeletionRevs: firstInts(r[11], 5),
			SampleTitles: firstStrings(r[12], 5), SampleRevisions: firstInts(r[13], 5), IsBot: r[14] == true, Anonymous: r[15] == true,
			TopDomain: fmt.Sprint(r[16]), Samples: referenceSamples(t, res.JSONValue(i, 18))}
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
		if r[17] == true {
			tied++
		}
		for _, s := range a.Samples {
			if s.RevisionOld == nil {
				nullOld++
			}
		}
		if len(a.Samples) > len(a.SampleRevisions) {
			union++ // large deletions later than the first five edits
		}
	}
	if high == 0 || deletions == 0 {
		t.Errorf("%d HIGH entities and %d with large deletions: the sample must exercise them", high, deletions)
	}
	if tied == 0 || nullOld == 0 || union == 0 {
		t.Errorf("%d entity-days with a tie for the top wiki, %d sample edits without a previous revision, "+
			"%d entity-days whose samples add large deletions: the sample must exercise them", tied, nullOld, union)
	}
}
