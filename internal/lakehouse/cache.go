package lakehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// cachingCatalog is iceberg-go's SQL catalog keeping the newest parsed
// version of each table it loaded or committed.
//
// A metadata file is never rewritten, so while the catalog still names the
// same file the cached table is the current one: a load then costs one
// indexed catalog query instead of reading and parsing the metadata JSON,
// which grows with every snapshot kept (the streaming stages and the API
// load tables many times a second). Commits by other processes change the
// catalog's entry and are seen at once.
//
// Commits start from the cached table too. iceberg-go's SQL catalog parses
// the current metadata file before each commit, and the next load parsed
// the new one again: two parses of up to 500 snapshots for every
// one-second commit of every streaming table, half of a commit's time and
// most of the process's allocation at the live rate (docs/PERFORMANCE.md).
// A commit here applies the updates to the cached metadata, writes the new
// metadata file and swaps the catalog's entry with the same
// compare-and-swap iceberg-go uses (the row is updated only while it still
// names the file the commit started from; otherwise the commit is a
// table.ErrCommitFailed conflict, which the callers retry). Without a
// cached current table, or for a compressed metadata file, the commit is
// iceberg-go's own.
type cachingCatalog struct {
	*sqlcat.Catalog
	db       *sql.DB
	name     string // the catalog's name, its rows' catalog_name
	props    iceberg.Properties
	dialect  sqlcat.SupportedDialect
	lookupQ  string
	updateQ  string
	mu       sync.Mutex
	tables   map[string]*table.Table // by dotted table name
	commits  int                     // commits that started from the cache
	fallback int                     // commits handed to iceberg-go's catalog

	beforeSwap func() // tests: runs between writing metadata and swapping it in
}

// openSQLCatalog opens a SQL catalog on a connection pool it shares with
// the table cache.
func openSQLCatalog(name string, props iceberg.Properties) (*cachingCatalog, error) {
	db, err := sql.Open(props[sqlcat.DriverKey], props["uri"])
	if err != nil {
		return nil, err
	}
	dialect := sqlcat.SupportedDialect(props[sqlcat.DialectKey])
	cat, err := sqlcat.NewCatalog(name, db, dialect, props)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	c := &cachingCatalog{Catalog: cat, db: db, name: name, props: props, dialect: dialect, tables: map[string]*table.Table{}}
	c.lookupQ = placeholders(dialect, "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?")
	c.updateQ = placeholders(dialect, "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "+
		"WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?")
	return c, nil
}

// placeholders numbers the ?s of query for Postgres.
func placeholders(dialect sqlcat.SupportedDialect, query string) string {
	if dialect != sqlcat.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// key is the catalog row of a table: its namespace and name.
func key(ident table.Identifier) (ns, name string) {
	return strings.Join(ident[:len(ident)-1], "."), ident[len(ident)-1]
}

// lookup returns the cached table when the catalog still names its
// metadata file, or nil.
func (c *cachingCatalog) lookup(ctx context.Context, ident table.Identifier) *table.Table {
	c.mu.Lock()
	cached := c.tables[Name(ident)]
	c.mu.Unlock()
	if cached == nil || len(ident) < 2 {
		return nil
	}
	var loc sql.NullString
	ns, name := key(ident)
	err := c.db.QueryRowContext(ctx, c.lookupQ, c.name, ns, name).Scan(&loc)
	if err != nil || !loc.Valid || loc.String != cached.MetadataLocation() {
		return nil // changed, dropped or unreadable: the catalog's own load decides
	}
	return cached
}

// store remembers tbl as the newest version of its table, unless a newer
// one is already kept (a slower load can finish after a commit).
func (c *cachingCatalog) store(tbl *table.Table) {
	name := Name(tbl.Identifier())
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.tables[name]; old != nil && old.Metadata().LastUpdatedMillis() > tbl.Metadata().LastUpdatedMillis() {
		return
	}
	c.tables[name] = tbl
}

// table is a handle on the given metadata whose commits come back here.
func (c *cachingCatalog) table(ident table.Identifier, meta table.Metadata, loc string) *table.Table {
	props := maps.Clone(c.props)
	maps.Copy(props, meta.Properties())
	return table.New(ident, meta, loc, icebergio.LoadFSFunc(props, loc), c)
}

// LoadTable loads a table: from the cache when its metadata file is still
// the current one, else from the catalog.
func (c *cachingCatalog) LoadTable(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	if tbl := c.lookup(ctx, ident); tbl != nil {
		return tbl, nil
	}
	tbl, err := c.Catalog.LoadTable(ctx, ident)
	if err != nil {
		return nil, err
	}
	tbl = c.table(tbl.Identifier(), tbl.Metadata(), tbl.MetadataLocation())
	c.store(tbl)
	return tbl, nil
}

// CommitTable commits updates to a table, from the cached current version
// when there is one.
func (c *cachingCatalog) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	current := c.lookup(ctx, ident)
	if current == nil || current.Properties().Get(table.MetadataCompressionKey, table.MetadataCompressionDefault) != table.MetadataCompressionCodecNone {
		c.count(&c.fallback)
		meta, loc, err := c.Catalog.CommitTable(ctx, ident, reqs, updates)
		if err != nil {
			return meta, loc, err
		}
		if clean, err := rebuilt(meta); err == nil { // as below
			c.store(c.table(ident, clean, loc))
		}
		return meta, loc, nil
	}
	c.count(&c.commits)
	base := current.Metadata()
	for _, r := range reqs {
		if err := r.Validate(base); err != nil {
			return nil, "", err
		}
	}
	meta, err := table.UpdateTableMetadata(base, updates, current.MetadataLocation())
	if err != nil {
		return nil, "", err
	}
	if meta.Equals(base) {
		return base, current.MetadataLocation(), nil
	}
	// Built again from itself, the metadata lets go of what the commit's
	// builders held: kept as built, it kept buffers of the transaction's
	// Arrow rows reachable through its snapshot index (4 of 46 MB in a
	// test; TestCachedTableKeepsNoRows) for as long as it stayed cached.
	if meta, err = rebuilt(meta); err != nil {
		return nil, "", err
	}
	version := metadataVersion(current.MetadataLocation())
	if version < 0 {
		return nil, "", fmt.Errorf("table %s: cannot number the metadata file after %s", Name(ident), current.MetadataLocation())
	}
	provider, err := table.LoadLocationProvider(meta.Location(), meta.Properties())
	if err != nil {
		return nil, "", err
	}
	loc, err := provider.NewTableMetadataFileLocation(version + 1)
	if err != nil {
		return nil, "", err
	}
	next := c.table(ident, meta, loc)
	if err := writeMetadata(ctx, next); err != nil {
		return nil, "", fmt.Errorf("write metadata %s: %w", loc, err)
	}
	if c.beforeSwap != nil {
		c.beforeSwap()
	}
	ns, name := key(ident)
	res, err := c.db.ExecContext(ctx, c.updateQ, loc, current.MetadataLocation(), c.name, ns, name, current.MetadataLocation())
	if err != nil {
		return nil, "", fmt.Errorf("update table information: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, "", fmt.Errorf("update table information: %w", err)
	} else if n == 0 {
		return nil, "", fmt.Errorf("%w: table %s: its metadata location moved underneath us", table.ErrCommitFailed, Name(ident))
	}
	c.store(next)
	return meta, loc, nil
}

// rebuilt is a copy of meta made by a fresh builder.
func rebuilt(meta table.Metadata) (table.Metadata, error) {
	b, err := table.MetadataBuilderFromBase(meta, "")
	if err != nil {
		return nil, err
	}
	return b.Build()
}

func (c *cachingCatalog) count(n *int) {
	c.mu.Lock()
	*n++
	c.mu.Unlock()
}

// writeMetadata writes a table's metadata file, uncompressed.
func writeMetadata(ctx context.Context, tbl *table.Table) (err error) {
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	wfs, ok := fsys.(icebergio.WriteFileIO)
	if !ok {
		return errors.New("the warehouse's file system cannot write")
	}
	out, err := wfs.Create(tbl.MetadataLocation())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	return json.NewEncoder(out).Encode(tbl.Metadata())
}

// metadataFile is the name of a metadata file: its version, a UUID and
// the (optional) compression.
var metadataFile = regexp.MustCompile(`^(\d+)-[\w-]{36}(?:\.\w+)?\.metadata\.json$`)

// metadataVersion is the version a metadata file's name starts with, or -1.
func metadataVersion(loc string) int {
	m := metadataFile.FindStringSubmatch(path.Base(loc))
	if m == nil {
		return -1
	}
	v, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return v
}

// Close closes the catalog and its connections.
func (c *cachingCatalog) Close() error {
	return errors.Join(c.Catalog.Close(), c.db.Close())
}

// Load loads a table, from the cache of a SQL catalog when its metadata
// file is still the current one.
func (l *Lakehouse) Load(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if err != nil {
		return nil, fmt.Errorf("load table %s: %w", Name(ident), err)
	}
	return tbl, nil
}

var _ catalog.Catalog = (*cachingCatalog)(nil)
