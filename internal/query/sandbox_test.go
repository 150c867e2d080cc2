package query

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		sql       string
		wantKind  stmtKind
		wantBody  string
		wantInner string
		wantErr   error // nil: none; errAny: some error that is not ErrReadOnly
	}{
		{sql: "SELECT 1", wantBody: "SELECT 1"},
		{sql: "  select 1 ;  -- done\n", wantBody: "select 1"},
		{sql: "SELECT 1; ;", wantBody: "SELECT 1"},
		{sql: "SELECT 1 -- trailing comment", wantBody: "SELECT 1"},
		{sql: "/* ; */ SELECT ';' AS x", wantBody: "SELECT ';' AS x"},
		{sql: "/* nested /* ; */ ; */ SELECT 1", wantBody: "SELECT 1"},
		{sql: "SELECT 'it''s; fine'", wantBody: "SELECT 'it''s; fine'"},
		{sql: `SELECT E'\'; still a string'`, wantBody: `SELECT E'\'; still a string'`},
		{sql: "SELECT $$ ; $$, $tag$ ; $tag$", wantBody: "SELECT $$ ; $$, $tag$ ; $tag$"},
		{sql: `SELECT ";" FROM t`, wantBody: `SELECT ";" FROM t`},
		{sql: "WITH x AS (SELECT 1) SELECT * FROM x", wantBody: "WITH x AS (SELECT 1) SELECT * FROM x"},
		{sql: "((SELECT 1))", wantBody: "((SELECT 1))"},
		{sql: "FROM bronze.raw_events", wantBody: "FROM bronze.raw_events"},
		{sql: "describe bronze.raw_events", wantBody: "describe bronze.raw_events"},
		{sql: "SUMMARIZE bronze.raw_events", wantBody: "SUMMARIZE bronze.raw_events"},
		{sql: "EXPLAIN SELECT 1;", wantKind: kindExplain, wantBody: "EXPLAIN SELECT 1", wantInner: "SELECT 1"},
		{sql: "explain analyze SELECT 1", wantKind: kindExplain, wantBody: "explain analyze SELECT 1", wantInner: "SELECT 1"},
		{sql: "PRAGMA table_info('bronze.raw_events')", wantKind: kindPragma, wantBody: "PRAGMA table_info('bronze.raw_events')"},
		// In a standard string a backslash is just a character, so the
		// quote after it ends the string and a second statement follows.
		{sql: `SELECT '\'; DROP VIEW bronze.raw_events; --'`, wantErr: ErrReadOnly},
		{sql: "SELECT 1; DROP VIEW bronze.raw_events", wantErr: ErrReadOnly},
		{sql: "SELECT 1; SELECT 2", wantErr: ErrReadOnly},
		{sql: "INSERT INTO bronze.raw_events SELECT * FROM bronze.raw_events", wantErr: ErrReadOnly},
		{sql: "/* SELECT */ DELETE FROM bronze.raw_events", wantErr: ErrReadOnly},
		{sql: "PRAGMA memory_limit='8GB'", wantErr: ErrReadOnly},
		{sql: "PRAGMA table_info('a;b')", wantErr: ErrReadOnly},
		{sql: "CALL pragma_version()", wantErr: ErrReadOnly},
		{sql: "", wantErr: errAny},
		{sql: " ; -- nothing", wantErr: errAny},
		{sql: "SELECT 'unterminated", wantErr: errAny},
		{sql: "SELECT /* unterminated", wantErr: errAny},
	} {
		st, err := classify(c.sql)
		switch {
		case c.wantErr == nil && err != nil:
			t.Errorf("classify(%q): got error %v, want none", c.sql, err)
		case c.wantErr == ErrReadOnly && !errors.Is(err, ErrReadOnly):
			t.Errorf("classify(%q): got error %v, want ErrReadOnly", c.sql, err)
		case c.wantErr == errAny && (err == nil || errors.Is(err, ErrReadOnly)):
			t.Errorf("classify(%q): got error %v, want a parse error", c.sql, err)
		case c.wantErr == nil && (st.kind != c.wantKind || st.body != c.wantBody || st.inner != c.wantInner):
			t.Errorf("classify(%q): got kind %d body %q inner %q, want kind %d body %q inner %q",
				c.sql, st.kind, st.body, st.inner, c.wantKind, c.wantBody, c.wantInner)
		}
	}
}

var errAny = errors.New("any error")

// TestGateRefusesWrites: statements that are not single read-only ones
// fail with ErrReadOnly before anything runs, whichever half of the gate
// (lexical or DuckDB's parser) catches them.
func TestGateRefusesWrites(t *testing.T) {
	lh, _, _, e := sharedFixture(t)
	ctx := context.Background()
	warehouse := localPath(lh.Warehouse())
	copied := filepath.Join(warehouse, "copied.csv")
	before := count(t, e, "bronze.raw_events", At{})
	for _, q := range []string{
		"INSERT INTO bronze.raw_events SELECT * FROM bronze.raw_events",
		"UPDATE bronze.raw_events SET domain = 'x'",
		"DELETE FROM bronze.raw_events",
		"CREATE TABLE t AS SELECT 1",
		"CREATE OR REPLACE VIEW bronze.raw_events AS SELECT 1",
		"DROP VIEW bronze.raw_events",
		"ALTER VIEW bronze.raw_events RENAME TO x",
		"ATTACH '/tmp/other.duckdb' AS other",
		"ATTACH ':memory:' AS other",
		"DETACH ws_1",
		"USE memory",
		"COPY (SELECT 1) TO " + quoteString(copied),
		"COPY bronze.raw_events TO '/tmp/leak.parquet'",
		"EXPORT DATABASE '/tmp/export'",
		"INSTALL httpfs",
		"LOAD httpfs",
		"SET memory_limit = '8GB'",
		"SET enable_external_access = true",
		"RESET lock_configuration",
		"PRAGMA memory_limit = '8GB'",
		"CALL pragma_version()",
		"CHECKPOINT",
		"BEGIN TRANSACTION",
		"SELECT 1; DROP VIEW bronze.raw_events",
		"SELECT 1; COPY (SELECT 1) TO " + quoteString(copied),
		// These begin like queries; DuckDB's parser tells otherwise.
		"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
		"WITH x AS (SELECT 1) DELETE FROM bronze.raw_events",
		"EXPLAIN ANALYZE COPY (SELECT 1) TO " + quoteString(copied),
		"EXPLAIN DROP VIEW bronze.raw_events",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := e.Query(ctx, q, At{})
			if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "only read-only queries are allowed") {
				t.Errorf("got error %v, want ErrReadOnly", err)
			}
		})
	}
	if _, err := os.Stat(copied); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("COPY into the warehouse: stat %s: got %v, want not exist", copied, err)
	}
	if got := count(t, e, "bronze.raw_events", At{}); got != before {
		t.Errorf("after the refused statements: got %d rows, want %d", got, before)
	}
}

// TestSandboxWithoutGate: DuckDB itself refuses file access outside the
// warehouse, extensions and configuration changes on every session, even
// for statements that bypass the gate.
func TestSandboxWithoutGate(t *testing.T) {
	_, _, _, e := sharedFixture(t)
	ctx := context.Background()
	outside := t.TempDir()
	for _, c := range []struct {
		sql, want string
	}{
		{"SELECT * FROM read_csv('/etc/passwd')", "Permission Error"},
		{"SELECT * FROM read_parquet('/etc/x.parquet')", "Permission Error"},
		{"ATTACH " + quoteString(filepath.Join(outside, "x.duckdb")) + " AS x", "Permission Error"},
		{"COPY (SELECT 1) TO " + quoteString(filepath.Join(outside, "x.csv")), "Permission Error"},
		{"EXPORT DATABASE " + quoteString(filepath.Join(outside, "export")), "Permission Error"},
		{"INSTALL httpfs", "Permission Error"},
		{"LOAD httpfs", "Permission Error"},
		{"SET memory_limit = '8GB'", "configuration has been locked"},
		{"SET enable_external_access = true", "configuration has been locked"},
		{"SET allowed_directories = ['/']", "configuration has been locked"},
		{"SET lock_configuration = false", "configuration has been locked"},
	} {
		for range e.nsessions {
			s := <-e.idle
			_, err := s.run(ctx, c.sql, 10, nil)
			e.idle <- s
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("session %s: %s: got error %v, want one containing %q", s.catalog, c.sql, err, c.want)
			}
		}
	}
	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 0 {
		t.Errorf("directory outside the warehouse: got %d entries (%v), want none", len(entries), err)
	}
	res, err := e.Query(ctx, "SELECT current_setting('memory_limit'), current_setting('threads')", At{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0]; got != "488.2 MiB" { // 512MB in DuckDB's units
		t.Errorf("memory_limit: got %v, want 488.2 MiB", got)
	}
	if got := res.Rows[0][1]; got != int64(2) {
		t.Errorf("threads: got %v, want 2", got)
	}
}

func TestBounds(t *testing.T) {
	ctx := context.Background()
	lh := openLakehouse(t)
	tables := []table.Identifier{lakehouse.BronzeRawEvents}

	t.Run("timeout", func(t *testing.T) {
		e := openEngine(t, lh, tables, Config{Timeout: 300 * time.Millisecond})
		start := time.Now()
		_, err := e.Query(ctx, "SELECT count(*) FROM range(1000000000000)", At{})
		elapsed := time.Since(start)
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 300ms") {
			t.Errorf("got error %v, want ErrTimeout after 300ms", err)
		}
		if elapsed > 5*time.Second {
			t.Errorf("interrupted after %s, want about 300ms", elapsed)
		}
		// The session that was interrupted is usable again.
		for range e.nsessions {
			if _, err := e.Query(ctx, "SELECT 1", At{}); err != nil {
				t.Errorf("query after a timeout: %v", err)
			}
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		e := openEngine(t, lh, tables, Config{})
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := e.Query(cctx, "SELECT count(*) FROM range(1000000000000)", At{})
		if errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got error %v, want the caller's deadline, not ErrTimeout", err)
		}
	})
	t.Run("memory", func(t *testing.T) {
		e := openEngine(t, lh, tables, Config{MemoryLimit: "64MB"})
		for _, q := range []string{
			"SELECT count(DISTINCT i::VARCHAR) FROM range(30000000) t(i)",
			"SELECT length(list(i)) FROM range(30000000) t(i)",
		} {
			_, err := e.Query(ctx, q, At{})
			if err == nil || !strings.Contains(err.Error(), "Out of Memory") {
				t.Errorf("%s: got error %v, want Out of Memory", q, err)
			}
		}
		if _, err := e.Query(ctx, "SELECT count(*) FROM range(30000000)", At{}); err != nil {
			t.Errorf("streaming aggregate within the limit: %v", err)
		}
	})
	t.Run("max rows", func(t *testing.T) {
		e := openEngine(t, lh, tables, Config{MaxRows: 10})
		for _, c := range []struct {
			sql           string
			wantRows      int
			wantTruncated bool
		}{
			{"SELECT * FROM range(10)", 10, false},
			{"SELECT * FROM range(11)", 10, true},
			// The limit reaches DuckDB: this would never finish otherwise.
			{"SELECT * FROM range(1000000000000)", 10, true},
			{"SELECT i FROM range(100) t(i) ORDER BY i DESC", 10, true},
			{"SUMMARIZE SELECT * FROM range(5)", 1, false},
		} {
			res, err := e.Query(ctx, c.sql, At{})
			if err != nil {
				t.Errorf("%s: %v", c.sql, err)
				continue
			}
			if len(res.Rows) != c.wantRows || res.Truncated != c.wantTruncated {
				t.Errorf("%s: got %d rows, truncated %v; want %d, %v", c.sql, len(res.Rows), res.Truncated, c.wantRows, c.wantTruncated)
			}
		}
		res, err := e.Query(ctx, "SELECT i FROM range(100) t(i) ORDER BY i DESC", At{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rows[0][0]; got != int64(99) {
			t.Errorf("first row of a limited ORDER BY DESC: got %v, want 99", got)
		}
	})
}

// TestGateAllowsReadOnlyStatements: every kind of statement the gate lets
// through runs, with the rows DuckDB gives.
func TestGateAllowsReadOnlyStatements(t *testing.T) {
	_, _, _, e := sharedFixture(t)
	for _, c := range []struct {
		sql      string
		wantCols []string
		minRows  int
	}{
		{"SELECT domain, count(*) AS n FROM bronze.raw_events GROUP BY domain ORDER BY n DESC;", []string{"domain", "n"}, 5},
		{"WITH d AS (SELECT DISTINCT domain FROM bronze.raw_events) SELECT count(*) AS n FROM d -- how many", []string{"n"}, 1},
		{"FROM bronze.raw_events SELECT event_id LIMIT 3", []string{"event_id"}, 3},
		{"VALUES (1, 'a'), (2, 'b')", []string{"col0", "col1"}, 2},
		{"TABLE bronze.dlq_events", nil, 0}, // does not exist: an error, checked below
		{"DESCRIBE bronze.raw_events", []string{"column_name", "column_type", "null", "key", "default", "extra"}, 49},
		{"SHOW ALL TABLES", []string{"database", "schema", "name", "column_names", "column_types", "temporary"}, 1},
		{"SUMMARIZE SELECT event_hour FROM bronze.raw_events", nil, 1},
		{"EXPLAIN SELECT count(*) FROM bronze.raw_events", []string{"explain_key", "explain_value"}, 1},
		{"EXPLAIN ANALYZE SELECT count(*) FROM bronze.raw_events", []string{"explain_key", "explain_value"}, 1},
		{"PRAGMA table_info('bronze.raw_events')", nil, 49},
		{"PRAGMA version", nil, 1},
	} {
		t.Run(c.sql, func(t *testing.T) {
			res, err := e.Query(context.Background(), c.sql, At{})
			if c.minRows == 0 {
				if err == nil || !strings.Contains(err.Error(), "bronze.dlq_events does not exist yet") {
					t.Errorf("got error %v, want one saying bronze.dlq_events does not exist yet", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantCols != nil && !slices.Equal(res.Columns, c.wantCols) {
				t.Errorf("columns: got %v, want %v", res.Columns, c.wantCols)
			}
			if len(res.Rows) < c.minRows {
				t.Errorf("got %d rows, want at least %d", len(res.Rows), c.minRows)
			}
		})
	}
}

func TestTablesRead(t *testing.T) {
	e := openEngine(t, openLakehouse(t), nil, Config{})
	known := map[string]bool{"gold.hourly_stats": true, "silver.cleaned_events": true, "ops.alerts": true}
	s := <-e.idle
	defer func() { e.idle <- s }()
	for _, c := range []struct {
		sql  string
		want []string // nil: every table
	}{
		{"SELECT count(*) FROM gold.hourly_stats", []string{"gold.hourly_stats"}},
		{"SELECT * FROM GOLD.Hourly_Stats h JOIN gold.hourly_stats g USING (domain)", []string{"gold.hourly_stats"}},
		{"WITH x AS (SELECT 1 AS a) SELECT * FROM gold.hourly_stats, x, (SELECT * FROM silver.cleaned_events " +
			"WHERE a IN (SELECT b FROM ops.alerts))", []string{"gold.hourly_stats", "silver.cleaned_events", "ops.alerts"}},
		{"SELECT (SELECT max(domain) FROM silver.cleaned_events)", []string{"silver.cleaned_events"}},
		{"SELECT 1", nil},
		{"VALUES (1)", nil},
		{"SELECT * FROM gold.hourly_stats, read_parquet('x.parquet')", nil},
		{"SELECT * FROM gold.hourly_stats, query_table('silver.cleaned_events')", nil},
		{"SELECT * FROM gold.hourly_stats, duckdb_views()", nil},
		{"SELECT * FROM gold.hourly_stats, information_schema.tables", nil},
		{"SELECT * FROM ws_2.gold.hourly_stats", nil},
		{"SELECT * FROM hourly_stats", nil},
		{"DESCRIBE gold.hourly_stats", nil},
		{"SHOW ALL TABLES", nil},
		{"SUMMARIZE gold.hourly_stats", nil},
	} {
		tree, err := s.parseQuery(context.Background(), c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		got := tablesRead(tree, known)
		slices.Sort(got)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("%s: got %q, want %q", c.sql, got, c.want)
		}
	}
}
