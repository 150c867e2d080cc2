package gold_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/stagetest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// lines reads up to max events of a recorded file.
func lines(tb testing.TB, name string, max int) [][]byte {
	all := ssetest.ReadLines(tb, ssetest.SharedData(tb, name))
	return all[:min(max, len(all))]
}

// feed commits events through bronze and silver.
func feed(tb testing.TB, p *stagetest.Pipeline, events [][]byte) {
	tb.Helper()
	p.Bronze(tb, events)
	p.Silver(tb)
}

// generated is cfg's events.
func generated(tb testing.TB, cfg gen.Config) [][]byte {
	tb.Helper()
	events, err := gen.Lines(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return events
}

// newStage starts a gold stage over p's tables, closed when the test ends.
func newStage(tb testing.TB, p *stagetest.Pipeline) *gold.Stage {
	tb.Helper()
	g, err := gold.New(context.Background(), gold.DefaultConfig(), p.LH)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { g.Close() })
	return g
}

// holdBackTenth returns events in order but for about a tenth of them,
// picked by r, which come at the end: late events into hours and days
// written long before.
func holdBackTenth(events [][]byte, r *rand.Rand) [][]byte {
	var inOrder, late [][]byte
	for _, e := range events {
		if r.IntN(10) == 0 {
			late = append(late, e)
		} else {
			inOrder = append(inOrder, e)
		}
	}
	return append(inOrder, late...)
}

// sameRows fails the test unless the rows of got and want (SQL over p)
// are the same, and at least 100.
func sameRows(tb testing.TB, p *stagetest.Pipeline, name, got, want string) {
	tb.Helper()
	g, w := p.Query(tb, got), p.Query(tb, want)
	if len(g) != len(w) || len(g) < 100 {
		tb.Fatalf("%s: %d rows, want %d (at least 100)", name, len(g), len(w))
	}
	for i := range g {
		if gs, ws := fmt.Sprint(g[i]), fmt.Sprint(w[i]); gs != ws {
			tb.Fatalf("%s row %d:\ngot  %s\nwant %s", name, i, gs, ws)
		}
	}
}

func toInt64(v any) int64 {
	var n int64
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// hourKey is (date, hour, domain) in the test's own arithmetic.
type hourKey struct {
	date   string
	hour   int
	domain string
}

type hourAgg struct {
	events, added, removed, newPages int64
	users, pages                     map[string]bool
}

// expectHourly aggregates the raw events by (UTC date, hour, domain).
func expectHourly(tb testing.TB, events [][]byte) map[hourKey]*hourAgg {
	out := map[hourKey]*hourAgg{}
	seen := map[string]bool{}
	for _, raw := range events {
		ev, err := recentchange.Decode(raw, time.Now(), recentchange.DefaultLimits())
		if err != nil || seen[ev.EventID()] {
			continue
		}
		seen[ev.EventID()] = true
		var m struct {
			Meta      struct{ Domain string }  `json:"meta"`
			Timestamp int64                    `json:"timestamp"`
			User      string                   `json:"user"`
			Title     string                   `json:"title"`
			Type      string                   `json:"type"`
			Length    struct{ Old, New int64 } `json:"length"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			tb.Fatal(err)
		}
		ts := time.Unix(m.Timestamp, 0).UTC()
		k := hourKey{ts.Format("2006-01-02"), ts.Hour(), m.Meta.Domain}
		a := out[k]
		if a == nil {
			a = &hourAgg{users: map[string]bool{}, pages: map[string]bool{}}
			out[k] = a
		}
		a.events++
		d := m.Length.New - m.Length.Old
		if d > 0 {
			a.added += d
		} else {
			a.removed -= d
		}
		if m.Type == "new" {
			a.newPages++
		}
		a.users[m.User] = true
		a.pages[m.Title] = true
	}
	return out
}

// TestGoldOnRecordedEvents: every hourly_stats row equals the test's own
// aggregation of the raw recorded events; running again changes nothing;
// late events update the right past hour.
func TestGoldOnRecordedEvents(t *testing.T) {
	events := lines(t, "polars_book_wikimedia_enwiki_2023-07-29.ndjson", 100)
	events = append(events, lines(t, "arvindp25_DataPlumbHub_stream2025-05-03_07_46_20Z.jsonl", 200)...)
	events = append(events, lines(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz", 3000)...)
	p := stagetest.New(t)
	feed(t, p, events)
	if invalid := p.Query(t, "SELECT count(*) FROM silver.cleaned_events WHERE NOT is_valid")[0][0]; fmt.Sprint(invalid) != "0" {
		t.Fatalf("%v invalid silver rows in the recorded sample; the expectation below counts every event", invalid)
	}
	cfg := gold.DefaultConfig()
	hourlyCommits := 0 // HourlyCommitted calls: one per commit to gold.hourly_stats
	cfg.HourlyCommitted = func() { hourlyCommits++ }
	g, err := gold.New(context.Background(), cfg, p.LH)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hourlyCommits != 1 {
		t.Errorf("HourlyCommitted called %d times after the first run, want 1", hourlyCommits)
	}
	check := func(events [][]byte) {
		t.Helper()
		want := expectHourly(t, events)
		got := p.Query(t, `SELECT stat_date, stat_hour, domain, total_events, unique_users, bytes_added, bytes_removed, new_pages, unique_pages
			FROM gold.hourly_stats`)
		if len(got) != len(want) {
			t.Fatalf("gold.hourly_stats has %d rows, want %d (date, hour, domain) keys", len(got), len(want))
		}
		for _, r := range got {
			k := hourKey{r[0].(string), int(toInt64(r[1])), r[2].(string)}
			a := want[k]
			if a == nil {
				t.Fatalf("unexpected hourly row %v", k)
			}
			gotVals := fmt.Sprint(r[3:])
			wantVals := fmt.Sprint([]any{a.events, int64(len(a.users)), a.added, a.removed, a.newPages, int64(len(a.pages))})
			if gotVals != wantVals {
				t.Errorf("%v: got %s, want %s (events, users, added, removed, new pages, pages)", k, gotVals, wantVals)
			}
		}
	}
	check(events)

	snaps := func() string {
		var out []string
		for _, id := range []lakehouse.TableDef{lakehouse.HourlyStatsTable, lakehouse.RiskScoresTable} {
			tbl, _ := p.LH.Load(context.Background(), id.Ident)
			out = append(out, fmt.Sprint(lakehouse.SnapshotID(tbl)))
		}
		return strings.Join(out, ",")
	}
	before := snaps()
	if res, err := g.RunOnce(context.Background()); err != nil || res.Hours+res.Days != 0 {
		t.Fatalf("second run: %+v %v; want nothing to do", res, err)
	}
	if after := snaps(); after != before {
		t.Errorf("a second run committed: snapshots %s, before %s", after, before)
	}
	if hourlyCommits != 1 {
		t.Errorf("HourlyCommitted called %d times after a run that committed nothing, want still 1", hourlyCommits)
	}

	// Late events: more of an hour already in gold (and duplicates).
	late := lines(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz", 3600)[3000:]
	late = append(late, events[:50]...)
	feed(t, p, late)
	if _, err := g.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(append(events, late...))
	if ok, err := g.CaughtUp(context.Background()); err != nil || !ok {
		t.Errorf("CaughtUp = %t, %v after a run; want true", ok, err)
	}
}

// TestRiskFlagsVandalBurst: the generator's vandal-like burst (one
// anonymous editor, many large deletions on many wikis within an hour) is
// HIGH, alerted, with evidence naming the factors.
func TestRiskFlagsVandalBurst(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.VandalBurst, cfg.Seed = 2000, 120, 9
	p := stagetest.New(t)
	feed(t, p, generated(t, cfg))
	g := newStage(t, p)
	if _, err := g.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	high := p.Query(t, `SELECT entity_id, risk_score, evidence, alert_triggered, is_anonymous FROM gold.risk_scores WHERE risk_level = 'HIGH'`)
	if len(high) != 1 {
		t.Fatalf("%d HIGH entities, want exactly the vandal: %v", len(high), high)
	}
	r := high[0]
	if r[3] != true || r[4] != true {
		t.Errorf("vandal %v: alert_triggered %v, is_anonymous %v; want both true", r[0], r[3], r[4])
	}
	var ev gold.Evidence
	if err := json.Unmarshal([]byte(r[2].(string)), &ev); err != nil {
		t.Fatal(err)
	}
	fired := map[string]gold.Factor{}
	for _, f := range ev.Factors {
		if f.Triggered {
			fired[f.Name] = f
		}
	}
	if _, ok := fired["high_velocity"]; !ok || fired["high_velocity"].Observed <= gold.VelocityThreshold {
		t.Errorf("evidence lacks high velocity above %d: %+v", gold.VelocityThreshold, ev.Factors)
	}
	if _, ok := fired["large_deletions"]; !ok {
		t.Errorf("evidence lacks large deletions: %+v", ev.Factors)
	}
	if len(ev.SampleTitles) == 0 || len(ev.SampleRevisions) == 0 {
		t.Errorf("evidence has no sample titles or revisions: %+v", ev)
	}
	// Every other entity is below HIGH, and each entity has one row a day.
	dups := p.Query(t, "SELECT count(*) - count(DISTINCT (stat_date, entity_id)) FROM gold.risk_scores")
	if fmt.Sprint(dups[0][0]) != "0" {
		t.Errorf("%v duplicate (stat_date, entity_id) rows", dups[0][0])
	}
}

// TestRunKeepsHourlyWhileRiskIsSlow: Run refreshes gold.risk_scores in a
// loop of its own, so while a risk refresh is held up (late in a busy day
// it rewrites tens of thousands of editors' rows), new silver commits still
// reach gold.hourly_stats; once it goes on, gold catches up whole.
func TestRunKeepsHourlyWhileRiskIsSlow(t *testing.T) {
	p := stagetest.New(t)
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 400, 11
	events := generated(t, cfg)
	feed(t, p, events[:200])
	g := newStage(t, p)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	gold.SetBeforeRisk(g, func() {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	<-entered

	served := func() int64 {
		if _, err := p.LH.Load(context.Background(), lakehouse.GoldHourlyStats); err != nil {
			return -1 // not created yet
		}
		return toInt64(p.Query(t, "SELECT coalesce(sum(total_events), 0) FROM gold.hourly_stats")[0][0])
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute", what)
			}
		}
	}
	waitFor("the first 200 events in gold.hourly_stats", func() bool { return served() == 200 })
	feed(t, p, events[200:])
	waitFor("all 400 events in gold.hourly_stats while the risk refresh is held", func() bool { return served() == 400 })

	close(release)
	released = true
	waitFor("gold caught up", func() bool {
		ok, err := g.CaughtUp(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	got := toInt64(p.Query(t, "SELECT sum(total_edits) FROM gold.risk_scores")[0][0])
	want := toInt64(p.Query(t, `SELECT count(*) FROM silver.cleaned_events
		WHERE is_valid AND event_type IN ('edit', 'new') AND user_normalized IS NOT NULL`)[0][0])
	if got != want || want == 0 {
		t.Errorf("gold.risk_scores counts %d edits, silver %d (want equal, and some)", got, want)
	}
}

// TestRiskRestValidated: a negative, infinite or NaN RiskRest is refused
// with its name; 0 (no rest) and the default are fine.
func TestRiskRestValidated(t *testing.T) {
	for _, v := range []float64{-1, math.Inf(1), math.NaN()} {
		cfg := gold.DefaultConfig()
		cfg.RiskRest = v
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "risk rest") {
			t.Errorf("RiskRest %g: got %v, want an error naming the risk rest", v, err)
		}
	}
	for _, v := range []float64{0, gold.DefaultConfig().RiskRest} {
		cfg := gold.DefaultConfig()
		cfg.RiskRest = v
		if err := cfg.Validate(); err != nil {
			t.Errorf("RiskRest %g: %v", v, err)
		}
	}
}
