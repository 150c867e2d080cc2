package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// TableDef is the definition of one WikiStream table.
type TableDef struct {
	Ident  table.Identifier
	Fields []iceberg.NestedField
	// Partition lists the columns the table is partitioned by (identity).
	Partition []string
	// Version is the WikiStream schema version, stored in the table's
	// wikistream.schema-version property and, where the table has one, in
	// its schema_version column.
	Version int
	// Props are table properties (Parquet writer settings and the like),
	// set at creation and brought up to date by EnsureTable.
	Props map[string]string
	// FileOrder, when not empty, is the order the rows of each data file
	// are in ("risk_score DESC, total_edits DESC, entity_id": columns, each
	// perhaps followed by " DESC", the last a tie-break making the order
	// total within a file). Every writer of the table keeps it: its stage,
	// and compaction (DefaultPolicies' SortBy). It is recorded at creation
	// in the property PropFileOrder, which readers may rely on (a query
	// ranking by it reads each file's first rows only, query.At.Head), and
	// never added to an existing table: files written before the order was
	// kept need not be in it.
	FileOrder string
}

// Schema is the Iceberg schema of the definition.
func (d TableDef) Schema() *iceberg.Schema { return iceberg.NewSchema(0, d.Fields...) }

// Spec is the partition spec: identity transforms on the Partition columns.
func (d TableDef) Spec() (iceberg.PartitionSpec, error) {
	var fields []iceberg.PartitionField
	for i, name := range d.Partition {
		f, ok := d.Schema().FindFieldByName(name)
		if !ok {
			return iceberg.PartitionSpec{}, fmt.Errorf("table %s: partition column %s is not in the schema", Name(d.Ident), name)
		}
		fields = append(fields, iceberg.PartitionField{SourceIDs: []int{f.ID}, FieldID: 1000 + i, Name: name,
			Transform: iceberg.IdentityTransform{}})
	}
	return iceberg.NewPartitionSpec(fields...), nil
}

// Table properties every WikiStream table gets.
const (
	PropSchemaVersion = "wikistream.schema-version"
	// PropFileOrder is TableDef.FileOrder, for tables created with one.
	PropFileOrder = "wikistream.file-order"
	// formatVersion: v3 for deletion vectors and row lineage.
	formatVersion = "3"
)

// EnsureTable loads the table, creating its namespace and the table when
// they do not exist, and adds the columns of def the table lacks. Adding
// columns changes metadata only; no data file is rewritten.
func (l *Lakehouse) EnsureTable(ctx context.Context, def TableDef) (*table.Table, error) {
	for attempt := 1; ; attempt++ {
		tbl, err := l.ensureTable(ctx, def)
		if err == nil || !isBusy(err) || attempt == MaxCommitAttempts {
			return tbl, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		}
	}
}

func (l *Lakehouse) ensureTable(ctx context.Context, def TableDef) (*table.Table, error) {
	tbl, err := l.Load(ctx, def.Ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return l.create(ctx, def)
	}
	if err != nil {
		return nil, err
	}
	return l.evolve(ctx, tbl, def)
}

func (l *Lakehouse) create(ctx context.Context, def TableDef) (*table.Table, error) {
	ns := catalog.NamespaceFromIdent(def.Ident)
	if err := l.cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil, fmt.Errorf("create namespace %s: %w", ns, err)
	}
	spec, err := def.Spec()
	if err != nil {
		return nil, err
	}
	props := def.properties()
	if def.FileOrder != "" {
		props[PropFileOrder] = def.FileOrder
	}
	tbl, err := l.cat.CreateTable(ctx, def.Ident, def.Schema(),
		catalog.WithPartitionSpec(&spec),
		catalog.WithProperties(props))
	if errors.Is(err, catalog.ErrTableAlreadyExists) {
		// Another process created it first.
		return l.ensureTable(ctx, def)
	}
	if err != nil {
		return nil, fmt.Errorf("create table %s: %w", Name(def.Ident), err)
	}
	l.log.Info("created table", "table", Name(def.Ident), "format_version", formatVersion)
	return tbl, nil
}

// properties are every property the table should have.
func (d TableDef) properties() iceberg.Properties {
	p := iceberg.Properties{
		table.PropertyFormatVersion: formatVersion,
		PropSchemaVersion:           strconv.Itoa(d.Version),
		// Keep the metadata directory from growing without bound:
		// streaming writers commit every few seconds.
		"write.metadata.delete-after-commit.enabled": "true",
		"write.metadata.previous-versions-max":       "50",
		// An append adds a manifest; without merging, a streaming table's
		// open partitions gather one per commit until compaction, and every
		// scan plan (the query engine's, the data-quality run's) reads
		// them all. Merged once 100 pile up (Iceberg's default count).
		table.ManifestMergeEnabledKey: "true",
	}
	maps.Copy(p, d.Props)
	return p
}

func (l *Lakehouse) evolve(ctx context.Context, tbl *table.Table, def TableDef) (*table.Table, error) {
	// Schema and Properties copy what they return, and a copied schema
	// indexes its names again: once per call, not per field (the stages
	// ensure their tables on every run).
	sc, props := tbl.Schema(), tbl.Properties()
	var missing []iceberg.NestedField
	for _, f := range def.Fields {
		if _, ok := sc.FindFieldByName(f.Name); !ok {
			missing = append(missing, f)
		}
	}
	want := def.properties()
	delete(want, table.PropertyFormatVersion) // not kept in the properties
	changed := iceberg.Properties{}
	for k, v := range want {
		if props[k] != v {
			changed[k] = v
		}
	}
	if len(missing) == 0 && len(changed) == 0 {
		return tbl, nil
	}
	tx := tbl.NewTransaction()
	if len(missing) > 0 {
		up := tx.UpdateSchema(true, false)
		for _, f := range missing {
			// New columns are optional: rows written before have none.
			up = up.AddColumn([]string{f.Name}, f.Type, f.Doc, false, nil)
		}
		if err := up.Commit(); err != nil {
			return nil, fmt.Errorf("evolve table %s: %w", Name(def.Ident), err)
		}
	}
	if len(changed) > 0 {
		if err := tx.SetProperties(changed); err != nil {
			return nil, fmt.Errorf("evolve table %s: %w", Name(def.Ident), err)
		}
	}
	out, err := tx.Commit(ctx)
	if err != nil {
		return nil, fmt.Errorf("evolve table %s: %w", Name(def.Ident), err)
	}
	names := make([]string, len(missing))
	for i, f := range missing {
		names[i] = f.Name
	}
	l.log.Info("evolved table", "table", Name(def.Ident), "added_columns", names, "schema_version", def.Version)
	return out, nil
}
