package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/app"
	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/silver"
	"github.com/wikistream/wikistream/internal/source"
)

// freshness measures how long after an event is read its gold numbers are
// served by the dashboard API (DESIGN.md section 5): events are generated
// with current timestamps and replayed in real time at rate events/s for
// the given duration through the whole pipeline, while the pipeline's own
// HTTP server is asked for GET /api/v1/stats/summary, whose engine reads
// gold.hourly_stats from an in-memory copy refreshed after each commit.
// The summary is asked for the hours the generated events fall in, and the
// events already there (a --data-dir with data) are counted before the
// first event is read: event i is visible at the first answer whose total
// reaches that count plus i+1 (every generated event is valid and
// distinct, and ingest reads them in order).
//
// It returns every event's latency and those of the events due after the
// warm-up, each sorted. It also samples the process's memory every
// memEvery (memSample), so that a long run shows whether the live process
// grows.
func freshness(ctx context.Context, e *env, work, dataDir string, rate float64, d time.Duration, bcfg bronze.Config) (all, steady []time.Duration, mem []memSample, err error) {
	n := int(rate * d.Seconds())
	file := filepath.Join(work, fmt.Sprintf("live-%.0f.jsonl", rate))
	f, err := os.Create(file)
	if err != nil {
		return nil, nil, nil, err
	}
	gcfg := gen.DefaultConfig()
	gcfg.Count, gcfg.Rate, gcfg.Seed = n, rate, 7
	gcfg.Start = time.Now().Add(3 * time.Second).Truncate(time.Second) // after the pipeline is up
	if _, err := gen.Write(ctx, f, gcfg); err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	f.Close()
	// The time each event is due, from its own timestamp as the paced
	// source replays it (speed 1: the first event immediately).
	var due []time.Time
	lines, err := readEventTimes(file)
	if err != nil {
		return nil, nil, nil, err
	}
	sc := source.DefaultConfig()
	sc.Speed = 1
	src, err := source.Open(file, sc)
	if err != nil {
		return nil, nil, nil, err
	}
	open := make(chan struct{})
	reg := prometheus.NewRegistry()
	icfg := ingest.DefaultConfig()
	icfg.Filter, _ = recentchange.ParseFilter(recentchange.FilterAll)
	bc := kafka.DefaultBrokerConfig()
	bc.Addr, bc.DataDir = "127.0.0.1:0", filepath.Join(dataDir, "broker")
	httpAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := app.Config{Embedded: true, Broker: bc, Lakehouse: lakehouse.Config{DataDir: dataDir},
		Ingest: icfg, Source: gatedSource{Source: src, open: open}, Bronze: bcfg, Silver: silver.DefaultConfig(), Gold: gold.DefaultConfig(), SkipFinalChecks: true,
		Registry: reg, IngestMetrics: ingest.NewMetrics(reg), HTTPAddr: httpAddr} // not drained: it serves until every event is counted
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := app.Run(runCtx, cfg); done <- err }()

	// The hours the events fall in, with an hour to spare on either side.
	window := fmt.Sprintf("from=%s&to=%s", gcfg.Start.Add(-time.Hour).UTC().Format(time.RFC3339),
		lines[len(lines)-1].Add(time.Hour).UTC().Format(time.RFC3339))
	summary := "http://" + httpAddr + "/api/v1/stats/summary?" + window
	base, err := firstServed(ctx, summary, done)
	if err != nil {
		return nil, nil, nil, err
	}
	close(open)
	started := time.Now()
	// The paced source starts with the first event; its due times follow.
	first := lines[0]
	for _, ts := range lines {
		due = append(due, started.Add(ts.Sub(first)))
	}
	visible := make([]time.Time, 0, n)
	nextMem := started
	for len(visible) < n {
		if now := time.Now(); !now.Before(nextMem) {
			if m, ok := readMemory(now.Sub(started)); ok {
				mem = append(mem, m)
			}
			nextMem = nextMem.Add(memEvery)
		}
		select {
		case err := <-done:
			if err != nil {
				return nil, nil, nil, err
			}
			return nil, nil, nil, fmt.Errorf("pipeline ended with %d of %d events visible in gold", len(visible), n)
		case <-time.After(50 * time.Millisecond):
		}
		total, err := servedEvents(ctx, summary)
		if err != nil {
			continue
		}
		total -= base
		now := time.Now()
		for len(visible) < min(total, n) {
			visible = append(visible, now)
		}
	}
	cancel()
	<-done
	lat := make([]time.Duration, n)
	for i := range n {
		lat[i] = max(visible[i].Sub(due[i]), 0)
		if due[i].Sub(started) >= warmUp {
			steady = append(steady, lat[i])
		}
	}
	slices.Sort(lat)
	slices.Sort(steady)
	return lat, steady, mem, nil
}

// warmUp is the start of a freshness run that its steady-state
// percentiles leave out: a process restarted late in a busy day reads the
// day back and catches up meanwhile. (A variable for tests.)
var warmUp = time.Minute

// gatedSource holds its source back until open is closed.
type gatedSource struct {
	ingest.Source
	open <-chan struct{}
}

func (g gatedSource) Run(ctx context.Context, resume string, emit func(context.Context, source.Message) error) error {
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Source.Run(ctx, resume, emit)
}

// firstServed waits for the pipeline's API to answer url and returns the
// total it serves, or why the pipeline ended first.
func firstServed(ctx context.Context, url string, done <-chan error) (int, error) {
	for {
		if total, err := servedEvents(ctx, url); err == nil {
			return total, nil
		}
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("pipeline ended before its API answered")
			}
			return 0, err
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// servedEvents is the total number of events the dashboard API reports
// for the summary url.
func servedEvents(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var body struct {
		Totals struct {
			Events int `json:"events"`
		} `json:"totals"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	return body.Totals.Events, nil
}

// freeLoopbackAddr is a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// readEventTimes returns the timestamp of every line of a generated file.
func readEventTimes(path string) ([]time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		ev, err := recentchange.Parse(sc.Bytes())
		if err != nil || ev.Timestamp == nil {
			return nil, fmt.Errorf("generated event without a timestamp: %v", err)
		}
		out = append(out, time.Unix(*ev.Timestamp, 0))
	}
	return out, sc.Err()
}

// percentile of sorted durations, p in [0, 100].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(sorted)-1))
	return sorted[i]
}

// memEvery is how often freshness samples the process's memory.
const memEvery = 10 * time.Second

// memSample is the process's memory at a moment of a measurement: its
// resident set, and the anonymous part of it (the heaps: Go's and
// DuckDB's), the rest being file pages, mostly the binary's own, which the
// kernel maps in large pieces and can drop at any time.
type memSample struct {
	at             time.Duration
	rss, anonymous int64 // bytes
}

// readMemory samples the process's memory (Linux; false elsewhere).
func readMemory(at time.Duration) (memSample, bool) {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		return memSample{}, false
	}
	defer f.Close()
	m := memSample{at: at}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		for prefix, v := range map[string]*int64{"Rss:": &m.rss, "Anonymous:": &m.anonymous} {
			if b, ok := procBytes(sc.Text(), prefix); ok {
				*v = b
			}
		}
	}
	return m, m.rss > 0
}

// memoryLine says how the memory went in samples: after the first minute
// (or the first sample) and at the end, so that growth shows.
func memoryLine(samples []memSample) string {
	if len(samples) == 0 {
		return ""
	}
	first := samples[0]
	for _, m := range samples {
		if m.at >= time.Minute {
			first = m
			break
		}
	}
	last := samples[len(samples)-1]
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	return fmt.Sprintf("memory:           RSS %.0f MB at %s, %.0f MB at %s; anonymous %.0f MB, %.0f MB\n",
		mb(first.rss), first.at.Round(time.Second), mb(last.rss), last.at.Round(time.Second), mb(first.anonymous), mb(last.anonymous))
}
