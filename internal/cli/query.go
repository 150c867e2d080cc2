package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

func runQuery(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	lf := addLakehouseFlags(fs, dataDir)
	format := fs.String("format", "table", "output format: "+strings.Join(query.Formats, ", "))
	snapshot := fs.Int64("snapshot", 0, "read the table that has this snapshot id as of it (time travel); other tables are current")
	asOf := fs.String("as-of", "", "read every table as of this time (RFC 3339), within the kept snapshots")
	d := query.DefaultConfig()
	timeout := fs.Duration("timeout", d.Timeout, "interrupt the query after this long")
	maxRows := fs.Int("max-rows", d.MaxRows, "print at most this many rows")
	memory := fs.String("memory", d.MemoryLimit, "DuckDB memory limit")
	applyLog := logFlags(fs, e)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, `Usage: wikistream query [flags] "SQL"

Read-only SQL over the Iceberg tables: bronze.raw_events, bronze.dlq_events
(and, as they are built, silver.cleaned_events, gold.hourly_stats,
gold.risk_scores, ops.dq_results, ops.alerts).`)
		fs.PrintDefaults()
	}
	// The SQL is the one positional argument; flags may come before it.
	var sqlText string
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") {
		sqlText, args = args[n-1], args[:n-1]
	}
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	if strings.TrimSpace(sqlText) == "" {
		fs.Usage()
		return fmt.Errorf("no SQL given; for example: wikistream query \"SELECT count(*) FROM bronze.raw_events\"")
	}
	if !slices.Contains(query.Formats, *format) {
		return fmt.Errorf("--format: got %q, want one of %s", *format, strings.Join(query.Formats, ", "))
	}
	var at query.At
	at.Snapshot = *snapshot
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			return fmt.Errorf("--as-of: got %q, want an RFC 3339 time such as 2026-01-02T15:04:05Z", *asOf)
		}
		at.AsOf = t
	}
	cfg := query.Config{MemoryLimit: *memory, Timeout: *timeout, MaxRows: *maxRows}
	if err := cfg.Validate(); err != nil {
		return err
	}
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()
	eng, err := query.Open(ctx, lh, lakehouse.Tables(), cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.Query(ctx, sqlText, at)
	if err != nil {
		return err
	}
	if err := res.Write(e.stdout, *format); err != nil {
		return err
	}
	if res.Truncated {
		e.log.Warn("result truncated", "max_rows", *maxRows)
	}
	return nil
}
