package web

import (
	"bufio"
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/silver"
)

// BenchmarkAPILive measures the dashboard API while the pipeline runs live
// (DESIGN §5: p95 under 50 ms over 30 days of data):
//
//	go test -run '^$' -bench BenchmarkAPILive -benchtime 40x -timeout 30m ./internal/web
//
// 30 days of generated events (as BenchmarkAPI) are loaded; then the real
// bronze, silver and gold stages run in this process with their default
// cadence (bronze commits every second, silver and gold follow each commit
// within 200 ms), fed at the live rate (21 events/s, in the newest hour),
// and the web server runs its live poller, as `wikistream run` does. So gold
// commits about every second, and silver gets a small file per partition
// per commit (no maintenance runs: in production, silver's open day is
// compacted hourly, so it holds up to an hour of them; the benchmark holds
// only the minutes it runs).
//
// Sub-benchmarks, each b.N rounds:
//   - refresh_24h: what the dashboard does on a live update with its default
//     24-hour view: each round waits for the next "gold" event of
//     /api/v1/live, then sends the seven requests of a refresh at once (as
//     the browser's Promise.all does) and times each: metrics
//     <endpoint>-p50-ms and -p95-ms.
//   - alone: every endpoint of the dashboard (24 hours and 30 days) once
//     per round, in random order, each after a random pause of 0-300 ms, so
//     at random moments relative to the commits: metrics per endpoint.
//   - idle: no requests, b.N seconds; metric cpu-ms/s, the process's CPU
//     time per second (the background the requests compete with).
//
// At the end it logs the mean time between gold commits while timing and
// how many data files silver's current snapshot has.
func BenchmarkAPILive(b *testing.B) {
	p, start, end := loadMonth(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup // the stages, the producer and the live poller

	eng, err := query.Open(ctx, p.LH, lakehouse.Tables(), QueryConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	// Failed requests log why (an HTTP 500's body alone may not say).
	warn := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(Config{Addr: "127.0.0.1:8080", Now: func() time.Time { return end }, Lakehouse: p.LH, Logger: warn}, eng)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	wg.Go(func() { s.RunLive(ctx) })

	// The live pipeline, as `wikistream run` wires it (without ingest: the
	// events are produced to raw-events directly).
	brz, err := bronze.New(bronze.DefaultConfig(), p.LH, p.Opts, nil)
	if err != nil {
		b.Fatal(err)
	}
	slv, err := silver.New(silver.DefaultConfig(), p.LH)
	if err != nil {
		b.Fatal(err)
	}
	gld, err := gold.New(ctx, gold.DefaultConfig(), p.LH)
	if err != nil {
		b.Fatal(err)
	}
	defer gld.Close()
	defer func() { cancel(); wg.Wait() }() // before anything they use closes
	stages := map[string]func(context.Context) error{"bronze": brz.Run, "silver": slv.Run, "gold": gld.Run,
		"producer": func(ctx context.Context) error { return produceLive(ctx, p.Opts, end) }}
	for name, run := range stages {
		wg.Go(func() {
			if err := run(ctx); err != nil && ctx.Err() == nil {
				b.Errorf("%s: %v", name, err)
				cancel()
			}
		})
	}

	// The browser's requests on a refresh of its default view (24 hours up
	// to the newest hour of gold), and the 30-day ones.
	last := end.Add(-time.Hour)
	day := "from=" + last.Add(-23*time.Hour).Format(time.RFC3339) + "&to=" + last.Format(time.RFC3339)
	month := "from=" + start.Format(time.DateOnly) + "&to=" + end.Format(time.DateOnly)
	refresh := []struct{ name, path string }{
		{"summary", "/api/v1/stats/summary?" + day},
		{"hourly", "/api/v1/stats/hourly?group=region&" + day},
		{"regions", "/api/v1/stats/regions?" + day},
		{"contributors", "/api/v1/top/contributors?limit=15&kind=all&" + day},
		{"pages", "/api/v1/top/pages?limit=15&exclude_bots=true&" + day},
		{"risk", "/api/v1/risk?min_level=MEDIUM&limit=30&" + day},
		{"wikis", "/api/v1/stats/wikis?limit=100&" + day},
	}
	alone := append([]struct{ name, path string }{}, refresh...)
	for _, c := range refresh {
		alone = append(alone, struct{ name, path string }{c.name + "_30d", strings.Replace(c.path, day, month, 1)})
	}

	// Let the pipeline reach its cadence before timing.
	commits := goldCommits(b, ctx, p.LH)
	for deadline := time.Now().Add(time.Minute); goldCommits(b, ctx, p.LH) < commits+3; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.Fatal("gold did not commit 3 times within a minute of the live start")
		}
	}
	began, commits := time.Now(), goldCommits(b, ctx, p.LH)

	events := liveEvents(b, ctx, ts.URL+"/api/v1/live")
	b.Run("refresh_24h", func(b *testing.B) {
		took := map[string][]time.Duration{}
		var mu sync.Mutex
		for range b.N {
			// Skip updates queued meanwhile; refresh on the next one.
			for drained := false; !drained; {
				select {
				case <-events:
				default:
					drained = true
				}
			}
			select {
			case <-events:
			case <-time.After(time.Minute):
				b.Fatal("no live update within a minute")
			}
			var rg sync.WaitGroup
			for _, c := range refresh {
				rg.Go(func() {
					d := timeGet(b, ts.URL+c.path)
					mu.Lock()
					took[c.name] = append(took[c.name], d)
					mu.Unlock()
				})
			}
			rg.Wait()
		}
		for _, c := range refresh {
			reportTimes(b, c.name+"-", took[c.name])
		}
	})
	b.Run("alone", func(b *testing.B) {
		took := map[string][]time.Duration{}
		for range b.N {
			for _, i := range rand.Perm(len(alone)) {
				time.Sleep(time.Duration(rand.Int64N(int64(300 * time.Millisecond))))
				took[alone[i].name] = append(took[alone[i].name], timeGet(b, ts.URL+alone[i].path))
			}
		}
		for _, c := range alone {
			reportTimes(b, c.name+"-", took[c.name])
		}
	})
	b.Run("idle", func(b *testing.B) {
		// No requests: what the pipeline, the engine's refresher and
		// planner and the live poller cost between them, in CPU time per
		// second of wall time.
		before, start := cpuTime(b), time.Now()
		for range b.N {
			time.Sleep(time.Second)
		}
		b.ReportMetric(float64((cpuTime(b)-before).Milliseconds())/time.Since(start).Seconds(), "cpu-ms/s")
	})

	n := goldCommits(b, ctx, p.LH) - commits
	tbl, err := p.LH.Load(ctx, lakehouse.SilverCleanedEvents)
	if err != nil {
		b.Fatal(err)
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d gold commits in %.0f s (one every %.2f s); silver's current snapshot has %d data files",
		n, time.Since(began).Seconds(), time.Since(began).Seconds()/float64(max(n, 1)), len(tasks))
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// produceLive produces generated events to raw-events at the live rate
// until ctx ends, in event time from 10 minutes before end (so in the
// newest hour of the loaded month), sent when their time has come.
func produceLive(ctx context.Context, opts []kgo.Opt, end time.Time) error {
	cfg := gen.DefaultConfig()
	cfg.Seed, cfg.Start = 77, end.Add(-10*time.Minute)
	cfg.Count = int(cfg.Rate * 9 * 60) // 9 minutes of events at most
	events, err := gen.Lines(cfg)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	began := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for sent := 0; sent < len(events); {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		due := min(int(time.Since(began).Seconds()*cfg.Rate), len(events))
		var recs []*kgo.Record
		for ; sent < due; sent++ {
			recs = append(recs, &kgo.Record{Topic: kafka.TopicRaw, Value: events[sent]})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil && ctx.Err() == nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

// goldCommits counts the snapshots of gold.hourly_stats.
func goldCommits(b *testing.B, ctx context.Context, lh *lakehouse.Lakehouse) int {
	tbl, err := lh.Load(ctx, lakehouse.GoldHourlyStats)
	if err != nil {
		b.Fatal(err)
	}
	return len(snapshots(tbl))
}

func snapshots(tbl *table.Table) []table.Snapshot { return tbl.Metadata().Snapshots() }

// liveEvents reads /api/v1/live and sends on the channel for every "gold"
// event (dropping those nobody waits for) until ctx ends.
func liveEvents(b *testing.B, ctx context.Context, url string) <-chan struct{} {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	ch := make(chan struct{}, 1)
	go func() { // ends when ctx ends the stream
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if sc.Text() == "event: gold" {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch
}
