package lakehouse

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// RecordsByPartition builds one Arrow record per partition of rows, in the
// order the partitions first appear. iceberg-go's partitioned writer passes
// a record that lies in one partition through whole; a record spanning
// several is copied out row by row with compute.Take, which in bronze
// allocated several times the batch's size and cost a tenth of the CPU.
//
// part names a row's partition; appendRow appends one row to the builder.
// hints may be nil.
func RecordsByPartition[T any](schema *arrow.Schema, rows []T, part func(T) string, hints *SizeHints,
	appendRow func(*array.RecordBuilder, T)) []arrow.RecordBatch {
	// Row numbers, not copies of the rows: silver's rows are a few hundred
	// bytes each.
	groups := map[string][]int32{}
	var order []string
	for i, r := range rows {
		p := part(r)
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], int32(i))
	}
	recs := make([]arrow.RecordBatch, 0, len(order))
	for _, p := range order {
		idx := groups[p]
		recs = append(recs, buildRecord(schema, len(idx), hints, func(b *array.RecordBuilder) {
			for _, i := range idx {
				appendRow(b, rows[i])
			}
		}))
	}
	return recs
}

// BuildRecord builds one Arrow record of rows, reserving the space the
// hints predict. hints may be nil.
func BuildRecord[T any](schema *arrow.Schema, rows []T, hints *SizeHints, appendRow func(*array.RecordBuilder, T)) arrow.RecordBatch {
	return buildRecord(schema, len(rows), hints, func(b *array.RecordBuilder) {
		for _, r := range rows {
			appendRow(b, r)
		}
	})
}

func buildRecord(schema *arrow.Schema, n int, hints *SizeHints, appendRows func(*array.RecordBuilder)) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Reserve(n)
	hints.reserve(b, n)
	appendRows(b)
	rec := b.NewRecordBatch()
	hints.learn(rec)
	return rec
}

// AppendRecords appends the records to the table in the transaction, with
// the snapshot summary properties props, and releases them. Within a
// Lakehouse.Commit on a table that has readers in this process
// (ReadsRecent), the records are also kept for them.
func AppendRecords(ctx context.Context, tx *table.Transaction, schema *arrow.Schema, recs []arrow.RecordBatch, props iceberg.Properties) error {
	if p, _ := ctx.Value(pendingKey{}).(*pendingRecent); p != nil {
		p.note(recs)
	}
	rdr, err := array.NewRecordReader(schema, recs)
	for _, r := range recs {
		r.Release() // the reader holds its own references
	}
	if err != nil {
		return err
	}
	defer rdr.Release()
	return tx.Append(ctx, rdr, props)
}

// SizeHints remembers how many value bytes per row each variable-width
// column took in the last record built, so that the next record's builders
// reserve that space once instead of growing by doubling (which copied the
// raw JSON of every bronze batch several times). Safe for concurrent use;
// the zero value is ready.
type SizeHints struct {
	mu     sync.Mutex
	perRow map[int]float64
}

func (h *SizeHints) reserve(b *array.RecordBuilder, rows int) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, per := range h.perRow {
		if f, ok := b.Field(i).(interface{ ReserveData(int) }); ok {
			f.ReserveData(int(per*float64(rows)*1.1) + 64)
		}
	}
}

func (h *SizeHints) learn(rec arrow.RecordBatch) {
	if h == nil || rec.NumRows() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perRow == nil {
		h.perRow = map[int]float64{}
	}
	for i, col := range rec.Columns() {
		if v, ok := col.(interface{ ValueBytes() []byte }); ok {
			h.perRow[i] = float64(len(v.ValueBytes())) / float64(rec.NumRows())
		}
	}
}
