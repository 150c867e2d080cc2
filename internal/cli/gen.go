package cli

import (
	"bufio"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/gen"
)

func runGen(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	d := gen.DefaultConfig()
	cfg := d
	var domains listFlag
	start := fs.String("start", d.Start.UTC().Format(time.RFC3339), "event time of the first event (RFC 3339)")
	out := fs.String("out", "-", "output file (.jsonl, or .jsonl.gz to compress); - for stdout")
	fs.Int64Var(&cfg.Seed, "seed", d.Seed, "random seed: the same seed and settings give byte-identical output")
	fs.IntVar(&cfg.Count, "count", d.Count, "number of events to generate")
	fs.Float64Var(&cfg.Rate, "rate", d.Rate, "mean events per second of event time (the live feed averages about 21)")
	fs.Var(&domains, "domains", "restrict to these domains, comma-separated (default: the realistic all-wiki mix)")
	fs.Float64Var(&cfg.Duplicates, "duplicates", d.Duplicates, "fraction of events emitted twice, as at-least-once delivery does")
	fs.Float64Var(&cfg.Malformed, "malformed", d.Malformed, "fraction of malformed lines (bad JSON, missing fields, wrong types, bad timestamps)")
	fs.Float64Var(&cfg.OutOfOrder, "out-of-order", d.OutOfOrder, "fraction of events stamped earlier than their predecessors")
	fs.IntVar(&cfg.VandalBurst, "vandal-burst", d.VandalBurst, "add a vandal-like burst of this many edits by one anonymous editor within an hour")
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return fmt.Errorf("--start: got %q, want an RFC 3339 time such as 2026-01-02T00:00:00Z", *start)
	}
	cfg.Start = t
	cfg.Domains = domains
	if err := cfg.Validate(); err != nil {
		return err
	}
	w, closeOut, err := openOutput(*out, e.stdout)
	if err != nil {
		return err
	}
	began := time.Now()
	st, err := gen.Write(ctx, w, cfg)
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("generate to %s: %w", *out, err)
	}
	e.log.Info("generated", "events", st.Events, "duplicates", st.Duplicates, "malformed", st.Malformed,
		"vandal", st.Vandal, "bytes", st.Bytes, "seconds", time.Since(began).Seconds())
	return nil
}

// openOutput opens path for writing ("-" is stdout; .gz is compressed) and
// returns a close function that flushes everything.
func openOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" {
		bw := bufio.NewWriterSize(stdout, 1<<20)
		return bw, bw.Flush, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--out: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if !strings.HasSuffix(path, ".gz") {
		return bw, func() error {
			if err := bw.Flush(); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}, nil
	}
	gz := gzip.NewWriter(bw)
	return gz, func() error {
		err := gz.Close()
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}
