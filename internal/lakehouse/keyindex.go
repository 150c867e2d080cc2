package lakehouse

import (
	"container/list"
	"context"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Key is a row key (event_id, dlq_id): the 16 bytes of an MD5 that tables
// store as 32 lowercase hex digits.
type Key [16]byte

// ParseKey parses 32 hex digits.
func ParseKey(s string) (Key, bool) {
	var k Key
	if len(s) != 32 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(s))
	return k, err == nil
}

// String is the key as 32 lowercase hex digits.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// KeyIndex remembers which keys each table partition already holds, so that a
// batch inserts only rows that are absent (MERGE ... WHEN NOT MATCHED THEN
// INSERT). Partitions are loaded from the table on first use and evicted
// least recently used first when more than max keys are held; an evicted
// partition is simply loaded again when a late event needs it.
//
// The index reflects one table snapshot. When the table moved on without us
// (another bronze process, or maintenance) the partitions a batch touches
// are reloaded before it is filtered.
type KeyIndex struct {
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
	keys keySet
	elem *list.Element
}

// NewKeyIndex makes an index of keyColumn holding at most max keys; filter
// selects one partition's rows by its name.
func NewKeyIndex(keyColumn string, max int, filter func(part string) (iceberg.BooleanExpression, error)) *KeyIndex {
	return &KeyIndex{partitionFilter: filter, keyColumn: keyColumn, max: max,
		parts: map[string]*partKeys{}, lru: list.New()}
}

// SnapshotID is the id of tbl's current snapshot, or 0 for none.
func SnapshotID(tbl *table.Table) int64 {
	if s := tbl.CurrentSnapshot(); s != nil {
		return s.SnapshotID
	}
	return 0
}

// Sync makes the partitions in touched reflect tbl's current snapshot.
func (x *KeyIndex) Sync(ctx context.Context, tbl *table.Table, touched map[string]bool) error {
	if cur := SnapshotID(tbl); cur != x.snapshot {
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

func (x *KeyIndex) load(ctx context.Context, tbl *table.Table, part string) error {
	var keys []Key
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
				if k, ok := ParseKey(col.Value(i)); ok {
					keys = append(keys, k)
				}
			}
			rec.Release()
		}
	}
	pk := &partKeys{keys: newKeySet(keys), elem: x.lru.PushFront(part)}
	x.parts[part] = pk
	x.total += pk.keys.len()
	x.loads++
	return nil
}

func (x *KeyIndex) drop(part string) {
	if pk, ok := x.parts[part]; ok {
		x.total -= pk.keys.len()
		x.lru.Remove(pk.elem)
		delete(x.parts, part)
	}
}

// Has reports whether part holds k. The partition must have been synced.
func (x *KeyIndex) Has(part string, k Key) bool {
	pk := x.parts[part]
	return pk != nil && pk.keys.has(k)
}

// Committed records keys that a successful commit at snapshot added; it
// sorts the slices of added.
func (x *KeyIndex) Committed(snapshot int64, added map[string][]Key) {
	for part, keys := range added {
		pk, ok := x.parts[part]
		if !ok {
			continue
		}
		pk.keys.add(keys)
		x.total += len(keys)
	}
	x.snapshot = snapshot
	x.evict()
}

// evict drops least recently used partitions while over the limit, never
// the most recent one.
func (x *KeyIndex) evict() {
	for x.total > x.max && x.lru.Len() > 1 {
		x.drop(x.lru.Back().Value.(string))
	}
}

// KeepAbsent is the merge of a batch: the rows whose key is neither in the
// index (whose partitions the caller synced) nor in an earlier row of the
// batch, in order, and the keys they add per partition. It returns rows
// itself when every row is kept, the usual case: copying each batch cost
// silver 2 GB of allocation per million events.
func KeepAbsent[T any](x *KeyIndex, rows []T, part func(T) string, key func(T) Key) (keep []T, added map[string][]Key) {
	added = map[string][]Key{}
	seen := make(map[Key]struct{}, len(rows))
	drop := -1 // the first row dropped
	for i, r := range rows {
		k, p := key(r), part(r)
		if _, dup := seen[k]; dup || x.Has(p, k) {
			if drop < 0 {
				drop = i
			}
			continue
		}
		seen[k] = struct{}{}
		added[p] = append(added[p], k)
	}
	if drop < 0 {
		return rows, added
	}
	keep = slices.Clone(rows[:drop])
	clear(seen)
	for _, r := range rows[:drop] {
		seen[key(r)] = struct{}{}
	}
	for _, r := range rows[drop:] {
		k := key(r)
		if _, dup := seen[k]; dup || x.Has(part(r), k) {
			continue
		}
		seen[k] = struct{}{}
		keep = append(keep, r)
	}
	return keep, added
}
