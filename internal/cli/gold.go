package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/wikistream/wikistream/internal/gold"
)

func runGold(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("gold", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	lf := addLakehouseFlags(fs, dataDir)
	d := gold.DefaultConfig()
	cfg := d
	fs.Int64Var(&cfg.LargeDeletionBytes, "large-deletion-bytes", d.LargeDeletionBytes, "recorded in the risk evidence (silver flags large deletions with the same setting)")
	fs.BoolVar(&cfg.AlertBots, "alert-bots", false, "let bots trigger risk alerts (they do not by default)")
	fs.DurationVar(&cfg.MinInterval, "gold-interval", d.MinInterval, "least time between gold runs")
	once := fs.Bool("once", false, "bring gold up to silver's current snapshot, then exit (for external schedulers)")
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
	cfg.Logger = e.log
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()
	st, err := gold.New(ctx, cfg, lh)
	if err != nil {
		return err
	}
	defer st.Close()
	if !*once {
		return st.Run(ctx)
	}
	res, err := st.RunUntilCaught(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "gold: recomputed %d hours (%d hourly_stats rows) and %d days (%d risk_scores rows); %d days of the daily rollups written\n",
		res.Hours, res.HourlyRows, res.Days, res.Risks, res.DailyDays)
	return nil
}
