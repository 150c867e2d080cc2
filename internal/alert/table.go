package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// TableSink records alerts in ops.alerts, suppressed repeats included,
// several alerts to a commit. A row is inserted only when its alert_id is
// absent, so a retried or re-raised alert lands once. New seeds the
// dispatcher's cool-downs from it.
type TableSink struct {
	lh     *lakehouse.Lakehouse
	schema *arrow.Schema

	mu      sync.Mutex
	ensured bool
}

// NewTableSink builds the sink; ops.alerts is created on first use.
func NewTableSink(lh *lakehouse.Lakehouse) (*TableSink, error) {
	schema, err := table.SchemaToArrowSchema(lakehouse.AlertsTable.Schema(), nil, false, false)
	if err != nil {
		return nil, fmt.Errorf("arrow schema of %s: %w", lakehouse.Name(lakehouse.OpsAlerts), err)
	}
	return &TableSink{lh: lh, schema: schema}, nil
}

// Name is "ops_alerts".
func (s *TableSink) Name() string { return "ops_alerts" }

// MaxBatch is the most alerts one commit takes.
func (s *TableSink) MaxBatch() int { return 256 }

// RecordsSuppressed is true: ops.alerts keeps every alert raised.
func (s *TableSink) RecordsSuppressed() bool { return true }

// errNothingNew stops a commit whose alerts are all in the table already.
var errNothingNew = errors.New("every alert is recorded already")

// Send commits the alerts whose alert_id is not in ops.alerts yet.
func (s *TableSink) Send(ctx context.Context, batch []Alert) error {
	if err := s.ensure(ctx); err != nil {
		return err
	}
	_, err := s.lh.Commit(ctx, lakehouse.OpsAlerts, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		dates := map[string]bool{}
		for _, a := range batch {
			dates[alertDate(a)] = true
		}
		present, err := s.ids(ctx, tbl, dates)
		if err != nil {
			return err
		}
		var rows []Alert
		for _, a := range batch {
			if !present[a.ID] {
				present[a.ID] = true // and once within the batch
				rows = append(rows, a)
			}
		}
		if len(rows) == 0 {
			return errNothingNew
		}
		for _, a := range rows {
			if _, err := json.Marshal(a.Evidence); err != nil {
				return fmt.Errorf("encode evidence of alert %s: %w (%w)", a.ID, err, ErrPermanent)
			}
		}
		rec := lakehouse.BuildRecord(s.schema, rows, nil, appendAlertRow)
		return lakehouse.AppendRecords(ctx, tx, s.schema, []arrow.RecordBatch{rec},
			iceberg.Properties{"wikistream.stage": "alert"})
	})
	if errors.Is(err, errNothingNew) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record alerts in %s: %w", lakehouse.Name(lakehouse.OpsAlerts), err)
	}
	return nil
}

func (s *TableSink) ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ensured {
		return nil
	}
	if _, err := s.lh.EnsureTable(ctx, lakehouse.AlertsTable); err != nil {
		return err
	}
	s.ensured = true
	return nil
}

// alertDate is the alert's partition, YYYY-MM-DD of created_at in UTC.
func alertDate(a Alert) string { return a.CreatedAt.UTC().Format(time.DateOnly) }

// appendAlertRow appends one ops.alerts row, columns in table order.
func appendAlertRow(b *array.RecordBuilder, a Alert) {
	ev, _ := json.Marshal(a.Evidence) // checked by Send
	optional := func(i int, v string) {
		if v == "" {
			b.Field(i).AppendNull()
		} else {
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	}
	b.Field(0).(*array.StringBuilder).Append(a.ID)
	b.Field(1).(*array.StringBuilder).Append(alertDate(a))
	b.Field(2).(*array.StringBuilder).Append(string(a.Type))
	b.Field(3).(*array.StringBuilder).Append(string(a.Severity))
	b.Field(4).(*array.StringBuilder).Append(a.Title)
	b.Field(5).(*array.StringBuilder).Append(string(ev))
	optional(6, a.ExecutionID)
	optional(7, a.Error)
	b.Field(8).(*array.StringBuilder).Append(a.Runbook)
	b.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(a.CreatedAt.UnixMicro()))
	b.Field(10).(*array.BooleanBuilder).Append(a.Suppressed)
	b.Field(11).(*array.Int32Builder).Append(lakehouse.OpsSchemaVersion)
	optional(12, a.Key)
}

// ids returns the alert_ids present in the given alert_date partitions.
func (s *TableSink) ids(ctx context.Context, tbl *table.Table, dates map[string]bool) (map[string]bool, error) {
	out := map[string]bool{}
	if tbl.CurrentSnapshot() == nil || len(dates) == 0 {
		return out, nil
	}
	list := make([]string, 0, len(dates))
	for d := range dates {
		list = append(list, d)
	}
	err := scan(ctx, tbl, iceberg.IsIn(iceberg.Reference("alert_date"), list...), []string{"alert_id"},
		func(rec arrow.RecordBatch, i int) {
			out[rec.Column(0).(*array.String).Value(i)] = true
		})
	return out, err
}

// Recent returns the alerts recorded since the given time (suppressed ones
// included): the cool-down state New restores. A missing table has none.
func (s *TableSink) Recent(ctx context.Context, since time.Time) ([]Record, error) {
	tbl, err := s.lh.Catalog().LoadTable(ctx, lakehouse.OpsAlerts)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", lakehouse.Name(lakehouse.OpsAlerts), err)
	}
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	var out []Record
	filter := iceberg.GreaterThanEqual(iceberg.Reference("alert_date"), since.UTC().Format(time.DateOnly))
	err = scan(ctx, tbl, filter, []string{"alert_id", "created_at", "suppressed"}, func(rec arrow.RecordBatch, i int) {
		ts := rec.Column(1).(*array.Timestamp)
		unit := ts.DataType().(*arrow.TimestampType).Unit
		r := Record{
			ID:         rec.Column(0).(*array.String).Value(i),
			CreatedAt:  ts.Value(i).ToTime(unit).UTC(),
			Suppressed: rec.Column(2).(*array.Boolean).Value(i),
		}
		if !r.CreatedAt.Before(since) {
			out = append(out, r)
		}
	})
	return out, err
}

// scan calls row for every row of tbl's current snapshot that filter may
// match, with the selected columns in the order given.
func scan(ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression, columns []string,
	row func(rec arrow.RecordBatch, i int)) error {
	_, recs, err := tbl.Scan(table.WithRowFilter(filter), table.WithSelectedFields(columns...)).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scan %s: %w", lakehouse.Name(tbl.Identifier()), err)
	}
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("scan %s: %w", lakehouse.Name(tbl.Identifier()), err)
		}
		// Columns come back in schema order; find each by name.
		idx := make([]int, len(columns))
		for i, c := range columns {
			f := rec.Schema().FieldIndices(c)
			if len(f) != 1 {
				rec.Release()
				return fmt.Errorf("scan %s: column %s missing from the result", lakehouse.Name(tbl.Identifier()), c)
			}
			idx[i] = f[0]
		}
		cols := make([]arrow.Array, len(columns))
		fields := make([]arrow.Field, len(columns))
		for i, j := range idx {
			cols[i], fields[i] = rec.Column(j), rec.Schema().Field(j)
		}
		view := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
		for i := range int(view.NumRows()) {
			row(view, i)
		}
		view.Release()
		rec.Release()
	}
	return nil
}
