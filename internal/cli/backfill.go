package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/wikistream/wikistream/internal/ingest"
)

// runBackfill re-ingests a past stretch of events beside the live ingest:
// from EventStreams with --since (up to --until, by default now) or from
// files. Bronze merges on event_id, so events already present change no
// table; only gaps are filled.
func runBackfill(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	kf := addKafkaFlags(fs, "Kafka brokers host:port[,...] of the running pipeline")
	partitions := fs.Int("partitions", 6, "partitions of the topics if they must be created")
	inf := addIngestFlags(fs)
	until := fs.String("until", "", "stop at the first event stamped at or after this time (RFC 3339); default: when the backfill starts")
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
	icfg.Logger, icfg.Backfill, icfg.Resume = e.log, true, false
	icfg.StopAt = time.Now()
	if *until != "" {
		if icfg.StopAt, err = time.Parse(time.RFC3339, *until); err != nil {
			return fmt.Errorf("--until: got %q, want an RFC 3339 time such as 2026-01-02T15:04:05Z", *until)
		}
	}
	stage, err := ingest.New(icfg, src, opts, metrics)
	if err != nil {
		return err
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	done := make(chan struct{})
	g.Go(func() error {
		defer close(done)
		return stage.Run(gctx)
	})
	g.Go(func() error { // progress, every 2 s until the backfill ends
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return nil
			case <-tick.C:
				st := stage.Stats()
				secs := time.Since(start).Seconds()
				e.log.Info("backfill progress", "read", st.Read, "produced", st.Produced, "dead_lettered", st.DLQ,
					"filtered", st.Filtered, "events_per_second", fmt.Sprintf("%.0f", float64(st.Read)/secs))
			}
		}
	})
	if err := g.Wait(); err != nil {
		return err
	}
	printSummary(e.stdout, stage.Stats(), time.Since(start))
	return nil
}
