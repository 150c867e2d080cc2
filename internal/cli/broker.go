package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/wikistream/wikistream/internal/kafka"
)

func runBroker(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the broker keeps its data in <data-dir>/broker")
	bf := addBrokerFlags(fs)
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	cfg := bf.config(*dataDir)
	cfg.Logger = e.log
	b, err := kafka.StartBroker(cfg)
	if err != nil {
		return err
	}
	e.log.Info("embedded broker listening", "addr", b.Addr(), "data_dir", cfg.DataDir)
	fmt.Fprintln(e.stdout, b.Addr())
	return b.Run(ctx)
}
