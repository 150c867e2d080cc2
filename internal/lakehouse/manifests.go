package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Manifests by day. Every WikiStream table is partitioned by a *_date
// column (YYYY-MM-DD). A commit that replaces or deletes rows
// (gold's copy-on-write of its open hours, every second) reads the entries
// of each manifest whose partition bounds may hold the rows it replaces. A
// manifest with files of many days (a replay's or a backfill's commits, a
// compaction's, iceberg-go's rewrite of a parent manifest) has bounds that
// hold today too, so each such commit decoded all of its entries twice:
// over 30 days of gold, two thirds of the manifest decoding of a live
// process, growing with the history kept (docs/PERFORMANCE.md, session 16).
//
// Maintenance therefore rewrites the manifests of closed days so that each
// closed day has one manifest of its own (a metadata-only REPLACE
// snapshot; no data file is read or written): every manifest spanning more
// than one day, and every closed day's manifests when it has more than one.
// A commit on the open day then skips them by their bounds. The open day's
// own manifests are left alone: they change with every commit.

// manifestResult is what clustering one table's manifests did (or would do,
// in a dry run).
type manifestResult struct {
	rewritten, written int
}

// clusterManifests rewrites ident's manifests by day (see above).
func (m *Maintainer) clusterManifests(ctx context.Context, ident table.Identifier) (manifestResult, error) {
	today := m.cfg.Now().UTC().Format(time.DateOnly)
	if m.cfg.DryRun {
		tbl, err := m.lh.Load(ctx, ident)
		if err != nil {
			return manifestResult{}, err
		}
		eligible, err := manifestsToCluster(ctx, tbl, today)
		if err != nil {
			return manifestResult{}, err
		}
		days, err := daysOf(ctx, tbl, eligible)
		return manifestResult{rewritten: len(eligible), written: days}, err
	}
	var res manifestResult
	_, err := m.lh.Commit(ctx, ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		eligible, err := manifestsToCluster(ctx, tbl, today)
		if err != nil || len(eligible) == 0 {
			return errors.Join(err, ErrNoChange)
		}
		dateID, _ := dateField(tbl.Spec())
		out, err := tx.RewriteManifests(ctx,
			table.WithRewriteManifestPredicate(func(mf iceberg.ManifestFile) bool { return eligible[mf.FilePath()] }),
			table.WithRewriteManifestClusterBy(func(df iceberg.DataFile) any {
				s, _ := df.Partition()[dateID].(string)
				return s
			}))
		if err != nil {
			return fmt.Errorf("rewrite manifests: %w", err)
		}
		if out.IsNoOp() {
			return ErrNoChange
		}
		res = manifestResult{rewritten: len(out.RewrittenManifests), written: len(out.AddedManifests)}
		return nil
	})
	if errors.Is(err, ErrNoChange) {
		return manifestResult{}, nil
	}
	return res, err
}

// manifestsToCluster returns the paths of tbl's data manifests to rewrite
// by day, when today (YYYY-MM-DD) is the open day. A table without a *_date partition field, or whose manifests were
// written under another partition spec, has none.
func manifestsToCluster(ctx context.Context, tbl *table.Table, today string) (map[string]bool, error) {
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return nil, nil
	}
	spec := tbl.Spec()
	dateID, idx := dateField(spec)
	if dateID == 0 {
		return nil, nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	manifests, err := snap.Manifests(fs)
	if err != nil {
		return nil, fmt.Errorf("list manifests of %s: %w", Name(tbl.Identifier()), err)
	}
	type span struct{ lo, hi string }
	spans := map[string]span{}
	perDay := map[string]int{}
	for _, mf := range manifests {
		if mf.ManifestContent() != iceberg.ManifestContentData || int(mf.PartitionSpecID()) != spec.ID() {
			continue
		}
		parts := mf.Partitions()
		if idx >= len(parts) || parts[idx].LowerBound == nil || parts[idx].UpperBound == nil || parts[idx].ContainsNull {
			continue
		}
		s := span{string(*parts[idx].LowerBound), string(*parts[idx].UpperBound)}
		spans[mf.FilePath()] = s
		if s.lo == s.hi {
			perDay[s.lo]++
		}
	}
	eligible := map[string]bool{}
	for path, s := range spans {
		if s.lo != s.hi || (s.lo < today && perDay[s.lo] > 1) {
			eligible[path] = true
		}
	}
	return eligible, nil
}

// daysOf counts the days of the live files in tbl's manifests at paths:
// the manifests clustering them writes (a dry run's estimate; a day of
// more files than a manifest's target size holds gets more).
func daysOf(ctx context.Context, tbl *table.Table, paths map[string]bool) (int, error) {
	if len(paths) == 0 {
		return 0, nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return 0, err
	}
	manifests, err := tbl.CurrentSnapshot().Manifests(fs)
	if err != nil {
		return 0, err
	}
	dateID, _ := dateField(tbl.Spec())
	days := map[any]bool{}
	for _, mf := range manifests {
		if !paths[mf.FilePath()] {
			continue
		}
		for e, err := range mf.Entries(fs, true) {
			if err != nil {
				return 0, fmt.Errorf("read manifest %s: %w", mf.FilePath(), err)
			}
			days[e.DataFile().Partition()[dateID]] = true
		}
	}
	return len(days), nil
}

// dateField is the id of spec's *_date partition field and its position
// among the fields (the order of a manifest's partition summaries); 0 when
// it has none.
func dateField(spec iceberg.PartitionSpec) (id, index int) {
	for i, f := range spec.Fields() {
		if strings.HasSuffix(f.Name, "_date") {
			return f.FieldID, i
		}
	}
	return 0, 0
}
