package lakehouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Checkpoint is how far a downstream stage has read an upstream table: the
// upstream snapshot and its sequence number. It is kept in the summary of
// the downstream table's snapshots, committed with the rows it produced.
type Checkpoint struct {
	Snapshot int64
	Sequence int64
}

// Snapshot-summary keys of a downstream checkpoint; the prefix names the
// upstream table ("wikistream.bronze.raw_events.snapshot").
func checkpointKeys(upstream table.Identifier) (snap, seq string) {
	p := "wikistream." + Name(upstream)
	return p + ".snapshot", p + ".sequence"
}

// CheckpointProps are the summary properties recording cp for upstream.
func CheckpointProps(upstream table.Identifier, cp Checkpoint) iceberg.Properties {
	snap, seq := checkpointKeys(upstream)
	return iceberg.Properties{snap: fmt.Sprint(cp.Snapshot), seq: fmt.Sprint(cp.Sequence)}
}

// ReadCheckpoint returns the checkpoint on upstream that the newest
// snapshot of tbl carrying one recorded (zero when none does). Maintenance
// carries checkpoints into its own snapshots and never expires the newest
// snapshot carrying one (Bookkeeping), so the walk finds it.
func ReadCheckpoint(tbl *table.Table, upstream table.Identifier) Checkpoint {
	snapKey, seqKey := checkpointKeys(upstream)
	for s := tbl.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			if v, ok := s.Summary.Properties[seqKey]; ok {
				var cp Checkpoint
				fmt.Sscan(v, &cp.Sequence)
				fmt.Sscan(s.Summary.Properties[snapKey], &cp.Snapshot)
				return cp
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = tbl.SnapshotByID(*s.ParentSnapshotID)
	}
	return Checkpoint{}
}

// Head is the checkpoint of tbl's current state.
func Head(tbl *table.Table) Checkpoint {
	s := tbl.CurrentSnapshot()
	if s == nil {
		return Checkpoint{}
	}
	return Checkpoint{Snapshot: s.SnapshotID, Sequence: s.SequenceNumber}
}

// ReadAll reports whether a reader at cp has read every data file of tbl's
// current snapshot (AddedSince is empty). When every snapshot after cp is
// an append, the snapshot summaries answer without reading manifests: a
// stage waiting for another asks many times a second.
func ReadAll(ctx context.Context, tbl *table.Table, cp Checkpoint) (bool, error) {
	appended := false
	for s := tbl.CurrentSnapshot(); s != nil && s.SequenceNumber > cp.Sequence; {
		if s.Summary == nil || s.Summary.Operation != table.OpAppend {
			appended = false // a rewrite or delete may have removed what was added: list the files
			break
		}
		if n, ok := s.Summary.Properties["added-data-files"]; ok && n != "0" {
			appended = true
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = tbl.SnapshotByID(*s.ParentSnapshotID)
	}
	if appended {
		return false, nil
	}
	added, err := AddedSince(ctx, tbl, cp)
	return len(added) == 0, err
}

// AddedFile is a data file and the commit that added it.
type AddedFile struct {
	File iceberg.DataFile
	// At is the snapshot and sequence number of the commit that added it.
	At Checkpoint
}

// AddedSince lists the data files of tbl's current snapshot that were
// added after the checkpoint: the live files whose data sequence number is
// greater, oldest first.
//
// A file is listed whether its manifest entry is ADDED or EXISTING: a
// rewrite of some other file in its manifest (compaction, a copy-on-write
// delete) marks it EXISTING but keeps its data sequence number, and a reader
// that has not seen it must still get it. Compaction (Maintainer) writes
// files with the data sequence number of their newest input and only
// rewrites files every consumer has read, so a consumer skips what it has
// read and a new one (checkpoint zero) reads each row once. A file added by
// a "replace" snapshot with that snapshot's own sequence number (a
// compaction by another tool, which did not keep the inputs' sequence
// numbers) holds rows that were there before and is left out.
func AddedSince(ctx context.Context, tbl *table.Table, cp Checkpoint) ([]AddedFile, error) {
	snap := tbl.CurrentSnapshot()
	if snap == nil || snap.SequenceNumber <= cp.Sequence {
		return nil, nil
	}
	fs, manifests, err := Manifests(ctx, tbl, snap)
	if err != nil {
		return nil, err
	}
	var out []AddedFile
	for _, m := range manifests {
		if m.ManifestContent() != iceberg.ManifestContentData || m.SequenceNum() <= cp.Sequence {
			continue // a manifest written before the checkpoint holds nothing newer
		}
		entries, err := m.FetchEntries(fs, true)
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", m.FilePath(), err)
		}
		for _, e := range entries {
			if e.Status() == iceberg.EntryStatusDELETED || e.SequenceNum() <= cp.Sequence {
				continue
			}
			if s := tbl.SnapshotByID(e.SnapshotID()); s != nil && s.Summary != nil && s.Summary.Operation == table.OpReplace &&
				e.SequenceNum() == s.SequenceNumber {
				continue
			}
			out = append(out, AddedFile{File: e.DataFile(), At: Checkpoint{Snapshot: e.SnapshotID(), Sequence: e.SequenceNum()}})
		}
	}
	slices.SortStableFunc(out, func(a, b AddedFile) int { return cmp.Compare(a.At.Sequence, b.At.Sequence) })
	return out, nil
}

// TakeWhole returns the first files of added (sorted oldest first), whole
// commits at a time, up to maxRows rows but at least one commit, and the
// checkpoint they reach.
func TakeWhole(added []AddedFile, maxRows int64) ([]AddedFile, Checkpoint) {
	if len(added) == 0 {
		return nil, Checkpoint{}
	}
	n, rows := 0, int64(0)
	for n < len(added) {
		// The extent of the commit starting at n, and its rows.
		end, commitRows := n, int64(0)
		for end < len(added) && added[end].At.Sequence == added[n].At.Sequence {
			commitRows += added[end].File.Count()
			end++
		}
		if n > 0 && rows+commitRows > maxRows {
			break
		}
		n, rows = end, rows+commitRows
	}
	return added[:n], added[n-1].At
}

// ReadFile's batches and buffers: it reads pages through a 1 MiB buffer
// rather than each column chunk whole, and hands out 2048 rows at a time
// (a risk file's 8192 rows of evidence JSON took 16 MB a batch).
const (
	readBatchRows  = 2048
	readBufferSize = 1 << 20
)

// ReadFile reads the named columns of one data file of tbl and calls fn
// with each batch of at most readBatchRows rows, in file order. Only one batch is
// held at a time: reading a whole 50 MB file into one Arrow table had
// gold and silver holding over 100 MB of columns during a backlog. The
// batch is released after fn returns; fn must retain what it keeps
// (Go strings taken from it stay valid, the allocator is Go's).
func ReadFile(ctx context.Context, tbl *table.Table, df iceberg.DataFile, columns []string, fn func(arrow.RecordBatch) error) error {
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	path := df.FilePath()
	f, err := fs.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pr, err := file.NewParquetReader(f, file.WithReadProps(props))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer pr.Close()
	// PreAllocBinaryData sizes a batch's string data from the row group's
	// size instead of doubling it as values come: BenchmarkRiskRefresh
	// allocated 206 MB a refresh instead of 217 (session 30).
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: readBatchRows, PreAllocBinaryData: true}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	sc := pr.MetaData().Schema
	var idx []int
	for _, c := range columns {
		i := sc.ColumnIndexByName(c)
		if i < 0 {
			return fmt.Errorf("read %s: no column %s", path, c)
		}
		idx = append(idx, i)
	}
	if pr.NumRowGroups() == 0 {
		return nil
	}
	rr, err := fr.GetRecordReader(ctx, idx, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := fn(rr.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// ScanStrings returns every value of a string column at tbl's current
// snapshot, in scan order (none for a table without snapshots).
func ScanStrings(ctx context.Context, tbl *table.Table, column string) ([]string, error) {
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields(column)).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan %s.%s: %w", Name(tbl.Identifier()), column, err)
	}
	var out []string
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("scan %s.%s: %w", Name(tbl.Identifier()), column, err)
		}
		col, ok := rec.Column(0).(*array.String)
		if !ok {
			rec.Release()
			return nil, fmt.Errorf("scan %s.%s: column is %s, want string", Name(tbl.Identifier()), column, rec.Column(0).DataType())
		}
		for i := range col.Len() {
			out = append(out, col.Value(i))
		}
		rec.Release()
	}
	return out, nil
}
