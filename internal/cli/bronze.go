package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/kafka"
)

func runBronze(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("bronze", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	kf := addKafkaFlags(fs, "Kafka brokers host:port[,...]")
	lf := addLakehouseFlags(fs, dataDir)
	brf := addBronzeFlags(fs)
	rawTopic := fs.String("raw-topic", kafka.TopicRaw, "topic of valid events")
	dlqTopic := fs.String("dlq-topic", kafka.TopicDLQ, "topic of rejected events")
	replay := fs.Bool("replay", false, "consume the topics from their start instead of the tables' offsets; rows already present are not added again")
	replayFrom := fs.String("replay-from", "", "with --replay, start at the first record at or after this time (RFC 3339)")
	applyMem := addMemoryLimitFlag(fs, "0")
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	undoMem, err := applyMem(e.getenv, false)
	if err != nil {
		return err
	}
	defer undoMem()
	opts, err := kf.config("127.0.0.1:9092").Opts(e.log)
	if err != nil {
		return err
	}
	bcfg, err := brf.config(e.log, *rawTopic, *dlqTopic)
	if err != nil {
		return err
	}
	bcfg.Replay = *replay
	if *replayFrom != "" {
		t, err := time.Parse(time.RFC3339, *replayFrom)
		if err != nil {
			return fmt.Errorf("--replay-from: got %q, want an RFC 3339 time such as 2026-01-02T15:04:05Z", *replayFrom)
		}
		bcfg.Replay, bcfg.ReplayFrom = true, t
	}
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()
	st, err := bronze.New(bcfg, lh, opts, bronze.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		return err
	}
	return st.Run(ctx)
}
