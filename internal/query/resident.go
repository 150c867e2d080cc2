package query

import (
	"context"
	"fmt"
	"sync"
)

// Resident tables: a table named in Config.Resident is, at its current
// snapshot, copied once into DuckDB memory (the shared catalog ws_resident)
// by the first query that reads that snapshot; every session's view of the
// table then reads the copy instead of the table's Parquet files, until the
// table has a new snapshot. A dashboard's small gold tables are read many
// times between two commits, and reading 150 small files costs more than
// the query over them. Time travel (At) always reads the files.
//
// A new snapshot is copied incrementally when neither it nor the previous
// copy has deletes: the rows of data files both snapshots share are copied
// from the previous copy (in memory), and only the files the commit added
// are read. A gold run rewrites the current day's files only. Each copy has
// a column fileIDColumn saying which data file a row came from; the views
// leave it out.
//
// A copy is dropped once no session's view points at it and a newer copy of
// the same table exists. A copy is identified by the snapshot and schema it
// holds, as plans are (planKey), so a commit is visible to the next query
// exactly as without the copy.

// residentCatalog is the in-memory catalog holding the copies, shared by
// the sessions (an attached database belongs to the whole DuckDB instance).
const residentCatalog = "ws_resident"

// DefaultResidentMaxBytes is Config.ResidentMaxBytes's default: 32 MiB of
// Parquet (several times that in memory).
const DefaultResidentMaxBytes = 32 << 20

// fileIDColumn numbers the data file each row of a copy came from.
const fileIDColumn = "_ws_file_id"

// resident is one copy: a table of residentCatalog holding one snapshot.
type resident struct {
	key   planKey
	table string        // the quoted, fully qualified DuckDB table name
	done  chan struct{} // closed once the copy is built (or failed)
	err   error         // why the copy failed; set before done is closed
	refs  int           // sessions whose view points at it, and builders waiting

	// Set by the build: the id of each data file whose rows the copy
	// holds (nil: the copy cannot be reused, it applied deletes), and the
	// next unused id.
	fileIDs map[string]int
	nextID  int
}

// residents are the copies, shared by the sessions.
type residents struct {
	mu     sync.Mutex
	m      map[planKey]*resident
	newest map[string]*resident // by table name: the newest copy asked for
	seq    int                  // numbers the copies' table names
	built  int                  // copies built, for tests
}

// acquire returns the copy of the plan's snapshot, building it with build
// when nobody has (build runs on the caller's session; concurrent callers
// wait for it). The caller holds a reference until it calls release. drop
// lists copies nobody needs any more, for the caller to drop.
//
// build gets the newest finished copy of the same table and schema, if any,
// to copy from; it stays until build returns.
func (rs *residents) acquire(ctx context.Context, key planKey, build func(r, prev *resident) error) (r *resident, drop []string, err error) {
	rs.mu.Lock()
	r, ok := rs.m[key]
	if ok {
		r.refs++
		rs.mu.Unlock()
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, rs.release(r), fmt.Errorf("wait for the in-memory copy of %s: %w", key.name, ctx.Err())
		}
		if r.err != nil {
			return nil, rs.release(r), r.err
		}
		return r, nil, nil
	}
	rs.seq++
	r = &resident{key: key, done: make(chan struct{}), refs: 1,
		table: fmt.Sprintf("%s.main.%s", quoteIdent(residentCatalog), quoteIdent(fmt.Sprintf("%s@%d#%d", key.name, key.snapshotID, rs.seq)))}
	rs.m[key] = r
	var prev *resident
	if old := rs.newest[key.name]; old != nil {
		select {
		case <-old.done:
			if old.err == nil && old.fileIDs != nil && old.key.schemaID == key.schemaID {
				prev = old
				prev.refs++ // held until the build is done
			}
		default:
		}
		if old.refs == 0 {
			delete(rs.m, old.key)
			drop = append(drop, old.table)
		}
	}
	rs.newest[key.name] = r
	rs.mu.Unlock()

	r.err = build(r, prev)
	if prev != nil {
		drop = append(drop, rs.release(prev)...)
	}
	if r.err != nil {
		r.err = fmt.Errorf("copy %s snapshot %d into memory: %w", key.name, key.snapshotID, r.err)
		rs.mu.Lock()
		delete(rs.m, key) // the next query tries again
		if rs.newest[key.name] == r {
			delete(rs.newest, key.name)
		}
		rs.mu.Unlock()
		close(r.done)
		return nil, append(drop, rs.release(r)...), r.err
	}
	rs.mu.Lock()
	rs.built++
	rs.mu.Unlock()
	close(r.done)
	return r, drop, nil
}

// release drops a reference to r and returns the copies nobody needs any
// more (r itself, unless it is the newest of its table), for the caller to
// drop.
func (rs *residents) release(r *resident) []string {
	if r == nil {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r.refs--
	if r.refs > 0 || rs.newest[r.key.name] == r {
		return nil
	}
	if rs.m[r.key] == r {
		delete(rs.m, r.key)
	}
	return []string{r.table}
}
