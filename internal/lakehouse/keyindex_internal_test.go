package lakehouse

import (
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
		x.parts[p] = &partKeys{keys: map[Key]struct{}{}, elem: x.lru.PushFront(p)}
	}
	x.parts["a"].keys[k(1)] = struct{}{} // already in the table
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
