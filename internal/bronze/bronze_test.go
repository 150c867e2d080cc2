package bronze

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
)

type env struct {
	addr string
	opts []kgo.Opt
	lh   *lakehouse.Lakehouse
}

func newEnv(tb testing.TB, partitions int32) *env {
	tb.Helper()
	bc := kafka.DefaultBrokerConfig()
	bc.Addr = "127.0.0.1:0"
	bc.Partitions = partitions
	b, err := kafka.StartBroker(bc)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lh.Close() })
	e := &env{addr: b.Addr(), opts: []kgo.Opt{kgo.SeedBrokers(b.Addr())}, lh: lh}
	cl := e.client(tb)
	if err := kafka.EnsureTopics(context.Background(), kadm.NewClient(cl), partitions, -1, kafka.TopicRaw, kafka.TopicDLQ); err != nil {
		tb.Fatal(err)
	}
	return e
}

func (e *env) client(tb testing.TB) *kgo.Client {
	cl, err := kgo.NewClient(e.opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

// events generates n realistic events (with the generator's duplicates and
// malformed lines) and splits them into valid and invalid as ingest would.
func events(tb testing.TB, n int, seed int64) (valid, invalid [][]byte) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Duplicates, cfg.Malformed, cfg.OutOfOrder = n, seed, 0.05, 0.01, 0.05
	g, err := gen.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for {
		l, ok := g.Next()
		if !ok {
			return valid, invalid
		}
		l = append([]byte(nil), l...)
		if _, err := recentchange.Decode(l, time.Now(), recentchange.DefaultLimits()); err != nil {
			invalid = append(invalid, l)
		} else {
			valid = append(valid, l)
		}
	}
}

// produce writes events as ingest does: valid ones keyed by domain with an
// event_id header to raw-events, invalid ones to dlq-events with a reason.
func (e *env) produce(tb testing.TB, src string, valid, invalid [][]byte) {
	tb.Helper()
	var recs []*kgo.Record
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i, v := range valid {
		ev, _ := recentchange.Parse(v)
		recs = append(recs, &kgo.Record{Topic: kafka.TopicRaw, Key: []byte(ev.Domain()), Value: v, Headers: []kgo.RecordHeader{
			{Key: kafka.HeaderSource, Value: []byte(src)}, {Key: kafka.HeaderPosition, Value: []byte(fmt.Sprint(i))},
			{Key: kafka.HeaderIngestedAt, Value: []byte(now)}}})
	}
	for i, v := range invalid {
		recs = append(recs, &kgo.Record{Topic: kafka.TopicDLQ, Value: v, Headers: []kgo.RecordHeader{
			{Key: kafka.HeaderSource, Value: []byte(src)}, {Key: kafka.HeaderPosition, Value: []byte(fmt.Sprintf("bad-%d", i))},
			{Key: kafka.HeaderReason, Value: []byte("not_json")}, {Key: kafka.HeaderIngestedAt, Value: []byte(now)}}})
	}
	if err := e.client(tb).ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		tb.Fatal(err)
	}
}

// drain runs stages until they have committed everything in both topics.
func (e *env) drain(tb testing.TB, cfgs ...Config) []*Stage {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	adm := kadm.NewClient(e.client(tb))
	ends, err := adm.ListEndOffsets(ctx, kafka.TopicRaw, kafka.TopicDLQ)
	if err != nil {
		tb.Fatal(err)
	}
	var stages []*Stage
	var wg sync.WaitGroup
	errs := make(chan error, len(cfgs))
	for _, cfg := range cfgs {
		st, err := New(cfg, e.lh, e.opts, nil)
		if err != nil {
			tb.Fatal(err)
		}
		stages = append(stages, st)
		wg.Add(1)
		go func() { defer wg.Done(); errs <- st.Run(ctx) }()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		off := lakehouse.Offsets{}
		for _, st := range stages {
			off.Merge(st.Committed())
		}
		done := true
		ends.Each(func(o kadm.ListedOffset) {
			if off[o.Topic][o.Partition] < o.Offset {
				done = false
			}
		})
		if done {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("bronze did not catch up in 2 minutes: committed %v, ends %v", off, ends)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return stages
}

func testConfig() Config {
	c := DefaultConfig()
	c.Interval = 200 * time.Millisecond
	return c
}

// keys returns the sorted key column of a table and its data file count.
func (e *env) keys(tb testing.TB, ident table.Identifier) ([]string, int) {
	tb.Helper()
	tbl, err := e.lh.Load(context.Background(), ident)
	if err != nil {
		tb.Fatal(err)
	}
	if tbl.CurrentSnapshot() == nil {
		return nil, 0
	}
	out, err := lakehouse.ScanStrings(context.Background(), tbl, tbl.Schema().Fields()[0].Name)
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(out)
	tasks, _ := tbl.Scan().PlanFiles(context.Background())
	return out, len(tasks)
}

func distinctIDs(valid [][]byte) []string {
	set := map[string]bool{}
	for _, v := range valid {
		ev, _ := recentchange.Parse(v)
		set[ev.EventID()] = true
	}
	var out []string
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// TestExactlyOnceWithDuplicatesAndReplay: duplicates in the topic, the same
// events produced again later (an ingest restart or backfill), and a replay
// of the whole topic from the start all end with each event exactly once.
func TestExactlyOnceWithDuplicatesAndReplay(t *testing.T) {
	e := newEnv(t, 6)
	valid, invalid := events(t, 4000, 1)
	e.produce(t, "gen://1", valid, invalid)
	st := e.drain(t, testConfig())
	want := distinctIDs(valid)
	got, files := e.keys(t, lakehouse.BronzeRawEvents)
	if !equal(got, want) {
		t.Fatalf("bronze.raw_events holds %d event_ids, want the %d distinct valid ones", len(got), len(want))
	}
	dlq, _ := e.keys(t, lakehouse.BronzeDLQEvents)
	if len(dlq) != len(invalid) {
		t.Fatalf("bronze.dlq_events holds %d rows, want %d", len(dlq), len(invalid))
	}
	if s := st[0].Stats(); s.Duplicates != int64(len(valid)-len(want)) {
		t.Errorf("duplicates skipped %d, want %d", s.Duplicates, len(valid)-len(want))
	}
	t.Logf("%d events in %d data files", len(got), files)

	// The same records again, as an ingest restart would produce them.
	e.produce(t, "gen://1", valid[len(valid)/2:], invalid)
	e.drain(t, testConfig())
	if got, _ := e.keys(t, lakehouse.BronzeRawEvents); !equal(got, want) {
		t.Fatalf("after producing again: %d event_ids, want %d", len(got), len(want))
	}

	// A replay of the whole topics from the start adds no row and no file.
	_, filesBefore := e.keys(t, lakehouse.BronzeRawEvents)
	rc := testConfig()
	rc.Replay = true
	rc.Group = "replay"
	e.drain(t, rc)
	got, filesAfter := e.keys(t, lakehouse.BronzeRawEvents)
	if !equal(got, want) {
		t.Fatalf("after replay: %d event_ids, want %d", len(got), len(want))
	}
	if filesAfter != filesBefore {
		t.Errorf("replay added data files: %d, before %d", filesAfter, filesBefore)
	}
	if dlq, _ := e.keys(t, lakehouse.BronzeDLQEvents); len(dlq) != len(invalid) {
		t.Fatalf("after replay: %d dead letters, want %d", len(dlq), len(invalid))
	}
}

// TestTwoProcessesShareSixPartitions runs two bronze stages in one consumer
// group against one table while events arrive: nothing is lost or doubled.
func TestTwoProcessesShareSixPartitions(t *testing.T) {
	e := newEnv(t, 6)
	valid, invalid := events(t, 6000, 2)
	r := rand.New(rand.NewPCG(3, 4))
	r.Shuffle(len(valid), func(i, j int) { valid[i], valid[j] = valid[j], valid[i] })
	e.produce(t, "gen://2", valid, invalid)
	stages := e.drain(t, testConfig(), testConfig())
	want := distinctIDs(valid)
	got, _ := e.keys(t, lakehouse.BronzeRawEvents)
	if !equal(got, want) {
		t.Fatalf("two processes: %d event_ids, want %d", len(got), len(want))
	}
	var commits int64
	for _, st := range stages {
		commits += st.Stats().Commits
	}
	if dlq, _ := e.keys(t, lakehouse.BronzeDLQEvents); len(dlq) != len(invalid) {
		t.Fatalf("two processes: %d dead letters, want %d", len(dlq), len(invalid))
	}
	t.Logf("%d rows by %d commits of 2 processes", len(got), commits)
}

// TestUnusableRawRecordIsDeadLettered: a record on raw-events that is not
// an event (another producer wrote it) lands in bronze.dlq_events.
func TestUnusableRawRecordIsDeadLettered(t *testing.T) {
	e := newEnv(t, 1)
	valid, _ := events(t, 10, 3)
	if err := e.client(t).ProduceSync(context.Background(),
		&kgo.Record{Topic: kafka.TopicRaw, Value: []byte("garbage from elsewhere")},
		&kgo.Record{Topic: kafka.TopicRaw, Value: valid[0]}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	e.drain(t, testConfig())
	raw, _ := e.keys(t, lakehouse.BronzeRawEvents)
	dlq, _ := e.keys(t, lakehouse.BronzeDLQEvents)
	if len(raw) != 1 || len(dlq) != 1 {
		t.Fatalf("raw %d rows, dlq %d rows; want 1 and 1", len(raw), len(dlq))
	}
}

// TestRunAgainAfterStopShowsLag: a stage stopped with a batch pending (as
// a supervisor stops a stalled stage) runs again on the same Stage value
// without losing or duplicating a row, and Lag counts what is fetched but
// not committed until it is.
func TestRunAgainAfterStopShowsLag(t *testing.T) {
	e := newEnv(t, 3)
	valid, invalid := events(t, 2000, 3)
	e.produce(t, "gen://3", valid, invalid)
	cfg := testConfig()
	cfg.Interval, cfg.BatchSize = time.Hour, 1_000_000 // nothing commits on its own
	st, err := New(cfg, e.lh, e.opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- st.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for st.Lag()[kafka.TopicRaw] < int64(len(valid)) {
		if time.Now().After(deadline) {
			t.Fatalf("lag %v: want all %d raw records fetched and uncommitted", st.Lag(), len(valid))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := e.keys(t, lakehouse.BronzeRawEvents); len(got) != 0 {
		t.Fatalf("%d rows committed by the stopped run, want none", len(got))
	}

	st.cfg.Interval, st.cfg.BatchSize = 100*time.Millisecond, 500
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- st.Run(ctx) }()
	for l := st.Lag(); l[kafka.TopicRaw] > 0 || l[kafka.TopicDLQ] > 0; l = st.Lag() {
		if time.Now().After(deadline) {
			t.Fatalf("lag %v after the second run's commits, want 0", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := e.keys(t, lakehouse.BronzeRawEvents); !equal(got, distinctIDs(valid)) {
		t.Fatalf("after the second run: %d event_ids, want the %d distinct valid ones", len(got), len(distinctIDs(valid)))
	}
	if dlq, _ := e.keys(t, lakehouse.BronzeDLQEvents); len(dlq) != len(invalid) {
		t.Fatalf("%d dead letters, want %d", len(dlq), len(invalid))
	}
}
