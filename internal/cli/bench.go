package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/app"
	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/silver"
	"github.com/wikistream/wikistream/internal/source"
)

// runBench is the end-to-end benchmark of DESIGN.md section 5: it replays
// N events through the whole pipeline in this process, drained, on a fresh
// data directory, and reports the rate, the time of each stage, commit
// latency, peak memory and the data files written.
func runBench(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	events := fs.Int("events", 1_000_000, "events to generate when --source is not given")
	src := fs.String("source", "", "replay this file instead of generated events")
	seed := fs.Int64("seed", 1, "generator seed")
	dataDir := fs.String("data-dir", "", "data directory (default: a fresh temporary one, removed afterwards)")
	liveRate := fs.Float64("freshness-rate", 0, "instead of the replay benchmark, measure freshness (ingest → gold visible) at this many events/s in real time (21 is the live average)")
	liveFor := fs.Duration("freshness-for", time.Minute, "how long the freshness measurement runs")
	baseline := fs.Bool("baseline", true, "also time DuckDB converting the same file to partitioned Parquet (DESIGN.md's yardstick)")
	brf := addBronzeFlags(fs)
	applyMem := addMemoryLimitFlag(fs, "0")
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	undoMem, err := applyMem(e.getenv, *liveRate > 0) // freshness is measured at the live rate
	if err != nil {
		return err
	}
	defer undoMem()
	if *events < 1 {
		return fmt.Errorf("--events: got %d, want at least 1", *events)
	}
	work, err := os.MkdirTemp("", "wikistream-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if *dataDir == "" {
		*dataDir = filepath.Join(work, "data")
	}
	if *liveRate > 0 {
		bcfg, err := brf.config(e.log, kafka.TopicRaw, kafka.TopicDLQ)
		if err != nil {
			return err
		}
		lat, steady, mem, err := freshness(ctx, e, work, *dataDir, *liveRate, *liveFor, bcfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "freshness at %.0f events/s for %s (%d events): p50 %.2f s, p99 %.2f s, max %.2f s (event due → its count served by GET /api/v1/stats/summary)\n",
			*liveRate, *liveFor, len(lat), percentile(lat, 50).Seconds(), percentile(lat, 99).Seconds(), lat[len(lat)-1].Seconds())
		if len(steady) > 0 {
			fmt.Fprintf(e.stdout, "after the first %s: %d events, p50 %.2f s, p99 %.2f s, max %.2f s\n",
				warmUp, len(steady), percentile(steady, 50).Seconds(), percentile(steady, 99).Seconds(), steady[len(steady)-1].Seconds())
		}
		fmt.Fprint(e.stdout, memoryLine(mem))
		if rss := peakRSS(); rss > 0 {
			fmt.Fprintf(e.stdout, "peak RSS:         %.0f MB\n", float64(rss)/(1<<20))
		}
		return nil
	}
	if *src == "" {
		*src = filepath.Join(work, "events.jsonl")
		f, err := os.Create(*src)
		if err != nil {
			return err
		}
		cfg := gen.DefaultConfig()
		cfg.Count, cfg.Seed = *events, *seed
		began := time.Now()
		st, err := gen.Write(ctx, f, cfg)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("generate events: %w", err)
		}
		fmt.Fprintf(e.stdout, "generated:        %d events, %.0f MB, in %.1f s (not counted)\n",
			st.Lines(), float64(st.Bytes)/1e6, time.Since(began).Seconds())
	}

	reg := prometheus.NewRegistry()
	metrics := ingest.NewMetrics(reg)
	sc := source.DefaultConfig()
	s, err := source.Open(*src, sc)
	if err != nil {
		return fmt.Errorf("--source: %w", err)
	}
	icfg := ingest.DefaultConfig()
	icfg.Filter, _ = recentchange.ParseFilter(recentchange.FilterAll)
	icfg.Logger = e.log
	bcfg, err := brf.config(e.log, kafka.TopicRaw, kafka.TopicDLQ)
	if err != nil {
		return err
	}
	scfg := silver.DefaultConfig()
	scfg.Logger = e.log
	bc := kafka.DefaultBrokerConfig()
	bc.Addr = "127.0.0.1:0"
	bc.DataDir = filepath.Join(*dataDir, "broker")
	cfg := app.Config{
		Embedded: true, Broker: bc,
		Lakehouse: lakehouse.Config{DataDir: *dataDir, Logger: e.log},
		Ingest:    icfg, Source: s, Bronze: bcfg, Silver: scfg, Gold: gold.DefaultConfig(), SkipFinalChecks: true,
		Registry: reg, IngestMetrics: metrics, Drain: true, Logger: e.log,
	}
	before := readCosts()
	sum, err := app.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	costs := readCosts().sub(before)
	n := sum.Ingest.Read
	fmt.Fprintf(e.stdout, "events:           %d (%d valid, %d dead-lettered)\n", n, sum.Ingest.Produced, sum.Ingest.DLQ)
	fmt.Fprintf(e.stdout, "end to end:       %.2f s, %.0f events/s (file → broker → bronze committed)\n",
		sum.BronzeDone.Seconds(), float64(n)/sum.BronzeDone.Seconds())
	fmt.Fprintf(e.stdout, "ingest:           %.2f s, %.0f events/s\n", sum.IngestDone.Seconds(), float64(n)/sum.IngestDone.Seconds())
	fmt.Fprintf(e.stdout, "bronze catch-up:  %.2f s after ingest\n", (sum.BronzeDone - sum.IngestDone).Seconds())
	fmt.Fprintf(e.stdout, "silver catch-up:  %.2f s after bronze (end to end to silver: %.0f events/s)\n",
		(sum.SilverDone - sum.BronzeDone).Seconds(), float64(n)/sum.SilverDone.Seconds())
	fmt.Fprintf(e.stdout, "gold catch-up:    %.2f s after silver (end to end to gold: %.2f s, %.0f events/s)\n",
		(sum.GoldDone - sum.SilverDone).Seconds(), sum.GoldDone.Seconds(), float64(n)/sum.GoldDone.Seconds())
	if c := sum.Bronze.Commits; c > 0 {
		fmt.Fprintf(e.stdout, "bronze commits:   %d, mean %.0f ms\n", c, float64(sum.Bronze.CommitTime.Milliseconds())/float64(c))
	}
	fmt.Fprintf(e.stdout, "rows:             %d raw, %d dlq, %d duplicates skipped\n", sum.Bronze.RawRows, sum.Bronze.DLQRows, sum.Bronze.Duplicates)
	if r := sum.KeptReads + sum.FileReads; r > 0 {
		fmt.Fprintf(e.stdout, "file reads:       %d by silver and gold's hourly and rollup loops, %d of them from the records just committed\n", r, sum.KeptReads)
	}
	if n > 0 {
		// CPU time does not depend on what else the machine runs, as the
		// wall-clock rates do: compare it between runs on a busy machine.
		fmt.Fprintf(e.stdout, "cpu:              %.1f s (%.1f µs per event), Go heap allocations %.1f GB (%.1f KB per event), %d GCs\n",
			costs.cpu.Seconds(), float64(costs.cpu.Microseconds())/float64(n),
			float64(costs.allocBytes)/1e9, float64(costs.allocBytes)/1e3/float64(n), costs.gcs)
	}
	if rss := peakRSS(); rss > 0 {
		fmt.Fprintf(e.stdout, "peak RSS:         %.0f MB\n", float64(rss)/(1<<20))
	}
	if err := filesPerPartition(ctx, e, *dataDir); err != nil {
		return err
	}
	if *baseline && !strings.HasSuffix(*src, ".gz") && !strings.HasSuffix(*src, ".sse") {
		d, err := duckdbBaseline(ctx, *src, work)
		if err != nil {
			return err
		}
		rate := float64(n) / d.Seconds()
		fmt.Fprintf(e.stdout, "duckdb baseline:  %.2f s, %.0f events/s (NDJSON → partitioned Parquet); WikiStream at %.0f%% of it\n",
			d.Seconds(), rate, 100*float64(n)/sum.BronzeDone.Seconds()/rate)
	}
	return nil
}

// filesPerPartition reports the data files of bronze.raw_events.
func filesPerPartition(ctx context.Context, e *env, dataDir string) error {
	lh, err := lakehouse.Open(ctx, lakehouse.Config{DataDir: dataDir})
	if err != nil {
		return err
	}
	defer lh.Close()
	tbl, err := lh.Load(ctx, lakehouse.BronzeRawEvents)
	if err != nil {
		return err
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return err
	}
	per := map[string]int{}
	for _, t := range tasks {
		per[fmt.Sprint(t.File.Partition())]++
	}
	lo, hi := 0, 0
	for _, n := range per {
		if lo == 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	mean := 0.0
	if len(per) > 0 {
		mean = float64(len(tasks)) / float64(len(per))
	}
	fmt.Fprintf(e.stdout, "data files:       %d in %d partitions (per partition min %d, mean %.1f, max %d)\n",
		len(tasks), len(per), lo, mean, hi)
	return nil
}

// costs are what the process has spent so far: CPU time (user and
// system), bytes allocated on the Go heap, and garbage collections.
type costs struct {
	cpu        time.Duration
	allocBytes uint64
	gcs        uint64
}

func readCosts() costs {
	var c costs
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(samples)
	if samples[0].Value.Kind() == metrics.KindUint64 {
		c.allocBytes = samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == metrics.KindUint64 {
		c.gcs = samples[1].Value.Uint64()
	}
	return c
}

func (c costs) sub(o costs) costs {
	return costs{cpu: c.cpu - o.cpu, allocBytes: c.allocBytes - o.allocBytes, gcs: c.gcs - o.gcs}
}

// procBytes reads the size in a /proc line such as "VmHWM:  1234 kB" that
// starts with prefix.
func procBytes(line, prefix string) (int64, bool) {
	v, ok := strings.CutPrefix(line, prefix)
	if !ok {
		return 0, false
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
	return kb << 10, err == nil
}

// peakRSS is the process's peak resident set size in bytes (Linux), or 0.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if b, ok := procBytes(sc.Text(), "VmHWM:"); ok {
			return b
		}
	}
	return 0
}
