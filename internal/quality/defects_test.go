package quality_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// defect plants one problem into a clean pipeline.
type defect struct {
	name string
	// plant writes the defect; it may return config changes (a clock).
	plant func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config)
	// want are the checks that must fail, and no others.
	want []string
	// evidence must appear in the first wanted check's detail JSON.
	evidence string
}

func eq(col string, v any) iceberg.BooleanExpression {
	switch v := v.(type) {
	case string:
		return iceberg.EqualTo(iceberg.Reference(col), v)
	case int32:
		return iceberg.EqualTo(iceberg.Reference(col), v)
	}
	panic(fmt.Sprintf("eq %s: %T", col, v))
}

func and(a, b iceberg.BooleanExpression, more ...iceberg.BooleanExpression) iceberg.BooleanExpression {
	return iceberg.NewAnd(a, b, more...)
}

// bronzeRow is a copy of a bronze event with a new id and the changes.
func bronzeRow(t *testing.T, p *stagetest.Pipeline, seed string, changes map[string]any) map[string]any {
	r := one(t, p.LH, "SELECT * FROM bronze.raw_events ORDER BY event_id LIMIT 1")
	return with(r, with(map[string]any{"event_id": newID(seed)}, changes))
}

// recentSilver picks a valid row of the synthetic (recent) events.
const recentSilver = "SELECT * FROM silver.cleaned_events WHERE event_timestamp > now() - INTERVAL 1 DAY AND is_valid ORDER BY event_id LIMIT 1"

var defects = []defect{
	{name: "bronze duplicate event_id", want: []string{"bronze.event_id_unique"}, evidence: `"copies":2`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM bronze.raw_events ORDER BY event_id DESC LIMIT 1")
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{r}, nil)
			return nil
		}},
	{name: "bronze blank event_id", want: []string{"bronze.event_id_complete"}, evidence: `"event_id":""`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{bronzeRow(t, p, "x", map[string]any{"event_id": ""})}, nil)
			return nil
		}},
	{name: "bronze unknown event_type", want: []string{"bronze.event_type_allowed"}, evidence: `"event_type":"vandalism"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{bronzeRow(t, p, "type", map[string]any{"event_type": "vandalism"})}, nil)
			return nil
		}},
	{name: "bronze event stamped an hour after ingest", want: []string{"bronze.event_timestamp_not_future"}, evidence: newID("future"),
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := bronzeRow(t, p, "future", nil)
			r["event_timestamp"] = r["ingested_at"].(time.Time).Add(time.Hour)
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{r}, nil)
			return nil
		}},
	{name: "bronze stream event 8 days older than its ingest", want: []string{"bronze.event_timestamp_within_late_window"},
		evidence: newID("late"),
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := bronzeRow(t, p, "late", map[string]any{"source": "https://stream.wikimedia.org/v2/stream/recentchange"})
			ts := r["ingested_at"].(time.Time).Add(-8 * 24 * time.Hour)
			r["event_timestamp"], r["event_date"], r["event_hour"] = ts, ts.Format(time.DateOnly), int32(ts.Hour())
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{r}, nil)
			return nil
		}},
	{name: "bronze archived event from a file is not late", want: nil,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := bronzeRow(t, p, "archive", map[string]any{"source": "/srv/archive/2015.jsonl.gz"})
			ts := r["ingested_at"].(time.Time).Add(-10 * 365 * 24 * time.Hour)
			r["event_timestamp"], r["event_date"], r["event_hour"] = ts, ts.Format(time.DateOnly), int32(ts.Hour())
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{r}, nil)
			return nil
		}},
	{name: "dlq duplicate and reasonless dead letters", want: []string{"dlq.dlq_id_unique", "dlq.reason_allowed"},
		evidence: `"copies":2`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM bronze.dlq_events ORDER BY dlq_id LIMIT 1")
			write(t, p.LH, lakehouse.BronzeDLQEvents, []map[string]any{r, with(r, map[string]any{"dlq_id": newID("dlq"), "reason": "bogus"})}, nil)
			return nil
		}},
	{name: "silver duplicate event_id", want: []string{"silver.event_id_unique", "silver.reconciles_with_bronze"},
		evidence: `"copies":2`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			write(t, p.LH, lakehouse.SilverCleanedEvents, []map[string]any{one(t, p.LH, recentSilver)}, nil)
			return nil
		}},
	{name: "silver missing rows", want: []string{"silver.reconciles_with_bronze"}, evidence: `"problem":"missing"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			ids := rows(t, p.LH, "SELECT event_id FROM silver.cleaned_events ORDER BY event_id LIMIT 3")
			var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
			for _, r := range ids {
				filter = iceberg.NewOr(filter, eq("event_id", r["event_id"]))
			}
			write(t, p.LH, lakehouse.SilverCleanedEvents, nil, filter)
			return nil
		}},
	{name: "silver row no bronze event has", want: []string{"silver.reconciles_with_bronze"}, evidence: `"problem":"unexpected"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, recentSilver)
			write(t, p.LH, lakehouse.SilverCleanedEvents, []map[string]any{with(r, map[string]any{"event_id": newID("ghost")})}, nil)
			return nil
		}},
	{name: "silver event with another domain than bronze's", want: []string{"silver.reconciles_with_bronze"},
		evidence: `"problem":"different"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, recentSilver)
			write(t, p.LH, lakehouse.SilverCleanedEvents, []map[string]any{with(r, map[string]any{"domain": "xx.wikipedia.org"})},
				eq("event_id", r["event_id"]))
			return nil
		}},
	{name: "silver unknown region", want: []string{"silver.region_allowed"}, evidence: `"region":"atlantis"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, recentSilver)
			write(t, p.LH, lakehouse.SilverCleanedEvents, []map[string]any{with(r, map[string]any{"region": "atlantis"})},
				eq("event_id", r["event_id"]))
			return nil
		}},
	{name: "silver event_hour not the timestamp's", want: []string{"silver.partition_matches_timestamp"},
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, recentSilver)
			write(t, p.LH, lakehouse.SilverCleanedEvents,
				[]map[string]any{with(r, map[string]any{"event_hour": (r["event_hour"].(int32) + 1) % 24})},
				eq("event_id", r["event_id"]))
			return nil
		}},
	{name: "silver event stamped after silver processed it", want: []string{"silver.event_timestamp_not_future"},
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, recentSilver)
			r["silver_processed_at"] = r["event_timestamp"].(time.Time).Add(-time.Hour)
			write(t, p.LH, lakehouse.SilverCleanedEvents, []map[string]any{r}, eq("event_id", r["event_id"]))
			return nil
		}},
	{name: "gold wrong hourly total", want: []string{"hourly.reconciles_with_silver"}, evidence: `"problem":"different"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM gold.hourly_stats ORDER BY total_events DESC, domain LIMIT 1")
			r["total_events"] = r["total_events"].(int64) + 1
			write(t, p.LH, lakehouse.GoldHourlyStats, []map[string]any{r},
				and(eq("stat_date", r["stat_date"]), eq("stat_hour", r["stat_hour"]), eq("domain", r["domain"])))
			return nil
		}},
	{name: "gold missing hour", want: []string{"hourly.reconciles_with_silver"}, evidence: `"problem":"missing"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM gold.hourly_stats ORDER BY stat_date, stat_hour, domain LIMIT 1")
			write(t, p.LH, lakehouse.GoldHourlyStats, nil,
				and(eq("stat_date", r["stat_date"]), eq("stat_hour", r["stat_hour"]), eq("domain", r["domain"])))
			return nil
		}},
	{name: "gold duplicate hour", want: []string{"hourly.key_unique", "hourly.reconciles_with_silver"}, evidence: `"copies":2`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			write(t, p.LH, lakehouse.GoldHourlyStats, []map[string]any{one(t, p.LH, "SELECT * FROM gold.hourly_stats LIMIT 1")}, nil)
			return nil
		}},
	{name: "gold bot_percentage above 100", want: []string{"hourly.bot_percentage_range"}, evidence: `"bot_percentage":120`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM gold.hourly_stats ORDER BY stat_date, stat_hour, domain LIMIT 1")
			write(t, p.LH, lakehouse.GoldHourlyStats, []map[string]any{with(r, map[string]any{"bot_percentage": 120.0})},
				and(eq("stat_date", r["stat_date"]), eq("stat_hour", r["stat_hour"]), eq("domain", r["domain"])))
			return nil
		}},
	{name: "risk_score out of range", want: []string{"risk.risk_score_range"}, evidence: `"risk_score":150`,
		plant: plantRisk(map[string]any{"risk_score": 150.0, "risk_level": "HIGH"})},
	{name: "risk_level unknown", want: []string{"risk.risk_level_allowed", "risk.risk_level_matches_score"},
		evidence: `"risk_level":"SEVERE"`, plant: plantRisk(map[string]any{"risk_level": "SEVERE", "alert_triggered": false})},
	{name: "risk_level below its score's band", want: []string{"risk.risk_level_matches_score"},
		evidence: `"risk_level":"LOW"`, plant: plantRisk(map[string]any{"risk_score": 75.0, "risk_level": "LOW", "alert_triggered": false})},
	{name: "alert for a LOW entity", want: []string{"risk.alert_only_when_high"},
		plant: plantRisk(map[string]any{"risk_score": 0.0, "risk_level": "LOW", "alert_triggered": true})},
	{name: "risk entity with a wrong edit count", want: []string{"risk.reconciles_with_silver"}, evidence: `"problem":"different"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			return plantRisk(map[string]any{"total_edits": int64(99999)})(t, p)
		}},
	{name: "risk entity missing", want: []string{"risk.reconciles_with_silver"}, evidence: `"problem":"missing"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM gold.risk_scores ORDER BY stat_date DESC, entity_id LIMIT 1")
			write(t, p.LH, lakehouse.GoldRiskScores, nil, and(eq("stat_date", r["stat_date"]), eq("entity_id", r["entity_id"])))
			return nil
		}},
	{name: "bronze duplicate older than the lookback is out of scope", want: nil,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM bronze.raw_events WHERE event_date < '2024-01-01' ORDER BY event_id LIMIT 1")
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{r}, nil)
			return func(c *quality.Config) { c.LookbackDays = 7 }
		}},
	{name: "bronze duplicate within the lookback", want: []string{"bronze.event_id_unique"}, evidence: `"since"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			r := one(t, p.LH, "SELECT * FROM bronze.raw_events WHERE event_timestamp > now() - INTERVAL 1 DAY ORDER BY event_id LIMIT 1")
			write(t, p.LH, lakehouse.BronzeRawEvents, []map[string]any{r}, nil)
			return func(c *quality.Config) { c.LookbackDays = 7 }
		}},
	{name: "bronze stale for two hours", want: []string{"bronze.freshness"}, evidence: `"age_seconds"`,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			return func(c *quality.Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } }
		}},
	{name: "bronze quiet for 10 minutes is fresh", want: nil,
		plant: func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
			return func(c *quality.Config) { c.Now = func() time.Time { return time.Now().Add(10 * time.Minute) } }
		}},
}

// plantRisk replaces the HIGH entity's row with changes.
func plantRisk(changes map[string]any) func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
	return func(t *testing.T, p *stagetest.Pipeline) func(*quality.Config) {
		r := one(t, p.LH, "SELECT * FROM gold.risk_scores ORDER BY risk_score DESC, entity_id LIMIT 1")
		write(t, p.LH, lakehouse.GoldRiskScores, []map[string]any{with(r, changes)},
			and(eq("stat_date", r["stat_date"]), eq("entity_id", r["entity_id"])))
		return nil
	}
}

// TestPlantedDefects: on a clean pipeline, each planted defect fails
// exactly the checks that guard against it, with evidence naming it; once
// the defect is rolled back every check passes again. The tables are read
// in small chunks, so that chunking is exercised too.
func TestPlantedDefects(t *testing.T) {
	p := pipeline(t, events(t))
	clean := snapshots(t, p.LH)
	base := func(c *quality.Config) { c.ChunkRows = 1000 }
	if rep := runOnce(t, stage(t, p.LH, base)); len(rep.Failures()) > 0 {
		t.Fatalf("clean pipeline fails:%s", describe(rep))
	}
	for _, d := range defects {
		t.Run(d.name, func(t *testing.T) {
			defer restore(t, p.LH, clean)
			edit := d.plant(t, p)
			reg := prometheus.NewRegistry()
			cfg := quality.DefaultConfig()
			cfg.LookbackDays, cfg.ChunkRows = 0, 1000
			if edit != nil {
				edit(&cfg)
			}
			var notified []string
			cfg.OnFailure = func(_ context.Context, r quality.Report) { notified = failing(r) }
			st, err := quality.New(cfg, p.LH, reg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rep := runOnce(t, st)
			want := slices.Sorted(slices.Values(d.want))
			if got := failing(rep); !slices.Equal(got, want) {
				t.Fatalf("failing checks %v, want %v:%s", got, want, describe(rep))
			}
			if !slices.Equal(notified, want) {
				t.Errorf("OnFailure got %v, want %v", notified, want)
			}
			for _, name := range want {
				if r, _ := rep.Result(name); r.Status != quality.StatusFail {
					t.Errorf("%s: status %s, want fail (%v)", name, r.Status, r.Detail)
				}
				if v, _ := metricValue(t, reg, "wikistream_dq_check_status", map[string]string{"check": name}); v != 0 {
					t.Errorf("wikistream_dq_check_status{check=%q} = %g, want 0", name, v)
				}
			}
			if v, _ := metricValue(t, reg, "wikistream_dq_checks_failed", nil); int(v) != len(want) {
				t.Errorf("wikistream_dq_checks_failed = %g, want %d", v, len(want))
			}
			if len(want) == 0 {
				return
			}
			// The evidence, as stored in ops.dq_results.
			stored := one(t, p.LH, fmt.Sprintf(`SELECT status, detail FROM ops.dq_results WHERE run_id = '%s' AND "check" = '%s'`,
				rep.RunID, want[0]))
			if stored["status"] != "fail" {
				t.Errorf("ops.dq_results: %s status %v, want fail", want[0], stored["status"])
			}
			var detail map[string]any
			if err := json.Unmarshal([]byte(stored["detail"].(string)), &detail); err != nil {
				t.Fatalf("ops.dq_results detail: %v", err)
			}
			if d.evidence != "" && !strings.Contains(stored["detail"].(string), d.evidence) {
				t.Errorf("%s evidence lacks %s: %s", want[0], d.evidence, stored["detail"])
			}
		})
	}
	// Rolled back, the pipeline is clean again.
	if rep := runOnce(t, stage(t, p.LH, base)); len(rep.Failures()) > 0 {
		t.Fatalf("after the defects were rolled back:%s", describe(rep))
	}
}
