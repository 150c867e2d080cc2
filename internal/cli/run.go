package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/app"
	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/query"
)

func runRun(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "where the embedded broker, catalog and warehouse keep their data")
	httpAddr, httpToken := addHTTPFlags(fs)
	queryMemory := fs.String("query-memory", query.DefaultConfig().MemoryLimit,
		"DuckDB memory limit of API queries and of the dashboard's in-memory copies of gold")
	queryThreads := addQueryThreadsFlag(fs)
	drain := fs.Bool("drain", false, "process the source to its end, let every stage catch up, print a summary and exit")
	kf := addKafkaFlags(fs, "external Kafka brokers host:port[,...]; empty starts the embedded broker")
	bf := addBrokerFlags(fs)
	inf := addIngestFlags(fs)
	lf := addLakehouseFlags(fs, dataDir)
	brf := addBronzeFlags(fs)
	sf := addSilverFlags(fs)
	af := addAlertFlags(fs)
	dqf := addDQFlags(fs)
	mf := addMaintainFlags(fs)
	applyMem := addMemoryLimitFlag(fs, "0")
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	threads, err := queryThreads()
	if err != nil {
		return err
	}
	live := strings.HasPrefix(inf.source, "http://") || strings.HasPrefix(inf.source, "https://")
	undoMem, err := applyMem(e.getenv, live)
	if err != nil {
		return err
	}
	defer undoMem()
	if len(kf.brokers) > 0 {
		if err := kf.config().Validate(); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	metrics := ingest.NewMetrics(reg)
	src, icfg, err := inf.build(bf.partitions, metrics, e.log)
	if err != nil {
		return err
	}
	icfg.Logger = e.log
	lcfg, err := lf.config(e.log)
	if err != nil {
		return err
	}
	bcfg, err := brf.config(e.log, icfg.RawTopic, icfg.DLQTopic)
	if err != nil {
		return err
	}
	scfg, err := sf.config(e)
	if err != nil {
		return err
	}
	gcfg := gold.DefaultConfig()
	gcfg.LargeDeletionBytes, gcfg.Logger, gcfg.AlertBots = scfg.LargeDeletionBytes, e.log, af.bots
	if err := af.validate(); err != nil {
		return err
	}
	qcfg, err := dqf.config(e)
	if err != nil {
		return err
	}
	mcfg, err := mf.config(e)
	if err != nil {
		return err
	}
	if !live && !flagSet(fs, "dq-max-source-age") {
		qcfg.MaxSourceAge = 0 // a file that was read to its end is not a stopped feed
	}
	cfg := app.Config{
		Lakehouse:     lcfg,
		Bronze:        bcfg,
		Silver:        scfg,
		Gold:          gcfg,
		Embedded:      len(kf.brokers) == 0,
		Broker:        bf.config(*dataDir),
		Kafka:         kf.config(),
		HTTPAddr:      *httpAddr,
		HTTPToken:     *httpToken,
		QueryMemory:   *queryMemory,
		QueryThreads:  threads,
		Ingest:        icfg,
		Source:        src,
		Registry:      reg,
		IngestMetrics: metrics,
		Drain:         *drain,
		Logger:        e.log,
		Alerts:        af.sinks,
		AlertCoolDown: af.coolDown,
		Quality:       &qcfg,
		LiveSource:    live,
		Maintain:      &mcfg,
	}
	cfg.Broker.Logger = e.log
	sum, err := app.Run(ctx, cfg)
	if *drain && err == nil {
		printSummary(e.stdout, sum.Ingest, sum.Elapsed)
		printBronze(e.stdout, sum.Bronze)
		if q := sum.Quality; q != nil {
			fmt.Fprintf(e.stdout, "data quality:    %d checks passed, %d failed, %d could not run (ops.dq_results, run %s)\n",
				q.Count(quality.StatusPass), q.Count(quality.StatusFail), q.Count(quality.StatusError), q.RunID)
			for _, f := range q.Failures() {
				fmt.Fprintf(e.stdout, "  %s %s: observed %s, expected %s\n", f.Status, f.Check, f.Observed, f.Expected)
			}
			fmt.Fprintf(e.stdout, "risk alerts:     %d HIGH editors alerted (ops.alerts)\n", sum.RiskAlerts)
		}
	}
	return err
}

// printBronze writes what bronze committed.
func printBronze(w io.Writer, st bronze.Stats) {
	fmt.Fprintf(w, "rows committed:  %d to bronze.raw_events, %d to bronze.dlq_events\n", st.RawRows, st.DLQRows)
	fmt.Fprintf(w, "duplicates:      %d skipped\n", st.Duplicates)
	fmt.Fprintf(w, "commits:         %d (%d data files)\n", st.Commits, st.Files)
}

// printSummary writes what an ingest did, one fact per line.
func printSummary(w io.Writer, st ingest.Stats, elapsed time.Duration) {
	fmt.Fprintf(w, "events read:     %d\n", st.Read)
	fmt.Fprintf(w, "produced:        %d\n", st.Produced)
	fmt.Fprintf(w, "dead-lettered:   %d\n", st.DLQ)
	reasons := make([]string, 0, len(st.Reasons))
	for r := range st.Reasons {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  %-24s %d\n", r+":", st.Reasons[r])
	}
	fmt.Fprintf(w, "filtered:        %d\n", st.Filtered)
	fmt.Fprintf(w, "canary:          %d\n", st.Canary)
	if st.Resumed != "" {
		fmt.Fprintf(w, "resumed after:   %s\n", st.Resumed)
	}
	secs := elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(st.Read) / secs
	}
	fmt.Fprintf(w, "seconds:         %.2f (%.0f events/s)\n", secs, rate)
}
