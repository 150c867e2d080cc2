// Package query runs read-only SQL over WikiStream's Iceberg tables with
// DuckDB.
//
// DuckDB has no Iceberg extension in this build, so iceberg-go resolves each
// table's snapshot to its data files and DuckDB reads those Parquet files.
// Every table passed to [Open] appears in SQL under its dotted name
// (bronze.raw_events, silver.cleaned_events, ...) as a view over
//
//	read_parquet([files], schema = {field id: column}, filename = true, file_row_number = true, hive_partitioning = false)
//
// projected to the table's columns in Iceberg schema order. Columns are
// matched to the Parquet files by Iceberg field id, as the Iceberg
// specification requires, so renamed columns keep their data and columns a
// file predates read as NULL. A table without data files is a typed, empty
// relation; a table that does not exist in the catalog yet is not defined.
//
// Deletes: deletion vectors (format v3 Puffin files) and positional delete
// files (format v2) are applied with an anti-join on (file, row position).
// Equality deletes are not supported: a query over a snapshot that has them
// fails with an error saying so. WikiStream's own writers never produce them.
//
// Freshness: every query resolves the snapshots anew, so a commit is visible
// to the next query. Only the tables a query names are resolved when its
// parse tree tells which they are (see tablesRead): loading a table's
// metadata costs milliseconds. A view is rebuilt only when its snapshot (or
// schema) changed. The exception are resident tables (Config.Resident, see
// resident.go): they are copied into memory in the background, and a query
// reads the newest complete copy, so a commit reaches them once it has been
// copied (Engine.Refresh waits for that). Planned tables (Config.Planned,
// see planner.go) change nothing here: their new snapshots are planned in
// the background so that a query finds the plan ready, but a query still
// reads the snapshot current when it resolves the table.
//
// Safety has two layers. Before anything runs, a statement must be a single
// read-only statement (SELECT, WITH, VALUES, FROM, TABLE, SHOW, DESCRIBE,
// SUMMARIZE, EXPLAIN, or an information PRAGMA such as table_info), checked
// both lexically and by DuckDB's own parser; anything else fails with
// [ErrReadOnly]. Underneath, DuckDB is sandboxed: no file access outside the
// warehouse directory, no extension loading, configuration locked, bounded
// memory and time. Only a local file:// warehouse is readable.
package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Errors a caller may want to tell apart (with errors.Is).
var (
	// ErrReadOnly: the statement is not a single read-only statement.
	ErrReadOnly = errors.New("only read-only queries are allowed")
	// ErrTimeout: the query ran longer than Config.Timeout and was interrupted.
	ErrTimeout = errors.New("query timed out")
	// ErrClosed: the engine was closed.
	ErrClosed = errors.New("query engine is closed")
	// ErrNoTable: a table the query reads does not exist yet (no stage has
	// written to it): to a dashboard, no rows yet.
	ErrNoTable = errors.New("nothing has created it")
)

// Config bounds the DuckDB engine. A zero field takes its default.
type Config struct {
	// MemoryLimit is DuckDB's memory_limit, such as "512MB" or "2GiB".
	// Nothing spills to disk: a query that needs more fails with an
	// out-of-memory error. Default "512MB".
	MemoryLimit string
	// Threads is the number of DuckDB worker threads. Default 2.
	Threads int
	// Timeout bounds each query, including resolving the tables' snapshots.
	// A query that runs longer is interrupted and fails with ErrTimeout.
	// Default 30s.
	Timeout time.Duration
	// MaxRows is the most rows a result holds; Result.Truncated tells when
	// there were more. Default 100000.
	MaxRows int
	// Resident names tables ("gold.hourly_stats") whose current snapshot
	// is copied into DuckDB memory in the background, and read from there
	// (see resident.go): for small tables that are queried far more often
	// than they change. A query reads the newest complete copy, so a
	// commit reaches it once copied, not at the very next query. The
	// copies count against MemoryLimit. Default none.
	Resident []string
	// Planned names tables ("silver.cleaned_events") whose new snapshots
	// are planned in the background (their data and delete files listed,
	// see planner.go), every ResidentPoll and when Refresh is called, so
	// that a query that resolves the table's current snapshot usually finds
	// its plan ready instead of reading the table's manifests itself.
	// Unlike Resident, this changes no result: a query still reads the
	// current snapshot, and plans it itself when the background plan is not
	// ready. Default none.
	Planned []string
	// ResidentMaxBytes: a Resident table whose data files total more than
	// this many bytes is read from its files, or, with a ResidentWindow
	// column, its newest files are kept in memory. Default 32 MiB.
	ResidentMaxBytes int64
	// ResidentWindow names, for Resident tables ("gold.pages_hourly"), a
	// required column that orders their rows in time ("hour_start"). When
	// such a table's files total more than ResidentMaxBytes, the copy holds
	// its newest files (by the column's bounds in the manifests) up to
	// ResidentMaxBytes, and its view reads the older files where the
	// column is below the oldest copied value: a query whose filter on the
	// column stays within the copy never opens them (see resident.go).
	ResidentWindow map[string]string
	// SinceColumn names, for tables that are not Resident
	// ("gold.risk_scores"), a required column that orders their rows in
	// time ("stat_date"): a timestamp, a date, or a string holding a
	// YYYY-MM-DD date. A query made with At.Since reads only the files
	// whose upper bound of the column (in their manifest entries) is at or
	// after Since; the older ones are left out of its view, where DuckDB
	// would open each of them to prune it by its filter (about 0.15 ms a
	// file, per reference). Snapshots with delete files are read whole.
	SinceColumn map[string]string
	// ResidentWindowSpan, when not zero, also bounds a windowed copy in
	// time: it holds the files whose window column (a timestamp or a date)
	// is within this span of the table's newest value, and no more, even
	// when more would fit in ResidentMaxBytes. A table within
	// ResidentMaxBytes is copied whole all the same.
	ResidentWindowSpan time.Duration
	// ResidentOrder is, for Resident tables, an ORDER BY clause
	// ("edits >= 4 DESC, hour_start") that whole copies are sorted by, so
	// that the queries they serve touch fewer of the copy's row groups and
	// vectors (a delta copy, the few files of a commit, is not sorted).
	// It changes no result.
	ResidentOrder map[string]string
	// ResidentPoll is how often the Resident tables are checked for a new
	// snapshot to copy, and the Planned tables for one to plan (each check
	// loads the tables' metadata). Default 250ms.
	ResidentPoll time.Duration
	// Logger receives failures of the background copies (queries then read
	// the table's files) and, for the first engine of the process, the
	// C heap trims (see trim.go). Default: discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{MemoryLimit: "512MB", Threads: 2, Timeout: 30 * time.Second, MaxRows: 100000,
		ResidentMaxBytes: DefaultResidentMaxBytes, ResidentPoll: DefaultResidentPoll}
}

// memoryLimitRe matches the sizes DuckDB accepts for memory_limit.
var memoryLimitRe = regexp.MustCompile(`(?i)^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)$`)

// Validate reports the first bad setting. Zero values are valid: they mean
// the default.
func (c Config) Validate() error {
	if c.MemoryLimit != "" && !memoryLimitRe.MatchString(c.MemoryLimit) {
		return fmt.Errorf("query: memory limit %q: want a size such as 512MB or 2GiB", c.MemoryLimit)
	}
	if c.Threads < 0 {
		return fmt.Errorf("query: threads %d: want 1 or more", c.Threads)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("query: timeout %s: want a positive duration", c.Timeout)
	}
	if c.MaxRows < 0 {
		return fmt.Errorf("query: max rows %d: want 1 or more", c.MaxRows)
	}
	if c.ResidentMaxBytes < 0 {
		return fmt.Errorf("query: resident max bytes %d: want 1 or more", c.ResidentMaxBytes)
	}
	if c.ResidentWindowSpan < 0 {
		return fmt.Errorf("query: resident window span %s: want a positive duration", c.ResidentWindowSpan)
	}
	if c.ResidentPoll < 0 {
		return fmt.Errorf("query: resident poll %s: want a positive duration", c.ResidentPoll)
	}
	return nil
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MemoryLimit == "" {
		c.MemoryLimit = d.MemoryLimit
	}
	if c.Threads == 0 {
		c.Threads = d.Threads
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.MaxRows == 0 {
		c.MaxRows = d.MaxRows
	}
	if c.ResidentMaxBytes == 0 {
		c.ResidentMaxBytes = d.ResidentMaxBytes
	}
	if c.ResidentPoll == 0 {
		c.ResidentPoll = d.ResidentPoll
	}
	return c
}

// At pins the table versions a query reads. The zero value reads every
// table's current snapshot. Set at most one field.
type At struct {
	// Snapshot is a snapshot id of one of the tables: that table is read as
	// of it, the others at their current snapshot. An id that belongs to no
	// table (or was expired) is an error naming it.
	Snapshot int64
	// AsOf reads every table as of this instant: the snapshot that was
	// current then. A table that had no snapshot yet is not defined, and a
	// query that refers to it fails with an error saying so.
	AsOf time.Time
	// Since, with neither of the above, is the caller's promise that the
	// query reads no row of a ResidentWindow or SinceColumn table whose
	// column is before it (its filters say so). A windowed table whose
	// in-memory copy holds every row from Since on is then read from the
	// copy alone, and a SinceColumn table from its files that reach Since:
	// the older files are left out of the view instead of being pruned by
	// the query's filter, which costs DuckDB a check of every older file at
	// each reference (about 4 ms per reference to a week of hourly files). A
	// query that breaks the promise misses rows. A string column is taken
	// to hold YYYY-MM-DD dates, compared with Since's UTC date.
	Since time.Time
	// Head, when positive, reads only the first Head rows of each data
	// file of the tables whose files keep their rows in Order (their
	// lakehouse.PropFileOrder), from views over the files. It is the
	// caller's promise that the answer lies in those rows: the query ranks
	// by Order (its leading columns may be equal within a file, such as a
	// partition's date) and keeps at most Head rows, after conditions that
	// keep a first run of each file's rows or whole files (the risk feed
	// over gold.risk_scores). DuckDB then skips the files' other row
	// groups. Files with deletes are read whole (their first rows need not
	// be live), and so are in-memory copies and the tables of any other
	// order. Engine.FileOrder tells a table's order.
	Head  int64
	Order string
}

// sessions is how many queries run at once; more wait for a free session.
// Each session is one DuckDB connection with its own copy of the views.
const sessions = 4

// Engine runs read-only SQL over a fixed list of tables. It is safe for
// concurrent use: up to four queries run at once, each on its own DuckDB
// connection whose default catalog (ws_1 ... ws_4, visible in SHOW ALL
// TABLES) holds that connection's views; further queries wait for one.
// With resident tables, a fifth connection (catalog ws_refresh) makes the
// in-memory copies (ws_resident) in the background.
type Engine struct {
	lh           *lakehouse.Lakehouse
	tables       []table.Identifier
	cfg          Config
	warehouseDir string // with a trailing slash

	connector *duckdb.Connector
	db        *sql.DB
	idle      chan *session // sessions not running a query
	nsessions int           // sessions started
	closing   chan struct{} // closed by Close
	closeOnce sync.Once

	plans     planCache
	manifests manifestCache // manifests.go
	checks    checkCache
	names     map[string]bool // the tables' dotted names, lower case
	resident  map[string]bool // Config.Resident
	planned   map[string]bool // Config.Planned
	residents residents
	log       *slog.Logger

	// The refresher (resident.go), running while there are resident
	// tables: Refresh sends on kick; Close calls stopRefresh and waits for
	// refreshDone.
	refresher *session
	kick      chan chan error
	// budgets are the bytes of files a resident table's copy may hold, by
	// table, once a copy ran out of DuckDB memory (ResidentMaxBytes
	// until then); the refresher's alone.
	budgets     map[string]int64
	stopRefresh context.CancelFunc
	refreshDone chan struct{}

	// The planner (planner.go), running while there are planned tables:
	// Refresh sends on planKick a channel the planner answers once it has
	// planned; Close waits for planDone.
	planKick chan chan struct{}
	planDone chan struct{}

	// retried counts the queries run again after running out of memory
	// while copies were made (Query).
	retried atomic.Int64
}

// Open starts a sandboxed in-memory DuckDB database for the given tables.
// Tables that do not exist yet are defined as soon as they do. The
// lakehouse must use a local file:// warehouse; DuckDB cannot read object
// stores in this build.
func Open(ctx context.Context, lh *lakehouse.Lakehouse, tables []table.Identifier, cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	dir, err := localWarehouse(lh.Warehouse())
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, ident := range tables {
		if len(ident) != 2 {
			return nil, fmt.Errorf("query: table %q: want a two-part name such as bronze.raw_events", lakehouse.Name(ident))
		}
		if seen[lakehouse.Name(ident)] {
			return nil, fmt.Errorf("query: table %s is listed twice", lakehouse.Name(ident))
		}
		seen[lakehouse.Name(ident)] = true
	}
	names := map[string]bool{}
	for name := range seen {
		names[strings.ToLower(name)] = true
	}
	residentNames := map[string]bool{}
	for _, name := range cfg.Resident {
		if !seen[name] {
			return nil, fmt.Errorf("query: resident table %s is not one of the engine's tables", name)
		}
		residentNames[name] = true
	}
	for name := range cfg.ResidentOrder {
		if !residentNames[name] {
			return nil, fmt.Errorf("query: resident order %s: want a Resident table", name)
		}
	}
	for name, col := range cfg.ResidentWindow {
		if !residentNames[name] || col == "" {
			return nil, fmt.Errorf("query: resident window %s: %q: want a column of a Resident table", name, col)
		}
	}
	for name, col := range cfg.SinceColumn {
		if !seen[name] || residentNames[name] || col == "" {
			return nil, fmt.Errorf("query: since column %s: %q: want a column of one of the engine's tables that is not Resident", name, col)
		}
	}
	plannedNames := map[string]bool{}
	for _, name := range cfg.Planned {
		if !seen[name] {
			return nil, fmt.Errorf("query: planned table %s is not one of the engine's tables", name)
		}
		plannedNames[name] = true
	}
	e := &Engine{
		lh:           lh,
		tables:       tables,
		cfg:          cfg,
		warehouseDir: dir,
		idle:         make(chan *session, sessions),
		closing:      make(chan struct{}),
		plans:        planCache{m: map[planKey]*cachedPlan{}},
		names:        names,
		resident:     residentNames,
		planned:      plannedNames,
		planKick:     make(chan chan struct{}),
		residents:    residents{current: map[string]*resident{}},
		log:          cfg.Logger,
		kick:         make(chan chan error),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	openEngines.Add(1) // Close takes it back, also after a failed start
	trimmer.start(e.log)
	if err := e.start(ctx); err != nil {
		e.Close()
		return nil, err
	}
	if e.refresher != nil || len(e.planned) > 0 {
		// They end when Close cancels rctx; Close waits for refreshDone
		// and planDone.
		rctx, stop := context.WithCancel(context.Background())
		e.stopRefresh = stop
		if e.refresher != nil {
			e.refreshDone = make(chan struct{})
			go e.refreshLoop(rctx, e.refresher)
		}
		if len(e.planned) > 0 {
			e.planDone = make(chan struct{})
			go e.planLoop(rctx)
		}
	}
	return e, nil
}

// openEngines counts the engines opened and not yet closed.
var openEngines atomic.Int64

// OpenEngines is how many engines the process has open: each is a DuckDB
// database, which holds memory until it closes.
func OpenEngines() int64 { return openEngines.Load() }

// localWarehouse returns the directory of a file:// warehouse, with a
// trailing slash, or an error explaining why DuckDB cannot read it.
func localWarehouse(warehouse string) (string, error) {
	u, err := url.Parse(warehouse)
	if err != nil {
		return "", fmt.Errorf("query: warehouse %q: %w", warehouse, err)
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("query: DuckDB cannot read warehouse %s in this build: it reads only a local file:// warehouse "+
			"(the httpfs extension is not built in); Trino, Athena or Spark read the same Iceberg tables", warehouse)
	}
	dir := localPath(warehouse)
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("query: warehouse %q: want an absolute file:// URL", warehouse)
	}
	return strings.TrimSuffix(filepath.Clean(dir), "/") + "/", nil
}

// Query runs one read-only statement against the tables as pinned by at.
// It fails with ErrReadOnly before running anything that is not a single
// read-only statement, and with ErrTimeout when it runs longer than
// Config.Timeout.
func (e *Engine) Query(ctx context.Context, sqlText string, at At) (*Result, error) {
	if at.Snapshot != 0 && !at.AsOf.IsZero() {
		return nil, errors.New("query: set At.Snapshot or At.AsOf, not both")
	}
	stmt, err := classify(sqlText)
	if err != nil {
		return nil, err
	}
	qctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	res, err := e.query(qctx, stmt, at)
	if outOfMemory(err) && e.refresher != nil && qctx.Err() == nil {
		// The in-memory copies share DuckDB's memory limit with the
		// queries, and making one (most of all the first ones, at start,
		// which sort a day or two of a rollup) can take what a query
		// needed: serving a week at the live feed's volume, a request in
		// the first seconds failed so. The query runs again once the
		// refresher's round is over (a copy that runs out of memory itself
		// holds fewer files from then on, see budgets).
		if e.refreshCopies(qctx) == nil {
			e.retried.Add(1)
			res, err = e.query(qctx, stmt, at)
		}
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("query canceled: %w", ctx.Err())
		case errors.Is(qctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("%w after %s (the limit): narrow the query, or raise the timeout: %w",
				ErrTimeout, e.cfg.Timeout, context.DeadlineExceeded)
		}
		return nil, err
	}
	return res, nil
}

// outOfMemory reports whether err is DuckDB's out-of-memory error.
func outOfMemory(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeOutOfMemory
}

func (e *Engine) query(ctx context.Context, stmt statement, at At) (*Result, error) {
	s, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer e.release(s)
	exec, reads, err := e.checks.check(ctx, s, stmt, e.cfg.MaxRows, e.names)
	if err != nil {
		return nil, err
	}
	if at.Snapshot != 0 {
		reads = nil // the id may belong to any table
	}
	views, err := e.resolve(ctx, at, reads)
	if err != nil {
		return nil, err
	}
	defer func() { // the copies the views read are kept until the query is done
		for _, v := range views {
			e.residents.release(v.copy)
		}
	}()
	if err := s.sync(ctx, views, &e.residents); err != nil {
		return nil, err
	}
	res, err := s.run(ctx, exec, e.cfg.MaxRows, stmt.allows)
	if err != nil {
		return nil, explainMissing(err, views, at)
	}
	res.Snapshots = map[string]int64{}
	for _, v := range views {
		if v.plan != nil && v.plan.snapshotID != 0 {
			res.Snapshots[v.name] = v.plan.snapshotID
		}
	}
	return res, nil
}

// explainMissing turns DuckDB's "table does not exist" about one of the
// engine's tables into an error that says why it is not defined.
func explainMissing(err error, views []view, at At) error {
	msg := err.Error()
	if !strings.Contains(msg, "Catalog Error") {
		return fmt.Errorf("run query: %w", err)
	}
	for _, v := range views {
		if v.plan != nil || !strings.Contains(msg, v.ident[1]) {
			continue
		}
		if v.existsNow {
			return fmt.Errorf("run query: table %s had no snapshot as of %s (it did not exist or was empty then): %w",
				v.name, at.AsOf.UTC().Format(time.RFC3339Nano), err)
		}
		return fmt.Errorf("run query: table %s does not exist yet (%w): %w", v.name, ErrNoTable, err)
	}
	return fmt.Errorf("run query: %w", err)
}

// acquire takes an idle session, waiting for one when all are busy.
func (e *Engine) acquire(ctx context.Context) (*session, error) {
	select {
	case <-e.closing:
		return nil, ErrClosed
	default:
	}
	select {
	case s := <-e.idle:
		return s, nil
	case <-e.closing:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a free query session: %w", ctx.Err())
	}
}

func (e *Engine) release(s *session) { e.idle <- s }

// Close stops the background copies (interrupting one in progress) and
// waits for them to end, waits for running queries (each bounded by
// Config.Timeout), then releases DuckDB. Queries after Close fail with
// ErrClosed. Close does not close the lakehouse.
func (e *Engine) Close() error {
	var errs []error
	e.closeOnce.Do(func() {
		defer openEngines.Add(-1)
		defer trimmer.end()
		close(e.closing)
		if e.stopRefresh != nil {
			e.stopRefresh()
			if e.refreshDone != nil {
				<-e.refreshDone
			}
			if e.planDone != nil {
				<-e.planDone
			}
		}
		if e.refresher != nil {
			errs = append(errs, e.refresher.close())
		}
		for range e.nsessions {
			s := <-e.idle
			errs = append(errs, s.close())
		}
		if e.db != nil {
			errs = append(errs, e.db.Close())
		}
		if e.connector != nil {
			errs = append(errs, e.connector.Close())
		}
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close query engine: %w", err)
	}
	return nil
}
