package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// maintainFlags are the table-maintenance settings, shared by maintain and
// run.
type maintainFlags struct {
	interval       time.Duration
	firstRunAfter  time.Duration
	expireInterval time.Duration
	targetFileSize byteSize
	minInputFiles  int
	keepSnapshots  int
	maxSnapshots   int
	snapshotMaxAge time.Duration
	orphanAge      time.Duration
}

func addMaintainFlags(fs *flag.FlagSet) *maintainFlags {
	d := lakehouse.DefaultMaintainConfig()
	f := &maintainFlags{targetFileSize: byteSize(d.TargetFileSize)}
	fs.DurationVar(&f.interval, "maintain-interval", d.Interval, "how often every table is compacted, expired and cleaned of orphan files")
	fs.DurationVar(&f.firstRunAfter, "maintain-first-run", d.FirstRunAfter, "how long after start the first maintenance run waits, so that a restart catches up first; 0: at once")
	fs.DurationVar(&f.expireInterval, "expire-interval", d.ExpireInterval, "how often snapshots are expired between maintenance runs (streaming commits grow the metadata); 0: only in maintenance runs")
	fs.Var(&f.targetFileSize, "target-file-size", "compaction writes files of about this size, e.g. 256MiB; files of at least 3/4 of it are left alone")
	fs.IntVar(&f.minInputFiles, "min-input-files", d.MinInputFiles, "a partition is compacted once it has this many small files")
	fs.IntVar(&f.keepSnapshots, "keep-snapshots", d.KeepSnapshots, "the newest snapshots of each table always kept")
	fs.DurationVar(&f.snapshotMaxAge, "snapshot-max-age", d.SnapshotMaxAge, "snapshots younger than this are kept too (up to --max-snapshots)")
	fs.IntVar(&f.maxSnapshots, "max-snapshots", d.MaxSnapshots, "the most snapshots --snapshot-max-age keeps per table (a streaming table commits every second); 0: no cap")
	fs.DurationVar(&f.orphanAge, "orphan-age", d.OrphanAge, "files no table metadata references are deleted once older than this (at least 1h)")
	return f
}

// config checks the flags, naming the bad one, and returns the
// configuration.
func (f *maintainFlags) config(e *env) (lakehouse.MaintainConfig, error) {
	c := lakehouse.DefaultMaintainConfig()
	switch {
	case f.interval <= 0:
		return c, fmt.Errorf("--maintain-interval: got %v, want more than 0", f.interval)
	case f.firstRunAfter < 0:
		return c, fmt.Errorf("--maintain-first-run: got %v, want 0 (at once) or more", f.firstRunAfter)
	case f.expireInterval < 0:
		return c, fmt.Errorf("--expire-interval: got %v, want 0 or more", f.expireInterval)
	case f.targetFileSize < 1<<20:
		return c, fmt.Errorf("--target-file-size: got %d bytes, want at least 1MiB", f.targetFileSize)
	case f.minInputFiles < 2:
		return c, fmt.Errorf("--min-input-files: got %d, want at least 2", f.minInputFiles)
	case f.keepSnapshots < 1:
		return c, fmt.Errorf("--keep-snapshots: got %d, want at least 1", f.keepSnapshots)
	case f.snapshotMaxAge < 0:
		return c, fmt.Errorf("--snapshot-max-age: got %v, want 0 or more", f.snapshotMaxAge)
	case f.maxSnapshots != 0 && f.maxSnapshots < f.keepSnapshots:
		return c, fmt.Errorf("--max-snapshots: got %d, want 0 (no cap) or at least --keep-snapshots (%d)", f.maxSnapshots, f.keepSnapshots)
	case f.orphanAge < time.Hour:
		return c, fmt.Errorf("--orphan-age: got %v, want at least 1h (younger files may belong to commits in flight)", f.orphanAge)
	}
	c.Interval, c.FirstRunAfter, c.ExpireInterval = f.interval, f.firstRunAfter, f.expireInterval
	c.TargetFileSize, c.MinInputFiles = int64(f.targetFileSize), f.minInputFiles
	c.KeepSnapshots, c.SnapshotMaxAge, c.MaxSnapshots = f.keepSnapshots, f.snapshotMaxAge, f.maxSnapshots
	c.OrphanAge = f.orphanAge
	c.Logger = e.log
	return c, c.Validate()
}

// parseTables resolves --table names against the WikiStream tables.
func parseTables(names []string) ([]table.Identifier, error) {
	all := lakehouse.Tables()
	if len(names) == 0 {
		return all, nil
	}
	var known []string
	for _, t := range all {
		known = append(known, lakehouse.Name(t))
	}
	var out []table.Identifier
	for _, n := range names {
		i := slices.Index(known, n)
		if i < 0 {
			return nil, fmt.Errorf("--table: unknown table %q; want one of %s", n, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func runMaintain(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("maintain", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	lf := addLakehouseFlags(fs, dataDir)
	mf := addMaintainFlags(fs)
	once := fs.Bool("once", false, "maintain every table once, print what was done, then exit (for external schedulers)")
	dryRun := fs.Bool("dry-run", false, "change nothing: print what would be compacted, expired and deleted (with --once)")
	var tables listFlag
	fs.Var(&tables, "table", "maintain only these tables, comma-separated (e.g. bronze.raw_events,silver.cleaned_events); default all")
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	cfg, err := mf.config(e)
	if err != nil {
		return err
	}
	if cfg.Tables, err = parseTables(tables); err != nil {
		return err
	}
	if *dryRun && !*once {
		return errors.New("--dry-run: only with --once")
	}
	cfg.DryRun = *dryRun
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()
	m, err := lakehouse.NewMaintainer(lh, cfg)
	if err != nil {
		return err
	}
	if !*once {
		return m.Run(ctx)
	}
	rep, err := m.RunOnce(ctx)
	printReport(e, rep)
	return err
}

// printReport writes one line per table, then what was skipped or failed.
func printReport(e *env, rep lakehouse.Report) {
	if rep.DryRun {
		fmt.Fprintln(e.stdout, "dry run: nothing was changed; the numbers are what maintenance would do")
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tfiles\tcompacted\twritten\tMiB\tmanifests\tsnapshots\texpired\torphans\tseconds\t")
	var notes []string
	for _, t := range rep.Tables {
		if t.Missing {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t\n", t.Table)
			notes = append(notes, t.Table+": does not exist yet")
			continue
		}
		fmt.Fprintf(tw, "%s\t%d → %d\t%d\t%d\t%.1f → %.1f\t%d → %d\t%d\t%d\t%d\t%.1f\t\n", t.Table,
			t.FilesBefore, t.FilesAfter, t.FilesCompacted, t.FilesWritten,
			float64(t.BytesBefore)/(1<<20), float64(t.BytesAfter)/(1<<20),
			t.ManifestsRewritten, t.ManifestsWritten, t.SnapshotsBefore, t.SnapshotsExpired, t.OrphansRemoved, t.Duration.Seconds())
		if t.CompactionSkipped != "" && t.FilesCompacted == 0 {
			notes = append(notes, fmt.Sprintf("%s: not compacted: %s", t.Table, t.CompactionSkipped))
		}
		if rep.DryRun {
			for _, p := range t.OrphanPaths {
				notes = append(notes, fmt.Sprintf("%s: orphan: %s", t.Table, p))
			}
		}
		if t.Err != nil {
			notes = append(notes, fmt.Sprintf("%s: error: %v", t.Table, t.Err))
		}
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(e.stdout, n)
	}
	fmt.Fprintf(e.stdout, "maintenance took %.1fs\n", rep.Duration.Seconds())
}
