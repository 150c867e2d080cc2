package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/dv"
	"golang.org/x/sync/errgroup"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// ErrUnsupported: a table uses an Iceberg feature this engine cannot read
// (equality deletes, data files that are not Parquet, a column type DuckDB
// has no counterpart for).
var ErrUnsupported = errors.New("not supported")

// view is what one table is for one query: a plan, or nothing when the table
// does not exist (yet, or as of At.AsOf).
type view struct {
	ident     table.Identifier
	name      string
	existsNow bool       // the table exists in the catalog
	plan      *tablePlan // nil: the table is not defined for this query
	// copy is the in-memory copy of plan's snapshot the view reads (see
	// resident.go), held until the query is done; nil: the files.
	copy *resident
	// recent: the view reads the copy alone, without the files of its
	// window it does not hold (At.Since).
	recent bool
}

// key identifies what the view shows; a session rebuilds a view only when
// its key changes.
func (v view) key() viewKey {
	if v.plan == nil {
		return viewKey{}
	}
	k := viewKey{defined: true, snapshotID: v.plan.snapshotID, schemaID: v.plan.schemaID, pruned: v.plan.pruned,
		files: len(v.plan.files), head: v.plan.head}
	if v.copy != nil {
		k.copy, k.recent = v.copy.table, v.recent
	}
	return k
}

type viewKey struct {
	defined    bool
	snapshotID int64 // 0: the table has no snapshot (an empty relation)
	schemaID   int
	copy       string // the in-memory copy read, if any
	recent     bool   // without the files the copy's window leaves out
	// pruned: the plan's files are those that reach At.Since (see
	// tablePlan.since); as the files left out are always the oldest, their
	// number tells two such views of a snapshot apart.
	pruned bool
	files  int
	head   int64 // the plan's head
}

// tablePlan is one snapshot of one table resolved to what DuckDB reads.
type tablePlan struct {
	snapshotID int64 // 0 when the table has no snapshot
	schemaID   int
	columns    []column
	files      []string // local paths of the live data files
	fileBytes  []int64  // their sizes
	bytes      int64    // their total size
	// With a resident window (Config.ResidentWindow), its column and each
	// file's manifest entry, whose bounds of it place the file (see
	// window.go); they are read only when the table is over the limit.
	window     *windowColumn
	dataFiles  []iceberg.DataFile
	dvs        []deletionVector // v3 deletion vectors
	posDeletes []posDeleteFile  // v2 positional delete files
	// pruned: this is the part of a plan that reaches an At.Since.
	pruned bool
	// order is the order the rows of each file are in (the table's
	// lakehouse.PropFileOrder; "": none known).
	order string
	// head, when positive, is how many first rows of each file the view
	// reads (At.Head).
	head int64
}

// headOf is the plan read n rows into each file (At.Head), or p when its
// files are not in order or it has deletes.
func (p *tablePlan) headOf(n int64, order string) *tablePlan {
	if n <= 0 || order == "" || p.order != order || len(p.dvs) > 0 || len(p.posDeletes) > 0 || len(p.files) == 0 {
		return p
	}
	q := *p
	q.head = n
	return &q
}

type column struct {
	name string
	id   int    // Iceberg field id
	typ  string // DuckDB type
}

type deletionVector struct {
	file      string // local path of the data file
	positions *dv.RoaringPositionBitmap
}

type posDeleteFile struct {
	path  string   // local path of the delete file
	files []string // data files it applies to
}

// resolve loads the tables named in reads (nil: every table) and picks the
// snapshot at asks for.
func (e *Engine) resolve(ctx context.Context, at At, reads []string) ([]view, error) {
	tables := e.tables
	if reads != nil {
		tables = nil
		for _, ident := range e.tables {
			if slices.Contains(reads, strings.ToLower(lakehouse.Name(ident))) {
				tables = append(tables, ident)
			}
		}
	}
	views := make([]view, len(tables))
	var pinned atomic.Bool
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, ident := range tables {
		name := lakehouse.Name(ident)
		if at.Snapshot == 0 && at.AsOf.IsZero() && e.resident[name] {
			// The newest complete copy, if there is one; no catalog load.
			if r := e.residents.hold(name); r != nil {
				views[i] = view{ident: ident, name: name, existsNow: true, plan: r.plan, copy: r,
					recent: r.older != nil && r.older.holds(at.Since)}
				continue
			}
		}
		g.Go(func() error {
			v, found, err := e.resolveTable(gctx, ident, at)
			if v.plan != nil && e.cfg.SinceColumn[name] != "" && at.Snapshot == 0 && at.AsOf.IsZero() {
				v.plan = v.plan.since(at.Since)
			}
			if v.plan != nil {
				v.plan = v.plan.headOf(at.Head, at.Order)
			}
			views[i] = v
			if found {
				pinned.Store(true)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		for _, v := range views {
			e.residents.release(v.copy)
		}
		return nil, err
	}
	if at.Snapshot != 0 && !pinned.Load() {
		names := make([]string, len(e.tables))
		for i, ident := range e.tables {
			names[i] = lakehouse.Name(ident)
		}
		return nil, fmt.Errorf("query: snapshot %d is not a snapshot of any table (%s); it may have been expired",
			at.Snapshot, strings.Join(names, ", "))
	}
	return views, nil
}

// resolveTable loads one table and plans the snapshot at asks for. found
// reports whether at.Snapshot belongs to this table.
func (e *Engine) resolveTable(ctx context.Context, ident table.Identifier, at At) (v view, found bool, err error) {
	v = view{ident: ident, name: lakehouse.Name(ident)}
	tbl, err := e.lh.Load(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	v.existsNow = true
	snap, schema := tbl.CurrentSnapshot(), tbl.Schema()
	pinned := false
	switch {
	case at.Snapshot != 0:
		if s := tbl.SnapshotByID(at.Snapshot); s != nil {
			snap, pinned, found = s, true, true
		}
	case !at.AsOf.IsZero():
		snap = tbl.SnapshotAsOf(at.AsOf.UnixMilli(), true)
		if snap == nil {
			return v, false, nil // no snapshot yet at that instant
		}
		pinned = true
	}
	// Like iceberg-go's scanner: time travel reads with the schema of the
	// snapshot, the current state with the current schema.
	if pinned && snap.SchemaID != nil {
		s, ok := tbl.Schemas()[*snap.SchemaID]
		if !ok {
			return v, found, fmt.Errorf("table %s: snapshot %d names schema %d, which the metadata lacks",
				v.name, snap.SnapshotID, *snap.SchemaID)
		}
		schema = s
	}
	key := planKey{name: v.name, schemaID: schema.ID}
	if snap != nil {
		key.snapshotID = snap.SnapshotID
	}
	var f planFor
	if snap != nil {
		f = planFor{current: !pinned, at: snap.TimestampMs}
	}
	v.plan, err = e.plans.get(ctx, key, f, func() (*tablePlan, error) { return e.plan(ctx, v.name, tbl, snap, schema) })
	return v, found, err
}

// plan resolves a snapshot (nil: none yet) to its data and delete files.
func (e *Engine) plan(ctx context.Context, name string, tbl *table.Table, snap *table.Snapshot, schema *iceberg.Schema) (*tablePlan, error) {
	p := &tablePlan{schemaID: schema.ID}
	for _, f := range schema.Fields() {
		typ, err := duckdbType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", name, f.Name, err)
		}
		p.columns = append(p.columns, column{name: f.Name, id: f.ID, typ: typ})
	}
	if snap == nil {
		return p, nil
	}
	p.snapshotID = snap.SnapshotID
	p.order = tbl.Properties()[lakehouse.PropFileOrder]
	col := e.cfg.ResidentWindow[name]
	if col == "" {
		col = e.cfg.SinceColumn[name]
	}
	if c, ok := windowColumnOf(schema, col); ok {
		p.window = &c
	}
	cur := tbl.CurrentSnapshot()
	files, ok, err := e.manifests.liveFiles(ctx, name, tbl, snap, p.window != nil, cur != nil && cur.SnapshotID == snap.SnapshotID)
	if err != nil {
		return nil, fmt.Errorf("plan files of %s snapshot %d: %w", name, snap.SnapshotID, err)
	}
	seen := map[string]bool{}
	if ok {
		for _, f := range files {
			path, err := e.local(f.path)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", name, err)
			}
			p.add(seen, path, f.size, f.df)
		}
		return p, nil
	}
	tasks, err := tbl.Scan(table.WithSnapshotID(snap.SnapshotID)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan files of %s snapshot %d: %w", name, snap.SnapshotID, err)
	}
	posDeletes := map[string]*posDeleteFile{}
	for _, t := range tasks {
		if len(t.EqualityDeleteFiles) > 0 {
			return nil, fmt.Errorf("table %s snapshot %d has equality delete files (%s), which SQL queries do not read: %w",
				name, snap.SnapshotID, t.EqualityDeleteFiles[0].FilePath(), ErrUnsupported)
		}
		if f := t.File.FileFormat(); f != iceberg.ParquetFile {
			return nil, fmt.Errorf("table %s data file %s is %s; SQL queries read Parquet only: %w",
				name, t.File.FilePath(), f, ErrUnsupported)
		}
		path, err := e.local(t.File.FilePath())
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		if !p.add(seen, path, t.File.FileSizeBytes(), t.File) { // a file split into several tasks
			continue
		}
		for _, d := range slices.Concat(t.DeletionVectorFiles, t.DeleteFiles) {
			if d.FileFormat() == iceberg.PuffinFile {
				bm, err := e.readDV(ctx, tbl, d)
				if err != nil {
					return nil, fmt.Errorf("table %s: %w", name, err)
				}
				p.dvs = append(p.dvs, deletionVector{file: path, positions: bm})
				continue
			}
			dpath, err := e.local(d.FilePath())
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", name, err)
			}
			if posDeletes[dpath] == nil {
				posDeletes[dpath] = &posDeleteFile{path: dpath}
			}
			posDeletes[dpath].files = append(posDeletes[dpath].files, path)
		}
	}
	for _, d := range posDeletes {
		p.posDeletes = append(p.posDeletes, *d)
	}
	slices.SortFunc(p.posDeletes, func(a, b posDeleteFile) int { return strings.Compare(a.path, b.path) })
	return p, nil
}

// add adds a data file at its local path to the plan, unless seen has
// the path already; it reports whether it did.
func (p *tablePlan) add(seen map[string]bool, path string, size int64, df iceberg.DataFile) bool {
	if seen[path] {
		return false
	}
	seen[path] = true
	p.files = append(p.files, path)
	p.fileBytes = append(p.fileBytes, size)
	p.bytes += size
	if p.window != nil {
		p.dataFiles = append(p.dataFiles, df)
	}
	return true
}

// readDV reads the positions of a deletion vector (a blob in a Puffin file).
func (e *Engine) readDV(ctx context.Context, tbl *table.Table, f iceberg.DataFile) (*dv.RoaringPositionBitmap, error) {
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, fmt.Errorf("open file IO for deletion vector %s: %w", f.FilePath(), err)
	}
	bm, err := dv.ReadDV(fs, f)
	if err != nil {
		return nil, fmt.Errorf("read deletion vector %s: %w", f.FilePath(), err)
	}
	return bm, nil
}

// local turns a file URI of the warehouse into the path DuckDB reads.
func (e *Engine) local(uri string) (string, error) {
	if strings.Contains(uri, "://") && !strings.HasPrefix(uri, "file://") {
		return "", fmt.Errorf("file %s is not local; DuckDB reads only the local warehouse %s", uri, e.warehouseDir)
	}
	path := localPath(uri)
	if !strings.HasPrefix(path, e.warehouseDir) {
		return "", fmt.Errorf("file %s is outside the warehouse %s, the only directory DuckDB may read", uri, e.warehouseDir)
	}
	return path, nil
}

// localPath strips the file: scheme ("file:///a/b" and "file:/a/b" are
// /a/b). DuckDB strips pos-delete file references the same way (see
// tablePlan.viewSQL).
func localPath(uri string) string {
	if p, ok := strings.CutPrefix(uri, "file://"); ok {
		return p
	}
	return strings.TrimPrefix(uri, "file:")
}

// duckdbType is the DuckDB type an Iceberg type reads as.
func duckdbType(t iceberg.Type) (string, error) {
	switch t := t.(type) {
	case iceberg.BooleanType:
		return "BOOLEAN", nil
	case iceberg.Int32Type:
		return "INTEGER", nil
	case iceberg.Int64Type:
		return "BIGINT", nil
	case iceberg.Float32Type:
		return "FLOAT", nil
	case iceberg.Float64Type:
		return "DOUBLE", nil
	case iceberg.DecimalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision(), t.Scale()), nil
	case iceberg.DateType:
		return "DATE", nil
	case iceberg.TimeType:
		return "TIME", nil
	case iceberg.TimestampType:
		return "TIMESTAMP", nil
	case iceberg.TimestampTzType:
		return "TIMESTAMPTZ", nil
	case iceberg.TimestampNsType:
		return "TIMESTAMP_NS", nil
	case iceberg.TimestampTzNsType:
		// DuckDB has no nanosecond TIMESTAMPTZ: read at microseconds.
		return "TIMESTAMPTZ", nil
	case iceberg.StringType:
		return "VARCHAR", nil
	case iceberg.UUIDType:
		return "UUID", nil
	case iceberg.BinaryType, iceberg.FixedType:
		return "BLOB", nil
	case *iceberg.StructType:
		fields := make([]string, len(t.FieldList))
		for i, f := range t.FieldList {
			ft, err := duckdbType(f.Type)
			if err != nil {
				return "", err
			}
			fields[i] = quoteIdent(f.Name) + " " + ft
		}
		return "STRUCT(" + strings.Join(fields, ", ") + ")", nil
	case *iceberg.ListType:
		et, err := duckdbType(t.Element)
		if err != nil {
			return "", err
		}
		return et + "[]", nil
	case *iceberg.MapType:
		kt, err := duckdbType(t.KeyType)
		if err != nil {
			return "", err
		}
		vt, err := duckdbType(t.ValueType)
		if err != nil {
			return "", err
		}
		return "MAP(" + kt + ", " + vt + ")", nil
	}
	return "", fmt.Errorf("Iceberg type %s has no DuckDB counterpart here: %w", t, ErrUnsupported)
}

// viewSQL is the body of the table's view. deletes names the session's
// table of deletion-vector positions (filename, pos).
func (p *tablePlan) viewSQL(deletes string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if p.snapshotID == 0 || len(p.files) == 0 {
		// No data: a typed, empty relation.
		for i, c := range p.columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "CAST(NULL AS %s) AS %s", c.typ, quoteIdent(c.name))
		}
		b.WriteString(" WHERE false")
		return b.String()
	}
	// Columns are read by field id under neutral names (c<id>) so that no
	// table column can collide with filename or file_row_number.
	for i, c := range p.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "d.c%d AS %s", c.id, quoteIdent(c.name))
	}
	b.WriteString(" FROM read_parquet(")
	writeList(&b, p.files)
	b.WriteString(", schema = map {")
	for i, c := range p.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d: {name: 'c%d', type: %s, default_value: NULL}", c.id, c.id, quoteString(c.typ))
	}
	b.WriteString("}, hive_partitioning = false")
	if p.head > 0 {
		fmt.Fprintf(&b, ", file_row_number = true) AS d WHERE d.file_row_number < %d", p.head)
		return b.String()
	}
	if len(p.dvs) == 0 && len(p.posDeletes) == 0 {
		b.WriteString(") AS d")
		return b.String()
	}
	b.WriteString(", filename = true, file_row_number = true) AS d")

	var deleted []string
	if len(p.dvs) > 0 {
		deleted = append(deleted, "SELECT filename, pos FROM "+deletes)
	}
	for _, pd := range p.posDeletes {
		var q strings.Builder
		q.WriteString("SELECT f AS filename, pos FROM (SELECT regexp_replace(file_path, '^file:(//)?', '') AS f, pos FROM read_parquet(")
		q.WriteString(quoteString(pd.path))
		q.WriteString(")) WHERE f IN ")
		writeTuple(&q, pd.files)
		deleted = append(deleted, q.String())
	}
	b.WriteString(" ANTI JOIN (")
	b.WriteString(strings.Join(deleted, " UNION ALL "))
	b.WriteString(") AS x ON x.filename = d.filename AND x.pos = d.file_row_number")
	return b.String()
}

// copySQL is the query that fills an in-memory copy of files, some of
// the plan's (which has no deletes): their columns and the id of the file
// each row came from. The rows of files that prev (nil: none) holds too are
// copied from the relation from (prev's rows, or a part of them that holds
// those files); only the other files are read. It returns the ids of the
// files and the next unused id (from next on).
func (p *tablePlan) copySQL(files []string, prev *resident, from string, next int) (string, map[string]int, int) {
	ids := map[string]int{}
	var kept []string
	var added []string
	for _, f := range files {
		if id, ok := prev.fileID(f); ok {
			ids[f] = id
			kept = append(kept, strconv.Itoa(id))
			continue
		}
		ids[f] = next
		next++
		added = append(added, f)
	}
	var parts []string
	if len(kept) > 0 {
		parts = append(parts, "SELECT * FROM "+from+" WHERE "+fileIDColumn+" IN ("+strings.Join(kept, ", ")+")")
	}
	if len(added) > 0 {
		var b strings.Builder
		b.WriteString("SELECT ")
		for _, c := range p.columns {
			fmt.Fprintf(&b, "d.c%d AS %s, ", c.id, quoteIdent(c.name))
		}
		b.WriteString("f.id AS " + fileIDColumn + " FROM read_parquet(")
		writeList(&b, added)
		b.WriteString(", schema = map {")
		for i, c := range p.columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d: {name: 'c%d', type: %s, default_value: NULL}", c.id, c.id, quoteString(c.typ))
		}
		b.WriteString("}, hive_partitioning = false, filename = true) AS d JOIN (VALUES ")
		for i, f := range added {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%s, %d)", quoteString(f), ids[f])
		}
		b.WriteString(") AS f(path, id) ON f.path = d.filename")
		parts = append(parts, b.String())
	}
	if len(parts) == 0 { // no files: the plan's empty relation
		return "SELECT *, NULL::INTEGER AS " + fileIDColumn + " FROM (" + p.viewSQL("") + ")", ids, next
	}
	return strings.Join(parts, " UNION ALL "), ids, next
}

// fileID is the id of a data file whose rows r holds.
func (r *resident) fileID(path string) (int, bool) {
	if r == nil {
		return 0, false
	}
	id, ok := r.fileIDs[path]
	return id, ok
}

// writeList writes a DuckDB list literal of strings: ['a', 'b'].
func writeList(b *strings.Builder, ss []string) {
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(s))
	}
	b.WriteByte(']')
}

// writeTuple writes ('a', 'b') for IN.
func writeTuple(b *strings.Builder, ss []string) {
	b.WriteByte('(')
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(s))
	}
	b.WriteByte(')')
}

// quoteString quotes a SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent quotes a SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// planKey identifies a plan: a table at a snapshot read with a schema.
type planKey struct {
	name       string
	snapshotID int64
	schemaID   int
}

// maxPlans bounds the plans kept: the current snapshot of every table plus
// some recently time-travelled ones.
const maxPlans = 32

// planCache keeps recent plans so that sessions share the work of planning
// a new snapshot, and so that the planner (planner.go) can plan a table's
// new snapshot before a query asks for it. Plans are immutable once built.
//
// A plan of a table's current snapshot (asked for with current set) evicts
// the older current plans of the same table, so that a table committing
// every second holds one or two plans, not maxPlans; the others (time
// travel) leave oldest first once there are more than maxPlans.
type planCache struct {
	mu       sync.Mutex
	m        map[planKey]*cachedPlan
	order    []planKey             // oldest first
	inflight map[planKey]*planCall // plans being built
	built    int                   // plans built, for tests
}

type cachedPlan struct {
	plan    *tablePlan
	current bool  // built for the table's current snapshot
	at      int64 // the snapshot's commit time (ms): newer current plans evict older ones
}

// planCall is a plan being built; done is closed when plan or err is set.
type planCall struct {
	done chan struct{}
	plan *tablePlan
	err  error
}

// planFor says what a plan is for: current is true when the snapshot was
// the table's current one when it was resolved; at is its commit time (ms).
type planFor struct {
	current bool
	at      int64
}

// get returns the plan for key, building it when it is not cached. When
// another caller is building it already, get waits for that build instead
// of repeating it (and builds it itself if that build fails, or gives up
// when ctx ends).
func (c *planCache) get(ctx context.Context, key planKey, f planFor, build func() (*tablePlan, error)) (*tablePlan, error) {
	for {
		c.mu.Lock()
		if e, ok := c.m[key]; ok {
			c.mu.Unlock()
			return e.plan, nil
		}
		call, busy := c.inflight[key]
		if !busy {
			call = &planCall{done: make(chan struct{})}
			if c.inflight == nil {
				c.inflight = map[planKey]*planCall{}
			}
			c.inflight[key] = call
			c.mu.Unlock()
			call.plan, call.err = build()
			c.mu.Lock()
			delete(c.inflight, key)
			if call.err == nil {
				c.built++
				c.add(key, call.plan, f)
			}
			c.mu.Unlock()
			close(call.done)
			return call.plan, call.err
		}
		c.mu.Unlock()
		select {
		case <-call.done:
			if call.err == nil {
				return call.plan, nil
			}
			// That caller's build failed (its context may have ended, not
			// ours): try again, building it ourselves if nobody else is.
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// has reports whether key's plan is cached.
func (c *planCache) has(key planKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[key]
	return ok
}

// add caches a plan; c.mu is held.
func (c *planCache) add(key planKey, p *tablePlan, f planFor) {
	if f.current {
		for k, e := range c.m {
			if k.name == key.name && k != key && e.current && e.at < f.at {
				c.evict(k)
			}
		}
	}
	if e, ok := c.m[key]; ok {
		e.current, e.at = e.current || f.current, max(e.at, f.at)
		return
	}
	c.m[key] = &cachedPlan{plan: p, current: f.current, at: f.at}
	c.order = append(c.order, key)
	if len(c.order) > maxPlans {
		c.evict(c.order[0])
	}
}

// evict drops a cached plan; c.mu is held.
func (c *planCache) evict(key planKey) {
	delete(c.m, key)
	if i := slices.Index(c.order, key); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
}

// FileOrder returns the order the table (a name such as
// "gold.risk_scores") keeps the rows of each of its data files in, its
// lakehouse.PropFileOrder, for At.Order; "" when it keeps none, does not
// exist, or is not one of the engine's.
func (e *Engine) FileOrder(ctx context.Context, name string) (string, error) {
	for _, ident := range e.tables {
		if lakehouse.Name(ident) != name {
			continue
		}
		tbl, err := e.lh.Load(ctx, ident)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return tbl.Properties()[lakehouse.PropFileOrder], nil
	}
	return "", nil
}
