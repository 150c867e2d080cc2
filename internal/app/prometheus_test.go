package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/alert"
	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/silver"
	"github.com/wikistream/wikistream/internal/source"
	"github.com/wikistream/wikistream/internal/supervise"
	"github.com/wikistream/wikistream/internal/testtool"
)

const rulesDir = "../../deploy/prometheus"

// TestMain stops the pipeline and the Prometheus that the tests share once
// every test has run, and fails the run if the pipeline did not shut down
// cleanly.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := stopScraped(); err != nil {
		fmt.Fprintln(os.Stderr, "shared pipeline:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

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
// rules and the Grafana board use, with the values the pipeline's input
// implies; the stage restarts the pipeline went through fire
// WikiStreamStageRestarted.
func TestPrometheusScrapesMetrics(t *testing.T) {
	s := scrapedPipeline(t)
	s.waitSettled(t)
	// Every shipped rule is loaded and evaluates without error.
	var rules struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name   string `json:"name"`
				Health string `json:"health"`
				Error  string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := s.get("/api/v1/rules", nil, &rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Groups {
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
}

// scraped is a pipeline scraped every second by Debian's Prometheus with
// the shipped recording and alert rules loaded, shared by the tests that
// query it. Its input has malformed lines (dead letters by reason), its
// source fails twice before it delivers (stage failures, restarts, alerts
// raised and suppressed), and one alert sink refuses every alert (delivery
// errors, dropped alerts): the metrics that only show when something goes
// wrong show here too.
type scraped struct {
	promAddr string
	stderr   *testtool.Buffer
	// lines were read from the source: valid went to bronze.raw_events,
	// malformed to bronze.dlq_events.
	lines, valid, malformed int

	mu      sync.Mutex
	settled bool // waitSettled has returned once
}

// shared is the one scraped pipeline of this test binary, started by the
// first test that asks for it and stopped by TestMain.
var shared struct {
	once sync.Once
	s    *scraped
	err  error
	stop func() error
}

// scrapedPipeline returns the shared scraped pipeline, starting it if no
// test has yet. Without Debian's prometheus the test is skipped (failed
// under WIKISTREAM_REQUIRE_TOOLS=1).
func scrapedPipeline(t *testing.T) *scraped {
	t.Helper()
	prom := testtool.Look(t, "prometheus")
	shared.once.Do(func() { shared.s, shared.stop, shared.err = startScraped(prom) })
	if shared.err != nil {
		t.Fatalf("start the scraped pipeline: %v", shared.err)
	}
	return shared.s
}

func stopScraped() error {
	if shared.stop == nil {
		return nil
	}
	return shared.stop()
}

// startScraped starts the pipeline and Prometheus; stop ends both and
// reports whether the pipeline shut down cleanly.
func startScraped(prom string) (s *scraped, stop func() error, err error) {
	dir, err := os.MkdirTemp("", "wikistream-prometheus-")
	if err != nil {
		return nil, nil, err
	}
	var stops []func() error
	stop = func() error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i]())
		}
		errs = append(errs, os.RemoveAll(dir))
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			stop()
			stop = nil
		}
	}()

	g, err := gen.New(gen.Config{Seed: 9, Count: 2000, Start: gen.DefaultStart, Rate: gen.DefaultRate, Malformed: 0.03})
	if err != nil {
		return nil, nil, err
	}
	var events bytes.Buffer
	for l, ok := g.Next(); ok; l, ok = g.Next() {
		events.Write(l)
		events.WriteByte('\n')
	}
	st := g.Stats()
	s = &scraped{stderr: &testtool.Buffer{}, lines: st.Lines(), valid: st.Events, malformed: st.Malformed}
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, events.Bytes(), 0o644); err != nil {
		return nil, nil, err
	}
	src, err := source.Open(path, source.DefaultConfig())
	if err != nil {
		return nil, nil, err
	}
	var addrs [3]string
	for i := range addrs {
		if addrs[i], err = loopbackAddr(); err != nil {
			return nil, nil, err
		}
	}
	httpAddr, brokerAddr, promAddr := addrs[0], addrs[1], addrs[2]
	s.promAddr = promAddr

	// Prometheus first: the source's failures wait for it to be scraping.
	abs, err := filepath.Abs(rulesDir)
	if err != nil {
		return nil, nil, err
	}
	recording, err := os.ReadFile(filepath.Join(abs, "recording-rules.yml"))
	if err != nil {
		return nil, nil, err
	}
	// The shipped rules as they are, evaluated every second instead of
	// every 30 s, so that the first evaluation comes within the test.
	recording = regexp.MustCompile(`(?m)^([ \t]+interval:[ \t]*)\S+[ \t]*$`).ReplaceAll(recording, []byte("${1}1s"))
	if err := os.WriteFile(filepath.Join(dir, "recording-rules.yml"), recording, 0o644); err != nil {
		return nil, nil, err
	}
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q, %q]
scrape_configs:
  - job_name: wikistream
    static_configs: [{targets: [%q]}]
`, filepath.Join(dir, "recording-rules.yml"), filepath.Join(abs, "alert-rules.yml"), httpAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr, "--log.level=warn")
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stops = append(stops, func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		return nil
	})

	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "refused by the test", http.StatusBadRequest)
	}))
	stops = append(stops, func() error { refuse.Close(); return nil })

	// The first failure waits for Prometheus to scrape, the second for it
	// to have seen the first restart: increase() over the restarts counter
	// then sees it grow, and WikiStreamStageRestarted fires.
	flaky := &flakySource{Source: src, before: []func(context.Context) error{
		func(ctx context.Context) error { return s.await(ctx, `up{job="wikistream"}`, 1) },
		func(ctx context.Context) error {
			return s.await(ctx, `wikistream_supervisor_stage_restarts_total{stage="ingest"}`, 1)
		},
	}}
	icfg := ingest.DefaultConfig()
	icfg.Filter, _ = recentchange.ParseFilter(recentchange.FilterAll)
	bcfg := bronze.DefaultConfig()
	bcfg.Interval = 100 * time.Millisecond
	supcfg := supervise.DefaultConfig()
	supcfg.InitialBackoff, supcfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	// Maintenance runs every few seconds instead of every hour, so that it
	// finds the tables and compacts bronze's small files within the test.
	mcfg := lakehouse.DefaultMaintainConfig()
	mcfg.Interval, mcfg.FirstRunAfter = 3*time.Second, 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Config{Embedded: true,
			Broker:    kafka.BrokerConfig{Addr: brokerAddr, Partitions: 3},
			Lakehouse: lakehouse.Config{DataDir: filepath.Join(dir, "data")}, HTTPAddr: httpAddr,
			Ingest: icfg, Source: flaky, Bronze: bcfg, Silver: silver.DefaultConfig(), Gold: gold.DefaultConfig(),
			Supervisor: supcfg, Maintain: &mcfg, Quality: quickDQ(), Alerts: alert.SinksConfig{WebhookURL: refuse.URL}})
		done <- err
	}()
	stops = append(stops, func() error {
		cancel()
		if err := <-done; err != nil {
			return fmt.Errorf("pipeline run: %w", err)
		}
		return nil
	})
	return s, stop, nil
}

// waitSettled waits until the pipeline has processed its input, Prometheus
// has scraped the outcome twice and evaluated the rules over it, and every
// metric the board shows has appeared; it fails the test with what is
// still missing after 90 s.
func (s *scraped) waitSettled(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	settled := s.settled
	s.mu.Unlock()
	if settled {
		return
	}
	eq := func(n int) func(float64) bool { return func(v float64) bool { return v == float64(n) } }
	pos := func(v float64) bool { return v > 0 }
	want := map[string]func(float64) bool{
		`up{job="wikistream"}`:                                                                   eq(1),
		`wikistream_ingest_events_read_total`:                                                    eq(s.lines),
		`wikistream_ingest_events_produced_total`:                                                eq(s.valid),
		`sum(wikistream_ingest_events_dead_lettered_total)`:                                      eq(s.malformed),
		`count(wikistream_ingest_events_dead_lettered_total)`:                                    func(v float64) bool { return v >= 2 }, // by reason
		`wikistream_lakehouse_rows_committed_total{table="bronze.raw_events"}`:                   eq(s.valid),
		`wikistream_lakehouse_rows_committed_total{table="bronze.dlq_events"}`:                   eq(s.malformed),
		`wikistream_lakehouse_rows_committed_total{table="gold.hourly_stats"}`:                   pos,
		`wikistream_bronze_processing_latency_seconds_count{table="bronze.raw_events"}`:          eq(s.valid),
		`wikistream_gold_end_to_end_latency_seconds_count`:                                       pos,
		`sum(wikistream_bronze_consumer_lag_records)`:                                            eq(0),
		`count(wikistream_lakehouse_last_commit_timestamp_seconds)`:                              func(v float64) bool { return v >= 4 },
		`max(wikistream_lakehouse_commit_duration_seconds_count{table="silver.cleaned_events"})`: pos,
		`wikistream_supervisor_stage_up{stage="bronze"}`:                                         eq(1),
		`wikistream_supervisor_stage_failures_total{stage="ingest"}`:                             eq(2),
		`wikistream_supervisor_stage_restarts_total{stage="ingest", reason="failed"}`:            eq(2),
		`count(wikistream_dq_check_status)`:                                                      pos,
		`wikistream_dq_last_run_timestamp_seconds`:                                               pos,
		`sum(wikistream_maintain_runs_total)`:                                                    pos,
		`count(wikistream_priority_yield_seconds_total)`:                                         eq(1),
		`count(wikistream_maintain_duration_seconds_count)`:                                      func(v float64) bool { return v >= 7 }, // every table
		`sum(wikistream_alert_raised_total)`:                                                     func(v float64) bool { return v >= 4 },
		`sum(wikistream_alert_suppressed_total)`:                                                 func(v float64) bool { return v >= 2 },
		`wikistream_alert_sent_total{sink="log"}`:                                                func(v float64) bool { return v >= 2 },
		`wikistream_alert_sink_errors_total{sink="webhook"}`:                                     pos,
		`wikistream_alert_dropped_total{sink="webhook"}`:                                         pos,
		// The recording rules have been evaluated over the data.
		`count(wikistream:table_staleness_seconds)`:                                         func(v float64) bool { return v >= 4 },
		`count(wikistream:lakehouse_rows_committed:rate1m)`:                                 func(v float64) bool { return v >= 4 },
		`count(wikistream:lakehouse_commit_duration_seconds:p95)`:                           func(v float64) bool { return v >= 4 },
		`count(wikistream:bronze_processing_latency_seconds:p99 >= 0)`:                      eq(1),
		`count(wikistream:bronze_consumer_lag_records)`:                                     func(v float64) bool { return v >= 2 },
		`wikistream:ingest_dlq_ratio:rate5m > 0`:                                            pos,
		`count(wikistream:ingest_events_read:rate1m)`:                                       eq(1),
		`ALERTS{alertname="WikiStreamStageRestarted", alertstate="firing", stage="ingest"}`: eq(1),
	}
	for _, r := range recordedNames(t) {
		want[fmt.Sprintf("count(%s)", r)] = pos
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var failing []string
		for q, ok := range want {
			if v := s.value(q); !ok(v) {
				failing = append(failing, fmt.Sprintf("%s = %v", q, v))
			}
		}
		if len(failing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus, after 90 s:\n%s\nprometheus stderr:\n%s", strings.Join(failing, "\n"), s.stderr)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Two scrapes more: every series has two samples at least, so rate()
	// and increase() over it return a value.
	const last = `timestamp(up{job="wikistream"})`
	t0 := s.value(last)
	for s.value(last) < t0+2 {
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus stopped scraping; stderr:\n%s", s.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.mu.Lock()
	s.settled = true
	s.mu.Unlock()
}

// promResponse is the envelope of every Prometheus HTTP API answer.
type promResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// get calls the Prometheus HTTP API and decodes its data into data; an
// answer that is not a success is an error saying why.
func (s *scraped) get(path string, params url.Values, data any) error {
	u := "http://" + s.promAddr + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body promResponse
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("GET %s: %s: %w", path, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s: %s", path, resp.Status, body.ErrorType, body.Error)
	}
	return json.Unmarshal(body.Data, data)
}

// value runs an instant query and returns its single value, or -1.
func (s *scraped) value(q string) float64 {
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if s.get("/api/v1/query", url.Values{"query": {q}}, &data) != nil || len(data.Result) != 1 {
		return -1
	}
	v, err := strconv.ParseFloat(fmt.Sprint(data.Result[0].Value[1]), 64)
	if err != nil {
		return -1
	}
	return v
}

// await polls q until its value is want or ctx ends.
func (s *scraped) await(ctx context.Context, q string, want float64) error {
	for s.value(q) != want {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// flakySource fails one run for each function in before, once that
// function returns, without reading anything. Then it runs Source, about
// 1,000 messages a second: spread over a few scrapes, so that every rate
// Prometheus computes sees the counters move. (source.Config.Speed paces
// by event time, which a malformed line's implausible timestamp stalls.)
type flakySource struct {
	ingest.Source
	mu     sync.Mutex
	before []func(context.Context) error
}

func (f *flakySource) Run(ctx context.Context, resume string, emit func(context.Context, source.Message) error) error {
	f.mu.Lock()
	var wait func(context.Context) error
	if len(f.before) > 0 {
		wait, f.before = f.before[0], f.before[1:]
	}
	f.mu.Unlock()
	if wait != nil {
		if err := wait(ctx); err != nil {
			return err
		}
		return errors.New("injected: the source is unavailable")
	}
	n := 0
	return f.Source.Run(ctx, resume, func(ctx context.Context, m source.Message) error {
		if n++; n%50 == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return emit(ctx, m)
	})
}

// loopbackAddr returns a loopback address nothing listens on.
func loopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// recordedNames returns the series names deploy/prometheus's recording
// rules record.
func recordedNames(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(rulesDir, "recording-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*-?\s*record:\s*(\S+)\s*$`).FindAllSubmatch(raw, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) == 0 {
		t.Fatal("no recording rule found in recording-rules.yml")
	}
	return names
}
