package cli

import (
	"context"
	"flag"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/ingest"
)

func runIngest(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	kf := addKafkaFlags(fs, "Kafka brokers host:port[,...]")
	partitions := fs.Int("partitions", 6, "partitions of the raw-events and dlq-events topics when they are created")
	inf := addIngestFlags(fs)
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	opts, err := kf.config("127.0.0.1:9092").Opts(e.log)
	if err != nil {
		return err
	}
	metrics := ingest.NewMetrics(prometheus.NewRegistry())
	src, icfg, err := inf.build(*partitions, metrics, e.log)
	if err != nil {
		return err
	}
	icfg.Logger = e.log
	stage, err := ingest.New(icfg, src, opts, metrics)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := stage.Run(ctx); err != nil {
		return err
	}
	printSummary(e.stdout, stage.Stats(), time.Since(start))
	return nil
}
