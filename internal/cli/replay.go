package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/silver"
)

// runReplay re-consumes the Kafka topics from an offset or a time into
// bronze, then brings silver and gold up to date, and exits. Rows already
// present are not added again, so a replay changes no table unless it
// fills a gap.
func runReplay(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	kf := addKafkaFlags(fs, "Kafka brokers host:port[,...]")
	lf := addLakehouseFlags(fs, dataDir)
	fromTime := fs.String("from-time", "", "start at the first record at or after this time (RFC 3339)")
	fromOffset := fs.Int64("from-offset", -1, "start every partition at this offset (default: the earliest record)")
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
	bc := bronze.DefaultConfig()
	bc.Replay, bc.ReplayOffset, bc.Logger = true, *fromOffset, e.log
	bc.Group = fmt.Sprintf("wikistream-replay-%d", time.Now().UnixNano())
	if *fromTime != "" {
		t, err := time.Parse(time.RFC3339, *fromTime)
		if err != nil {
			return fmt.Errorf("--from-time: got %q, want an RFC 3339 time such as 2026-01-02T15:04:05Z", *fromTime)
		}
		bc.ReplayFrom = t
	}
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()

	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, bc.RawTopic, bc.DLQTopic)
	cl.Close()
	if err != nil {
		return fmt.Errorf("list end offsets (is Kafka reachable at --brokers?): %w", err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	st, err := bronze.New(bc, lh, opts, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(rctx)
	g.Go(func() error { return st.Run(gctx) })
	g.Go(func() error {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-tick.C:
			}
			done, reached := caughtUp(st.Progress(), ends)
			e.log.Info("replay progress", "records", reached, "of", total,
				"percent", fmt.Sprintf("%.1f", 100*float64(reached)/float64(max(total, 1))),
				"rows_added", st.Stats().RawRows+st.Stats().DLQRows, "duplicates", st.Stats().Duplicates)
			if done {
				cancel()
				return nil
			}
		}
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	bs := st.Stats()
	fmt.Fprintf(e.stdout, "replayed %d records in %.1f s: %d rows added to bronze, %d already present\n",
		total, time.Since(start).Seconds(), bs.RawRows+bs.DLQRows, bs.Duplicates)
	return catchUpDownstream(ctx, e, lh)
}

// caughtUp reports whether progress reached every end offset, and how many
// records that is.
func caughtUp(progress lakehouse.Offsets, ends kadm.ListedOffsets) (bool, int64) {
	done, reached := true, int64(0)
	ends.Each(func(o kadm.ListedOffset) {
		p := min(progress[o.Topic][o.Partition], o.Offset)
		reached += p
		if p < o.Offset {
			done = false
		}
	})
	return done, reached
}

// catchUpDownstream runs silver and gold once each until they reflect
// bronze.
func catchUpDownstream(ctx context.Context, e *env, lh *lakehouse.Lakehouse) error {
	sv, err := silver.New(silver.DefaultConfig(), lh)
	if err != nil {
		return err
	}
	added := 0
	for {
		res, err := sv.RunOnce(ctx)
		if err != nil {
			return err
		}
		added += res.Added
		if res.Caught {
			break
		}
	}
	gd, err := gold.New(ctx, gold.DefaultConfig(), lh)
	if err != nil {
		return err
	}
	defer gd.Close()
	res, err := gd.RunUntilCaught(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "silver: %d rows added; gold: %d hours and %d days recomputed\n", added, res.Hours, res.Days)
	return nil
}
