package query

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Planning reads manifests once. Each commit of a table (a second, while
// the pipeline runs) is a new snapshot to plan, and iceberg-go's PlanFiles
// reads every manifest of it, parsing each one's Avro schema, though a
// commit adds one or two manifests and keeps the others. Manifests are
// immutable, so the engine remembers the live data files of each manifest
// of a table's newest plan by the manifest's path, and reads only the new
// ones: over 30 days of gold, planning was about a tenth of a live
// process's CPU (docs/PERFORMANCE.md, session 16).
//
// Only snapshots without delete manifests are planned this way: a data
// file's deletes depend on sequence numbers across manifests, which
// PlanFiles resolves.

// manifestFile is one live data file of a manifest, as a plan needs it.
type manifestFile struct {
	path string
	size int64
	// df is the file's manifest entry, kept only for tables with a
	// resident window (see tablePlan.dataFiles).
	df iceberg.DataFile
}

// manifestCache holds the live data files of the manifests of each table's
// newest plan, by manifest path.
type manifestCache struct {
	mu     sync.Mutex
	tables map[string]map[string][]manifestFile
	reads  atomic.Int64 // manifests read (tests)
}

// liveFiles lists the live data files of snap of the table name, reading
// only the manifests the table's newest plan did not list; ok is false when
// snap has delete manifests (plan with PlanFiles). keepEntries keeps each
// file's manifest entry. With newest, the manifests of snap become the
// table's remembered ones.
func (c *manifestCache) liveFiles(ctx context.Context, name string, tbl *table.Table, snap *table.Snapshot, keepEntries, newest bool) (files []manifestFile, ok bool, err error) {
	fs, manifests, err := lakehouse.Manifests(ctx, tbl, snap)
	if err != nil {
		return nil, false, err
	}
	for _, m := range manifests {
		if m.ManifestContent() != iceberg.ManifestContentData {
			return nil, false, nil
		}
	}
	c.mu.Lock()
	known := c.tables[name]
	c.mu.Unlock()
	seen := make(map[string][]manifestFile, len(manifests))
	for _, m := range manifests {
		mf, found := known[m.FilePath()]
		if !found || (keepEntries && len(mf) > 0 && mf[0].df == nil) {
			c.reads.Add(1)
			entries, err := m.FetchEntries(fs, true)
			if err != nil {
				return nil, false, fmt.Errorf("read manifest %s: %w", m.FilePath(), err)
			}
			mf = make([]manifestFile, 0, len(entries))
			for _, e := range entries {
				df := e.DataFile()
				if df.ContentType() != iceberg.EntryContentData {
					continue
				}
				if f := df.FileFormat(); f != iceberg.ParquetFile {
					return nil, false, fmt.Errorf("data file %s is %s; SQL queries read Parquet only: %w", df.FilePath(), f, ErrUnsupported)
				}
				f := manifestFile{path: df.FilePath(), size: df.FileSizeBytes()}
				if keepEntries {
					f.df = df
				}
				mf = append(mf, f)
			}
		}
		seen[m.FilePath()] = mf
		files = append(files, mf...)
	}
	if newest {
		c.mu.Lock()
		if c.tables == nil {
			c.tables = map[string]map[string][]manifestFile{}
		}
		c.tables[name] = seen
		c.mu.Unlock()
	}
	return files, true, nil
}
