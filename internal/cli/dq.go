package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/wikistream/wikistream/internal/quality"
)

// errChecksFailed ends `dq --once` with exit status 2 when a check failed
// or could not be evaluated, so that cron and CI can tell it from a run
// that could not be carried out (status 1). The results are printed
// already, so it goes the way of a usage error: status 2, no message.
var errChecksFailed = fmt.Errorf("data-quality checks failed: %w", errUsage)

// dqFlags are the data-quality stage's settings.
type dqFlags struct {
	interval        time.Duration
	firstRunAfter   time.Duration
	lookbackDays    int
	maxSourceAge    time.Duration
	maxLag          time.Duration
	futureTolerance time.Duration
	lateWindow      time.Duration
	volumeWindow    int
	volumeZ         float64
	volumeMinRows   int64
	samples         int
	chunkRows       int64
	memory          string
	queryTimeout    time.Duration
}

func addDQFlags(fs *flag.FlagSet) *dqFlags {
	d := quality.DefaultConfig()
	f := &dqFlags{}
	fs.DurationVar(&f.interval, "dq-interval", d.Interval, "time between data-quality runs (the original schedule is 15m)")
	fs.DurationVar(&f.firstRunAfter, "dq-first-run", d.FirstRunAfter, "how long after start the first data-quality run waits, so that a restart catches up first; 0: at once (--once runs at once)")
	fs.IntVar(&f.lookbackDays, "dq-lookback-days", d.LookbackDays, "row checks and reconciliations cover the event dates from this many days before the newest one; 0: every date")
	fs.DurationVar(&f.maxSourceAge, "dq-max-source-age", d.MaxSourceAge, "fail when bronze's newest commit is older (ingest or bronze stopped); 0: no such check, for an idle pipeline")
	fs.DurationVar(&f.maxLag, "dq-max-lag", d.MaxLag, "fail when silver or gold leaves an upstream commit unread for longer; 0: no such check")
	fs.DurationVar(&f.futureTolerance, "dq-future-tolerance", d.FutureTolerance, "how far after its ingest an event timestamp may lie (clock skew)")
	fs.DurationVar(&f.lateWindow, "dq-late-window", d.LateWindow, "how much older than its ingest an event read from EventStreams may be; 0: no such check")
	fs.IntVar(&f.volumeWindow, "dq-volume-window", d.VolumeWindow, "trailing hours the last complete hour's volume is compared with")
	fs.Float64Var(&f.volumeZ, "dq-volume-z", d.VolumeZ, "standard deviations from the trailing mean that make a volume spike or drop")
	fs.Int64Var(&f.volumeMinRows, "dq-volume-min-rows", d.VolumeMinRows, "judge an hour's volume only when it or the trailing mean has at least this many rows")
	fs.IntVar(&f.samples, "dq-samples", d.Samples, "offending rows recorded as evidence per failed check")
	fs.Int64Var(&f.chunkRows, "dq-chunk-rows", d.ChunkRows, "most rows one data-quality query reads (tables are read in chunks of whole dates)")
	fs.StringVar(&f.memory, "dq-memory", d.Query.MemoryLimit, "DuckDB memory limit of the data-quality queries")
	fs.DurationVar(&f.queryTimeout, "dq-query-timeout", d.Query.Timeout, "interrupt a data-quality query after this long")
	return f
}

// config checks each value, naming its flag, and returns the configuration.
func (f *dqFlags) config(e *env) (quality.Config, error) {
	c := quality.DefaultConfig()
	for _, bad := range []struct {
		flag string
		ok   bool
		got  any
		want string
	}{
		{"--dq-interval", f.interval > 0, f.interval, "a positive duration such as 15m"},
		{"--dq-first-run", f.firstRunAfter >= 0, f.firstRunAfter, "0 (at once) or more"},
		{"--dq-lookback-days", f.lookbackDays >= 0, f.lookbackDays, "0 (every date) or more"},
		{"--dq-max-source-age", f.maxSourceAge >= 0, f.maxSourceAge, "0 (no check) or a positive duration"},
		{"--dq-max-lag", f.maxLag >= 0, f.maxLag, "0 (no check) or a positive duration"},
		{"--dq-future-tolerance", f.futureTolerance >= 0, f.futureTolerance, "0 or a positive duration"},
		{"--dq-late-window", f.lateWindow >= 0, f.lateWindow, "0 (no check) or a positive duration"},
		{"--dq-volume-window", f.volumeWindow >= 2, f.volumeWindow, "at least 2 hours"},
		{"--dq-volume-z", f.volumeZ > 0, f.volumeZ, "a positive number of standard deviations"},
		{"--dq-volume-min-rows", f.volumeMinRows >= 0, f.volumeMinRows, "0 or more"},
		{"--dq-samples", f.samples >= 0, f.samples, "0 or more"},
		{"--dq-chunk-rows", f.chunkRows >= 1, f.chunkRows, "at least 1"},
		{"--dq-query-timeout", f.queryTimeout > 0, f.queryTimeout, "a positive duration"},
	} {
		if !bad.ok {
			return c, fmt.Errorf("%s: got %v, want %s", bad.flag, bad.got, bad.want)
		}
	}
	c.Interval, c.FirstRunAfter, c.LookbackDays, c.MaxSourceAge, c.MaxLag = f.interval, f.firstRunAfter, f.lookbackDays, f.maxSourceAge, f.maxLag
	c.FutureTolerance, c.LateWindow = f.futureTolerance, f.lateWindow
	c.VolumeWindow, c.VolumeZ, c.VolumeMinRows = f.volumeWindow, f.volumeZ, f.volumeMinRows
	c.Samples, c.ChunkRows = f.samples, f.chunkRows
	c.Query.MemoryLimit, c.Query.Timeout = f.memory, f.queryTimeout
	if err := c.Query.Validate(); err != nil {
		return c, fmt.Errorf("--dq-memory: %w", err)
	}
	c.Logger = e.log
	return c, c.Validate()
}

func runDQ(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("dq", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	lf := addLakehouseFlags(fs, dataDir)
	df := addDQFlags(fs)
	once := fs.Bool("once", false, "run the checks once, print the results and exit: 0 when every check passed, 2 when one failed or could not be evaluated")
	format := fs.String("format", "table", "output of --once: table or json")
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("--format: got %q, want table or json", *format)
	}
	cfg, err := df.config(e)
	if err != nil {
		return err
	}
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()
	st, err := quality.New(cfg, lh, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if !*once {
		return st.Run(ctx)
	}
	rep, err := st.RunOnce(ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteTable(e.stdout); err != nil {
		return err
	}
	if n := len(rep.Failures()); n > 0 {
		fmt.Fprintf(e.stderr, "wikistream dq: %d of %d checks failed or could not be evaluated\n", n, len(rep.Results))
		return errChecksFailed
	}
	return nil
}
