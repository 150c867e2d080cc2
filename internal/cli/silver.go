package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/wikistream/wikistream/internal/silver"
)

// silverFlags are the silver stage's settings.
type silverFlags struct {
	interval      time.Duration
	largeDeletion int64
}

func addSilverFlags(fs *flag.FlagSet) *silverFlags {
	d := silver.DefaultConfig()
	f := &silverFlags{}
	fs.DurationVar(&f.interval, "silver-interval", d.MinInterval, "least time between silver commits (5m reproduces the original schedule); 0: after every bronze commit")
	fs.Int64Var(&f.largeDeletion, "large-deletion-bytes", d.LargeDeletionBytes, "an edit removing at least this many bytes is a large deletion")
	return f
}

func (f *silverFlags) config(e *env) (silver.Config, error) {
	c := silver.DefaultConfig()
	c.MinInterval, c.LargeDeletionBytes, c.Logger = f.interval, f.largeDeletion, e.log
	return c, c.Validate()
}

func runSilver(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("silver", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	lf := addLakehouseFlags(fs, dataDir)
	sf := addSilverFlags(fs)
	once := fs.Bool("once", false, "process what bronze holds now, then exit (for external schedulers)")
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
	cfg, err := sf.config(e)
	if err != nil {
		return err
	}
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()
	st, err := silver.New(cfg, lh)
	if err != nil {
		return err
	}
	if !*once {
		return st.Run(ctx)
	}
	total := silver.Result{}
	for {
		res, err := st.RunOnce(ctx)
		if err != nil {
			return err
		}
		total.Files += res.Files
		total.Read += res.Read
		total.Added += res.Added
		total.Duplicates += res.Duplicates
		if res.Caught {
			fmt.Fprintf(e.stdout, "silver: read %d bronze rows from %d files, added %d, %d already present; at bronze sequence %d\n",
				total.Read, total.Files, total.Added, total.Duplicates, res.Checkpoint.Sequence)
			return nil
		}
	}
}
