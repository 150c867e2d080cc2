package gold

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestRiskFeedLinks: the evidence names the wiki with the most edits (the
// first by name on a tie) and the sample edits (the first five with a
// revision and the large deletions with one, once each, by length change,
// time and id), with nulls where silver has none and times as the SQL
// engine renders a TIMESTAMPTZ (RFC 3339 in UTC, fractions without
// trailing zeros).
func TestRiskFeedLinks(t *testing.T) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	d := &dayActivity{entities: map[string]*entityDay{}}
	e := &entityDay{}
	add := func(n int, domain string, micros, delta int64, mutate func(*activityRow)) {
		r := activityRow{entity: "X", domain: d.intern(domain), title: fmt.Sprint("Page ", n), hasTitle: true,
			id: fmt.Sprintf("id%02d", n), rev: int64(100 + n), hasRev: true, revOld: int64(50 + n), hasRevOld: true,
			ts: base + micros, delta: delta}
		if mutate != nil {
			mutate(&r)
		}
		e.add(r)
	}
	largeDeletion := func(r *activityRow) { r.largeDeletion = true }
	noRevision := func(r *activityRow) { r.hasRev = false }
	add(1, "b.org", 1_000_000, 10, func(r *activityRow) { r.hasTitle = false })
	add(2, "b.org", 2_000_120, 5, func(r *activityRow) { r.hasRevOld = false })
	add(3, "c.org", 3_000_000, 7, noRevision)
	add(4, "a.org", 4_000_000, -2000, largeDeletion) // among the first five, and a large deletion: once
	add(6, "d.org", 5_000_000, 3, nil)               // the same change as 5, earlier
	add(5, "a.org", 6_000_000, 3, nil)
	add(7, "e.org", 7_000_000, 1, nil) // the sixth with a revision
	add(8, "e.org", 8_000_000, -1500, largeDeletion)
	add(9, "f.org", 9_000_000, -3000, func(r *activityRow) { r.largeDeletion, r.hasRev = true, false })

	_, _, ev := Score(e.activity("2026-11-01", "X"), 1000)
	if ev.TopDomain != "a.org" {
		t.Errorf("top_domain %q, want a.org (two edits, as b.org and e.org, and the first by name)", ev.TopDomain)
	}
	got, _ := json.Marshal(ev.Samples)
	want := `[` +
		`{"domain":"a.org","title":"Page 4","revision_old":54,"revision_new":104,"length_delta":-2000,"event_timestamp":"2026-11-01T00:00:04Z"},` +
		`{"domain":"e.org","title":"Page 8","revision_old":58,"revision_new":108,"length_delta":-1500,"event_timestamp":"2026-11-01T00:00:08Z"},` +
		`{"domain":"d.org","title":"Page 6","revision_old":56,"revision_new":106,"length_delta":3,"event_timestamp":"2026-11-01T00:00:05Z"},` +
		`{"domain":"a.org","title":"Page 5","revision_old":55,"revision_new":105,"length_delta":3,"event_timestamp":"2026-11-01T00:00:06Z"},` +
		`{"domain":"b.org","title":"Page 2","revision_old":null,"revision_new":102,"length_delta":5,"event_timestamp":"2026-11-01T00:00:02.00012Z"},` +
		`{"domain":"b.org","title":null,"revision_old":51,"revision_new":101,"length_delta":10,"event_timestamp":"2026-11-01T00:00:01Z"}]`
	if string(got) != want {
		t.Errorf("samples\n%s\nwant\n%s", got, want)
	}
}

// TestSampleListsEqualSorted: whatever the order the edits come in, an
// entity's four lists are the sampleSize earliest edits of their kind by
// (ts, id), and it holds no edit that none of them lists.
func TestSampleListsEqualSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 28))
	for round := range 500 {
		e := &entityDay{}
		var rows []activityRow
		for i := range 1 + r.IntN(40) {
			row := activityRow{entity: "X", domain: "a.org", id: fmt.Sprintf("id%03d", r.IntN(1000)),
				title: fmt.Sprint("Page ", i), ts: int64(r.IntN(20)), rev: int64(i),
				hasTitle: r.IntN(4) > 0, hasRev: r.IntN(4) > 0, largeDeletion: r.IntN(3) == 0}
			rows = append(rows, row)
			e.add(row)
		}
		slices.SortStableFunc(rows, func(a, b activityRow) int {
			return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.id, b.id))
		})
		first := func(keep func(activityRow) bool) (titles []string, revs []int64) {
			titles, revs = []string{}, []int64{}
			for _, row := range rows {
				if keep(row) && len(titles) < sampleSize {
					titles, revs = append(titles, row.title), append(revs, row.rev)
				}
			}
			return titles, revs
		}
		wantTitles, _ := first(func(r activityRow) bool { return r.hasTitle })
		_, wantRevs := first(func(r activityRow) bool { return r.hasRev })
		wantDelTitles, _ := first(func(r activityRow) bool { return r.hasTitle && r.largeDeletion })
		_, wantDelRevs := first(func(r activityRow) bool { return r.hasRev && r.largeDeletion })
		a := e.activity("2026-11-01", "X")
		got := fmt.Sprint(a.SampleTitles, a.SampleRevisions, a.DeletionTitles, a.DeletionRevs)
		want := fmt.Sprint(wantTitles, wantRevs, wantDelTitles, wantDelRevs)
		// Equal (ts, id) pairs are the same edit in silver; here they may
		// differ, and which of them comes first is not defined.
		if got != want && !tiedIDs(rows) {
			t.Fatalf("round %d: lists %s, want %s", round, got, want)
		}
		listed := map[string]bool{}
		for _, s := range slices.Concat(e.kept.of(listTitles), e.kept.of(listRevs), e.kept.of(listDelTitles), e.kept.of(listDelRevs)) {
			listed[s.id+s.title] = true
		}
		for _, s := range e.kept {
			if !listed[s.id+s.title] {
				t.Fatalf("round %d: holds %s (%s), which no list names", round, s.title, s.id)
			}
		}
	}
}

// tiedIDs reports whether two rows share ts and id.
func tiedIDs(rows []activityRow) bool {
	for i := 1; i < len(rows); i++ {
		if rows[i].ts == rows[i-1].ts && rows[i].id == rows[i-1].id {
			return true
		}
	}
	return false
}
