package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Resident tables: a table named in Config.Resident is copied into DuckDB
// memory (the shared catalog ws_resident), and every session's view of the
// table reads the copy instead of the table's Parquet files. A dashboard's
// small gold tables are read many times between two commits, and reading
// 150 small files costs more than the query over them. Time travel (At)
// always reads the files.
//
// The copies are made in the background, off the request path: the
// engine's refresher (one goroutine with its own DuckDB connection, started
// by Open and stopped by Close) looks at the tables' current snapshots every
// Config.ResidentPoll, and at once when Engine.Refresh asks, and copies a
// new snapshot while queries go on reading the previous copy. Only when the
// new copy is complete does it become the one queries read: a query reads
// one whole copy, never a partial one, and Result.Snapshots reports the
// snapshot that copy holds. So a commit reaches the queries of a resident
// table once it has been copied (within ResidentPoll plus the copy's time;
// Refresh waits for it), not at the very next query. Until a table's first
// copy is complete, or when it is over ResidentMaxBytes (and has no
// ResidentWindow column to keep its newest files by, see window.go), or its
// last copy failed, queries read its current snapshot from the files.
//
// A new snapshot is copied incrementally when neither it nor the previous
// copy has deletes: the rows of data files both snapshots share are copied
// from the previous copy (in memory), and only the files the commit added
// are read. A gold run rewrites the current day's files only. Each copy has
// a column fileIDColumn saying which data file a row came from; the views
// leave it out.
//
// A replaced copy is dropped by the refresher once no session's view and no
// running query reads it.

// residentCatalog is the in-memory catalog holding the copies, shared by
// the sessions (an attached database belongs to the whole DuckDB instance).
const residentCatalog = "ws_resident"

// refresherCatalog is the default catalog of the refresher's connection.
const refresherCatalog = "ws_refresh"

// DefaultResidentMaxBytes is Config.ResidentMaxBytes's default: 32 MiB of
// Parquet (several times that in memory).
const DefaultResidentMaxBytes = 32 << 20

// DefaultResidentPoll is Config.ResidentPoll's default.
const DefaultResidentPoll = 250 * time.Millisecond

// fileIDColumn numbers the data file each row of a copy came from.
const fileIDColumn = "_ws_file_id"

// resident is one complete copy: a table of residentCatalog holding one
// snapshot. It is immutable once published.
type resident struct {
	key   planKey
	plan  *tablePlan
	table string // the quoted, fully qualified DuckDB table name
	refs  int    // session views and running queries reading it; under residents.mu

	// The id of each data file whose rows the copy holds (nil: the copy
	// cannot be reused, it applied deletes), and the next unused id.
	fileIDs map[string]int
	nextID  int

	// A copy with a base holds only the rows of the files its base does
	// not (a delta): queries read the base's rows but those of the files
	// in excluded, and the delta's. The copy holds a reference on its
	// base. A commit that rewrites a few files of a large table (gold
	// replacing the current hour) then costs a copy of those files, not
	// of the whole table.
	base     *resident
	excluded []int

	// older, when not nil, are the table's files the copy does not hold
	// (a resident window, see window.go): the view reads them too.
	older *older
	// order sorts a whole copy (Config.ResidentOrder; "": as read).
	order string

	// bounds are the window column's bounds and the record count of each
	// of plan's files, decoded once (see CopyRowsWithin); nil when some
	// file lacks them.
	boundsOnce sync.Once
	bounds     []countedBounds
}

// source is the DuckDB relation of the copy's rows (with fileIDColumn).
func (r *resident) source() string {
	if r.base == nil {
		return r.table
	}
	where := ""
	if len(r.excluded) > 0 {
		ids := make([]string, len(r.excluded))
		for i, id := range r.excluded {
			ids[i] = strconv.Itoa(id)
		}
		where = " WHERE " + fileIDColumn + " NOT IN (" + strings.Join(ids, ", ") + ")"
	}
	return "(SELECT * FROM " + r.base.table + where + " UNION ALL SELECT * FROM " + r.table + ")"
}

// viewSQL is the body of a view of the table over the copy; recent
// leaves out the files the copy's window does not hold.
func (r *resident) viewSQL(recent bool) string {
	q := "SELECT * EXCLUDE (" + fileIDColumn + ") FROM " + r.source()
	if r.older != nil && !recent {
		q += " UNION ALL SELECT * FROM (" + r.older.plan.viewSQL("") + ") WHERE " + r.older.where
	}
	return q
}

// residents are the copies, shared by the sessions and the refresher.
type residents struct {
	mu      sync.Mutex
	current map[string]*resident // by table name: the copy queries read
	old     []*resident          // replaced copies, dropped once refs is 0
	seq     int                  // numbers the copies' table names
	built   int                  // copies built, for tests
}

// hold returns the current copy of a table (nil: none; read the files),
// with a reference the caller gives back with release.
func (rs *residents) hold(name string) *resident {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.current[name]
	if r != nil {
		r.refs++
	}
	return r
}

// retain adds a reference to a copy the caller already holds one on.
func (rs *residents) retain(r *resident) {
	rs.mu.Lock()
	r.refs++
	rs.mu.Unlock()
}

// release gives back a reference.
func (rs *residents) release(r *resident) {
	if r == nil {
		return
	}
	rs.mu.Lock()
	r.refs--
	rs.mu.Unlock()
}

// publish makes r (nil: none) the copy queries read from now on.
func (rs *residents) publish(name string, r *resident) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if old := rs.current[name]; old != nil && old != r {
		rs.old = append(rs.old, old)
	}
	if r == nil {
		delete(rs.current, name)
		return
	}
	rs.current[name] = r
	rs.built++
}

// CopySnapshot returns the snapshot of the table (a name such as
// "gold.pages_daily") that its in-memory copy holds, which the next query
// of the table reads (or a newer one, should a copy be published
// meanwhile); false when the table has no copy and queries read its files.
// It reads nothing: callers use it to tell whether an answer they keep for
// the table's snapshot still holds.
func (e *Engine) CopySnapshot(table string) (int64, bool) {
	e.residents.mu.Lock()
	defer e.residents.mu.Unlock()
	if r := e.residents.current[table]; r != nil {
		return r.key.snapshotID, true
	}
	return 0, false
}

// Snapshot returns the snapshot of the table (a name such as
// "gold.pages_daily") that its next query reads: its in-memory copy's
// (CopySnapshot), or else its current snapshot in the catalog, a metadata
// load that the lakehouse serves from memory while the table has not
// changed. A query may read a newer one, should a commit land meanwhile.
// It is false when the table has no snapshot, or is not one of the
// engine's.
func (e *Engine) Snapshot(ctx context.Context, name string) (int64, bool, error) {
	if id, ok := e.CopySnapshot(name); ok {
		return id, true, nil
	}
	for _, ident := range e.tables {
		if lakehouse.Name(ident) != name {
			continue
		}
		tbl, err := e.lh.Load(ctx, ident)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		if snap := tbl.CurrentSnapshot(); snap != nil {
			return snap.SnapshotID, true, nil
		}
		return 0, false, nil
	}
	return 0, false, nil
}

// isCurrent reports whether r is the copy queries of its table read now.
func (rs *residents) isCurrent(r *resident) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.current[r.key.name] == r
}

// unused removes the replaced copies nobody reads any more and returns
// their tables, for the refresher to drop.
func (rs *residents) unused() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var drop []string
	for dropped := true; dropped; { // a dropped delta may leave its base unused
		dropped = false
		kept := rs.old[:0]
		for _, r := range rs.old {
			if r.refs > 0 {
				kept = append(kept, r)
				continue
			}
			drop = append(drop, r.table)
			if r.base != nil {
				r.base.refs--
			}
			dropped = true
		}
		clear(rs.old[len(kept):])
		rs.old = kept
	}
	return drop
}

// Refresh copies the Resident tables' current snapshots into memory now,
// if they changed, and returns once queries read them (or with why a copy
// failed: queries then read that table's files). The engine does this by
// itself every Config.ResidentPoll; a caller that has just seen a commit
// and is about to query it (the live updates of the dashboard) calls
// Refresh so that its queries, and the ones it prompts, find the copy
// ready.
//
// Refresh also has the planner plan the Planned tables' current snapshots
// now, at the same time, and waits for it too, so that the first query
// after a commit finds the plan ready instead of reading the manifests
// itself (a failed plan is the planner's to log: queries then plan the
// table themselves).
func (e *Engine) Refresh(ctx context.Context) error {
	var planned chan struct{}
	if len(e.planned) > 0 {
		planned = make(chan struct{})
		select {
		case e.planKick <- planned:
		case <-e.closing:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("plan new snapshots: %w", ctx.Err())
		}
	}
	var err error
	if len(e.resident) > 0 {
		err = e.refreshCopies(ctx)
	}
	if planned != nil && err == nil {
		select {
		case <-planned:
		case <-e.closing:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("plan new snapshots: %w", ctx.Err())
		}
	}
	return err
}

// refreshCopies asks the refresher to copy new snapshots now and waits
// for it.
func (e *Engine) refreshCopies(ctx context.Context) error {
	if e.refresher == nil {
		return errors.New("query: no in-memory copies to refresh")
	}
	done := make(chan error, 1)
	select {
	case e.kick <- done:
	case <-e.closing:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("refresh in-memory copies: %w", ctx.Err())
	}
	select {
	case err := <-done:
		return err
	case <-e.closing:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("refresh in-memory copies: %w", ctx.Err())
	}
}

// refreshLoop is the refresher: it refreshes the copies at once, then
// every ResidentPoll and whenever Refresh asks, until ctx ends (Close).
// Close waits for it (refreshDone).
func (e *Engine) refreshLoop(ctx context.Context, s *session) {
	defer close(e.refreshDone)
	tick := time.NewTicker(e.cfg.ResidentPoll)
	defer tick.Stop()
	var (
		waiters []chan error // callers of Refresh waiting for this round
		lastErr string       // logged once, until a round succeeds
	)
	for {
		err := e.refreshAll(ctx, s)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && err.Error() != lastErr:
			e.log.Warn("in-memory copy failed; queries read the table's files until a copy succeeds", "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			e.log.Info("in-memory copies are current again")
			lastErr = ""
		}
		for _, w := range waiters {
			w <- err // buffered
		}
		waiters = waiters[:0]
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case w := <-e.kick:
			// A round that starts after the call: answer everyone who
			// asked by then.
			waiters = append(waiters, w)
			for more := true; more; {
				select {
				case w := <-e.kick:
					waiters = append(waiters, w)
				default:
					more = false
				}
			}
		}
	}
}

// refreshAll brings every resident table's copy up to its current
// snapshot, then drops the copies nobody reads any more. A table whose copy
// fails is read from its files until a later refresh succeeds.
func (e *Engine) refreshAll(ctx context.Context, s *session) error {
	var errs []error
	for _, ident := range e.tables {
		name := lakehouse.Name(ident)
		if !e.resident[name] {
			continue
		}
		// Requests first: a copy is the largest part of what a commit
		// costs the engine (see package priority).
		e.lh.Gate().Yield(ctx)
		if err := e.refreshTable(ctx, s, ident); err != nil {
			e.residents.publish(name, nil)
			errs = append(errs, fmt.Errorf("copy %s into memory: %w", name, err))
		}
	}
	e.releaseIdle(ctx)
	s.drop(ctx, e.residents.unused())
	return errors.Join(errs...)
}

// releaseIdle makes the sessions that are not running a query let go of
// replaced copies: a session's views keep the copies they read until its
// next query, and while gold commits every second, sessions waiting for
// their turn held several generations of every copy, until DuckDB ran out
// of memory. Their views read the current copies instead (releaseStale),
// so that their next query need not define them again: under live commits
// that was about a millisecond of most queries (docs/PERFORMANCE.md,
// session 19). It waits for running requests first (package priority),
// then takes one idle session at a time, so a request never waits long
// for a session it holds.
func (e *Engine) releaseIdle(ctx context.Context) {
	e.lh.Gate().Yield(ctx)
	for range e.nsessions {
		select {
		case s := <-e.idle:
			s.releaseStale(ctx, &e.residents)
			e.idle <- s
		default:
			return // the others are running queries, which hold what they read
		}
	}
}

// releaseStale makes the session's views of copies that are no longer
// current read the current copies (or drops them when the table has none),
// giving the replaced copies' references back.
func (s *session) releaseStale(ctx context.Context, rs *residents) {
	for name, r := range s.residents {
		if rs.isCurrent(r) {
			continue
		}
		schema, tbl, _ := strings.Cut(name, ".")
		if cur := rs.hold(name); cur != nil { // the view's reference, if it is built
			// As resolve would define it; a query reading the copy's
			// window otherwise (At.Since) defines it again.
			v := view{ident: table.Identifier{schema, tbl}, name: name, existsNow: true, plan: cur.plan, copy: cur,
				recent: s.views[name].recent && cur.older != nil}
			if err := s.build(ctx, v); err == nil {
				s.views[name] = v.key()
				s.residents[name] = cur
				s.builds++
				rs.release(r)
				continue
			}
			rs.release(cur)
		}
		if _, err := s.conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+quoteIdent(schema)+"."+quoteIdent(tbl)); err != nil {
			continue // keeps the view and its copy; the next query replaces both
		}
		delete(s.views, name)
		delete(s.residents, name)
		rs.release(r)
	}
}

// refreshTable copies one table's current snapshot unless the current copy
// holds it already.
func (e *Engine) refreshTable(ctx context.Context, s *session, ident table.Identifier) error {
	name := lakehouse.Name(ident)
	tbl, err := e.lh.Load(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		e.residents.publish(name, nil)
		return nil
	}
	if err != nil {
		return err
	}
	snap, schema := tbl.CurrentSnapshot(), tbl.Schema()
	if snap == nil {
		e.residents.publish(name, nil)
		return nil
	}
	key := planKey{name: name, snapshotID: snap.SnapshotID, schemaID: schema.ID}
	prev := e.residents.hold(name)
	defer e.residents.release(prev)
	if prev != nil && prev.key == key {
		return nil
	}
	plan, err := e.plans.get(ctx, key, planFor{current: true, at: snap.TimestampMs},
		func() (*tablePlan, error) { return e.plan(ctx, name, tbl, snap, schema) })
	if err != nil {
		return err
	}
	budget := e.cfg.ResidentMaxBytes
	if b, ok := e.budgets[name]; ok {
		budget = b
	}
	var old *older
	if plan.bytes > budget {
		plan, old = plan.windowed(budget, e.cfg.ResidentWindowSpan) // nil: no window
	}
	if plan == nil || len(plan.files) == 0 {
		e.residents.publish(name, nil) // read from the files
		return nil
	}
	if prev != nil && (prev.fileIDs == nil || prev.key.schemaID != key.schemaID) {
		prev = nil // cannot copy from it
	}
	e.residents.mu.Lock()
	e.residents.seq++
	r := &resident{key: key, plan: plan, older: old, order: e.cfg.ResidentOrder[name], table: fmt.Sprintf("%s.main.%s", quoteIdent(residentCatalog),
		quoteIdent(fmt.Sprintf("%s@%d#%d", name, key.snapshotID, e.residents.seq)))}
	e.residents.mu.Unlock()
	if len(plan.dvs) == 0 && len(plan.posDeletes) == 0 {
		r.base, r.excluded = deltaOf(plan, prev)
	}
	if r.base != nil {
		e.residents.retain(r.base)
	}
	if err := s.copyInto(ctx, r, prev); err != nil {
		s.drop(context.WithoutCancel(ctx), []string{r.table})
		e.residents.release(r.base)
		if dErr := (*duckdb.Error)(nil); errors.As(err, &dErr) && dErr.Type == duckdb.ErrorTypeOutOfMemory {
			// Retrying the same copy every poll would fail the same
			// way: copy half as many bytes of files from now on.
			e.shrink(name, plan.bytes)
		}
		return fmt.Errorf("snapshot %d: %w", key.snapshotID, err)
	}
	// Compress a large whole copy's numbers (in-memory tables are stored
	// uncompressed until a checkpoint; strings stay so, see start): a day
	// of every wiki's page-hours takes 67 MB instead of 190 MB
	// (docs/PERFORMANCE.md). Not the deltas (a gold run's hour): with a
	// checkpoint after each of them, every second while gold runs live,
	// BenchmarkAPILive's run was the slowest of the session (the refresh's
	// trending pages p95 110 ms, against 61-92 in the others).
	if r.base == nil && plan.bytes >= checkpointBytes {
		if _, err := s.conn.ExecContext(ctx, "CHECKPOINT "+quoteIdent(residentCatalog)); err != nil {
			e.log.Debug("in-memory copies: checkpoint failed", "err", err)
		}
	}
	e.residents.publish(name, r)
	return nil
}

// checkpointBytes: whole copies of at least this many bytes of files are
// compressed.
const checkpointBytes = 8 << 20

// minResidentBudget: a copy that runs out of memory with fewer bytes of
// files than this is not tried again smaller; the table is read from its
// files.
const minResidentBudget = 1 << 20

// shrink halves the bytes of files a table's copies may hold, after a copy
// of that many bytes ran out of DuckDB memory.
func (e *Engine) shrink(name string, bytes int64) {
	if e.budgets == nil {
		e.budgets = map[string]int64{}
	}
	budget := bytes / 2
	if budget < minResidentBudget {
		budget = 0 // windowed copies of nothing: the files
	}
	e.budgets[name] = budget
	e.log.Warn("in-memory copy ran out of DuckDB memory; copying fewer files from now on (raise the query memory limit to keep more)",
		"table", name, "copied_bytes", bytes, "now_at_most", budget)
}

// deltaOf returns the base a new copy of plan can be a delta over, and
// the base's files it leaves out; nil when the copy should be whole: the
// previous copy prev (nil: none) has no base to share, or the new copy
// would leave out half the base or need more than a quarter of its files
// (and 16) again in its delta.
func deltaOf(plan *tablePlan, prev *resident) (*resident, []int) {
	if prev == nil {
		return nil, nil
	}
	base := prev
	if prev.base != nil {
		base = prev.base
	}
	present := make(map[string]bool, len(plan.files))
	outside := 0 // files the delta holds
	for _, f := range plan.files {
		present[f] = true
		if _, ok := base.fileIDs[f]; !ok {
			outside++
		}
	}
	var excluded []int
	for f, id := range base.fileIDs {
		if !present[f] {
			excluded = append(excluded, id)
		}
	}
	if 2*len(excluded) > len(base.fileIDs) || outside > max(16, len(base.fileIDs)/4) {
		return nil, nil
	}
	slices.Sort(excluded)
	return base, excluded
}

// copyInto fills r's table with its plan's rows, from prev's rows where
// they are the same files (prev may be nil).
func (s *session) copyInto(ctx context.Context, r *resident, prev *resident) error {
	p := r.plan
	if len(p.dvs) > 0 || len(p.posDeletes) > 0 {
		deletes := quoteIdent(s.catalog) + "." + quoteIdent(deletesSchema) + "." + quoteIdent(r.key.name)
		if err := s.loadDeletes(ctx, deletes, r.key.name, p); err != nil {
			return err
		}
		_, err := s.conn.ExecContext(ctx, "CREATE TABLE "+r.table+" AS SELECT *, NULL::INTEGER AS "+
			fileIDColumn+" FROM ("+p.viewSQL(deletes)+")")
		return err
	}
	files, next, from := p.files, 0, ""
	if prev != nil {
		next, from = prev.nextID, prev.source()
	}
	if r.base != nil { // the delta: the files the base does not hold
		files = slices.DeleteFunc(slices.Clone(p.files), func(f string) bool { _, ok := r.base.fileIDs[f]; return ok })
		if prev == r.base {
			prev = nil // the base holds none of them
		} else {
			from = prev.table // prev is a delta over the same base
		}
	}
	q, ids, next := p.copySQL(files, prev, from, next)
	if len(files) == 0 { // a delta of no files
		q = "SELECT * FROM " + r.base.table + " LIMIT 0"
	}
	if r.base == nil && r.order != "" {
		q = "SELECT * FROM (" + q + ") ORDER BY " + r.order
	}
	if _, err := s.conn.ExecContext(ctx, "CREATE TABLE "+r.table+" AS "+q); err != nil {
		return err
	}
	if r.base != nil {
		excluded := make(map[int]bool, len(r.excluded))
		for _, id := range r.excluded {
			excluded[id] = true
		}
		for f, id := range r.base.fileIDs {
			if !excluded[id] {
				ids[f] = id
			}
		}
	}
	r.fileIDs, r.nextID = ids, next
	return nil
}
