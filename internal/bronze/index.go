package bronze

import (
	"container/list"
	"context"
	"encoding/hex"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// key is a row key (event_id or dlq_id): 16 bytes of MD5.
type key [16]byte

func parseKey(s string) (key, bool) {
	var k key
	if len(s) != 32 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(s))
	return k, err == nil
}

func (k key) String() string { return hex.EncodeToString(k[:]) }

// index remembers which keys each table partition already holds, so that a
// batch inserts only rows that are absent (MERGE ... WHEN NOT MATCHED THEN
// INSERT). Partitions are loaded from the table on first use and evicted
// least recently used first when more than max keys are held; an evicted
// partition is simply loaded again when a late event needs it.
//
// The index reflects one table snapshot. When the table moved on without us
// (another bronze process, or maintenance) the partitions a batch touches
// are reloaded before it is filtered.
type index struct {
	partitionFilter func(part string) (iceberg.BooleanExpression, error)
	keyColumn       string
	max             int

	parts    map[string]*partKeys
	lru      *list.List // of string partition names, most recent first
	total    int
	snapshot int64 // the snapshot the index reflects; 0 for none
	loads    int   // partitions loaded from the table (for tests and metrics)
}

type partKeys struct {
	keys map[key]struct{}
	elem *list.Element
}

func newIndex(keyColumn string, max int, filter func(part string) (iceberg.BooleanExpression, error)) *index {
	return &index{partitionFilter: filter, keyColumn: keyColumn, max: max,
		parts: map[string]*partKeys{}, lru: list.New()}
}

func snapshotID(tbl *table.Table) int64 {
	if s := tbl.CurrentSnapshot(); s != nil {
		return s.SnapshotID
	}
	return 0
}

// sync makes the partitions in touched reflect tbl's current snapshot.
func (x *index) sync(ctx context.Context, tbl *table.Table, touched map[string]bool) error {
	if cur := snapshotID(tbl); cur != x.snapshot {
		// Someone else committed: what we hold may be missing their rows.
		for part := range touched {
			x.drop(part)
		}
		x.snapshot = cur
	}
	for part := range touched {
		if pk, ok := x.parts[part]; ok {
			x.lru.MoveToFront(pk.elem)
			continue
		}
		if err := x.load(ctx, tbl, part); err != nil {
			return err
		}
	}
	return nil
}

func (x *index) load(ctx context.Context, tbl *table.Table, part string) error {
	pk := &partKeys{keys: map[key]struct{}{}}
	if tbl.CurrentSnapshot() != nil {
		filter, err := x.partitionFilter(part)
		if err != nil {
			return err
		}
		_, recs, err := tbl.Scan(table.WithRowFilter(filter), table.WithSelectedFields(x.keyColumn)).ToArrowRecords(ctx)
		if err != nil {
			return fmt.Errorf("load keys of partition %s: %w", part, err)
		}
		for rec, err := range recs {
			if err != nil {
				return fmt.Errorf("load keys of partition %s: %w", part, err)
			}
			col, ok := rec.Column(0).(*array.String)
			if !ok {
				rec.Release()
				return fmt.Errorf("load keys of partition %s: column %s is %s, want string", part, x.keyColumn, rec.Column(0).DataType())
			}
			for i := range col.Len() {
				if k, ok := parseKey(col.Value(i)); ok {
					pk.keys[k] = struct{}{}
				}
			}
			rec.Release()
		}
	}
	pk.elem = x.lru.PushFront(part)
	x.parts[part] = pk
	x.total += len(pk.keys)
	x.loads++
	return nil
}

func (x *index) drop(part string) {
	if pk, ok := x.parts[part]; ok {
		x.total -= len(pk.keys)
		x.lru.Remove(pk.elem)
		delete(x.parts, part)
	}
}

// has reports whether part holds k. The partition must have been synced.
func (x *index) has(part string, k key) bool {
	_, ok := x.parts[part].keys[k]
	return ok
}

// committed records keys that a successful commit at snapshot added.
func (x *index) committed(snapshot int64, added map[string][]key) {
	for part, keys := range added {
		pk, ok := x.parts[part]
		if !ok {
			continue
		}
		for _, k := range keys {
			pk.keys[k] = struct{}{}
		}
		x.total += len(keys)
	}
	x.snapshot = snapshot
	x.evict()
}

// evict drops least recently used partitions while over the limit, never
// the most recent one.
func (x *index) evict() {
	for x.total > x.max && x.lru.Len() > 1 {
		x.drop(x.lru.Back().Value.(string))
	}
}
