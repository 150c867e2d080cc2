package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/silver"
	"github.com/wikistream/wikistream/internal/source"
	"github.com/wikistream/wikistream/internal/testtool"
)

const rulesDir = "../../deploy/prometheus"

// TestShippedPrometheusRules: promtool accepts the shipped recording and
// alerting rules, and the alert rules' unit tests pass.
func TestShippedPrometheusRules(t *testing.T) {
	promtool := testtool.Look(t, "promtool")
	rules, _ := filepath.Glob(filepath.Join(rulesDir, "*-rules.yml"))
	if len(rules) < 2 {
		t.Fatalf("found %v in %s; want the recording and the alert rules", rules, rulesDir)
	}
	for _, args := range [][]string{
		append([]string{"check", "rules"}, rules...),
		{"test", "rules", filepath.Join(rulesDir, "alert-rules.test.yml")},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestPrometheusScrapesMetrics: Debian's Prometheus scrapes a running
// pipeline's /metrics, loads the shipped rules, and sees the metrics the
// rules and the Grafana board use.
func TestPrometheusScrapesMetrics(t *testing.T) {
	prom := testtool.Look(t, "prometheus")
	dir := t.TempDir()
	lines, err := gen.Lines(gen.Config{Seed: 9, Count: 2000, Start: gen.DefaultStart, Rate: gen.DefaultRate})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := source.Open(path, source.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	icfg := ingest.DefaultConfig()
	icfg.Filter, _ = recentchange.ParseFilter(recentchange.FilterAll)
	bcfg := bronze.DefaultConfig()
	bcfg.Interval = 100 * time.Millisecond
	httpAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Config{Embedded: true,
			Broker:    kafka.BrokerConfig{Addr: freeAddr(t), Partitions: 3},
			Lakehouse: lakehouse.Config{DataDir: filepath.Join(dir, "data")}, HTTPAddr: httpAddr,
			Ingest: icfg, Source: src, Bronze: bcfg, Silver: silver.DefaultConfig(), Gold: gold.DefaultConfig()})
		done <- err
	}()

	abs, _ := filepath.Abs(rulesDir)
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q, %q]
scrape_configs:
  - job_name: wikistream
    static_configs: [{targets: [%q]}]
`, filepath.Join(abs, "recording-rules.yml"), filepath.Join(abs, "alert-rules.yml"), httpAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr, "--log.level=warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})

	// value runs an instant query and returns its single value, or -1.
	value := func(q string) float64 {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Data.Result) != 1 {
			return -1
		}
		v, _ := strconv.ParseFloat(fmt.Sprint(body.Data.Result[0].Value[1]), 64)
		return v
	}
	want := map[string]func(float64) bool{
		`up{job="wikistream"}`:                                                                   func(v float64) bool { return v == 1 },
		`wikistream_ingest_events_produced_total`:                                                func(v float64) bool { return v == float64(len(lines)) },
		`wikistream_lakehouse_rows_committed_total{table="bronze.raw_events"}`:                   func(v float64) bool { return v == float64(len(lines)) },
		`wikistream_lakehouse_rows_committed_total{table="gold.hourly_stats"}`:                   func(v float64) bool { return v > 0 },
		`wikistream_supervisor_stage_up{stage="bronze"}`:                                         func(v float64) bool { return v == 1 },
		`sum(wikistream_bronze_processing_latency_seconds_count)`:                                func(v float64) bool { return v == float64(len(lines)) },
		`wikistream_gold_end_to_end_latency_seconds_count`:                                       func(v float64) bool { return v > 0 },
		`sum(wikistream_bronze_consumer_lag_records)`:                                            func(v float64) bool { return v == 0 },
		`count(wikistream:table_staleness_seconds)`:                                              func(v float64) bool { return v >= 4 },
		`count(wikistream_lakehouse_last_commit_timestamp_seconds)`:                              func(v float64) bool { return v >= 4 },
		`max(wikistream_lakehouse_commit_duration_seconds_count{table="silver.cleaned_events"})`: func(v float64) bool { return v > 0 },
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var failing []string
		for q, ok := range want {
			if v := value(q); !ok(v) {
				failing = append(failing, fmt.Sprintf("%s = %v", q, v))
			}
		}
		if len(failing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus, after 90 s:\n%s\nprometheus stderr:\n%s", strings.Join(failing, "\n"), stderr.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Every shipped rule is loaded and evaluates without error.
	resp, err := http.Get("http://" + promAddr + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rules struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name   string `json:"name"`
					Health string `json:"health"`
					Error  string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health == "err" {
				t.Errorf("rule %s in %s: %s", r.Name, g.Name, r.Error)
			}
		}
	}
	if n < 18 {
		t.Errorf("Prometheus loaded %d rules, want the 18 shipped", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
