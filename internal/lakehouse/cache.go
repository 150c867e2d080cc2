package lakehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
)

// tableCache keeps the last loaded version of each table of a SQL catalog.
// A metadata file is never rewritten, so while the catalog still names the
// same file the cached table is the current one: a load then costs one
// indexed catalog query instead of reading and parsing the metadata JSON,
// which grows with every snapshot kept (the streaming stages and the API
// load tables many times a second). Commits by other processes change the
// catalog's entry and are seen at once.
type tableCache struct {
	db     *sql.DB
	query  string
	name   string // the catalog's name, its rows' catalog_name
	mu     sync.Mutex
	tables map[string]*table.Table // by dotted table name
}

// openSQLCatalog opens a SQL catalog on a connection pool it shares with
// the table cache.
func openSQLCatalog(name string, props iceberg.Properties) (catalog.Catalog, *tableCache, error) {
	db, err := sql.Open(props[sqlcat.DriverKey], props["uri"])
	if err != nil {
		return nil, nil, err
	}
	dialect := sqlcat.SupportedDialect(props[sqlcat.DialectKey])
	cat, err := sqlcat.NewCatalog(name, db, dialect, props)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	q := "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?"
	if dialect == sqlcat.Postgres {
		q = "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3"
	}
	return cat, &tableCache{db: db, query: q, name: name, tables: map[string]*table.Table{}}, nil
}

// lookup returns the cached table when the catalog still names its
// metadata file, or nil.
func (c *tableCache) lookup(ctx context.Context, ident table.Identifier) *table.Table {
	name := Name(ident)
	c.mu.Lock()
	cached := c.tables[name]
	c.mu.Unlock()
	if cached == nil || len(ident) < 2 {
		return nil
	}
	var loc sql.NullString
	ns := strings.Join(ident[:len(ident)-1], ".")
	err := c.db.QueryRowContext(ctx, c.query, c.name, ns, ident[len(ident)-1]).Scan(&loc)
	if err != nil || !loc.Valid || loc.String != cached.MetadataLocation() {
		return nil // changed, dropped or unreadable: the catalog's own load decides
	}
	return cached
}

// store remembers tbl as the newest version of its table, unless a newer
// one is already kept (a slower load can finish after a commit).
func (c *tableCache) store(tbl *table.Table) {
	name := Name(tbl.Identifier())
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.tables[name]; old != nil && old.Metadata().LastUpdatedMillis() > tbl.Metadata().LastUpdatedMillis() {
		return
	}
	c.tables[name] = tbl
}

func (c *tableCache) close() error { return c.db.Close() }

// Load loads a table: from the cache when its metadata file is still the
// current one, else from the catalog.
func (l *Lakehouse) Load(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	if l.cache != nil {
		if tbl := l.cache.lookup(ctx, ident); tbl != nil {
			return tbl, nil
		}
	}
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return nil, fmt.Errorf("load table %s: %w", Name(ident), err)
	}
	l.remember(tbl)
	return tbl, nil
}

// remember caches a table this process loaded.
func (l *Lakehouse) remember(tbl *table.Table) {
	if l.cache != nil && tbl != nil {
		l.cache.store(tbl)
	}
}
