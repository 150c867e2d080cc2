package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// deletesSchema holds each session's tables of deletion-vector positions,
// one per Iceberg table, named like it ("bronze.raw_events").
const deletesSchema = "_deletes"

// start opens the in-memory DuckDB database, locks it down, and starts the
// sessions.
func (e *Engine) start(ctx context.Context) error {
	dsn := "?" + url.Values{
		"memory_limit": {e.cfg.MemoryLimit},
		"threads":      {strconv.Itoa(e.cfg.Threads)},
		// No spilling: a query over the memory limit fails instead of
		// writing temporary files.
		"temp_directory":               {""},
		"autoinstall_known_extensions": {"false"},
		"autoload_known_extensions":    {"false"},
		"allow_community_extensions":   {"false"},
	}.Encode()
	var (
		mu     sync.Mutex
		locked bool
	)
	// The lockdown is database-wide, and once locked the configuration
	// cannot change, so it runs on the first connection only. Every
	// session is a connection opened after it.
	connector, err := duckdb.NewConnector(dsn, func(ex driver.ExecerContext) error {
		mu.Lock()
		defer mu.Unlock()
		if locked {
			return nil
		}
		for _, stmt := range []string{
			"SET GLOBAL TimeZone = 'UTC'",
			// No caches of the files read: DuckDB keeps them until the
			// memory limit, so while gold commits every second the cached
			// footers and data of files read once (the in-memory copies'
			// sources, the risk table's files) grew the process by about
			// 0.6 MB/s at the live rate, toward the limit of each engine.
			// The warehouse's files are read through the OS's page cache
			// instead (docs/PERFORMANCE.md, session 11).
			"SET GLOBAL parquet_metadata_cache = false",
			"SET GLOBAL enable_external_file_cache = false",
			// The in-memory copies (resident.go) are compressed by a
			// checkpoint, but not their strings: reading FSST-compressed
			// titles and editor lists made a day's top pages 60-80 ms
			// instead of 45 (docs/PERFORMANCE.md).
			"SET GLOBAL disabled_compression_methods = 'fsst,dict_fsst'",
			// allowed_directories must precede enable_external_access=false.
			"SET allowed_directories = [" + quoteString(e.warehouseDir) + "]",
			"SET enable_external_access = false",
			"SET lock_configuration = true",
		} {
			if _, err := ex.ExecContext(ctx, stmt, nil); err != nil {
				return fmt.Errorf("lock down DuckDB (%s): %w", stmt, err)
			}
		}
		locked = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("open DuckDB: %w", err)
	}
	e.connector = connector
	e.db = sql.OpenDB(connector)
	e.db.SetMaxOpenConns(sessions + 1) // and the refresher's
	e.db.SetMaxIdleConns(sessions + 1)
	var namespaces []string
	for _, ident := range e.tables {
		if !slices.Contains(namespaces, ident[0]) {
			namespaces = append(namespaces, ident[0])
		}
	}
	for i := range sessions {
		s, err := newSession(ctx, e.db, fmt.Sprintf("ws_%d", i+1), namespaces)
		if err != nil {
			return err
		}
		e.idle <- s
		e.nsessions++
	}
	// Belt and braces: prove the sandbox is on before serving anything.
	s := <-e.idle
	defer func() { e.idle <- s }()
	if len(e.resident) > 0 {
		if _, err := s.conn.ExecContext(ctx, "ATTACH ':memory:' AS "+quoteIdent(residentCatalog)); err != nil {
			return fmt.Errorf("set up DuckDB catalog %s: %w", residentCatalog, err)
		}
		if e.refresher, err = newSession(ctx, e.db, refresherCatalog, nil); err != nil {
			return err
		}
	}
	var external, lockedSetting string
	err = s.conn.QueryRowContext(ctx,
		"SELECT current_setting('enable_external_access')::VARCHAR, current_setting('lock_configuration')::VARCHAR").
		Scan(&external, &lockedSetting)
	if err != nil {
		return fmt.Errorf("check DuckDB sandbox: %w", err)
	}
	if external != "false" || lockedSetting != "true" {
		return fmt.Errorf("check DuckDB sandbox: enable_external_access=%s lock_configuration=%s, want false and true",
			external, lockedSetting)
	}
	return nil
}

// session is one DuckDB connection with its own in-memory catalog holding
// its copy of the table views. Queries address the views by schema and name
// (bronze.raw_events) because the catalog is the session's default. A
// session runs one query at a time.
type session struct {
	conn    *sql.Conn
	catalog string             // ws_<n>
	views   map[string]viewKey // table name → what its view shows
	builds  int                // views (re)built or dropped, for tests
	// residents are the in-memory copies the session's views read, by
	// table name.
	residents map[string]*resident
}

func newSession(ctx context.Context, db *sql.DB, catalog string, namespaces []string) (*session, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open DuckDB session %s: %w", catalog, err)
	}
	s := &session{conn: conn, catalog: catalog, views: map[string]viewKey{}, residents: map[string]*resident{}}
	stmts := []string{
		"ATTACH ':memory:' AS " + quoteIdent(catalog),
		"USE " + quoteIdent(catalog),
		"CREATE SCHEMA " + quoteIdent(deletesSchema),
	}
	for _, ns := range namespaces {
		stmts = append(stmts, "CREATE SCHEMA "+quoteIdent(ns))
	}
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			conn.Close()
			return nil, fmt.Errorf("set up DuckDB session %s (%s): %w", catalog, stmt, err)
		}
	}
	return s, nil
}

func (s *session) close() error { return s.conn.Close() }

// sync makes the session's views show the given plans, rebuilding only the
// views whose snapshot, schema or in-memory copy changed.
func (s *session) sync(ctx context.Context, views []view, rs *residents) error {
	for _, v := range views {
		want := v.key()
		if s.views[v.name] == want {
			continue
		}
		delete(s.views, v.name) // rebuilt below; unknown if that fails
		if err := s.build(ctx, v); err != nil {
			return fmt.Errorf("define view %s: %w", v.name, err)
		}
		// The view reads v.copy now (the query's reference keeps it until
		// the session holds its own), no longer the copy it read before.
		if v.copy != nil {
			rs.retain(v.copy)
		}
		rs.release(s.residents[v.name])
		if v.copy != nil {
			s.residents[v.name] = v.copy
		} else {
			delete(s.residents, v.name)
		}
		s.views[v.name] = want
		s.builds++
	}
	return nil
}

// drop drops copies nobody reads any more. A failure only leaves memory in
// use until the engine closes; no query depends on it.
func (s *session) drop(ctx context.Context, tables []string) {
	for _, t := range tables {
		s.conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+t)
	}
}

// build (re)defines or drops one view: over the in-memory copy v.copy, or
// else over the plan's files.
func (s *session) build(ctx context.Context, v view) error {
	viewName := quoteIdent(v.ident[0]) + "." + quoteIdent(v.ident[1])
	if v.plan == nil {
		_, err := s.conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+viewName)
		return err
	}
	if v.copy != nil {
		_, err := s.conn.ExecContext(ctx, "CREATE OR REPLACE VIEW "+viewName+" AS "+v.copy.viewSQL(v.recent))
		return err
	}
	deletes := quoteIdent(s.catalog) + "." + quoteIdent(deletesSchema) + "." + quoteIdent(v.name)
	if len(v.plan.dvs) == 0 {
		if _, err := s.conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+deletes); err != nil {
			return err
		}
	} else if err := s.loadDeletes(ctx, deletes, v.name, v.plan); err != nil {
		return err
	}
	_, err := s.conn.ExecContext(ctx, "CREATE OR REPLACE VIEW "+viewName+" AS "+v.plan.viewSQL(deletes))
	return err
}

// loadDeletes fills the table of deleted (filename, pos) of the plan's
// deletion vectors.
func (s *session) loadDeletes(ctx context.Context, deletes, name string, p *tablePlan) error {
	if _, err := s.conn.ExecContext(ctx, "CREATE OR REPLACE TABLE "+deletes+" (filename VARCHAR, pos BIGINT)"); err != nil {
		return err
	}
	return s.conn.Raw(func(dc any) error {
		conn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("DuckDB connection is a %T", dc)
		}
		app, err := duckdb.NewAppender(conn, s.catalog, deletesSchema, name)
		if err != nil {
			return fmt.Errorf("append deletion vectors: %w", err)
		}
		for _, d := range p.dvs {
			for pos := range d.positions.Positions() {
				if err := app.AppendRow(d.file, int64(pos)); err != nil {
					app.Close()
					return fmt.Errorf("append deletion vectors: %w", err)
				}
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("append deletion vectors: %w", err)
		}
		return nil
	})
}

// check asks DuckDB's parser whether stmt is one read-only statement and
// returns the SQL to run: queries are wrapped in a LIMIT one past maxRows
// so that DuckDB stops early and truncation is detectable. reads are the
// tables of known (lower-case dotted names) the statement reads, or nil
// when that cannot be told from its parse tree (see tablesRead).
func (s *session) check(ctx context.Context, stmt statement, maxRows int, known map[string]bool) (exec string, reads []string, err error) {
	switch stmt.kind {
	case kindPragma:
		return stmt.body, nil, nil
	case kindExplain:
		tree, err := s.parseQuery(ctx, stmt.inner)
		if err != nil {
			return "", nil, err
		}
		return stmt.body, tablesRead(tree, known), nil
	}
	tree, err := s.parseQuery(ctx, stmt.body)
	if err != nil {
		return "", nil, err
	}
	// The newline ends a trailing -- comment before the parenthesis.
	return fmt.Sprintf("SELECT * FROM (\n%s\n) LIMIT %d", stmt.body, maxRows+1), tablesRead(tree, known), nil
}

// checkCache remembers the statements that passed check. Asking DuckDB to
// parse a statement costs more than a millisecond, and the dashboard sends
// the same few statements again and again (its time ranges change by the
// hour). The answer depends on the text alone: the engine's tables and row
// limit do not change.
type checkCache struct {
	mu      sync.Mutex
	checked map[statement]checked
	parses  int // statements DuckDB parsed, for tests
}

type checked struct {
	exec  string
	reads []string
}

// maxChecked bounds the cache; when it is full it starts again empty.
const maxChecked = 512

func (c *checkCache) check(ctx context.Context, s *session, stmt statement, maxRows int, known map[string]bool) (string, []string, error) {
	c.mu.Lock()
	hit, ok := c.checked[stmt]
	c.mu.Unlock()
	if ok {
		return hit.exec, slices.Clone(hit.reads), nil
	}
	exec, reads, err := s.check(ctx, stmt, maxRows, known)
	if err != nil {
		return "", nil, err // not kept: a canceled parse may pass next time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parses++
	if c.checked == nil || len(c.checked) >= maxChecked {
		c.checked = map[statement]checked{}
	}
	c.checked[stmt] = checked{exec: exec, reads: slices.Clone(reads)}
	return exec, reads, nil
}

// tablesRead returns the tables of known that a parsed statement (DuckDB's
// json_serialize_sql tree) reads, or nil unless every table reference in it
// is either one of known, by schema and name, or a CTE: any table function
// (read_parquet, query_table, duckdb_views ...), SHOW, DESCRIBE, catalog-
// qualified name or other table may read what the views define, and a
// statement without tables (SELECT 1) reports every table's snapshot.
func tablesRead(tree any, known map[string]bool) []string {
	type ref struct{ catalog, schema, name string }
	var (
		refs []ref
		ctes = map[string]bool{}
		ok   = true
	)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			switch v["type"] {
			case "BASE_TABLE":
				str := func(k string) string { s, _ := v[k].(string); return strings.ToLower(s) }
				refs = append(refs, ref{str("catalog_name"), str("schema_name"), str("table_name")})
			case "TABLE_FUNCTION", "SHOW_REF":
				ok = false
			}
			if m, _ := v["cte_map"].(map[string]any); m != nil {
				entries, _ := m["map"].([]any)
				for _, e := range entries {
					if k, _ := e.(map[string]any)["key"].(string); k != "" {
						ctes[strings.ToLower(k)] = true
					}
				}
			}
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(tree)
	var reads []string
	for _, r := range refs {
		switch {
		case r.catalog == "" && r.schema == "" && ctes[r.name]:
		case r.catalog == "" && known[r.schema+"."+r.name]:
			if !slices.Contains(reads, r.schema+"."+r.name) {
				reads = append(reads, r.schema+"."+r.name)
			}
		default:
			ok = false
		}
	}
	if !ok || len(reads) == 0 {
		return nil
	}
	return reads
}

// parseQuery fails unless DuckDB parses text as exactly one query (a SELECT
// statement: DuckDB parses SHOW, DESCRIBE, SUMMARIZE, VALUES, FROM and TABLE
// as SELECTs), and returns its parse tree. json_serialize_sql parses
// without binding or running anything, and refuses every other kind of
// statement.
func (s *session) parseQuery(ctx context.Context, text string) (any, error) {
	var out string
	if err := s.conn.QueryRowContext(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", text).Scan(&out); err != nil {
		return nil, fmt.Errorf("parse query: %w", err)
	}
	var parsed struct {
		Error        bool   `json:"error"`
		ErrorMessage string `json:"error_message"`
		Statements   []any  `json:"statements"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil {
		return nil, fmt.Errorf("parse query: read DuckDB's parse: %w", err)
	}
	switch {
	case parsed.Error && strings.Contains(parsed.ErrorMessage, "Only SELECT"):
		return nil, fmt.Errorf("%w: DuckDB parses this as a statement that is not a query", ErrReadOnly)
	case parsed.Error:
		return nil, fmt.Errorf("parse query: %s", parsed.ErrorMessage)
	case len(parsed.Statements) != 1:
		return nil, fmt.Errorf("%w: DuckDB parses this as %d statements; send one", ErrReadOnly, len(parsed.Statements))
	}
	return parsed.Statements[0], nil
}

// run prepares and runs one statement and reads at most maxRows rows. When
// allow is not nil, the statement type DuckDB prepared must satisfy it.
// run itself does not check anything else: the gate is Engine.Query.
func (s *session) run(ctx context.Context, q string, maxRows int, allow func(duckdb.StmtType) bool) (*Result, error) {
	res := &Result{}
	err := s.conn.Raw(func(dc any) error {
		conn, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("DuckDB connection is a %T", dc)
		}
		prepared, err := conn.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer prepared.Close()
		stmt, ok := prepared.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("DuckDB statement is a %T", prepared)
		}
		if allow != nil {
			typ, err := stmt.StatementType()
			if err != nil {
				return err
			}
			if !allow(typ) {
				return fmt.Errorf("%w: DuckDB prepared a statement of type %d, which is not a query", ErrReadOnly, typ)
			}
		}
		rows, err := stmt.QueryContext(ctx, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		res.Columns = rows.Columns()
		res.Types = make([]string, len(res.Columns))
		if typed, ok := rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
			for i := range res.Types {
				res.Types[i] = typed.ColumnTypeDatabaseTypeName(i)
			}
		}
		dest := make([]driver.Value, len(res.Columns))
		for {
			if err := rows.Next(dest); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			if len(res.Rows) == maxRows {
				res.Truncated = true
				return nil
			}
			row := make([]any, len(dest))
			for i, v := range dest {
				if b, ok := v.([]byte); ok {
					v = append([]byte(nil), b...)
				}
				row[i] = v
			}
			res.Rows = append(res.Rows, row)
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
