package gold

import (
	"encoding/json"
	"fmt"
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
