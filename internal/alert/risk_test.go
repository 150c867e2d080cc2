package alert

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// riskRow is one gold.risk_scores row, scored by gold's own rules.
type riskRow struct {
	date, entity string
	activity     gold.Activity
	bot          bool
	processed    time.Time
}

// writeRisk replaces the given days of gold.risk_scores with rows, as
// gold does.
func writeRisk(tb testing.TB, lh *lakehouse.Lakehouse, rows []riskRow) {
	tb.Helper()
	ctx := context.Background()
	if _, err := lh.EnsureTable(ctx, lakehouse.RiskScoresTable); err != nil {
		tb.Fatal(err)
	}
	schema, err := table.SchemaToArrowSchema(lakehouse.RiskScoresTable.Schema(), nil, false, false)
	if err != nil {
		tb.Fatal(err)
	}
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, r := range rows {
		filter = iceberg.NewOr(filter, iceberg.EqualTo(iceberg.Reference("stat_date"), r.date))
	}
	_, err = lh.Commit(ctx, lakehouse.GoldRiskScores, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		rec := lakehouse.BuildRecord(schema, rows, nil, func(b *array.RecordBuilder, r riskRow) {
			score, level, ev := gold.Score(r.activity, 1000)
			b.Field(0).(*array.StringBuilder).Append(r.date)
			b.Field(1).(*array.StringBuilder).Append(r.entity)
			b.Field(2).(*array.Float64Builder).Append(float64(score))
			b.Field(3).(*array.StringBuilder).Append(level)
			b.Field(4).(*array.StringBuilder).Append(ev.JSON())
			b.Field(5).(*array.BooleanBuilder).Append(level == gold.LevelHigh && !r.bot)
			b.Field(6).(*array.BooleanBuilder).Append(r.bot)
			b.Field(7).(*array.BooleanBuilder).Append(r.activity.Anonymous)
			b.Field(8).(*array.Int64Builder).Append(r.activity.Edits)
			b.Field(9).(*array.Int32Builder).Append(int32(r.activity.Domains))
			b.Field(10).(*array.TimestampBuilder).Append(arrow.Timestamp(r.processed.UnixMicro()))
			b.Field(11).(*array.Int32Builder).Append(lakehouse.GoldSchemaVersion)
		})
		rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
		rec.Release()
		if err != nil {
			return err
		}
		defer rdr.Release()
		return tx.Overwrite(ctx, rdr, nil, table.WithOverwriteFilter(filter))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// vandal is HIGH: velocity, deletions and anonymity (90 points).
func vandal(entity string) gold.Activity {
	return gold.Activity{Entity: entity, Edits: 80, PeakHourEdits: 70, PeakHour: 13, LargeDeletions: 6,
		LargestRemoval: -5400, AnonymousEdits: 80, Domains: 3, DomainList: []string{"de.wikipedia.org", "en.wikipedia.org", "fr.wikipedia.org"},
		SampleTitles: []string{"Berlin"}, SampleRevisions: []int64{12345}, Anonymous: true}
}

func riskEngine(tb testing.TB, lh *lakehouse.Lakehouse) *query.Engine {
	tb.Helper()
	eng, err := query.Open(context.Background(), lh, []table.Identifier{lakehouse.GoldRiskScores}, query.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	return eng
}

// TestRiskAlerts: HIGH, alerted rows become risk_high alerts with the
// row's evidence; bots, lower levels and rows written before since do
// not.
func TestRiskAlerts(t *testing.T) {
	lh := openLakehouse(t, t.TempDir())
	eng := riskEngine(t, lh)
	ctx := context.Background()

	// Before gold has written anything: no alerts, no error.
	got, err := RiskAlerts(ctx, eng, time.Time{})
	if err != nil || len(got) != 0 {
		t.Fatalf("RiskAlerts before the table exists = %v, %v; want none and no error", got, err)
	}

	p1, p2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	writeRisk(t, lh, []riskRow{
		{date: "2026-11-24", entity: "198.51.100.7", activity: vandal("198.51.100.7"), processed: p1},
		{date: "2026-11-25", entity: "~2026-12345", activity: vandal("~2026-12345"), processed: p2},
		{date: "2026-11-25", entity: "FastBot", activity: vandal("FastBot"), bot: true, processed: p2},
		{date: "2026-11-25", entity: "Alice", activity: gold.Activity{Entity: "Alice", Edits: 3, PeakHourEdits: 2}, processed: p2},
	})
	tests := []struct {
		since time.Time
		want  []string // keys
	}{
		{time.Time{}, []string{"2026-11-24/198.51.100.7", "2026-11-25/~2026-12345"}},
		{p1, []string{"2026-11-25/~2026-12345"}},
		{p2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.since.Format(time.TimeOnly), func(t *testing.T) {
			got, err := RiskAlerts(ctx, eng, tc.since)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, a := range got {
				keys = append(keys, a.Key)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tc.want) {
				t.Errorf("keys %v, want %v", keys, tc.want)
			}
		})
	}

	got, err = RiskAlerts(ctx, eng, p1)
	if err != nil || len(got) != 1 {
		t.Fatalf("RiskAlerts = %v, %v", got, err)
	}
	a := got[0]
	if a.Type != RiskHigh || a.Severity != Warning {
		t.Errorf("type %s severity %s, want risk_high warning", a.Type, a.Severity)
	}
	wantTitle := "High risk editor ~2026-12345 on 2026-11-25: score 90 (high_velocity, large_deletions, anonymous_activity)"
	if a.Title != wantTitle {
		t.Errorf("title %q, want %q", a.Title, wantTitle)
	}
	if !strings.HasPrefix(a.ExecutionID, "gold.risk_scores@") {
		t.Errorf("execution_id %q, want gold.risk_scores@<snapshot>", a.ExecutionID)
	}
	ev := a.Evidence
	for k, want := range map[string]any{"entity": "~2026-12345", "date": "2026-11-25", "score": 90.0, "level": "HIGH",
		"is_anonymous": true, "edits": 80.0, "domains": 3.0} {
		if ev[k] != want {
			t.Errorf("evidence %s = %#v, want %#v", k, ev[k], want)
		}
	}
	factors, _ := ev["factors"].([]any)
	if len(factors) != 4 {
		t.Fatalf("evidence factors %v, want gold's four", ev["factors"])
	}
	f0 := factors[0].(map[string]any)
	if f0["name"] != "high_velocity" || f0["observed"] != 70.0 || f0["triggered"] != true {
		t.Errorf("first factor %v, want high_velocity observed 70, triggered", f0)
	}
	if titles, _ := ev["sample_titles"].([]any); len(titles) != 1 || titles[0] != "Berlin" {
		t.Errorf("sample_titles %v, want [Berlin]", ev["sample_titles"])
	}
}

// raiseLog is a Raiser that keeps what it is given.
type raiseLog struct {
	mu     sync.Mutex
	alerts []Alert
}

func (r *raiseLog) Raise(_ context.Context, a Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a)
	return nil
}

// TestRiskWatcherRaisesOnce: gold rewriting a day (new
// gold_processed_at, same HIGH entity) does not raise it again; a new
// entity is raised; the watcher's first read goes back Lookback.
func TestRiskWatcherRaisesOnce(t *testing.T) {
	lh := openLakehouse(t, t.TempDir())
	eng := riskEngine(t, lh)
	c := newClock(t0.Add(3 * time.Hour))
	cfg := DefaultRiskWatcherConfig()
	cfg.Now, cfg.Lookback = c.Now, 2*time.Hour
	r := &raiseLog{}
	w, err := NewRiskWatcher(cfg, eng, r)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		name  string
		rows  []riskRow
		raise int
	}{
		{"nothing yet", nil, 0},
		{"one written before the lookback, one after", []riskRow{
			{date: "2026-11-24", entity: "Old", activity: vandal("Old"), processed: t0.Add(-time.Hour)},
			{date: "2026-11-25", entity: "A", activity: vandal("A"), processed: t0.Add(2 * time.Hour)}}, 1},
		{"read again", nil, 0},
		{"gold rewrites the day", []riskRow{
			{date: "2026-11-25", entity: "A", activity: vandal("A"), processed: t0.Add(3 * time.Hour)}}, 0},
		{"a new entity that day", []riskRow{
			{date: "2026-11-25", entity: "A", activity: vandal("A"), processed: t0.Add(4 * time.Hour)},
			{date: "2026-11-25", entity: "B", activity: vandal("B"), processed: t0.Add(4 * time.Hour)}}, 1},
		{"the same entity the next day", []riskRow{
			{date: "2026-11-26", entity: "A", activity: vandal("A"), processed: t0.Add(20 * time.Hour)}}, 1},
	}
	total := 0
	for _, st := range steps {
		if st.rows != nil {
			writeRisk(t, lh, st.rows)
		}
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		total += n
		if n != st.raise || len(r.alerts) != total {
			t.Errorf("%s: raised %d (%d in all), want %d", st.name, n, len(r.alerts), st.raise)
		}
	}
	var keys []string
	for _, a := range r.alerts {
		keys = append(keys, a.Key)
	}
	if want := "[2026-11-25/A 2026-11-25/B 2026-11-26/A]"; fmt.Sprint(keys) != want {
		t.Errorf("raised %v, want %s", keys, want)
	}
}

// TestRiskAlertsFromGold runs the real pipeline on generated events with
// a vandal burst, then gold, and finds exactly the vandal's alert.
func TestRiskAlertsFromGold(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline")
	}
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.VandalBurst, cfg.Seed = 2000, 120, 9
	events, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := stagetest.New(t)
	p.Bronze(t, events)
	p.Silver(t)
	p.Gold(t)
	want := p.Query(t, "SELECT stat_date, entity_id FROM gold.risk_scores WHERE risk_level = 'HIGH' AND alert_triggered")
	if len(want) != 1 {
		t.Fatalf("gold has %d alerted HIGH rows, want the vandal alone: %v", len(want), want)
	}
	got, err := RiskAlerts(context.Background(), riskEngine(t, p.LH), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != RiskKey(want[0][0].(string), want[0][1].(string)) {
		t.Fatalf("alerts %+v, want one for %v", got, want[0])
	}
	if fs := triggeredFactors(got[0].Evidence["factors"]); len(fs) < 2 || fs[0] != "high_velocity" {
		t.Errorf("triggered factors %v, want high_velocity and more", fs)
	}
}

// TestRiskNotResentAfterRestart: watcher and dispatcher restart over the
// same lakehouse while gold keeps rewriting the day; the entity's alert
// is sent once, and the second process records its repeat as suppressed.
func TestRiskNotResentAfterRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := newClock(t0.Add(3 * time.Hour))
	run := func(processed time.Time) (sent []Alert) {
		lh := openLakehouse(t, dir)
		defer lh.Close()
		writeRisk(t, lh, []riskRow{{date: "2026-11-25", entity: "V", activity: vandal("V"), processed: processed}})
		tbl, err := NewTableSink(lh)
		if err != nil {
			t.Fatal(err)
		}
		out := &memSink{name: "out"}
		d, err := New(ctx, testConfig(c, prometheus.NewRegistry()), tbl, out)
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, d)
		eng, err := query.Open(ctx, lh, []table.Identifier{lakehouse.GoldRiskScores}, query.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		wc := DefaultRiskWatcherConfig()
		wc.Now = c.Now
		w, err := NewRiskWatcher(wc, eng, d)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v; want 1 raised (a new watcher knows nothing)", n, err)
		}
		stop()
		return out.alerts()
	}
	if got := run(t0.Add(2 * time.Hour)); len(got) != 1 {
		t.Fatalf("first process sent %d alerts, want 1", len(got))
	}
	c.Set(t0.Add(30 * time.Hour)) // the next day, gold rewrote the day again
	if got := run(t0.Add(29 * time.Hour)); len(got) != 0 {
		t.Errorf("restarted process sent %v, want nothing", got)
	}
	lh := openLakehouse(t, dir)
	res := sqlRows(t, lh, lakehouse.OpsAlerts, "SELECT alert_type, suppressed, count(*) FROM ops.alerts GROUP BY ALL ORDER BY 2")
	if got := fmt.Sprint(res.Rows); got != "[[risk_high false 1] [risk_high true 1]]" {
		t.Errorf("ops.alerts %s, want one sent and one suppressed risk_high row", got)
	}
}
