package quality_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/query"
)

// TestCleanPipelinePasses: real and synthetic events through bronze,
// silver and gold pass every built-in check, in one chunk and in many;
// the results land in ops.dq_results, one row per check, queryable; the
// metrics say the same.
func TestCleanPipelinePasses(t *testing.T) {
	p := pipeline(t, events(t))
	lh := p.LH
	reg := prometheus.NewRegistry()
	cfg := quality.DefaultConfig()
	cfg.LookbackDays = 0
	called := false
	cfg.OnFailure = func(context.Context, quality.Report) { called = true }
	st, err := quality.New(cfg, lh, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	engines := query.OpenEngines()
	rep := runOnce(t, st)
	if f := rep.Failures(); len(f) > 0 {
		t.Fatalf("clean pipeline: %d checks did not pass:%s", len(f), describe(rep))
	}
	// The run's SQL engine is closed: DuckDB holds what the queries used
	// until then.
	if n := query.OpenEngines(); n != engines {
		t.Errorf("%d SQL engines open after the run, want %d as before it", n, engines)
	}
	if called {
		t.Error("OnFailure was called for a run where every check passed")
	}
	if got, want := len(rep.Results), len(quality.DefaultChecks(cfg)); got != want {
		t.Errorf("%d results, want one per check (%d)", got, want)
	}
	// Every check read data: none was skipped for want of a table.
	for _, r := range rep.Results {
		if _, skipped := r.Detail["skipped"]; skipped && r.Kind != quality.KindVolume {
			t.Errorf("%s skipped on a full pipeline: %s", r.Check, r.Observed)
		}
	}
	for _, name := range []string{"silver.reconciles_with_bronze", "hourly.reconciles_with_silver", "risk.reconciles_with_silver"} {
		r, _ := rep.Result(name)
		if n, _ := r.Detail["rows"].(int64); n == 0 {
			t.Errorf("%s compared no rows: %s %v", name, r.Observed, r.Detail)
		}
	}

	// In ops.dq_results, queryable.
	got := rows(t, lh, fmt.Sprintf(`SELECT "check", "table", kind, status, observed, expected, detail
		FROM ops.dq_results WHERE run_id = '%s' ORDER BY "check"`, rep.RunID))
	if len(got) != len(rep.Results) {
		t.Fatalf("ops.dq_results has %d rows of run %s, want %d", len(got), rep.RunID, len(rep.Results))
	}
	for _, r := range got {
		if r["status"] != "pass" {
			t.Errorf("ops.dq_results: %v status %v, want pass", r["check"], r["status"])
		}
		var detail map[string]any
		if err := json.Unmarshal([]byte(r["detail"].(string)), &detail); err != nil {
			t.Errorf("ops.dq_results: %v detail is not JSON: %v", r["check"], err)
		}
	}
	if v, ok := metricValue(t, reg, "wikistream_dq_checks_failed", nil); !ok || v != 0 {
		t.Errorf("wikistream_dq_checks_failed = %g (present %t), want 0", v, ok)
	}
	if v, _ := metricValue(t, reg, "wikistream_dq_check_status", map[string]string{"check": "silver.reconciles_with_bronze",
		"table": "silver.cleaned_events"}); v != 1 {
		t.Errorf("wikistream_dq_check_status of silver.reconciles_with_bronze = %g, want 1", v)
	}
	if v, _ := metricValue(t, reg, "wikistream_dq_runs_total", map[string]string{"result": "pass"}); v != 1 {
		t.Errorf("wikistream_dq_runs_total{result=pass} = %g, want 1", v)
	}
	if v, _ := metricValue(t, reg, "wikistream_dq_last_run_timestamp_seconds", nil); v < float64(rep.StartedAt.Unix()) {
		t.Errorf("wikistream_dq_last_run_timestamp_seconds = %g, want the run's start %d", v, rep.StartedAt.Unix())
	}

	// Many chunks give the same verdicts and counts.
	chunked := stage(t, lh, func(c *quality.Config) { c.ChunkRows = 300 })
	rep2 := runOnce(t, chunked)
	if f := rep2.Failures(); len(f) > 0 {
		t.Fatalf("clean pipeline in chunks of 300 rows: %d checks did not pass:%s", len(f), describe(rep2))
	}
	for _, name := range []string{"bronze.event_id_unique", "silver.reconciles_with_bronze", "silver.event_type_allowed"} {
		a, _ := rep.Result(name)
		b, _ := rep2.Result(name)
		if fmt.Sprint(a.Detail["rows"]) != fmt.Sprint(b.Detail["rows"]) {
			t.Errorf("%s: %v rows in one chunk, %v in chunks", name, a.Detail["rows"], b.Detail["rows"])
		}
	}
}

// metricValue reads a gauge or counter from the registry: the series of
// the metric whose labels include the given ones. ok is false when there
// is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// TestRunWaitsForFirstRun: Run's first run comes FirstRunAfter after it
// starts (a restarted process catches up meanwhile); with 0 it comes at
// once.
func TestRunWaitsForFirstRun(t *testing.T) {
	lh := pipeline(t, events(t)).LH
	for _, tc := range []struct {
		first time.Duration
		runs  bool
	}{{time.Hour, false}, {0, true}} {
		st := stage(t, lh, func(c *quality.Config) { c.FirstRunAfter = tc.first })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- st.Run(ctx) }()
		deadline := time.Now().Add(30 * time.Second)
		if !tc.runs {
			deadline = time.Now().Add(time.Second)
		}
		for time.Now().Before(deadline) {
			if _, ok := st.Last(); ok {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, ok := st.Last(); ok != tc.runs {
			t.Errorf("first run after %v: a run within the wait: %v, want %v", tc.first, ok, tc.runs)
		}
	}
}
