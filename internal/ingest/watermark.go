package ingest

import "sync"

// watermark tracks which source messages the broker has acknowledged and
// yields the resume position: the position of the newest message that, like
// every message before it, is acknowledged. Records of different partitions
// are acknowledged out of order, so the newest acknowledged record alone
// would skip messages still in flight after a crash.
type watermark struct {
	mu       sync.Mutex
	base     uint64 // sequence number of pending[0]
	pending  []slot // messages not yet folded into pos, oldest first
	head     int    // index of the oldest live slot in pending
	pos      string // the resume position
	inflight int    // slots not yet acknowledged
}

type slot struct {
	pos   string
	acked bool
}

// push registers the next message in source order and returns its sequence
// number.
func (w *watermark) push(pos string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.head > 1024 && w.head*2 > len(w.pending) {
		n := copy(w.pending, w.pending[w.head:])
		clear(w.pending[n:])
		w.pending = w.pending[:n]
		w.base += uint64(w.head)
		w.head = 0
	}
	w.pending = append(w.pending, slot{pos: pos})
	w.inflight++
	return w.base + uint64(len(w.pending)-1)
}

// ack marks message seq as acknowledged and advances the resume position
// over every leading acknowledged message.
func (w *watermark) ack(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending[seq-w.base].acked = true
	w.inflight--
	for w.head < len(w.pending) && w.pending[w.head].acked {
		w.pos = w.pending[w.head].pos
		w.pending[w.head] = slot{}
		w.head++
	}
}

// position returns the current resume position ("" until the first message
// is acknowledged).
func (w *watermark) position() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pos
}

// reset starts tracking afresh from a known resume position.
func (w *watermark) reset(pos string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pos = pos
}
