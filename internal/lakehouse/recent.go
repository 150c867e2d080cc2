package lakehouse

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Recently committed files, kept as the Arrow records they were written
// from. Silver reads each bronze file a moment after bronze committed it,
// and gold's hourly statistics and rollups each silver file. Decoding
// those files again cost a drained replay about a tenth of its CPU
// (docs/PERFORMANCE.md, session 27): the values were in memory a moment
// before, in the records the files were encoded from.
//
// A stage that reads a table's files declares it with ReadsRecent. The
// records committed to that table (AppendRecords in a Commit) are then
// kept in the columns its readers asked for, keyed by data file path, and
// Lakehouse.ReadFile hands them out instead of reading the file. A data
// file never changes, so the record is what the file holds. A kept file
// is let go of once every declared reader has read it, after
// recentMaxAge, or, oldest first, when the kept records pass
// recentBudget; a reader that finds nothing reads the file, as before.
const (
	recentBudget = 32 << 20
	recentMaxAge = time.Minute
)

type recentFiles struct {
	mu      sync.Mutex
	readers map[string]*recentReaders // by table name
	files   map[string]*recentFile    // by data file path
	order   []*recentFile             // oldest first
	bytes   int64
	budget  int64
	maxAge  time.Duration

	hits, misses atomic.Int64
}

type recentReaders struct {
	n       int
	columns []string
}

type recentFile struct {
	path  string
	rec   arrow.RecordBatch // the kept columns
	size  int64
	left  int // reads until every declared reader has had it
	added time.Time
}

func newRecentFiles() *recentFiles {
	return &recentFiles{readers: map[string]*recentReaders{}, files: map[string]*recentFile{},
		budget: recentBudget, maxAge: recentMaxAge}
}

// ReadsRecent declares a reader in this process of the data files committed
// to ident, reading columns: from then on the files committed to ident
// through this Lakehouse are kept for it (see recentFiles). Each call is
// one more reader; a file is let go of after as many reads.
func (l *Lakehouse) ReadsRecent(ident table.Identifier, columns []string) {
	r := l.recent
	r.mu.Lock()
	defer r.mu.Unlock()
	rd := r.readers[Name(ident)]
	if rd == nil {
		rd = &recentReaders{}
		r.readers[Name(ident)] = rd
	}
	rd.n++
	for _, c := range columns {
		if !slices.Contains(rd.columns, c) {
			rd.columns = append(rd.columns, c)
		}
	}
}

// RecentReads reports how many ReadFile calls found their file kept in
// memory and how many read it from storage.
func (l *Lakehouse) RecentReads() (hits, misses int64) {
	return l.recent.hits.Load(), l.recent.misses.Load()
}

// ReadFile is the package's ReadFile, from the record df was written from
// when it is still kept.
func (l *Lakehouse) ReadFile(ctx context.Context, tbl *table.Table, df iceberg.DataFile, columns []string, fn func(arrow.RecordBatch) error) error {
	rec := l.recent.take(df.FilePath(), columns)
	l.metrics.read(Name(tbl.Identifier()), rec != nil)
	if rec == nil {
		return ReadFile(ctx, tbl, df, columns, fn)
	}
	defer rec.Release()
	for off := int64(0); off < rec.NumRows(); off += readBatchRows {
		part := rec.NewSlice(off, min(rec.NumRows(), off+readBatchRows))
		err := fn(part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// take returns the kept record of path in columns, in that order, or nil
// when the file is not kept or lacks a column.
func (r *recentFiles) take(path string, columns []string) arrow.RecordBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.files[path]
	if f == nil || len(columns) == 0 {
		r.misses.Add(1)
		return nil
	}
	sc := f.rec.Schema()
	fields := make([]arrow.Field, len(columns))
	cols := make([]arrow.Array, len(columns))
	for i, c := range columns {
		idx := sc.FieldIndices(c)
		if len(idx) != 1 {
			r.misses.Add(1)
			return nil
		}
		fields[i], cols[i] = sc.Field(idx[0]), f.rec.Column(idx[0])
	}
	out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, f.rec.NumRows())
	r.hits.Add(1)
	if f.left--; f.left <= 0 {
		r.drop(f)
	}
	return out
}

// keep adds the records of files just committed to table, and lets go of
// what is too old or over the budget.
func (r *recentFiles) keep(table string, files []*recentFile) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	n := 0
	if rd := r.readers[table]; rd != nil {
		n = rd.n
	}
	for _, f := range files {
		if n == 0 || r.files[f.path] != nil {
			f.rec.Release()
			continue
		}
		f.left, f.added = n, now
		r.files[f.path] = f
		r.order = append(r.order, f)
		r.bytes += f.size
	}
	for len(r.order) > 0 && (r.bytes > r.budget || now.Sub(r.order[0].added) > r.maxAge) {
		r.drop(r.order[0])
	}
}

// drop lets go of f (under r.mu).
func (r *recentFiles) drop(f *recentFile) {
	if r.files[f.path] != f {
		return
	}
	delete(r.files, f.path)
	for i, g := range r.order {
		if g == f {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	r.bytes -= f.size
	f.rec.Release()
}

// columns are the columns kept of table's files, nil when nothing is.
func (r *recentFiles) columns(table string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rd := r.readers[table]; rd != nil {
		return rd.columns
	}
	return nil
}

// pendingRecent collects, during one commit attempt, the records
// AppendRecords appended, in the columns kept, with their partitions. Once
// the commit succeeded, the attempt finds the file each became (keepCommitted);
// otherwise it releases them.
type pendingRecent struct {
	tbl     *table.Table
	columns []string
	recs    []pendingRecord
}

type pendingRecord struct {
	partition string // "" when it cannot be told
	rec       arrow.RecordBatch
}

type pendingKey struct{}

func (p *pendingRecent) release() {
	if p == nil {
		return
	}
	for _, r := range p.recs {
		r.rec.Release()
	}
	p.recs = nil
}

// note keeps the kept columns of recs, each in one partition of the table
// (RecordsByPartition), before they are appended.
func (p *pendingRecent) note(recs []arrow.RecordBatch) {
	fields := identityFields(p.tbl)
	for _, rec := range recs {
		if kept := project(rec, p.columns); kept != nil {
			p.recs = append(p.recs, pendingRecord{partition: recordPartition(rec, fields), rec: kept})
		}
	}
}

// identityFields names the source columns of tbl's partition fields, in
// spec order, keyed by partition field id; nil unless every field is an
// identity transform.
func identityFields(tbl *table.Table) map[int]string {
	spec := tbl.Spec()
	out := map[int]string{}
	for _, f := range spec.Fields() {
		if len(f.SourceIDs) != 1 {
			return nil
		}
		src, ok := tbl.Schema().FindColumnName(f.SourceIDs[0])
		if _, identity := f.Transform.(iceberg.IdentityTransform); !ok || !identity {
			return nil
		}
		out[f.FieldID] = src
	}
	return out
}

// recordPartition is the partition of rec's first row ("" when it cannot
// be told), in the form filePartition gives a data file's.
func recordPartition(rec arrow.RecordBatch, fields map[int]string) string {
	if len(fields) == 0 || rec.NumRows() == 0 {
		return ""
	}
	vals := map[int]any{}
	for id, name := range fields {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 || rec.Column(idx[0]).IsNull(0) {
			return ""
		}
		vals[id] = rec.Column(idx[0]).ValueStr(0)
	}
	return partitionString(vals)
}

func partitionString(vals map[int]any) string {
	ids := slices.Sorted(maps.Keys(vals))
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%d=%v/", id, vals[id])
	}
	return b.String()
}

// keepCommitted keeps the records of p whose data file in tbl's current
// snapshot, which committed them, can be told: the one file added to the
// record's partition, holding as many rows. The rest are released.
func (l *Lakehouse) keepCommitted(ctx context.Context, tbl *table.Table, p *pendingRecent) {
	defer p.release()
	snap := tbl.CurrentSnapshot()
	if snap == nil || len(p.recs) == 0 {
		return
	}
	added, err := AddedSince(ctx, tbl, Checkpoint{Snapshot: -1, Sequence: snap.SequenceNumber - 1})
	if err != nil {
		l.log.Debug("committed files not kept", "table", Name(tbl.Identifier()), "err", err)
		return
	}
	byPart := map[string][]iceberg.DataFile{}
	for _, f := range added {
		if f.At.Snapshot == snap.SnapshotID {
			k := partitionString(f.File.Partition())
			byPart[k] = append(byPart[k], f.File)
		}
	}
	recs := map[string]int{}
	for _, r := range p.recs {
		recs[r.partition]++
	}
	var keep []*recentFile
	for i, r := range p.recs {
		files := byPart[r.partition]
		if r.partition == "" || recs[r.partition] != 1 || len(files) != 1 || files[0].Count() != r.rec.NumRows() {
			continue
		}
		keep = append(keep, &recentFile{path: files[0].FilePath(), rec: r.rec, size: recordBytes(r.rec)})
		p.recs[i].rec = nil
	}
	p.recs = slices.DeleteFunc(p.recs, func(r pendingRecord) bool { return r.rec == nil })
	l.recent.keep(Name(tbl.Identifier()), keep)
}

// project returns rec's columns named in columns (those it has), nil when
// it has none of them.
func project(rec arrow.RecordBatch, columns []string) arrow.RecordBatch {
	sc := rec.Schema()
	var fields []arrow.Field
	var cols []arrow.Array
	for _, c := range columns {
		if idx := sc.FieldIndices(c); len(idx) == 1 {
			fields, cols = append(fields, sc.Field(idx[0])), append(cols, rec.Column(idx[0]))
		}
	}
	if len(cols) == 0 {
		return nil
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}
