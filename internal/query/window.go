package query

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Resident windows (Config.ResidentWindow). A rollup grown past
// ResidentMaxBytes (a week of every wiki's page-hours is 5.4M rows) was
// read from its files by every query, though the dashboard asks for the
// last day far more often than for older ones, and opening a week's 168
// hourly files costs 17-25 ms before any work. With a window column the
// copy holds the newest files that fit (by the column's bounds, which
// every data file's manifest entry carries), and the view adds the older
// files behind a bound:
//
//	SELECT * FROM <copy> UNION ALL
//	SELECT * FROM read_parquet(<older files>) WHERE hour_start < <oldest copied>
//
// The bound changes no row (every older file's values are below it), but
// it lets DuckDB drop the files' branch when planning a query whose filter
// on the column cannot meet it (hour_start >= a later instant): the
// filters combined are unsatisfiable, and the branch is never read.

// windowValue is a value of a window column, comparable across files: an
// integer (int, long, date, timestamp) or a string.
type windowValue struct {
	n int64
	s string
}

func (a windowValue) compare(b windowValue) int {
	if c := cmp.Compare(a.n, b.n); c != 0 {
		return c
	}
	return cmp.Compare(a.s, b.s)
}

// fileBounds are one data file's lowest and highest values of the window
// column; ok is false when its manifest entry lacks them.
type fileBounds struct {
	lower, upper windowValue
	ok           bool
}

// windowColumn is the window column of a table: its field and how its
// values read and print.
type windowColumn struct {
	field iceberg.NestedField
}

// windowColumnOf returns the table's window column in schema, or false
// when it has none it can use: a required column of a type whose bounds
// order the same way in DuckDB.
func windowColumnOf(schema *iceberg.Schema, name string) (windowColumn, bool) {
	if name == "" {
		return windowColumn{}, false
	}
	f, ok := schema.FindFieldByName(name)
	if !ok || !f.Required {
		return windowColumn{}, false
	}
	switch f.Type.(type) {
	case iceberg.Int32Type, iceberg.Int64Type, iceberg.DateType, iceberg.TimestampType, iceberg.TimestampTzType, iceberg.StringType:
		return windowColumn{field: f}, true
	}
	return windowColumn{}, false
}

// bounds reads a data file's bounds of the column.
func (c windowColumn) bounds(f iceberg.DataFile) fileBounds {
	lo, okLo := c.decode(f.LowerBoundValues()[c.field.ID])
	hi, okHi := c.decode(f.UpperBoundValues()[c.field.ID])
	return fileBounds{lower: lo, upper: hi, ok: okLo && okHi}
}

// maxStringBound: Iceberg writers truncate string bounds to 16 bytes by
// default, and a truncated upper bound is not the file's highest value
// (Parquet's statistics are the same); such a bound is not used.
const maxStringBound = 15

// decode reads a bound in Iceberg's single-value binary form.
func (c windowColumn) decode(b []byte) (windowValue, bool) {
	switch c.field.Type.(type) {
	case iceberg.StringType:
		if b == nil || len(b) > maxStringBound {
			return windowValue{}, false
		}
		return windowValue{s: string(b)}, true
	case iceberg.Int32Type, iceberg.DateType:
		if len(b) != 4 {
			return windowValue{}, false
		}
		return windowValue{n: int64(int32(binary.LittleEndian.Uint32(b)))}, true
	default: // long, timestamp, timestamptz
		if len(b) != 8 {
			return windowValue{}, false
		}
		return windowValue{n: int64(binary.LittleEndian.Uint64(b))}, true
	}
}

// literal is v as a DuckDB literal of the column's type.
func (c windowColumn) literal(v windowValue) string {
	switch c.field.Type.(type) {
	case iceberg.StringType:
		return quoteString(v.s)
	case iceberg.DateType:
		return "DATE '" + time.Unix(v.n*86400, 0).UTC().Format(time.DateOnly) + "'"
	case iceberg.TimestampType:
		return "TIMESTAMP '" + time.UnixMicro(v.n).UTC().Format("2006-01-02 15:04:05.999999") + "'"
	case iceberg.TimestampTzType:
		return "TIMESTAMPTZ '" + time.UnixMicro(v.n).UTC().Format("2006-01-02 15:04:05.999999") + "+00'"
	default:
		return strconv.FormatInt(v.n, 10)
	}
}

// units is d in the column's units (microseconds, days), for time columns.
func (c windowColumn) units(d time.Duration) (int64, bool) {
	switch c.field.Type.(type) {
	case iceberg.TimestampType, iceberg.TimestampTzType:
		return d.Microseconds(), true
	case iceberg.DateType:
		return int64(d / (24 * time.Hour)), true
	}
	return 0, false
}

// older is the part of a windowed table that a resident copy does not
// hold: its files, read where the window column is below the copy's
// oldest value.
type older struct {
	plan   *tablePlan // the older files, no deletes
	where  string     // the bound, as SQL
	column windowColumn
	bound  windowValue // the copy's lowest value of the column
}

// holds reports whether the copy holds every row whose window column is
// at or after since (a date column: from since's day on).
func (o *older) holds(since time.Time) bool {
	v, ok := o.column.at(since)
	return ok && v.compare(o.bound) >= 0
}

// at is the column's value at the instant t: its microseconds, its day,
// or, for a string column, its UTC date as YYYY-MM-DD. ok is false for
// the zero time and for integer columns, which hold no instant.
func (c windowColumn) at(t time.Time) (windowValue, bool) {
	if t.IsZero() {
		return windowValue{}, false
	}
	switch c.field.Type.(type) {
	case iceberg.TimestampType, iceberg.TimestampTzType:
		return windowValue{n: t.UnixMicro()}, true
	case iceberg.DateType:
		v := t.Unix() / 86400
		if t.Unix() < 0 && t.Unix()%86400 != 0 {
			v-- // floor
		}
		return windowValue{n: v}, true
	case iceberg.StringType:
		return windowValue{s: t.UTC().Format(time.DateOnly)}, true
	}
	return windowValue{}, false
}

// since returns the part of the plan a query that promises At.Since
// reads: the files whose upper bound of the window column is at or after
// since (and those without bounds). It returns p itself when it leaves
// nothing out or cannot tell: no window column or time, or delete files.
func (p *tablePlan) since(since time.Time) *tablePlan {
	if p.window == nil || len(p.dataFiles) != len(p.files) || len(p.dvs) > 0 || len(p.posDeletes) > 0 {
		return p
	}
	v, ok := p.window.at(since)
	if !ok {
		return p
	}
	keep := make([]int, 0, len(p.files))
	for i, f := range p.dataFiles {
		if b := p.window.bounds(f); !b.ok || b.upper.compare(v) >= 0 {
			keep = append(keep, i)
		}
	}
	if len(keep) == len(p.files) {
		return p
	}
	q := &tablePlan{snapshotID: p.snapshotID, schemaID: p.schemaID, columns: p.columns, window: p.window, pruned: true, order: p.order}
	seen := make(map[string]bool, len(keep))
	for _, i := range keep {
		q.add(seen, p.files[i], p.fileBytes[i], p.dataFiles[i])
	}
	return q
}

// windowed splits a plan over maxBytes by its window column: the plan of
// the newest files that total at most maxBytes, which the copy holds, and
// the older files. It returns nil when the plan has no usable bounds or no
// split fits: a file whose values straddle the split (a value at or above
// the split's lowest in a file that also holds lower ones) cannot be on
// either side, so splits are only made where none does.
func (p *tablePlan) windowed(maxBytes int64, span time.Duration) (*tablePlan, *older) {
	if p.window == nil || len(p.dataFiles) != len(p.files) || len(p.dvs) > 0 || len(p.posDeletes) > 0 {
		return nil, nil
	}
	bounds := make([]fileBounds, len(p.files))
	order := make([]int, len(p.files))
	for i, f := range p.dataFiles {
		if bounds[i] = p.window.bounds(f); !bounds[i].ok {
			return nil, nil
		}
		order[i] = i
	}
	// Newest first, by the lowest value.
	slices.SortFunc(order, func(a, b int) int { return bounds[b].lower.compare(bounds[a].lower) })
	// below[i] is the highest upper bound of the files order[i:].
	below := make([]windowValue, len(order)+1)
	for i := len(order) - 1; i >= 0; i-- {
		below[i] = bounds[order[i]].upper
		if i+1 < len(order) && below[i+1].compare(below[i]) > 0 {
			below[i] = below[i+1]
		}
	}
	// With a span, the copy holds no file whose lowest value is more than
	// span below the table's newest value (floor).
	floor, spanned := windowValue{}, false
	if w, ok := p.window.units(span); ok && span > 0 {
		newest := bounds[order[0]].upper
		for _, b := range bounds {
			if b.upper.compare(newest) > 0 {
				newest = b.upper
			}
		}
		floor, spanned = windowValue{n: newest.n - w}, true
	}
	split, bytes := 0, int64(0) // the copy holds order[:split]
	for i, taken := 0, int64(0); i < len(order); {
		if spanned && bounds[order[i]].lower.compare(floor) < 0 {
			break
		}
		// Take every file with the same lowest value at once.
		j := i
		for ; j < len(order) && bounds[order[j]].lower == bounds[order[i]].lower; j++ {
			taken += p.fileBytes[order[j]]
		}
		if taken > maxBytes || j == len(order) {
			break
		}
		if below[j].compare(bounds[order[i]].lower) < 0 { // no older file reaches it
			split, bytes = j, taken
		}
		i = j
	}
	if split == 0 {
		return nil, nil
	}
	recent := &tablePlan{snapshotID: p.snapshotID, schemaID: p.schemaID, columns: p.columns, bytes: bytes, window: p.window}
	old := &tablePlan{snapshotID: p.snapshotID, schemaID: p.schemaID, columns: p.columns}
	for k, i := range order {
		if k < split {
			recent.files = append(recent.files, p.files[i])
			recent.fileBytes = append(recent.fileBytes, p.fileBytes[i])
			recent.dataFiles = append(recent.dataFiles, p.dataFiles[i])
		} else {
			old.files = append(old.files, p.files[i])
			old.fileBytes = append(old.fileBytes, p.fileBytes[i])
			old.bytes += p.fileBytes[i]
		}
	}
	lowest := bounds[order[split-1]].lower
	return recent, &older{plan: old, column: *p.window, bound: lowest,
		where: fmt.Sprintf("%s < %s", quoteIdent(p.window.field.Name), p.window.literal(lowest))}
}

// CopyRowsWithin returns how many rows at most the in-memory copy of a
// table (a name such as "gold.pages_hourly") holds whose window column
// (Config.ResidentWindow) is in [from, to]: the record counts of the
// copy's data files whose bounds of the column reach the range, read from
// their manifest entries, deleted rows included. It reads nothing. It
// returns false when it cannot tell: the table has no copy or no window
// column, a file lacks its bounds, or the range reaches files older than
// the copy's window, which queries read from the files.
func (e *Engine) CopyRowsWithin(table string, from, to time.Time) (int64, bool) {
	r := e.residents.hold(table)
	if r == nil {
		return 0, false
	}
	defer e.residents.release(r)
	if r.plan.window == nil || r.older != nil && !r.older.holds(from) {
		return 0, false
	}
	lo, okLo := r.plan.window.at(from)
	hi, okHi := r.plan.window.at(to)
	bounds := r.fileBounds()
	if !okLo || !okHi || bounds == nil {
		return 0, false
	}
	var n int64
	for _, b := range bounds {
		if b.upper.compare(lo) >= 0 && b.lower.compare(hi) <= 0 {
			n += b.count
		}
	}
	return n, true
}

// CopyFilesWithin returns a token of the data files of the in-memory copy
// of a table (a name such as "gold.pages_hourly") whose window column's
// bounds reach [from, to], and the snapshot the copy holds. Data files do
// not change and a new one has a new path, so two snapshots whose tokens
// are equal hold the same rows in the range, and so does every snapshot
// between them, as long as a set of files never comes back once changed
// (gold's overwrites and the compaction write new files in place of old): a kept ranking of a day's hours that gold no longer
// rewrites stays good while the token does. It reads nothing, and returns
// false when it cannot tell, as CopyRowsWithin does, or when the copy has
// deletes.
func (e *Engine) CopyFilesWithin(table string, from, to time.Time) (snapshot int64, token uint64, ok bool) {
	r := e.residents.hold(table)
	if r == nil {
		return 0, 0, false
	}
	defer e.residents.release(r)
	if r.plan.window == nil || len(r.plan.dvs) > 0 || len(r.plan.posDeletes) > 0 || r.older != nil && !r.older.holds(from) {
		return 0, 0, false
	}
	lo, okLo := r.plan.window.at(from)
	hi, okHi := r.plan.window.at(to)
	bounds := r.fileBounds()
	if !okLo || !okHi || bounds == nil {
		return 0, 0, false
	}
	var paths []string
	for i, b := range bounds {
		if b.upper.compare(lo) >= 0 && b.lower.compare(hi) <= 0 {
			paths = append(paths, r.plan.files[i])
		}
	}
	slices.Sort(paths)
	h := fnv.New64a()
	for _, p := range paths {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return r.key.snapshotID, h.Sum64(), true
}

// countedBounds are a data file's bounds of the window column and its
// record count.
type countedBounds struct {
	fileBounds
	count int64
}

// fileBounds decodes the bounds of the copy's files once: iceberg-go
// copies a file's bound maps on every call (3 ms a request for a month of
// hourly files).
func (r *resident) fileBounds() []countedBounds {
	r.boundsOnce.Do(func() {
		p := r.plan
		if p.window == nil || len(p.dataFiles) != len(p.files) {
			return
		}
		bounds := make([]countedBounds, len(p.dataFiles))
		for i, f := range p.dataFiles {
			if f == nil {
				return
			}
			if bounds[i].fileBounds = p.window.bounds(f); !bounds[i].ok {
				return
			}
			bounds[i].count = f.Count()
		}
		r.bounds = bounds
	})
	return r.bounds
}

// ValueFiles returns the current snapshot of a table with a SinceColumn
// (gold.risk_scores) and, for each value of that column its files hold
// (a day), the paths of the data files holding it, sorted: the files a
// query of that value reads, which change only when a commit rewrites
// the value's rows. ok is false when it cannot tell: the table has no
// such column or no snapshot, or a file holds several values, lacks
// bounds, or has deletes.
func (e *Engine) ValueFiles(ctx context.Context, name string) (snapshot int64, files map[string][]string, ok bool, err error) {
	for _, ident := range e.tables {
		if lakehouse.Name(ident) != name || e.cfg.SinceColumn[name] == "" {
			continue
		}
		v, _, err := e.resolveTable(ctx, ident, At{})
		p := v.plan
		if err != nil || p == nil || p.snapshotID == 0 || p.window == nil || len(p.dvs) > 0 || len(p.posDeletes) > 0 ||
			len(p.dataFiles) != len(p.files) {
			return 0, nil, false, err
		}
		files = map[string][]string{}
		for i, f := range p.dataFiles {
			b := p.window.bounds(f)
			if !b.ok || b.lower != b.upper {
				return 0, nil, false, nil
			}
			key := b.lower.s
			if _, isString := p.window.field.Type.(iceberg.StringType); !isString {
				key = strconv.FormatInt(b.lower.n, 10)
			}
			files[key] = append(files[key], p.files[i])
		}
		for _, fs := range files {
			slices.Sort(fs)
		}
		return p.snapshotID, files, true, nil
	}
	return 0, nil, false, nil
}
