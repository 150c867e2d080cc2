package silver

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/recentchange"
)

// env is a broker, a lakehouse and a bronze stage to fill it. Tests of
// silver use the real bronze stage to write bronze.raw_events, as in
// production; silver itself never imports bronze.
type env struct {
	opts []kgo.Opt
	lh   *lakehouse.Lakehouse
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	bc := kafka.DefaultBrokerConfig()
	bc.Addr = "127.0.0.1:0"
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
	e := &env{opts: []kgo.Opt{kgo.SeedBrokers(b.Addr())}, lh: lh}
	cl, _ := kgo.NewClient(e.opts...)
	defer cl.Close()
	if err := kafka.EnsureTopics(context.Background(), kadm.NewClient(cl), 3, -1, kafka.TopicRaw, kafka.TopicDLQ); err != nil {
		tb.Fatal(err)
	}
	return e
}

// bronzeFrom produces events and runs bronze until they are committed.
func (e *env) bronzeFrom(tb testing.TB, events [][]byte) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl, _ := kgo.NewClient(e.opts...)
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range events {
		recs = append(recs, &kgo.Record{Topic: kafka.TopicRaw, Value: v})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tb.Fatal(err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, kafka.TopicRaw)
	if err != nil {
		tb.Fatal(err)
	}
	bc := bronze.DefaultConfig()
	bc.Interval = 100 * time.Millisecond
	st, err := bronze.New(bc, e.lh, e.opts, nil)
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	for {
		off := st.Committed()
		caught := true
		ends.Each(func(o kadm.ListedOffset) {
			if off[o.Topic][o.Partition] < o.Offset {
				caught = false
			}
		})
		if caught {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
}

func sharedData(tb testing.TB, name string) string {
	tb.Helper()
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return filepath.Join(p, name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("shared/data is absent")
		}
		dir = parent
	}
}

func readEvents(tb testing.TB, path string, max int) [][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatal(err)
		}
		r = zr
	}
	var out [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() && len(out) < max {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, []byte(l))
		}
	}
	return out
}

// expected computes, straight from the raw JSON and without silver's code,
// what silver must hold for these events.
type expected struct {
	rows, anonymous, ips, temporary, largeDeletions, newPages, bots int
}

func expect(tb testing.TB, events [][]byte) expected {
	var x expected
	seen := map[string]bool{}
	for _, raw := range events {
		ev, err := recentchange.Decode(raw, time.Now(), recentchange.DefaultLimits())
		if err != nil || seen[ev.EventID()] {
			continue
		}
		seen[ev.EventID()] = true
		x.rows++
		var m struct {
			User   string `json:"user"`
			Type   string `json:"type"`
			Bot    bool   `json:"bot"`
			Length *struct {
				Old *int64 `json:"old"`
				New *int64 `json:"new"`
			} `json:"length"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			tb.Fatal(err)
		}
		_, ipErr := netip.ParseAddr(m.User)
		ip := ipErr == nil
		temp := strings.HasPrefix(m.User, "~")
		if ip {
			x.ips++
		}
		if temp {
			x.temporary++
		}
		if ip || temp {
			x.anonymous++
		}
		if m.Bot {
			x.bots++
		}
		if m.Type == "new" {
			x.newPages++
		}
		if m.Length != nil {
			var o, n int64
			if m.Length.Old != nil {
				o = *m.Length.Old
			}
			if m.Length.New != nil {
				n = *m.Length.New
			}
			if n-o <= -1000 {
				x.largeDeletions++
			}
		}
	}
	return x
}

func (e *env) query(tb testing.TB, sql string) []any {
	tb.Helper()
	eng, err := query.Open(context.Background(), e.lh, lakehouse.Tables(), query.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), sql, query.At{})
	if err != nil {
		tb.Fatal(err)
	}
	if len(res.Rows) != 1 {
		tb.Fatalf("%s: %d rows, want 1", sql, len(res.Rows))
	}
	return res.Rows[0]
}

func num(v any) int {
	var n int
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// TestSilverOnRecordedEvents cleans real recorded events and checks the
// silver aggregates against values computed from the raw JSON.
func TestSilverOnRecordedEvents(t *testing.T) {
	events := readEvents(t, sharedData(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"), 6000)
	events = append(events, readEvents(t, sharedData(t, "polars_book_wikimedia_enwiki_2023-07-29.ndjson"), 100)...)
	events = append(events, readEvents(t, sharedData(t, "arvindp25_DataPlumbHub_stream2025-05-03_07_46_20Z.jsonl"), 200)...)
	e := newEnv(t)
	e.bronzeFrom(t, events)
	st, err := New(DefaultConfig(), e.lh)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := expect(t, events)
	if res.Added != want.rows || !res.Caught {
		t.Fatalf("silver run: %+v, want %d rows added and caught up", res, want.rows)
	}
	got := e.query(t, `SELECT count(*), count(DISTINCT event_id), sum(is_anonymous::INT), sum(is_ip::INT),
		sum(is_temporary_account::INT), sum(is_large_deletion::INT), sum(is_new_page::INT), sum(is_bot::INT),
		sum((language = '' AND project = 'wikipedia')::INT),
		sum((domain = 'en.wikipedia.org' AND region <> 'americas')::INT)
		FROM silver.cleaned_events`)
	checks := []struct {
		name      string
		got, want int
	}{
		{"rows", num(got[0]), want.rows}, {"distinct event_ids", num(got[1]), want.rows},
		{"anonymous", num(got[2]), want.anonymous}, {"ip", num(got[3]), want.ips},
		{"temporary accounts", num(got[4]), want.temporary}, {"large deletions", num(got[5]), want.largeDeletions},
		{"new pages", num(got[6]), want.newPages}, {"bots", num(got[7]), want.bots},
		{"wikipedias without a language", num(got[8]), 0}, {"en.wikipedia.org outside americas", num(got[9]), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	if want.anonymous == 0 || want.largeDeletions == 0 {
		t.Errorf("the sample has %d anonymous edits and %d large deletions; the test needs some of each", want.anonymous, want.largeDeletions)
	}

	// Running again changes nothing: no new snapshot.
	before := snapshot(t, e.lh)
	res, err = st.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || snapshot(t, e.lh) != before {
		t.Errorf("second run added %d rows / moved the snapshot; want nothing", res.Added)
	}

	// New bronze commits, with duplicates of what is there: only the new
	// events are added, and a fresh stage (a restart) resumes from the
	// checkpoint in the table.
	more := readEvents(t, sharedData(t, "sat99496_wikistream-lakehouse_recentchanges_sample.jsonl"), 100)
	e.bronzeFrom(t, append(append([][]byte{}, events[:500]...), more...))
	st2, _ := New(DefaultConfig(), e.lh)
	res, err = st2.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantAll := expect(t, append(events, more...))
	if got := num(e.query(t, "SELECT count(*) FROM silver.cleaned_events")[0]); got != wantAll.rows {
		t.Errorf("after more bronze commits: %d silver rows, want %d", got, wantAll.rows)
	}
	if res.Read != wantAll.rows-want.rows {
		t.Errorf("the incremental run read %d bronze rows, want only the %d new ones", res.Read, wantAll.rows-want.rows)
	}
}

func snapshot(tb testing.TB, lh *lakehouse.Lakehouse) int64 {
	tbl, err := lh.Load(context.Background(), lakehouse.SilverCleanedEvents)
	if err != nil {
		tb.Fatal(err)
	}
	return lakehouse.SnapshotID(tbl)
}
