package gold

import (
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// chunkRows is how many rows one Arrow record of a gold commit holds at
// most. Built as one record, a day of a busy wiki's risk rows held 210 MB
// at the peak of a 2M-event replay, and the touched hours of
// gold.pages_hourly 78 MB. Records are small because iceberg-go's writer
// queues up to 64 of them per partition ahead of the Parquet encoder: at
// 8192 rows, a day's risk rows waiting there held 126 MB.
var chunkRows = 1024 // a variable for tests

// maxQueued is how many of a lazy reader's records may wait in the writer
// at once. iceberg-go's writer takes records as fast as they come and
// queues up to 64 per partition ahead of its Parquet encoder: risk rows
// copied from the table come faster than they are encoded, and 115 MB of
// them waited at the peak of a 2M-event replay.
const maxQueued = 4

// queueWait bounds how long Next waits for the writer to release a record
// before building the next one anyway, should a writer ever hold records
// it has written.
const queueWait = 5 * time.Second

// lazyReader is an array.RecordReader that builds each record only when
// the writer asks for the next one, and no more than maxQueued ahead of
// the records the writer has released: fill appends the record's rows (at
// most chunkRows, all of one partition) to an empty builder and reports
// whether it appended any. done, when set, is called once the last
// reference is released.
type lazyReader struct {
	refs   atomic.Int64
	schema *arrow.Schema
	fill   func(b *array.RecordBuilder) (bool, error)
	done   func()
	// The previous record's rows and the bytes of each string column's
	// values, reserved in the next record's builder up front: grown from
	// empty, a day's risk rows (a kilobyte of evidence each) were copied
	// over and over as the builders doubled.
	rows  int
	bytes []int
	// size, when set, says how many rows the next record will hold, for
	// records that are not all of one size: reserve scales the previous
	// record's bytes to it.
	size   func() int
	cur    arrow.RecordBatch
	err    error
	queued chan struct{} // a token per record not yet released
}

func newLazyReader(schema *arrow.Schema, fill func(b *array.RecordBuilder) (bool, error)) *lazyReader {
	return newQueuedReader(schema, maxQueued, fill)
}

// newOrderedReader is newLazyReader for records whose order within a
// partition must reach the files. iceberg-go's writer splits records by
// partition in several goroutines, each passing its slices to the
// partition's file writer, so two records waiting at once may reach the
// file in either order. An ordered reader hands over the next record only
// once the writer has released the one before, which it does after
// passing its slices on (up to queueWait).
func newOrderedReader(schema *arrow.Schema, fill func(b *array.RecordBuilder) (bool, error)) *lazyReader {
	return newQueuedReader(schema, 1, fill)
}

func newQueuedReader(schema *arrow.Schema, queued int, fill func(b *array.RecordBuilder) (bool, error)) *lazyReader {
	r := &lazyReader{schema: schema, fill: fill, queued: make(chan struct{}, queued)}
	r.refs.Store(1)
	return r
}

// queuedRecord is a record that gives back its queue token once the last
// reference to it is released.
type queuedRecord struct {
	arrow.RecordBatch
	refs    atomic.Int64
	release func()
}

func (q *queuedRecord) Retain() {
	q.refs.Add(1)
	q.RecordBatch.Retain()
}

func (q *queuedRecord) Release() {
	if q.refs.Add(-1) == 0 && q.release != nil {
		q.release()
	}
	q.RecordBatch.Release()
}

func (r *lazyReader) Retain() { r.refs.Add(1) }

func (r *lazyReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done != nil {
		r.done()
	}
}

func (r *lazyReader) Schema() *arrow.Schema { return r.schema }

func (r *lazyReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch (array.RecordReader still requires it).
func (r *lazyReader) Record() arrow.RecordBatch { return r.cur }

func (r *lazyReader) Err() error { return r.err }

func (r *lazyReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	defer b.Release()
	r.reserve(b)
	ok, err := r.fill(b)
	if err != nil || !ok {
		r.err = err
		return false
	}
	q := &queuedRecord{RecordBatch: b.NewRecordBatch()}
	r.remember(q.RecordBatch)
	q.refs.Store(1)
	select {
	case r.queued <- struct{}{}:
		q.release = func() { <-r.queued }
	case <-time.After(queueWait):
	}
	r.cur = q
	return true
}

// reserve makes room in b for as many rows as the previous record had (or
// as size says), and as many bytes of each string column's values as the
// previous record had per row.
func (r *lazyReader) reserve(b *array.RecordBuilder) {
	if r.rows == 0 {
		return
	}
	rows := r.rows
	if r.size != nil {
		rows = r.size()
	}
	b.Reserve(rows)
	for i, n := range r.bytes {
		if sb, ok := b.Field(i).(*array.StringBuilder); ok && n > 0 {
			sb.ReserveData(int(int64(n) * int64(rows) / int64(r.rows)))
		}
	}
}

// remember notes the size of rec for the next record (reserve).
func (r *lazyReader) remember(rec arrow.RecordBatch) {
	r.rows = int(rec.NumRows())
	if r.bytes == nil {
		r.bytes = make([]int, rec.NumCols())
	}
	for i, col := range rec.Columns() {
		if s, ok := col.(*array.String); ok {
			r.bytes[i] = len(s.ValueBytes())
		}
	}
}
