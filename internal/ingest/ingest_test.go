package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/source"
	"github.com/wikistream/wikistream/internal/testtool"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// sliceSource replays messages from memory; its position is the index of
// the next message.
type sliceSource struct {
	name string
	msgs [][]byte
	// stopAfter cancels the run after this many messages (a crash), if > 0.
	stopAfter int
	cancel    context.CancelFunc
	finished  bool // Run reached the end of msgs
}

func (s *sliceSource) Name() string { return s.name }

func (s *sliceSource) Run(ctx context.Context, resume string, emit func(context.Context, source.Message) error) error {
	start := 0
	if resume != "" {
		var err error
		if start, err = strconv.Atoi(resume); err != nil {
			return fmt.Errorf("bad resume %q", resume)
		}
	}
	for i := start; i < len(s.msgs); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := source.Message{Data: s.msgs[i], Position: strconv.Itoa(i + 1), Where: fmt.Sprintf("mem:line %d", i+1)}
		if err := emit(ctx, m); err != nil {
			return err
		}
		if s.stopAfter > 0 && i+1-start >= s.stopAfter {
			s.cancel()
		}
	}
	s.finished = true
	return nil
}

func startBroker(tb testing.TB) string {
	tb.Helper()
	cfg := kafka.DefaultBrokerConfig()
	cfg.Addr = "127.0.0.1:0"
	b, err := kafka.StartBroker(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b.Addr()
}

func testConfig() Config {
	cfg := DefaultConfig()
	f, _ := recentchange.ParseFilter("all")
	cfg.Filter = f
	cfg.Now = func() time.Time { return testNow }
	return cfg
}

// readTopic returns every record of topic.
func readTopic(tb testing.TB, addr, topic string) []*kgo.Record {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := kafka.LastRecords(ctx, []kgo.Opt{kgo.SeedBrokers(addr)}, topic)
	if err != nil {
		tb.Fatal(err)
	}
	want := map[int32]int64{}
	for _, r := range recs {
		want[r.Partition] = r.Offset
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	done := func() bool {
		for p, last := range want {
			if !slices.ContainsFunc(out, func(r *kgo.Record) bool { return r.Partition == p && r.Offset == last }) {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			tb.Fatalf("read %s: %v", topic, ctx.Err())
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func line(domain string, id, ts int64, typ string) []byte {
	return fmt.Appendf(nil, `{"meta":{"domain":%q,"dt":"x"},"id":%d,"type":%q,"namespace":0,"title":"T%d","user":"U","bot":false,"timestamp":%d,"length":{"old":1,"new":2},"revision":{"old":1,"new":2}}`,
		domain, id, typ, id, ts)
}

func TestIngestRoutesEveryMessage(t *testing.T) {
	addr := startBroker(t)
	ts := testNow.Add(-time.Hour).Unix()
	msgs := [][]byte{
		line("en.wikipedia.org", 1, ts, "edit"),
		[]byte(`not json at all`),
		line("canary", 2, ts, "edit"),
		line("commons.wikimedia.org", 3, ts, "edit"),
		line("de.wikipedia.org", 4, ts, "vandalise"),
		line("de.wikipedia.org", 5, 100, "edit"),
		[]byte(`{"meta":{"domain":"en.wikipedia.org"},"type":"edit"}`),
		line("en.wikipedia.org", 6, ts, "new"),
	}
	cfg := testConfig()
	cfg.Filter, _ = recentchange.ParseFilter("wikipedia")
	src := &sliceSource{name: "mem://routes", msgs: msgs}
	st, err := New(cfg, src, []kgo.Opt{kgo.SeedBrokers(addr)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	stats := st.Stats()
	if stats.Read != 8 || stats.Produced != 2 || stats.DLQ != 4 || stats.Filtered != 1 || stats.Canary != 1 {
		t.Fatalf("stats %+v, want read 8, produced 2, dlq 4, filtered 1, canary 1", stats)
	}
	raw := readTopic(t, addr, kafka.TopicRaw)
	if len(raw) != 2 {
		t.Fatalf("raw-events holds %d records, want 2", len(raw))
	}
	for _, r := range raw {
		ev, err := recentchange.Decode(r.Value, testNow, recentchange.DefaultLimits())
		if err != nil {
			t.Fatalf("raw record does not decode: %v", err)
		}
		if got, want := string(r.Key), ev.Domain(); got != want {
			t.Errorf("key %q, want the domain %q", got, want)
		}
		if got, want := kafka.Header(r, kafka.HeaderEventID), ev.EventID(); got != want {
			t.Errorf("event_id header %q, want %q", got, want)
		}
		if kafka.Header(r, kafka.HeaderSource) != "mem://routes" || kafka.Header(r, kafka.HeaderPosition) == "" {
			t.Errorf("source/position headers missing: %v", r.Headers)
		}
		if _, err := time.Parse(time.RFC3339Nano, kafka.Header(r, kafka.HeaderIngestedAt)); err != nil {
			t.Errorf("ingested_at header: %v", err)
		}
	}
	dlq := readTopic(t, addr, kafka.TopicDLQ)
	gotReasons := map[string]string{}
	for _, r := range dlq {
		gotReasons[kafka.Header(r, kafka.HeaderWhere)] = kafka.Header(r, kafka.HeaderReason)
		i, _ := strconv.Atoi(strings.TrimPrefix(kafka.Header(r, kafka.HeaderWhere), "mem:line "))
		if i < 1 || string(r.Value) != string(msgs[i-1]) {
			t.Errorf("dead letter at %q does not hold the original bytes: %s", kafka.Header(r, kafka.HeaderWhere), r.Value)
		}
		if kafka.Header(r, kafka.HeaderDetail) == "" {
			t.Errorf("dead letter without detail")
		}
	}
	want := map[string]string{
		"mem:line 2": "not_json", "mem:line 5": "unknown_type",
		"mem:line 6": "implausible_timestamp", "mem:line 7": "missing_field",
	}
	for where, reason := range want {
		if gotReasons[where] != reason {
			t.Errorf("dead letter %s: reason %q, want %q", where, gotReasons[where], reason)
		}
	}
}

// TestIngestResumesWithoutGaps crashes ingest (cancels it) after a random
// number of messages, many times, and restarts it: in the end every valid
// event is in raw-events at least once and only in-flight records repeat.
func TestIngestResumesWithoutGaps(t *testing.T) {
	addr := startBroker(t)
	const n = 20000
	ts := testNow.Add(-time.Hour).Unix()
	domains := []string{"en.wikipedia.org", "de.wikipedia.org", "ja.wikipedia.org", "commons.wikimedia.org", "www.wikidata.org", "fr.wikipedia.org", "zh.wikipedia.org"}
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = line(domains[i%len(domains)], int64(i), ts+int64(i/100), "edit")
	}
	runs := 0
	for stop := 1500; ; stop += 1700 {
		runs++
		ctx, cancel := context.WithCancel(context.Background())
		src := &sliceSource{name: "mem://crash", msgs: msgs, stopAfter: stop, cancel: cancel}
		st, err := New(testConfig(), src, []kgo.Opt{kgo.SeedBrokers(addr)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = st.Run(ctx)
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		if src.finished {
			break
		}
		if runs > 50 {
			t.Fatal("ingest never reached the end of the source")
		}
	}
	raw := readTopic(t, addr, kafka.TopicRaw)
	seen := map[string]int{}
	for _, r := range raw {
		seen[kafka.Header(r, kafka.HeaderEventID)]++
	}
	for i, m := range msgs {
		ev, _ := recentchange.Decode(m, testNow, recentchange.DefaultLimits())
		if seen[ev.EventID()] == 0 {
			t.Fatalf("event %d is missing from raw-events after %d restarts", i, runs)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct events, want %d", len(seen), n)
	}
	repeats := len(raw) - n
	t.Logf("%d runs, %d records, %d repeated (in flight at a crash)", runs, len(raw), repeats)
	if repeats > runs*10000 {
		t.Errorf("%d repeated records over %d runs: more than the in-flight window", repeats, runs)
	}
}

// TestIngestKcatInterop proves the records are real Kafka: Debian's kcat
// (librdkafka) consumes what ingest produced, and produces records that
// WikiStream's client reads back and decodes.
func TestIngestKcatInterop(t *testing.T) {
	kcat := testtool.Look(t, "kcat")
	addr := startBroker(t)
	ts := testNow.Add(-time.Hour).Unix()
	var msgs [][]byte
	for i := range 300 {
		msgs = append(msgs, line([]string{"en.wikipedia.org", "de.wikipedia.org", "commons.wikimedia.org"}[i%3], int64(i), ts, "edit"))
	}
	msgs = append(msgs, []byte("{broken"))
	st, err := New(testConfig(), &sliceSource{name: "mem://kcat", msgs: msgs}, []kgo.Opt{kgo.SeedBrokers(addr)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	// kcat consumes both topics to their end, as JSON envelopes.
	consume := func(topic string) []map[string]any {
		out, err := exec.Command(kcat, "-C", "-b", addr, "-t", topic, "-e", "-q", "-J").Output()
		if err != nil {
			t.Fatalf("kcat -C %s: %v", topic, err)
		}
		var recs []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("kcat output %q: %v", l, err)
			}
			recs = append(recs, m)
		}
		return recs
	}
	raw := consume(kafka.TopicRaw)
	if len(raw) != 300 {
		t.Fatalf("kcat read %d records from raw-events, want 300", len(raw))
	}
	want := map[string]bool{}
	for _, m := range msgs[:300] {
		want[string(m)] = true
	}
	for _, r := range raw {
		payload, _ := r["payload"].(string)
		if !want[payload] {
			t.Fatalf("kcat read a payload WikiStream did not produce: %q", payload)
		}
		delete(want, payload)
		ev, _ := recentchange.Decode([]byte(payload), testNow, recentchange.DefaultLimits())
		if key, _ := r["key"].(string); key != ev.Domain() {
			t.Errorf("kcat key %q, want %q", key, ev.Domain())
		}
		hdrs, _ := r["headers"].([]any)
		if !slices.Contains(hdrs, any(kafka.HeaderEventID)) || !slices.Contains(hdrs, any(ev.EventID())) {
			t.Errorf("kcat headers %v lack the event_id header %s", hdrs, ev.EventID())
		}
	}
	dlq := consume(kafka.TopicDLQ)
	if len(dlq) != 1 || dlq[0]["payload"] != "{broken" {
		t.Fatalf("kcat read dead letters %v, want the one broken line", dlq)
	}

	// kcat produces (snappy-compressed, with headers); WikiStream reads back.
	var in strings.Builder
	for i := range 50 {
		fmt.Fprintf(&in, "en.wikipedia.org\t%s\n", line("en.wikipedia.org", int64(1000+i), ts, "edit"))
	}
	cmd := exec.Command(kcat, "-P", "-b", addr, "-t", "from-kcat", "-K", "\t", "-z", "snappy",
		"-H", kafka.HeaderSource+"=kcat")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v: %s", err, out)
	}
	back := readTopic(t, addr, "from-kcat")
	if len(back) != 50 {
		t.Fatalf("read back %d records kcat produced, want 50", len(back))
	}
	for _, r := range back {
		ev, err := recentchange.Decode(r.Value, testNow, recentchange.DefaultLimits())
		if err != nil {
			t.Fatalf("record from kcat does not decode: %v", err)
		}
		if string(r.Key) != "en.wikipedia.org" || kafka.Header(r, kafka.HeaderSource) != "kcat" {
			t.Errorf("record from kcat: key %q headers %v", r.Key, r.Headers)
		}
		if *ev.ID < 1000 {
			t.Errorf("record from kcat has id %d, want >= 1000", *ev.ID)
		}
	}
}

// TestBackfillStopsAtUntilAndLeavesLiveResumeAlone: a backfill produces the
// events before its stop time, labels them as a backfill, and neither saves
// a checkpoint nor becomes the position the live ingest resumes from.
func TestBackfillStopsAtUntilAndLeavesLiveResumeAlone(t *testing.T) {
	addr := startBroker(t)
	base := testNow.Add(-2 * time.Hour).Unix()
	var msgs [][]byte
	for i := range 100 {
		msgs = append(msgs, line("en.wikipedia.org", int64(i), base+int64(i)*60, "edit"))
	}
	cfg := testConfig()
	cfg.Backfill, cfg.Resume = true, false
	cfg.StopAt = time.Unix(base+40*60, 0) // events 0..39 are before it
	src := &sliceSource{name: "mem://live", msgs: msgs}
	st, err := New(cfg, src, []kgo.Opt{kgo.SeedBrokers(addr)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := st.Stats().Produced; got != 40 {
		t.Fatalf("backfill produced %d events, want the 40 before --until", got)
	}
	for _, r := range readTopic(t, addr, kafka.TopicRaw) {
		if got := kafka.Header(r, kafka.HeaderSource); got != "backfill:mem://live" {
			t.Fatalf("backfill record source %q, want backfill:mem://live", got)
		}
	}
	cl, _ := kgo.NewClient(kgo.SeedBrokers(addr))
	defer cl.Close()
	cp, err := kafka.LoadCheckpoint(context.Background(), kadm.NewClient(cl), kafka.TopicRaw, "mem://live")
	if err != nil || cp.Position != "" {
		t.Fatalf("backfill left a checkpoint %+v (%v); want none", cp, err)
	}
	// The live ingest of the same source starts from its own (empty) position.
	live, err := New(testConfig(), &sliceSource{name: "mem://live", msgs: msgs}, []kgo.Opt{kgo.SeedBrokers(addr)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := live.Stats(); got.Resumed != "" || got.Read != 100 {
		t.Errorf("live ingest resumed at %q and read %d; want a fresh start reading all 100", got.Resumed, got.Read)
	}
}
