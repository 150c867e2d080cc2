package query

import (
	"database/sql"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func TestZZOverhead(t *testing.T) {
	for _, threads := range []int{2} {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		mustExec := func(q string) {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(q, err)
			}
		}
		mustExec(fmt.Sprintf("SET threads = %d", threads))
		mustExec(`CREATE TABLE t AS SELECT strftime(DATE '2026-11-01' + (i // 1100)::INT, '%Y-%m-%d') AS stat_date, (i % 24)::INT AS stat_hour,
			'wiki' || (i % 97) AS domain, i AS total_events, i % 7 AS bot_events FROM range(33000) r(i)`)
		for name, q := range map[string]string{
			"one":    "SELECT 1",
			"top1b":  "SELECT (SELECT stat_date || 'T' || lpad(stat_hour::VARCHAR, 2, '0') FROM (SELECT stat_date, stat_hour FROM t ORDER BY stat_date, stat_hour LIMIT 1)) AS a, (SELECT stat_date || 'T' || lpad(stat_hour::VARCHAR, 2, '0') FROM (SELECT stat_date, stat_hour FROM t ORDER BY stat_date DESC, stat_hour DESC LIMIT 1)) AS b",
			"top1c":  "SELECT * FROM (SELECT stat_date, stat_hour FROM t ORDER BY stat_date, stat_hour LIMIT 1), (SELECT stat_date AS d, stat_hour AS h FROM t ORDER BY stat_date DESC, stat_hour DESC LIMIT 1)",
			"old":    "WITH days AS (SELECT min(stat_date) AS lo, max(stat_date) AS hi FROM t) SELECT lo || 'T' || lpad((SELECT min(stat_hour) FROM t, days WHERE stat_date = lo)::VARCHAR, 2, '0') AS first_hour, hi || 'T' || lpad((SELECT max(stat_hour) FROM t, days WHERE stat_date = hi)::VARCHAR, 2, '0') AS last_hour FROM days",
			"count":  "SELECT count(*) FROM t",
			"sum":    "SELECT sum(total_events) FROM t WHERE stat_date BETWEEN '2026-11-01' AND '2026-12-01'",
			"top1":   "SELECT (SELECT stat_date || 'T' || lpad(stat_hour::VARCHAR, 2, '0') FROM t ORDER BY stat_date, stat_hour LIMIT 1) AS a, (SELECT stat_date || 'T' || lpad(stat_hour::VARCHAR, 2, '0') FROM t ORDER BY stat_date DESC, stat_hour DESC LIMIT 1) AS b",
			"minmax": "SELECT min(stat_date), max(stat_date) FROM t",
			"dist":   "SELECT count(DISTINCT domain), count(DISTINCT (stat_date, stat_hour)) FROM t",
		} {
			var took []time.Duration
			for i := range 120 {
				t0 := time.Now()
				rows, err := db.Query(q)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
				if i >= 20 {
					took = append(took, time.Since(t0))
				}
			}
			slices.Sort(took)
			fmt.Fprintf(os.Stderr, "threads %d %-7s p50 %v p95 %v\n", threads, name, took[50], took[95])
		}
		db.Close()
	}
}
