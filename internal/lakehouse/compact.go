package lakehouse

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// Compaction rewrites the small files of a partition into files of about
// TargetFileSize, rows sorted by the table's SortBy columns. It runs
// beside the streaming writers without stopping them:
//
//  1. Plan on one snapshot, read the inputs (deletes applied), write the new
//     files. This is the slow part, done once, and it commits nothing.
//  2. Commit the swap with Commit, which retries on a fresh table when a
//     writer committed meanwhile. Each attempt re-checks that the inputs are
//     still live with the same delete files (appends in between are fine; a
//     group whose inputs were rewritten or deleted is dropped) and carries
//     the table's bookkeeping forward (Bookkeeping).
//  3. Delete the new files of every group that was not committed, but only
//     when the commit provably failed; when its outcome is unknown they are
//     left to orphan removal.
//
// The watermark rule keeps incremental readers exact. AddedSince hands a
// consumer the live files whose data sequence number is above its
// checkpoint. Compaction therefore only rewrites files whose data sequence
// number is at or below the lowest checkpoint any consumer of the table
// holds (the watermark), and the files it writes get the data sequence
// number of their newest input (RewriteFiles.DataSequenceNumber), which is
// also at or below the watermark. A consumer has then read every input
// already and skips the rewritten file; checkpoints only grow, so this
// stays true after the commit; and a new consumer starting from zero reads
// the rewritten file instead of its inputs, once. A table with a consumer
// that does not exist yet or has no checkpoint is not compacted.

// compactResult is what compacting one table did.
type compactResult struct {
	inputs, outputs, partitions int
	skipped                     string
	took                        time.Duration
	table                       *table.Table // after the commit; nil when nothing was committed
}

// compactGroup is input files of one partition and the files replacing them.
type compactGroup struct {
	partition string
	files     []iceberg.DataFile   // inputs, one per file
	tasks     []table.FileScanTask // every scan task of the inputs (a file may be split)
	deletes   map[string]string    // input path -> its delete files when planned
	maxSeq    int64                // the newest input's data sequence number
	bytes     int64                // inputs' size
	first     []table.FileScanTask // one task per input, for the delete files to expunge
	out       []iceberg.DataFile   // written
}

func (m *Maintainer) compact(ctx context.Context, ident table.Identifier) (res compactResult, err error) {
	start := time.Now()
	defer func() { res.took = time.Since(start) }()
	tbl, err := m.lh.Load(ctx, ident)
	if err != nil {
		return res, err
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		res.skipped = "no snapshot yet"
		return res, nil
	}
	mark, why, err := m.watermark(ctx, ident)
	if err != nil {
		return res, err
	}
	if mark == 0 {
		res.skipped = why
		return res, nil
	}
	policy := m.cfg.Policies[Name(ident)]
	groups, why, err := m.plan(ctx, tbl, snap, policy, mark)
	if err != nil {
		return res, err
	}
	if len(groups) == 0 {
		res.skipped = why
		return res, nil
	}
	parts := map[string]bool{}
	for _, g := range groups {
		res.inputs += len(g.files)
		parts[g.partition] = true
	}
	res.partitions = len(parts)
	if m.cfg.DryRun {
		for _, g := range groups {
			res.outputs += int(max(1, (g.bytes+m.cfg.TargetFileSize-1)/m.cfg.TargetFileSize))
		}
		return res, nil
	}

	planned := time.Now()
	for _, g := range groups {
		if err := m.writeGroup(ctx, tbl, snap, g, policy.SortBy); err != nil {
			res.inputs, res.partitions = 0, 0
			return res, errors.Join(fmt.Errorf("rewrite partition %s: %w", g.partition, err), removeOutputs(context.WithoutCancel(ctx), tbl, groups))
		}
	}

	written := time.Now()
	if m.afterWrite != nil {
		m.afterWrite()
	}
	m.log.Debug("compaction files written", "table", Name(ident), "groups", len(groups),
		"plan_seconds", planned.Sub(start).Seconds(), "write_seconds", written.Sub(planned).Seconds())
	out, kept, err := m.commitRewrite(ctx, ident, snap.SnapshotID, groups)
	m.log.Debug("compaction commit", "table", Name(ident), "seconds", time.Since(written).Seconds(), "err", err)
	if err != nil {
		var ce *CommitError
		if errors.As(err, &ce) && !IsConflict(ce.Err) {
			// The catalog may have taken the commit: the files may be live.
			// Orphan removal deletes them later if they are not.
			m.log.Warn("compaction commit outcome unknown; its files are left to orphan removal",
				"table", Name(ident), "err", err)
			res.inputs, res.partitions = 0, 0
			return res, err
		}
		res.inputs, res.partitions = 0, 0
		if errors.Is(err, errStale) {
			res.skipped = "every input changed while compacting; trying again next run"
			err = nil
		}
		return res, errors.Join(err, removeOutputs(context.WithoutCancel(ctx), tbl, groups))
	}
	var dropped []*compactGroup
	res.inputs, res.outputs = 0, 0
	parts = map[string]bool{}
	for _, g := range groups {
		if slices.Contains(kept, g) {
			res.inputs += len(g.files)
			res.outputs += len(g.out)
			parts[g.partition] = true
		} else {
			dropped = append(dropped, g)
		}
	}
	res.partitions = len(parts)
	res.table = out
	if len(dropped) > 0 {
		m.log.Info("compaction groups dropped: their inputs changed meanwhile", "table", Name(ident), "groups", len(dropped))
	}
	return res, removeOutputs(context.WithoutCancel(ctx), tbl, dropped)
}

// errStale: every compaction group's inputs changed since planning. It is
// an ErrNoChange: nothing to commit, and no failed commit to count.
var errStale = fmt.Errorf("compaction inputs changed since planning: %w", ErrNoChange)

// commitRewrite swaps the groups' inputs for their outputs in one
// snapshot, retrying on conflicts, and returns the committed table and the
// groups it holds. A group whose inputs changed since base is left out.
func (m *Maintainer) commitRewrite(ctx context.Context, ident table.Identifier, base int64, groups []*compactGroup) (*table.Table, []*compactGroup, error) {
	var kept []*compactGroup
	out, err := m.lh.Commit(ctx, ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		var err error
		kept, err = stillValid(ctx, tbl, base, groups)
		if err != nil {
			return err
		}
		if len(kept) == 0 {
			return errStale
		}
		props := iceberg.Properties(Bookkeeping(tbl))
		props[stageKey] = "maintain"
		rw := tx.NewRewrite(props)
		var seq int64
		for _, g := range kept {
			seq = max(seq, g.maxSeq)
		}
		// At or below every consumer's checkpoint: see the watermark rule.
		rw.DataSequenceNumber(seq)
		for _, g := range kept {
			rw.ApplyResult(table.CompactionGroupResult{
				PartitionKey:        g.partition,
				OldDataFiles:        g.files,
				NewDataFiles:        g.out,
				SafePosDeletes:      table.CollectSafePositionDeletes(g.first),
				SafeDeletionVectors: table.CollectSafeDeletionVectors(g.first),
			})
		}
		if err := rw.Commit(ctx); err != nil {
			return fmt.Errorf("stage rewrite: %w", err)
		}
		return nil
	})
	return out, kept, err
}

// stillValid returns the groups whose inputs are all live in tbl with the
// delete files they had when planned on snapshot base. When only appends
// were committed since base (the streaming case) that holds for every
// group without reading any manifest.
func stillValid(ctx context.Context, tbl *table.Table, base int64, groups []*compactGroup) ([]*compactGroup, error) {
	cur := tbl.CurrentSnapshot()
	if cur == nil {
		return nil, nil
	}
	between, found := table.AncestorsBetween(cur.SnapshotID, base, tbl.SnapshotByID)
	if found && !slices.ContainsFunc(between, func(s table.Snapshot) bool { return !plainAppend(s) }) {
		return groups, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan files: %w", err)
	}
	live := make(map[string]string, len(tasks))
	for _, t := range tasks {
		live[t.File.FilePath()] = deleteKey(t)
	}
	var out []*compactGroup
	for _, g := range groups {
		ok := true
		for _, f := range g.files {
			if k, isLive := live[f.FilePath()]; !isLive || k != g.deletes[f.FilePath()] {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// plainAppend reports whether s only added data files: it can neither
// remove a compaction input nor add a delete applying to one.
func plainAppend(s table.Snapshot) bool {
	if s.Summary == nil || s.Summary.Operation != table.OpAppend {
		return false
	}
	p := s.Summary.Properties
	for _, k := range []string{"added-delete-files", "added-position-delete-files", "added-equality-delete-files", "added-dvs"} {
		if p.GetInt64(k, 0) > 0 {
			return false
		}
	}
	return true
}

// deleteKey names the delete files applying to a task's file.
func deleteKey(t table.FileScanTask) string {
	var keys []string
	for _, d := range slices.Concat(t.DeleteFiles, t.DeletionVectorFiles, t.EqualityDeleteFiles) {
		k := d.FilePath()
		if off := d.ContentOffset(); off != nil {
			k += fmt.Sprintf("@%d", *off)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// watermark returns the highest data sequence number of ident that every
// incremental consumer has read (math.MaxInt64 when nothing reads it
// incrementally), or 0 and why compaction must wait.
func (m *Maintainer) watermark(ctx context.Context, ident table.Identifier) (int64, string, error) {
	name := Name(ident)
	consumers := slices.Clone(m.cfg.Consumers[name])
	known := func(id table.Identifier) bool {
		return slices.ContainsFunc(consumers, func(c table.Identifier) bool { return Name(c) == Name(id) })
	}
	mark := int64(math.MaxInt64)
	seen := map[string]bool{}
	check := func(c table.Identifier, tbl *table.Table) string {
		seen[Name(c)] = true
		cp := ReadCheckpoint(tbl, ident)
		if cp.Sequence <= 0 {
			return fmt.Sprintf("waiting for %s, which reads it, to record a checkpoint", Name(c))
		}
		mark = min(mark, cp.Sequence)
		return ""
	}
	for _, c := range consumers {
		tbl, err := m.lh.Load(ctx, c)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return 0, fmt.Sprintf("waiting for %s, which reads it, to exist", Name(c)), nil
		}
		if err != nil {
			return 0, "", err
		}
		if why := check(c, tbl); why != "" {
			return 0, why, nil
		}
	}
	// Any other table keeping a checkpoint on ident reads it too.
	for _, other := range m.cfg.Tables {
		if Name(other) == name || known(other) || seen[Name(other)] {
			continue
		}
		tbl, err := m.lh.Load(ctx, other)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			continue
		}
		if err != nil {
			return 0, "", err
		}
		if ReadCheckpoint(tbl, ident).Sequence > 0 {
			check(other, tbl)
		}
	}
	return mark, "", nil
}

// plan chooses the compaction groups of tbl at snap: per partition with at
// least MinInputFiles small files (below three quarters of the target) at
// or below the watermark, consecutive runs of them (by the first sort
// column's lower bound, then commit order) of up to TargetFileSize bytes.
// It says why when there is none.
func (m *Maintainer) plan(ctx context.Context, tbl *table.Table, snap *table.Snapshot, policy TablePolicy, mark int64) ([]*compactGroup, string, error) {
	tasks, err := tbl.Scan(table.WithSnapshotID(snap.SnapshotID)).PlanFiles(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("plan files: %w", err)
	}
	minSize := m.cfg.TargetFileSize * 3 / 4
	now := m.cfg.Now().UTC()
	orderID := -1
	if len(policy.SortBy) > 0 {
		if f, ok := tbl.Schema().FindFieldByName(sortColumn(policy.SortBy[0])); ok {
			orderID = f.ID
		}
	}
	type file struct {
		df    iceberg.DataFile
		tasks []table.FileScanTask
		seq   int64
		lower int64
	}
	type partition struct {
		name  string
		files []*file
	}
	byPath := map[string]*file{}
	parts := map[string]*partition{}
	var order []string
	var above, open, big, eqDeletes int
	for _, t := range tasks {
		path := t.File.FilePath()
		if f, ok := byPath[path]; ok { // a file split into several tasks
			f.tasks = append(f.tasks, t)
			continue
		}
		switch {
		case t.DataSequenceNumber == nil || *t.DataSequenceNumber > mark:
			above++
			continue
		case len(t.EqualityDeleteFiles) > 0:
			eqDeletes++
			continue
		case t.File.FileSizeBytes() >= minSize:
			big++
			continue
		}
		name, isOpen := partitionOf(tbl.Metadata(), t.File, now)
		if policy.SkipOpen && isOpen {
			open++
			continue
		}
		f := &file{df: t.File, tasks: []table.FileScanTask{t}, seq: *t.DataSequenceNumber, lower: lowerBound(t.File, orderID)}
		byPath[path] = f
		key := fmt.Sprintf("%d/%s", t.File.SpecID(), name)
		p := parts[key]
		if p == nil {
			p = &partition{name: name}
			parts[key] = p
			order = append(order, key)
		}
		p.files = append(p.files, f)
	}
	var groups []*compactGroup
	for _, key := range order {
		p := parts[key]
		if len(p.files) < m.cfg.MinInputFiles {
			continue
		}
		slices.SortFunc(p.files, func(a, b *file) int {
			return cmp.Or(cmp.Compare(a.lower, b.lower), cmp.Compare(a.seq, b.seq), strings.Compare(a.df.FilePath(), b.df.FilePath()))
		})
		var g *compactGroup
		flush := func() {
			if g != nil && len(g.files) >= 2 {
				groups = append(groups, g)
			}
			g = nil
		}
		for _, f := range p.files {
			size := f.df.FileSizeBytes()
			if g != nil && g.bytes+size > m.cfg.TargetFileSize {
				flush()
			}
			if g == nil {
				g = &compactGroup{partition: p.name, deletes: map[string]string{}}
			}
			g.files = append(g.files, f.df)
			g.tasks = append(g.tasks, f.tasks...)
			g.first = append(g.first, f.tasks[0])
			g.deletes[f.df.FilePath()] = deleteKey(f.tasks[0])
			g.maxSeq = max(g.maxSeq, f.seq)
			g.bytes += size
		}
		flush()
	}
	if len(groups) == 0 {
		why := fmt.Sprintf("no partition has %d small files to compact (%d files not yet read by every consumer, %d in open partitions, %d already large)",
			m.cfg.MinInputFiles, above, open, big)
		if eqDeletes > 0 {
			why += fmt.Sprintf(", %d with equality deletes", eqDeletes)
		}
		return nil, why, nil
	}
	return groups, "", nil
}

// partitionOf names df's partition ("event_date=2024-05-01/event_hour=13")
// and reports whether it is open at now: its UTC hour (a table partitioned
// by *_date and *_hour) or UTC day has not ended yet.
func partitionOf(md table.Metadata, df iceberg.DataFile, now time.Time) (string, bool) {
	spec := md.PartitionSpecByID(int(df.SpecID()))
	if spec == nil {
		return fmt.Sprint(df.Partition()), false
	}
	vals := df.Partition()
	var parts []string
	date, hour := "", -1
	for _, f := range spec.Fields() {
		v := vals[f.FieldID]
		parts = append(parts, fmt.Sprintf("%s=%v", f.Name, v))
		switch {
		case strings.HasSuffix(f.Name, "_date"):
			if s, ok := v.(string); ok {
				date = s
			}
		case strings.HasSuffix(f.Name, "_hour"):
			switch n := v.(type) {
			case int32:
				hour = int(n)
			case int64:
				hour = int(n)
			case int:
				hour = n
			}
		}
	}
	name := strings.Join(parts, "/")
	if date == "" {
		return name, false
	}
	today := now.Format("2006-01-02")
	if hour < 0 {
		return name, date >= today
	}
	return name, date > today || (date == today && hour >= now.Hour())
}

// lowerBound is df's lower bound of the integer-like column id (timestamps,
// dates, ints), or 0 when it has none.
func lowerBound(df iceberg.DataFile, id int) int64 {
	b, ok := df.LowerBoundValues()[id]
	if !ok {
		return 0
	}
	switch len(b) {
	case 8:
		return int64(binary.LittleEndian.Uint64(b))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	}
	return 0
}

// scanBatchRows is how many rows compaction reads into one record: 4 MB
// of bronze's rows. iceberg-go's scan reads a file per core and holds the
// records of a file read ahead until the files before it are consumed, so
// the record size bounds much of what compaction holds. With 8192 rows
// (16 MB of bronze) and row groups of 64 MiB, `maintain --once` on the
// busy day of docs/PERFORMANCE.md (session 30) peaked at 614–662 MB of
// RSS; with 2048 rows and 32 MiB, 514–545 MB, in the same time.
const scanBatchRows = 2048

// rowGroupBytes is the Arrow size of the rows of one Parquet row group that
// compaction writes; the writer holds a row group's encoded pages until it
// is full.
const rowGroupBytes = 32 << 20

// writeGroup reads g's inputs at snap (deletes applied) and writes them
// as new files of about TargetFileSize, rows sorted by sortBy. Row lineage
// (v3 _row_id) is kept when every input has it.
func (m *Maintainer) writeGroup(ctx context.Context, tbl *table.Table, snap *table.Snapshot, g *compactGroup, sortBy []string) error {
	lineage := tbl.Metadata().Version() >= 3 && !slices.ContainsFunc(g.tasks, func(t table.FileScanTask) bool { return t.FirstRowID == nil })
	// iceberg-go reads 131,072 rows into a record by default: over 300 MB
	// of bronze's raw JSON, several times a sort run.
	opts := []table.ScanOption{table.WithOptions(iceberg.Properties{table.ParquetBatchSizeKey: strconv.Itoa(scanBatchRows)}),
		table.WithSnapshotID(snap.SnapshotID)}
	if lineage {
		opts = append(opts, table.WithRowLineage())
	}
	schema, recs, err := tbl.Scan(opts...).ReadTasks(ctx, g.tasks)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	writeSchema := schema
	wopts := []table.WriteRecordOption{table.WithTargetFileSize(m.cfg.TargetFileSize), table.WithClusteredWrite()}
	if lineage {
		// As iceberg-go's own compaction does: the lineage columns need
		// their reserved field ids on the written schema.
		projected := iceberg.SchemaWithRowLineage(tbl.Schema())
		writeSchema, err = table.SchemaToArrowSchemaWithOptions(projected, table.ArrowSchemaOptions{
			IncludeFieldIDs: true, TableProperties: tbl.Metadata().Properties()})
		if err != nil {
			return fmt.Errorf("lineage schema: %w", err)
		}
		wopts = append(wopts, table.WithPreserveRowLineage(projected))
	}
	write := func(batches iter.Seq2[arrow.RecordBatch, error], opts ...table.WriteRecordOption) error {
		for df, err := range table.WriteRecords(ctx, tbl, writeSchema, batches, slices.Concat(wopts, opts)...) {
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			g.out = append(g.out, df)
		}
		return nil
	}
	if len(sortBy) == 0 {
		return write(recs)
	}
	// Sorted runs of at most SortBufferBytes go to one writer, one after
	// the other, so a partition larger than a run still becomes files of
	// about TargetFileSize: a file holds consecutive runs, each sorted. The
	// inputs come in the order of their lowest sort key (plan), so when
	// they cover consecutive ranges, as bronze's and silver's commits do in
	// event time, the runs barely overlap and the file is as good as sorted
	// whole. (Each run in a file of its own made small files that the next
	// run compacted again, every time.)
	next, stop := iter.Pull2(recs)
	defer stop()
	run := func() (arrow.RecordBatch, error) {
		var buf []arrow.RecordBatch
		var size int64
		for size < m.cfg.SortBufferBytes {
			rec, err, ok := next()
			if !ok {
				break
			}
			if err != nil {
				for _, r := range buf {
					r.Release()
				}
				return nil, fmt.Errorf("read: %w", err)
			}
			if rec.NumRows() == 0 {
				rec.Release()
				continue
			}
			buf = append(buf, rec)
			size += recordBytes(rec)
		}
		if len(buf) == 0 {
			return nil, nil
		}
		return sortRecords(ctx, buf, sortBy) // releases buf
	}
	first, err := run()
	if err != nil || first == nil {
		return err
	}
	// The Parquet writer holds a row group in memory until it is full:
	// about rowGroupBytes of Arrow data (as the first run has it), not the
	// default million rows (gigabytes of bronze's raw JSON).
	limit := int(min(max(rowGroupBytes*first.NumRows()/max(recordBytes(first), 1), 1024), 1<<20))
	return write(func(yield func(arrow.RecordBatch, error) bool) {
		for rec := first; rec != nil; {
			if !yield(rec, nil) {
				return
			}
			var err error
			if rec, err = run(); err != nil {
				yield(nil, err)
				return
			}
		}
	}, table.WithParquetRowGroupLimit(limit), table.WithRecordBatchBufferSize(1)) // at most one run waits for the encoder
}

// recordBytes is the memory rec's buffers hold.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var add func(d arrow.ArrayData)
	add = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			add(c)
		}
	}
	for _, c := range rec.Columns() {
		add(c.Data())
	}
	return n
}

// sortRecords concatenates recs (all of one schema) into one record
// ordered by the columns by, stably, nulls first. It releases recs, and
// holds about one copy of the rows at a time: each column's chunks are
// released once concatenated, each concatenated column once reordered.
func sortRecords(ctx context.Context, recs []arrow.RecordBatch, by []string) (arrow.RecordBatch, error) {
	schema := recs[0].Schema()
	var n int64
	chunks := make([][]arrow.Array, schema.NumFields())
	for _, r := range recs {
		n += r.NumRows()
		for i := range chunks {
			c := r.Column(i)
			c.Retain()
			chunks[i] = append(chunks[i], c)
		}
		r.Release()
	}
	cols := make([]arrow.Array, len(chunks))
	release := func() {
		for i := range chunks {
			for _, c := range chunks[i] {
				c.Release()
			}
			chunks[i] = nil
			if cols[i] != nil {
				cols[i].Release()
				cols[i] = nil
			}
		}
	}
	defer release()
	for i := range cols {
		c, err := array.Concatenate(chunks[i], memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("sort: concatenate %s: %w", schema.Field(i).Name, err)
		}
		for _, ch := range chunks[i] {
			ch.Release()
		}
		chunks[i], cols[i] = nil, c
	}
	var cmps []func(a, b int) int
	for _, key := range by {
		name := sortColumn(key)
		idx := schema.FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("sort: no column %s", name)
		}
		c, err := comparator(cols[idx[0]])
		if err != nil {
			return nil, fmt.Errorf("sort by %s: %w", name, err)
		}
		if name != key { // descending
			asc := c
			c = func(i, j int) int { return asc(j, i) }
		}
		cmps = append(cmps, c)
	}
	perm := make([]int64, n)
	for i := range perm {
		perm[i] = int64(i)
	}
	slices.SortStableFunc(perm, func(a, b int64) int {
		for _, c := range cmps {
			if r := c(int(a), int(b)); r != 0 {
				return r
			}
		}
		return 0
	})
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	ib.AppendValues(perm, nil)
	indices := ib.NewArray()
	ib.Release()
	defer indices.Release()
	sorted := make([]arrow.Array, len(cols))
	for i, c := range cols {
		s, err := compute.TakeArray(ctx, c, indices)
		if err != nil {
			for _, s := range sorted[:i] {
				s.Release()
			}
			return nil, fmt.Errorf("sort: reorder %s: %w", schema.Field(i).Name, err)
		}
		c.Release()
		cols[i], sorted[i] = nil, s
	}
	rec := array.NewRecordBatch(schema, sorted, n)
	for _, s := range sorted {
		s.Release()
	}
	return rec, nil
}

// sortColumn is the column of a sort key: a column name, ascending, or
// one followed by " DESC", descending.
func sortColumn(key string) string {
	name, _ := strings.CutSuffix(key, " DESC")
	return name
}

// comparator orders the values of a column, nulls first.
func comparator(a arrow.Array) (func(i, j int) int, error) {
	switch c := a.(type) {
	case *array.Timestamp:
		return ordered(c, func(i int) arrow.Timestamp { return c.Value(i) }), nil
	case *array.Date32:
		return ordered(c, func(i int) arrow.Date32 { return c.Value(i) }), nil
	case *array.Int32:
		return ordered(c, c.Value), nil
	case *array.Int64:
		return ordered(c, c.Value), nil
	case *array.Float64:
		return ordered(c, c.Value), nil
	case *array.String:
		return ordered(c, c.Value), nil
	case *array.LargeString:
		return ordered(c, c.Value), nil
	case *array.Boolean:
		return ordered(c, func(i int) int {
			if c.Value(i) {
				return 1
			}
			return 0
		}), nil
	}
	return nil, fmt.Errorf("cannot sort a %s column", a.DataType())
}

func ordered[T cmp.Ordered](a arrow.Array, value func(int) T) func(i, j int) int {
	return func(i, j int) int {
		ni, nj := a.IsNull(i), a.IsNull(j)
		switch {
		case ni && nj:
			return 0
		case ni:
			return -1
		case nj:
			return 1
		}
		return cmp.Compare(value(i), value(j))
	}
}

// removeOutputs deletes the files written for groups, which no commit
// references.
func removeOutputs(ctx context.Context, tbl *table.Table, groups []*compactGroup) error {
	var paths []string
	for _, g := range groups {
		for _, df := range g.out {
			paths = append(paths, df.FilePath())
		}
	}
	if len(paths) == 0 {
		return nil
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range paths {
		if err := fsys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove uncommitted compaction files (orphan removal will): %w", errors.Join(errs...))
	}
	return nil
}
