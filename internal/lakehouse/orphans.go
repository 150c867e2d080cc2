package lakehouse

import (
	"context"
	"slices"

	"github.com/apache/iceberg-go/table"
)

// Orphan files are files under a table's location that no metadata
// references: the data and manifest files of commits that failed or whose
// outcome was unknown, compaction output that was never committed, metadata
// files of commits that lost a race, files that expiry failed to delete.
// They are deleted once older than OrphanAge (7 days by default): a writer
// in flight has files that nothing references yet, and they are young.

// orphanResult is what orphan removal found (dry run) or deleted.
type orphanResult struct {
	paths []string
	bytes int64
}

func (m *Maintainer) removeOrphans(ctx context.Context, ident table.Identifier) (orphanResult, error) {
	var res orphanResult
	// Loaded right before: what is referenced comes from this handle, and a
	// file committed after it is younger than OrphanAge.
	tbl, err := m.lh.Load(ctx, ident)
	if err != nil {
		return res, err
	}
	out, err := tbl.DeleteOrphanFiles(ctx,
		table.WithFilesOlderThan(m.cfg.OrphanAge),
		table.WithDryRun(m.cfg.DryRun),
		table.WithCleanupMaxConcurrency(2))
	if err != nil {
		return res, err
	}
	res.paths = out.OrphanFileLocations
	if !m.cfg.DryRun {
		res.paths = out.DeletedFiles
	}
	res.paths = slices.Sorted(slices.Values(res.paths))
	res.bytes = out.TotalSizeBytes
	return res, nil
}
