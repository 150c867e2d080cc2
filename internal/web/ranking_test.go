package web

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestRankingKeepsCollidingKeys: two pages (X and Y) share a key, and
// their rows inflate the lower bound the ranking skips pages by. Unless
// the ranking notices that the key holds two names, it skips every page
// (no row reaches the threshold the shared key sets) and the list is
// empty, with no collision for the server to rank by name on.
func TestRankingKeepsCollidingKeys(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hour := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := rankedSQL{
		table: `(SELECT *, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS hour_start FROM (VALUES ('d', 'X', 1::BIGINT, 6::BIGINT, false),
			('d', 'X', 1, 6, true), ('d', 'Y', 1, 6, false), ('d', 'Y', 1, 6, true), ('d', 'Z', 2, 11, false))
			AS v(domain, title, page_id, edits, is_bot))`,
		id: "page_id", name: "domain, title", limit: 1, rowsPerSpan: 2, span: span{f: filters{from: hour, to: hour}},
		cols:   "domain, title, edits",
		detail: `SELECT domain, title, sum(edits)::BIGINT AS edits FROM %s GROUP BY ALL`,
		rows:   `SELECT * FROM detail ORDER BY edits DESC, domain, title`,
	}
	list := func(byName bool) (title string, edits, collisions int64) {
		t.Helper()
		var domain string
		err := db.QueryRow(q.sql(byName)).Scan(&domain, &title, &edits, &collisions)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("byName %t: %v", byName, err)
		}
		return title, edits, collisions
	}
	if title, _, c := list(false); c == 0 {
		t.Errorf("ranked by key: got %q and no collision, so the server would not rank by name", title)
	}
	if title, edits, _ := list(true); title != "X" || edits != 12 {
		t.Errorf("ranked by name: got %q with %d edits, want X with 12", title, edits)
	}
}
