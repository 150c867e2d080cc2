package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/source"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// TestIngestLiveStreamWithFaults replays the largest real capture through a
// local EventStreams server that disconnects every few hundred frames (half
// of the time in the middle of a frame), changes retry:, pretty-prints some
// events across several data: lines, uses CRLF and CR line endings and
// injects malformed frames. Everything must reach Kafka exactly once: every
// event as served, every malformed frame in the DLQ with its reason.
func TestIngestLiveStreamWithFaults(t *testing.T) {
	events := ssetest.ReadLines(t, ssetest.SharedData(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"))
	srv := ssetest.NewServer(t, events, ssetest.Options{
		DisconnectEvery: 700,
		CutMidFrame:     true,
		Retry:           []time.Duration{time.Millisecond, 3 * time.Millisecond},
		RetryEvery:      900,
		MalformedEvery:  450,
		MultiLineEvery:  301,
		CRLFEvery:       157,
		CommentEvery:    50,
	})
	items := srv.Items()
	addr := startBroker(t)

	sc := source.DefaultConfig()
	sc.HTTPClient = srv.Client()
	sc.MinBackoff, sc.MaxBackoff = time.Millisecond, 5*time.Millisecond
	src, err := source.Open(srv.BaseURL()+"recentchange", sc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	st, err := New(cfg, src, []kgo.Opt{kgo.SeedBrokers(addr)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	deadline := time.After(2 * time.Minute)
	// Wait until every frame is accounted for by the broker (acknowledged
	// on either topic, or dropped as canary/filtered), not merely read:
	// records in flight when ingest stops are not in Kafka yet.
	settled := func() int64 {
		s := st.Stats()
		return s.Produced + s.DLQ + s.Canary + s.Filtered
	}
	for settled() < int64(len(items)) {
		select {
		case err := <-done:
			t.Fatalf("ingest ended early: %v", err)
		case <-deadline:
			t.Fatalf("read %d and settled %d of %d frames in 2 minutes", st.Stats().Read, settled(), len(items))
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if srv.Disconnects() < 10 || len(srv.LastEventIDs()) < 10 {
		t.Fatalf("server saw %d disconnects and %d Last-Event-ID resumes, want the faults to have happened",
			srv.Disconnects(), len(srv.LastEventIDs()))
	}

	// Each item id must be in Kafka exactly once, with the served bytes.
	byID := map[string]ssetest.Item{}
	for _, it := range items {
		byID[it.ID] = it
	}
	got := map[string]int{}
	check := func(r *kgo.Record, wantDLQ bool) {
		pos := kafka.Header(r, kafka.HeaderPosition)
		it, ok := byID[pos]
		if !ok {
			t.Fatalf("record at position %q that the server never sent", pos)
		}
		got[pos]++
		if string(r.Value) != string(it.Data) {
			t.Fatalf("record at %s holds %.80q, want %.80q", pos, r.Value, it.Data)
		}
		if wantDLQ {
			_, err := recentchange.Decode(it.Data, testNow, recentchange.DefaultLimits())
			if got, want := kafka.Header(r, kafka.HeaderReason), string(recentchange.ReasonOf(err)); got != want || want == "" {
				t.Errorf("dead letter at %s (%s): reason %q, want %q", pos, it.Kind, got, want)
			}
		}
	}
	raw := readTopic(t, addr, kafka.TopicRaw)
	dlq := readTopic(t, addr, kafka.TopicDLQ)
	for _, r := range raw {
		check(r, false)
	}
	reasons := map[string]int{}
	for _, r := range dlq {
		check(r, true)
		reasons[kafka.Header(r, kafka.HeaderReason)]++
	}
	malformed := 0
	for _, it := range items {
		if n := got[it.ID]; n != 1 {
			t.Errorf("item %s (%s) is in Kafka %d times, want exactly once", it.ID, it.Kind, n)
		}
		if it.Kind.Malformed() {
			malformed++
		}
	}
	// The capture's two type "142" events are rejected as unknown_type, the
	// injected frames by what is wrong with their data.
	var wantDLQ int
	for _, it := range items {
		if _, err := recentchange.Decode(it.Data, testNow, recentchange.DefaultLimits()); err != nil {
			wantDLQ++
		}
	}
	if len(dlq) != wantDLQ || malformed == 0 {
		t.Errorf("dlq-events holds %d records, want %d (%d malformed frames injected)", len(dlq), wantDLQ, malformed)
	}
	if len(raw)+len(dlq) != len(items) {
		t.Errorf("raw %d + dlq %d = %d records, want %d items", len(raw), len(dlq), len(raw)+len(dlq), len(items))
	}
	t.Logf("%d items (%d malformed), %d connections, dead letters by reason %v", len(items), malformed, srv.Connections(), fmt.Sprint(reasons))
}
