package lakehouse

import (
	"bytes"
	"slices"
)

// keySet is a set of keys held as two sorted runs: base, the bulk, and
// tail, the keys added since base was last rebuilt. Adding merges into the
// small tail; once the tail outgrows an eighth of the base the two are
// merged, so each key is copied a bounded number of times. A key costs its
// 16 bytes (and the tail's slack), where a Go map held about 28: the
// bronze and silver indexes of a 2M-event replay took 112 MB as maps.
type keySet struct {
	base, tail []Key
}

func compareKeys(a, b Key) int { return bytes.Compare(a[:], b[:]) }

// newKeySet makes a set of keys, which it sorts and may reorder.
func newKeySet(keys []Key) keySet {
	slices.SortFunc(keys, compareKeys)
	return keySet{base: slices.Clip(slices.Compact(keys))}
}

func (s *keySet) len() int { return len(s.base) + len(s.tail) }

func (s *keySet) has(k Key) bool {
	_, in := slices.BinarySearchFunc(s.base, k, compareKeys)
	if !in {
		_, in = slices.BinarySearchFunc(s.tail, k, compareKeys)
	}
	return in
}

// add adds keys absent from the set (the caller's merge found them
// absent); it sorts keys.
func (s *keySet) add(keys []Key) {
	if len(keys) == 0 {
		return
	}
	slices.SortFunc(keys, compareKeys)
	s.tail = mergeKeys(s.tail, keys)
	if len(s.tail) > max(len(s.base)/8, 1024) {
		s.base, s.tail = mergeKeys(s.base, s.tail), nil
	}
}

// mergeKeys returns the sorted union of two sorted runs in a new slice.
func mergeKeys(a, b []Key) []Key {
	out := make([]Key, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := compareKeys(a[0], b[0]); {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}
