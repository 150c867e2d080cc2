package ingest

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestWatermarkInOrder(t *testing.T) {
	var w watermark
	w.reset("start")
	a := w.push("a")
	b := w.push("b")
	c := w.push("c")
	if got := w.position(); got != "start" {
		t.Fatalf("position before any ack = %q, want %q", got, "start")
	}
	w.ack(b)
	if got := w.position(); got != "start" {
		t.Fatalf("after acking b only: position %q, want %q (a is still in flight)", got, "start")
	}
	w.ack(a)
	if got := w.position(); got != "b" {
		t.Fatalf("after acking a and b: position %q, want %q", got, "b")
	}
	w.ack(c)
	if got := w.position(); got != "c" {
		t.Fatalf("after acking all: position %q, want %q", got, "c")
	}
}

// TestWatermarkRandomAcks acknowledges many messages in random order and
// checks after every ack that the position is the newest message before
// which everything is acknowledged, through several compactions.
func TestWatermarkRandomAcks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var w watermark
	const n = 20000
	acked := make([]bool, n)
	var inflight []uint64
	next := 0
	frontier := -1
	for next < n || len(inflight) > 0 {
		if next < n && (len(inflight) == 0 || (len(inflight) < 200 && r.IntN(3) > 0)) {
			seq := w.push(fmt.Sprint(next))
			if seq != uint64(next) {
				t.Fatalf("push %d returned seq %d", next, seq)
			}
			inflight = append(inflight, seq)
			next++
			continue
		}
		i := r.IntN(min(len(inflight), 50))
		seq := inflight[i]
		inflight = append(inflight[:i], inflight[i+1:]...)
		w.ack(seq)
		acked[seq] = true
		for frontier+1 < n && acked[frontier+1] {
			frontier++
		}
		want := ""
		if frontier >= 0 {
			want = fmt.Sprint(frontier)
		}
		if got := w.position(); got != want {
			t.Fatalf("after acking %d: position %q, want %q", seq, got, want)
		}
	}
	if len(w.pending)-w.head != 0 {
		t.Errorf("%d slots left pending after acking everything", len(w.pending)-w.head)
	}
	if len(w.pending) > 4096 {
		t.Errorf("pending slice grew to %d; compaction should bound it", len(w.pending))
	}
}
