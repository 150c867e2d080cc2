package silver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/silver"
	"github.com/wikistream/wikistream/internal/stagetest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// lines reads up to max events of a recorded file.
func lines(tb testing.TB, name string, max int) [][]byte {
	all := ssetest.ReadLines(tb, ssetest.SharedData(tb, name))
	return all[:min(max, len(all))]
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

func one(tb testing.TB, p *stagetest.Pipeline, sql string) []any {
	tb.Helper()
	rows := p.Query(tb, sql)
	if len(rows) != 1 {
		tb.Fatalf("%s: %d rows, want 1", sql, len(rows))
	}
	return rows[0]
}

func num(v any) int {
	var n int
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// TestSilverOnRecordedEvents cleans real recorded events and checks the
// silver aggregates against values computed from the raw JSON.
func TestSilverOnRecordedEvents(t *testing.T) {
	events := lines(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz", 6000)
	events = append(events, lines(t, "polars_book_wikimedia_enwiki_2023-07-29.ndjson", 100)...)
	events = append(events, lines(t, "arvindp25_DataPlumbHub_stream2025-05-03_07_46_20Z.jsonl", 200)...)
	p := stagetest.New(t)
	p.Bronze(t, events)
	st, err := silver.New(silver.DefaultConfig(), p.LH)
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
	got := one(t, p, `SELECT count(*), count(DISTINCT event_id), sum(is_anonymous::INT), sum(is_ip::INT),
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
	before := snapshot(t, p.LH)
	res, err = st.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || snapshot(t, p.LH) != before {
		t.Errorf("second run added %d rows / moved the snapshot; want nothing", res.Added)
	}

	// New bronze commits, with duplicates of what is there: only the new
	// events are added, and a fresh stage (a restart) resumes from the
	// checkpoint in the table.
	more := lines(t, "sat99496_wikistream-lakehouse_recentchanges_sample.jsonl", 100)
	p.Bronze(t, append(append([][]byte{}, events[:500]...), more...))
	st2, _ := silver.New(silver.DefaultConfig(), p.LH)
	res, err = st2.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantAll := expect(t, append(events, more...))
	if got := num(one(t, p, "SELECT count(*) FROM silver.cleaned_events")[0]); got != wantAll.rows {
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

// TestSilverBoundsRowsPerRun: during a backlog one run reads whole bronze
// commits up to MaxRows rows (at least one commit), so memory stays
// bounded, and the runs together add every row exactly once.
func TestSilverBoundsRowsPerRun(t *testing.T) {
	events := lines(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz", 900)
	p := stagetest.New(t)
	for i := 0; i < 3; i++ {
		p.Bronze(t, events[i*300:(i+1)*300])
	}
	want := expect(t, events).rows
	cfg := silver.DefaultConfig()
	cfg.MaxRows = 1 // one bronze commit per run
	st, err := silver.New(cfg, p.LH)
	if err != nil {
		t.Fatal(err)
	}
	var runs, added int
	for {
		res, err := st.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.Read > 300 {
			t.Fatalf("run %d read %d rows; want at most one bronze commit (300)", runs, res.Read)
		}
		runs++
		added += res.Added
		if res.Caught {
			break
		}
		if runs > 10 {
			t.Fatal("silver did not catch up in 10 runs")
		}
	}
	if runs < 3 {
		t.Errorf("caught up in %d runs; with MaxRows 1 each of the 3 bronze commits takes a run", runs)
	}
	if got := num(one(t, p, "SELECT count(*) FROM silver.cleaned_events")[0]); got != want || added != want {
		t.Errorf("silver holds %d rows (%d added); want %d", got, added, want)
	}
}
