package lakehouse

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestKeepAbsent(t *testing.T) {
	type r struct {
		part string
		key  byte
	}
	k := func(b byte) Key { return Key{b} }
	x := NewKeyIndex("event_id", 100, nil)
	for _, p := range []string{"a", "b"} {
		x.parts[p] = &partKeys{elem: x.lru.PushFront(p)}
	}
	x.parts["a"].keys.add([]Key{k(1)}) // already in the table
	part := func(v r) string { return v.part }
	key := func(v r) Key { return k(v.key) }

	rows := []r{{"a", 2}, {"b", 3}, {"a", 4}}
	keep, added := KeepAbsent(x, rows, part, key)
	if &keep[0] != &rows[0] || len(keep) != 3 {
		t.Errorf("nothing to drop: got %v, want the rows themselves", keep)
	}
	if !slices.Equal(added["a"], []Key{k(2), k(4)}) || !slices.Equal(added["b"], []Key{k(3)}) {
		t.Errorf("added = %v", added)
	}

	rows = []r{{"a", 5}, {"a", 1}, {"b", 6}, {"a", 5}, {"b", 7}, {"b", 6}}
	keep, added = KeepAbsent(x, rows, part, key)
	if want := []r{{"a", 5}, {"b", 6}, {"b", 7}}; !slices.Equal(keep, want) {
		t.Errorf("keep = %v, want %v (in order, without the key in the table and the repeats)", keep, want)
	}
	if !slices.Equal(added["a"], []Key{k(5)}) || !slices.Equal(added["b"], []Key{k(6), k(7)}) {
		t.Errorf("added = %v", added)
	}
	if rows[1] != (r{"a", 1}) || len(rows) != 6 {
		t.Errorf("the input changed: %v", rows)
	}
}

// TestKeySetEqualsMap: a key set built from a table's keys (with repeats)
// and grown batch by batch through many merges of its runs holds exactly
// the keys a map holds.
func TestKeySetEqualsMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() Key {
		var k Key
		binary.LittleEndian.PutUint64(k[:8], rng.Uint64())
		binary.LittleEndian.PutUint64(k[8:], rng.Uint64())
		return k
	}
	want := map[Key]bool{}
	var loaded []Key
	for range 5000 {
		k := random()
		want[k] = true
		loaded = append(loaded, k, k) // a table may hold a key twice
	}
	s := newKeySet(loaded)
	merges := 0
	for batch := range 400 {
		var keys []Key
		for range batch % 97 {
			k := random()
			want[k] = true
			keys = append(keys, k)
		}
		before := len(s.base)
		s.add(keys)
		if len(s.base) != before {
			merges++
		}
		if s.len() != len(want) {
			t.Fatalf("batch %d: %d keys, want %d", batch, s.len(), len(want))
		}
	}
	if merges < 3 {
		t.Errorf("%d merges of the runs; the test must make several", merges)
	}
	if !slices.IsSortedFunc(s.base, compareKeys) || !slices.IsSortedFunc(s.tail, compareKeys) {
		t.Error("the runs are not sorted")
	}
	for k := range want {
		if !s.has(k) {
			t.Fatalf("key %s is missing", k)
		}
	}
	for range 10000 {
		if k := random(); s.has(k) != want[k] {
			t.Fatalf("has(%s) = %t, want %t", k, s.has(k), want[k])
		}
	}
}
