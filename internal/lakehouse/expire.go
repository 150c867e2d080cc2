package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Snapshot retention. "Keep 10 snapshots / 168 h" (the original design)
// is read as Iceberg reads its min-snapshots-to-keep and
// max-snapshot-age: a snapshot of the table's history is kept when any of
//
//   - it is one of the newest KeepSnapshots (10);
//   - it is younger than SnapshotMaxAge (168h) and one of the newest
//     MaxSnapshots (500): without that cap a table committing every second
//     would keep some 600,000 snapshots, all listed in the metadata file
//     each commit rewrites;
//   - it is, or is newer than, the newest snapshot carrying a bookkeeping
//     property (Bronze's offsets, a downstream checkpoint), so walks back
//     through parents (CommittedOffsets, ReadCheckpoint) always find them.
//
// Everything older than the oldest snapshot kept is expired, and so are
// snapshots outside the table's history (abandoned by a rollback): what is
// kept is always the newest unbroken stretch of history. Checkpoints on
// upstream tables are compared by sequence number, which does not need the
// upstream snapshot to exist, so they pin nothing (the data-quality
// reconciliation, which reads the upstream at the checkpoint's snapshot,
// waits when that snapshot is gone).
//
// After the expiry commit, the files only expired snapshots referenced
// (their manifest lists, manifests, and data files no kept snapshot lists
// as live: compaction inputs, files gold replaced) are deleted. A query
// that planned on an older snapshot keeps its files for as long as that
// snapshot is kept: compaction inputs, for instance, outlive the
// compaction at least until the next expiry, since the snapshots before
// the compaction are among the newest when the run expires right after it.

// expireResult is what expiring one table did.
type expireResult struct {
	before, expired, filesDeleted int
}

func (m *Maintainer) expireTable(ctx context.Context, ident table.Identifier) (expireResult, error) {
	var res expireResult
	if m.cfg.DryRun {
		tbl, err := m.lh.Load(ctx, ident)
		if err != nil {
			return res, err
		}
		_, expired := m.retention(tbl)
		res.before, res.expired = len(tbl.Metadata().Snapshots()), len(expired)
		return res, nil
	}
	var pre *table.Table
	out, err := m.lh.Commit(ctx, ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		res.before = len(tbl.Metadata().Snapshots())
		keep, expired := m.retention(tbl)
		if len(expired) == 0 {
			return ErrNoChange
		}
		pre = tbl
		// Our own count, and no age of its own: exactly the newest keep
		// snapshots of the history stay. Files are deleted below, where a
		// failure to delete one does not read as a failed commit.
		return tx.ExpireSnapshots(table.WithRetainLast(keep), table.WithOlderThan(0), table.WithPostCommit(false))
	})
	if errors.Is(err, ErrNoChange) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	var ids []int64
	for _, s := range pre.Metadata().Snapshots() {
		if out.SnapshotByID(s.SnapshotID) == nil {
			ids = append(ids, s.SnapshotID)
		}
	}
	res.expired = len(ids)
	n, err := deleteExpiredFiles(ctx, pre, out, ids)
	res.filesDeleted = n
	if err != nil {
		// Left over files are orphans now; orphan removal deletes them.
		return res, fmt.Errorf("delete files of expired snapshots: %w", err)
	}
	m.log.Debug("snapshots expired", "table", Name(ident), "expired", len(ids), "kept", len(out.Metadata().Snapshots()),
		"files_deleted", n)
	return res, nil
}

// retention returns how many of the newest snapshots of tbl's history to
// keep, and the ids of the snapshots that expire.
func (m *Maintainer) retention(tbl *table.Table) (int, []int64) {
	cur := tbl.CurrentSnapshot()
	if cur == nil {
		return 0, nil
	}
	history := table.AncestorsOf(cur.SnapshotID, tbl.SnapshotByID) // newest first
	keep := min(len(history), m.cfg.KeepSnapshots)
	limit := len(history)
	if m.cfg.MaxSnapshots > 0 {
		limit = min(limit, m.cfg.MaxSnapshots)
	}
	now := m.cfg.Now().UnixMilli()
	for keep < limit && now-history[keep].TimestampMs <= m.cfg.SnapshotMaxAge.Milliseconds() {
		keep++
	}
	seen := map[string]bool{}
	for i, s := range history {
		if s.Summary == nil {
			continue
		}
		for k := range s.Summary.Properties {
			if isBookkeeping(k) && !seen[k] {
				seen[k] = true
				keep = max(keep, i+1)
			}
		}
	}
	kept := map[int64]bool{}
	for _, s := range history[:keep] {
		kept[s.SnapshotID] = true
	}
	for _, ref := range tbl.Metadata().Refs() {
		kept[ref.SnapshotID] = true // branch and tag heads are never expired
	}
	var expired []int64
	for _, s := range tbl.Metadata().Snapshots() {
		if !kept[s.SnapshotID] {
			expired = append(expired, s.SnapshotID)
		}
	}
	return keep, expired
}

// deleteExpiredFiles deletes the files that only the expired snapshots
// (of pre) referenced: their manifest lists, the manifests no kept
// snapshot lists, and the data and delete files of those manifests that no
// kept snapshot holds live. It returns how many it deleted.
//
// When what was kept is one stretch of history and everything expired is
// older (the case retention produces), a file of an expired snapshot that
// any kept snapshot references is referenced by the oldest kept one, since
// a manifest or data file left behind by a snapshot never comes back in a
// later one; so only that snapshot's manifests are read. Otherwise every
// kept snapshot's are.
func deleteExpiredFiles(ctx context.Context, pre, post *table.Table, expired []int64) (int, error) {
	if len(expired) == 0 {
		return 0, nil
	}
	fsys, err := pre.FS(ctx)
	if err != nil {
		return 0, err
	}
	refs := referenceSnapshots(pre, post, expired)
	keptManifests := map[string]bool{}
	var keptList []iceberg.ManifestFile
	for _, s := range refs {
		mans, err := s.Manifests(fsys)
		if err != nil {
			return 0, fmt.Errorf("list manifests of snapshot %d: %w", s.SnapshotID, err)
		}
		for _, mf := range mans {
			if !keptManifests[mf.FilePath()] {
				keptManifests[mf.FilePath()] = true
				keptList = append(keptList, mf)
			}
		}
	}
	del := map[string]bool{}
	var gone []iceberg.ManifestFile
	for _, id := range expired {
		s := pre.SnapshotByID(id)
		if s == nil {
			continue
		}
		if s.ManifestList != "" {
			del[s.ManifestList] = true
		}
		mans, err := s.Manifests(fsys)
		if err != nil {
			return 0, fmt.Errorf("list manifests of snapshot %d: %w", id, err)
		}
		for _, mf := range mans {
			if !keptManifests[mf.FilePath()] && !del[mf.FilePath()] {
				del[mf.FilePath()] = true
				gone = append(gone, mf)
			}
		}
	}
	if len(gone) > 0 {
		live := map[string]bool{}
		for _, mf := range keptList {
			entries, err := mf.FetchEntries(fsys, true)
			if err != nil {
				return 0, fmt.Errorf("read manifest %s: %w", mf.FilePath(), err)
			}
			for _, e := range entries {
				live[e.DataFile().FilePath()] = true
			}
		}
		for _, mf := range gone {
			entries, err := mf.FetchEntries(fsys, false)
			if err != nil {
				return 0, fmt.Errorf("read manifest %s: %w", mf.FilePath(), err)
			}
			for _, e := range entries {
				if p := e.DataFile().FilePath(); !live[p] {
					del[p] = true
				}
			}
		}
	}
	expiredSet := map[int64]bool{}
	for _, id := range expired {
		expiredSet[id] = true
	}
	keptStats := map[string]bool{}
	for sf := range post.Metadata().Statistics() {
		keptStats[sf.StatisticsPath] = true
	}
	for sf := range post.Metadata().PartitionStatistics() {
		keptStats[sf.StatisticsPath] = true
	}
	for sf := range pre.Metadata().Statistics() {
		if expiredSet[sf.SnapshotID] && sf.StatisticsPath != "" && !keptStats[sf.StatisticsPath] {
			del[sf.StatisticsPath] = true
		}
	}
	for sf := range pre.Metadata().PartitionStatistics() {
		if expiredSet[sf.SnapshotID] && sf.StatisticsPath != "" && !keptStats[sf.StatisticsPath] {
			del[sf.StatisticsPath] = true
		}
	}
	n := 0
	var errs []error
	for p := range del {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		err := fsys.Remove(p)
		switch {
		case err == nil:
			n++
		case errors.Is(err, fs.ErrNotExist):
		default:
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// referenceSnapshots are the kept snapshots whose references decide what
// may be deleted: the oldest kept one when the kept snapshots are one
// stretch of history newer than every expired one, else all of them.
func referenceSnapshots(pre, post *table.Table, expired []int64) []table.Snapshot {
	all := post.Metadata().Snapshots()
	cur := post.CurrentSnapshot()
	if cur == nil {
		return all
	}
	history := table.AncestorsOf(cur.SnapshotID, post.SnapshotByID)
	if len(history) != len(all) {
		return all // something kept is outside the history
	}
	oldest := history[len(history)-1]
	// Every expired snapshot must be an ancestor of the oldest kept one.
	older := map[int64]bool{}
	for _, s := range table.AncestorsOf(oldest.SnapshotID, pre.SnapshotByID) {
		older[s.SnapshotID] = true
	}
	if slices.ContainsFunc(expired, func(id int64) bool { return !older[id] }) {
		return all
	}
	return []table.Snapshot{oldest}
}
