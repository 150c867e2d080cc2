// Package lakehouse is WikiStream's Iceberg layer: catalogs chosen by URI
// (SQLite under the data directory by default, SQL on Postgres, REST, Glue),
// the definitions of every table (format version 3), commits that retry on
// conflicts, and the Kafka offsets kept in snapshot summaries.
package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	_ "github.com/apache/iceberg-go/catalog/glue" // registers the glue catalog type
	_ "github.com/apache/iceberg-go/catalog/rest" // registers the rest, http and https catalog types
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	_ "github.com/uptrace/bun/driver/pgdriver" // registers the "pg" database/sql driver
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/wikistream/wikistream/internal/priority"
)

// Config says where the catalog and the warehouse are.
type Config struct {
	// DataDir holds the default SQLite catalog (catalog.db) and warehouse
	// (warehouse/) when Catalog and Warehouse are empty.
	DataDir string
	// Catalog is the catalog URI:
	//   - empty: SQLite file <DataDir>/catalog.db
	//   - sqlite:///path/catalog.db (or sqlite:relative/path.db)
	//   - postgres://user:password@host:5432/db (SQL catalog on Postgres)
	//   - https://host/... or rest+http://... (REST: S3 Tables, Polaris, Lakekeeper)
	//   - glue:// (AWS Glue; region and credentials from the AWS environment)
	Catalog string
	// Warehouse is where table data lives: file:///path, s3://bucket/prefix,
	// gs://bucket/prefix. Default file://<DataDir>/warehouse.
	Warehouse string
	// Name is the catalog name; several deployments can share one SQL
	// catalog database under different names. Default "wikistream".
	Name string
	// Props are extra catalog and file IO properties (credential, token,
	// s3.region, rest.sigv4-enabled, glue.region, ...).
	Props map[string]string
	// Logger receives catalog events.
	Logger *slog.Logger
	// Registerer, when set, receives the commit metrics
	// (wikistream_lakehouse_*).
	Registerer prometheus.Registerer
	// Gate is what commits yield to (priority.Process when nil): each
	// attempt first waits, briefly, for the API requests running.
	Gate *priority.Gate
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	if c.Catalog == "" && c.DataDir == "" {
		return errors.New("lakehouse: --data-dir is empty and no --catalog is given; want one of them")
	}
	if c.Catalog != "" {
		if _, err := catalogProps(c); err != nil {
			return err
		}
	}
	if c.Warehouse != "" {
		u, err := url.Parse(c.Warehouse)
		if err != nil || u.Scheme == "" {
			return fmt.Errorf("--warehouse %q: want a URL such as file:///var/lib/wikistream/warehouse or s3://bucket/prefix", c.Warehouse)
		}
	}
	return nil
}

// Lakehouse is an open catalog.
type Lakehouse struct {
	cat       catalog.Catalog
	warehouse string
	log       *slog.Logger
	metrics   *commitMetrics // nil: not measured
	gate      *priority.Gate
	recent    *recentFiles
}

// Open connects to the catalog, creating the default SQLite catalog and
// local warehouse when they do not exist yet.
func Open(ctx context.Context, cfg Config) (*Lakehouse, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Warehouse == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "warehouse"))
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create warehouse directory: %w", err)
		}
		cfg.Warehouse = "file://" + dir
	}
	if cfg.Catalog == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		abs, err := filepath.Abs(filepath.Join(cfg.DataDir, "catalog.db"))
		if err != nil {
			return nil, err
		}
		cfg.Catalog = "sqlite://" + abs
	}
	props, err := catalogProps(cfg)
	if err != nil {
		return nil, err
	}
	name := cfg.Name
	if name == "" {
		name = "wikistream"
	}
	var cat catalog.Catalog
	if props["type"] == "sql" {
		cat, err = openSQLCatalog(name, props)
	} else {
		cat, err = catalog.Load(ctx, name, props)
	}
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", redact(cfg.Catalog), err)
	}
	l := &Lakehouse{cat: cat, warehouse: cfg.Warehouse, log: log, gate: cfg.Gate, recent: newRecentFiles()}
	if l.gate == nil {
		l.gate = priority.Process
	}
	if cfg.Registerer != nil {
		l.metrics = newCommitMetrics(cfg.Registerer)
	}
	return l, nil
}

// catalogProps turns the catalog URI into iceberg-go catalog properties.
func catalogProps(c Config) (iceberg.Properties, error) {
	props := iceberg.Properties{}
	maps.Copy(props, c.Props)
	if c.Warehouse != "" {
		props["warehouse"] = c.Warehouse
	}
	u, err := url.Parse(c.Catalog)
	if err != nil {
		return nil, fmt.Errorf("--catalog %q: %w", redact(c.Catalog), err)
	}
	switch u.Scheme {
	case "sqlite":
		path := u.Path
		if u.Opaque != "" {
			path = u.Opaque
		}
		if path == "" {
			return nil, fmt.Errorf("--catalog %q: want sqlite:///path/to/catalog.db", c.Catalog)
		}
		props["type"] = "sql"
		props[sqlcat.DriverKey] = sqliteshim.ShimName
		props[sqlcat.DialectKey] = string(sqlcat.SQLite)
		// WAL and a busy timeout let several processes share the file;
		// immediate transactions take the write lock when they begin, so a
		// writer waits for another instead of failing with SQLITE_BUSY
		// when it would upgrade a read lock.
		props["uri"] = "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	case "postgres", "postgresql":
		props["type"] = "sql"
		props[sqlcat.DriverKey] = "pg"
		props[sqlcat.DialectKey] = string(sqlcat.Postgres)
		props["uri"] = c.Catalog
	case "http", "https":
		props["type"] = "rest"
		props["uri"] = c.Catalog
	case "rest+http", "rest+https":
		props["type"] = "rest"
		props["uri"] = strings.TrimPrefix(c.Catalog, "rest+")
	case "glue":
		props["type"] = "glue"
	default:
		return nil, fmt.Errorf("--catalog %q: unknown scheme %q; want sqlite://, postgres://, https:// (REST), rest+http(s):// or glue://",
			redact(c.Catalog), u.Scheme)
	}
	return props, nil
}

// redact hides a password in a URI.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.String()
}

// Warehouse is the warehouse location.
func (l *Lakehouse) Warehouse() string { return l.warehouse }

// Catalog is the underlying iceberg-go catalog.
func (l *Lakehouse) Catalog() catalog.Catalog { return l.cat }

// Gate is what this lakehouse's commits yield to; background work on its
// tables (stage runs, in-memory copies) yields to it too.
func (l *Lakehouse) Gate() *priority.Gate { return l.gate }

// Close releases the catalog's connections.
func (l *Lakehouse) Close() error {
	if c, ok := l.cat.(catalog.Closer); ok {
		return c.Close()
	}
	return nil
}

// Name is the dotted name of a table ("bronze.raw_events").
func Name(ident table.Identifier) string { return strings.Join(ident, ".") }
