package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// Manifests of closed days. Every WikiStream table is partitioned by a
// *_date column (YYYY-MM-DD). A commit that replaces rows (gold's
// copy-on-write of its open hours, every second) reads every entry of each
// manifest whose partition bounds may hold the rows it replaces, and
// iceberg-go's overwrite then reads every manifest of the table once more,
// parsing each one's Avro schema. So a commit costs more with every entry
// and every manifest, and both grow with the history kept: a replay's or a
// compaction's manifest with files of many days has bounds that hold
// today's rows too, and at a commit a second each closed hour of a gold
// table is left in a small manifest of its own (24 a day).
//
// Maintenance therefore rewrites the manifests of closed days into as few
// as the manifest target size allows, apart from the open day's (a
// metadata-only REPLACE snapshot; no data file is read or written): every
// manifest holding both closed days and the open one, and the small
// manifests of closed days when there are several. A commit on the open day
// then skips the closed days' manifests by their bounds when it looks for
// the rows it replaces, and reads a few manifests, not hundreds, in its
// overwrite. The open day's own manifests are left alone: they change with
// every commit. (One manifest per day was tried first: over 30 days of
// gold it doubled the manifest reading of a live process, each of the 31
// manifests' schemas parsed on every commit; docs/PERFORMANCE.md, session
// 16.)

// manifestResult is what clustering one table's manifests did (or would do,
// in a dry run).
type manifestResult struct {
	rewritten, written int
}

// clusterManifests rewrites ident's manifests of closed days (see above).
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
		n, err := manifestsWritten(ctx, tbl, eligible, today)
		return manifestResult{rewritten: len(eligible), written: n}, err
	}
	var res manifestResult
	_, err := m.lh.Commit(ctx, ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		eligible, err := manifestsToCluster(ctx, tbl, today)
		if err != nil {
			return err
		}
		if len(eligible) == 0 {
			return ErrNoChange
		}
		key := clusterKey(tbl, today)
		out, err := tx.RewriteManifests(ctx,
			table.WithRewriteManifestPredicate(func(mf iceberg.ManifestFile) bool { return eligible[mf.FilePath()] }),
			table.WithRewriteManifestClusterBy(key))
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

// clusterKey is the manifest a data file of tbl goes to when today is the
// open day: "closed" for a closed day, else its day.
func clusterKey(tbl *table.Table, today string) func(iceberg.DataFile) any {
	dateID, _ := dateField(tbl.Spec())
	return func(df iceberg.DataFile) any {
		d, _ := df.Partition()[dateID].(string)
		if d < today {
			return "closed"
		}
		return d
	}
}

// Manifests lists the manifests of snap, a snapshot of tbl, and returns
// them with the table's file IO, which reads their entries.
func Manifests(ctx context.Context, tbl *table.Table, snap *table.Snapshot) (icebergio.IO, []iceberg.ManifestFile, error) {
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, nil, err
	}
	manifests, err := snap.Manifests(fs)
	if err != nil {
		return nil, nil, fmt.Errorf("list manifests of %s: %w", Name(tbl.Identifier()), err)
	}
	return fs, manifests, nil
}

// manifestsToCluster returns the paths of tbl's data manifests to rewrite
// when today (YYYY-MM-DD) is the open day: those holding both closed days
// and later ones, and the small ones (under half the target size) of
// closed days only when there is more than one manifest to merge. A table
// without a *_date partition field, or whose manifests were written under
// another partition spec, has none.
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
	_, manifests, err := Manifests(ctx, tbl, snap)
	if err != nil {
		return nil, err
	}
	small := int64(tbl.Properties().GetInt(table.ManifestTargetSizeBytesKey, table.ManifestTargetSizeBytesDefault)) / 2
	var mixed, closed []string
	for _, mf := range manifests {
		if mf.ManifestContent() != iceberg.ManifestContentData || int(mf.PartitionSpecID()) != spec.ID() {
			continue
		}
		parts := mf.Partitions()
		if idx >= len(parts) || parts[idx].LowerBound == nil || parts[idx].UpperBound == nil {
			continue
		}
		lo, hi := string(*parts[idx].LowerBound), string(*parts[idx].UpperBound)
		switch {
		case lo < today && hi >= today:
			mixed = append(mixed, mf.FilePath())
		case hi < today && mf.Length() < small:
			closed = append(closed, mf.FilePath())
		}
	}
	if len(mixed) == 0 && len(closed) < 2 {
		return nil, nil
	}
	eligible := map[string]bool{}
	for _, p := range append(mixed, closed...) {
		eligible[p] = true
	}
	return eligible, nil
}

// manifestsWritten counts the manifests clustering tbl's manifests at paths
// writes, at most: one per cluster key of their live files (a dry run's
// estimate; a cluster over the target size gets more).
func manifestsWritten(ctx context.Context, tbl *table.Table, paths map[string]bool, today string) (int, error) {
	if len(paths) == 0 {
		return 0, nil
	}
	fs, manifests, err := Manifests(ctx, tbl, tbl.CurrentSnapshot())
	if err != nil {
		return 0, err
	}
	key := clusterKey(tbl, today)
	keys := map[any]bool{}
	for _, mf := range manifests {
		if !paths[mf.FilePath()] {
			continue
		}
		for e, err := range mf.Entries(fs, true) {
			if err != nil {
				return 0, fmt.Errorf("read manifest %s: %w", mf.FilePath(), err)
			}
			keys[key(e.DataFile())] = true
		}
	}
	return len(keys), nil
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
