package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

func openLakehouse(tb testing.TB, dir string) *lakehouse.Lakehouse {
	tb.Helper()
	lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lh.Close() })
	return lh
}

func sqlRows(tb testing.TB, lh *lakehouse.Lakehouse, ident table.Identifier, sql string) *query.Result {
	tb.Helper()
	eng, err := query.Open(context.Background(), lh, []table.Identifier{ident}, query.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), sql, query.At{})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func snapshots(tb testing.TB, lh *lakehouse.Lakehouse) int {
	tb.Helper()
	tbl, err := lh.Load(context.Background(), lakehouse.OpsAlerts)
	if err != nil {
		tb.Fatal(err)
	}
	return len(tbl.Metadata().Snapshots())
}

// TestTableSinkRows: alerts land in ops.alerts with DESIGN's columns,
// readable through the SQL engine; a batch is one commit; an alert_id
// already present is not inserted again.
func TestTableSinkRows(t *testing.T) {
	lh := openLakehouse(t, t.TempDir())
	s, err := NewTableSink(lh)
	if err != nil {
		t.Fatal(err)
	}
	a := sampleAlert()
	b := Alert{ID: "ffffffffffffffffffffffffffffffff", Type: JobFailed, Severity: Critical, Title: "bronze failed",
		Evidence: map[string]any{}, Error: "commit bronze batch 9: disk full", Runbook: "docs/RUNBOOK.md#job_failed",
		CreatedAt: t0.Add(14*time.Hour + 123456*time.Microsecond), Suppressed: true}
	ctx := context.Background()
	if err := s.Send(ctx, []Alert{a, b, a}); err != nil {
		t.Fatal(err)
	}
	if n := snapshots(t, lh); n != 1 {
		t.Errorf("%d snapshots after one batch, want 1", n)
	}

	res := sqlRows(t, lh, lakehouse.OpsAlerts, "SELECT * FROM ops.alerts ORDER BY created_at")
	wantCols := "alert_id,alert_date,alert_type,severity,title,evidence,execution_id,error,runbook,created_at,suppressed,schema_version,dedupe_key"
	if got := strings.Join(res.Columns, ","); got != wantCols {
		t.Fatalf("columns %s, want %s", got, wantCols)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("%d rows, want 2 (the repeat in the batch lands once): %v", len(res.Rows), res.Rows)
	}
	wantRows := [][]any{
		{a.ID, "2026-11-25", "dq_failure", "warning", a.Title, `{"check":"uniqueness_event_id","duplicates":12,"sample":["a1","b2"]}`,
			a.ExecutionID, nil, a.Runbook, t0, false, int32(1), a.Key},
		{b.ID, "2026-11-26", "job_failed", "critical", b.Title, `{}`,
			nil, b.Error, b.Runbook, b.CreatedAt, true, int32(1), nil},
	}
	for i, want := range wantRows {
		for j, w := range want {
			g := res.Rows[i][j]
			if tw, ok := w.(time.Time); ok {
				if tg, ok := g.(time.Time); !ok || !tg.Equal(tw) {
					t.Errorf("row %d %s = %v, want %v", i, res.Columns[j], g, w)
				}
				continue
			}
			if fmt.Sprint(g) != fmt.Sprint(w) || (w == nil) != (g == nil) {
				t.Errorf("row %d %s = %#v, want %#v", i, res.Columns[j], g, w)
			}
		}
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(res.Rows[0][5].(string)), &ev); err != nil {
		t.Errorf("evidence is not JSON: %v", err)
	}

	// Again, with one new alert: only that one is added, in one commit.
	c := sampleAlert()
	c.ID = "cccccccccccccccccccccccccccccccc"
	if err := s.Send(ctx, []Alert{b, a, c}); err != nil {
		t.Fatal(err)
	}
	if n := snapshots(t, lh); n != 2 {
		t.Errorf("%d snapshots after the second batch, want 2", n)
	}
	// Nothing new: no commit at all.
	if err := s.Send(ctx, []Alert{a, b, c}); err != nil {
		t.Fatal(err)
	}
	if n := snapshots(t, lh); n != 2 {
		t.Errorf("%d snapshots after a batch of known alerts, want still 2", n)
	}
	res = sqlRows(t, lh, lakehouse.OpsAlerts, "SELECT alert_id, count(*) FROM ops.alerts GROUP BY ALL ORDER BY 1")
	if got := fmt.Sprint(res.Rows); got != fmt.Sprintf("[[%s 1] [%s 1] [%s 1]]", a.ID, c.ID, b.ID) {
		t.Errorf("alert_id counts %s, want each of 3 ids once", got)
	}

	recent, err := s.Recent(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 1 || recent[0].ID != b.ID || !recent[0].CreatedAt.Equal(b.CreatedAt) || !recent[0].Suppressed {
		t.Errorf("Recent(11:00) = %+v, want only %s, suppressed, at %s", recent, b.ID, b.CreatedAt)
	}
}

// TestSeedAcrossRestart: a new process (new lakehouse handle, new
// dispatcher) does not re-send what the first one sent within its
// cool-down, records the repeat as suppressed, and sends again once the
// cool-down has passed.
func TestSeedAcrossRestart(t *testing.T) {
	tests := []struct {
		name     string
		typ      Type
		key      string
		restart  time.Duration // after the first alert
		wantSent bool
	}{
		{"dq failure within the cool-down", DQFailure, "silver/uniqueness", 10 * time.Minute, false},
		{"dq failure across a window boundary", DQFailure, "silver/uniqueness", 29 * time.Minute, false},
		{"dq failure after the cool-down", DQFailure, "silver/uniqueness", 31 * time.Minute, true},
		{"risk for the same entity and day, days later", RiskHigh, "2026-11-25/198.51.100.7", 6 * 24 * time.Hour, false},
		{"risk after the 192h cool-down", RiskHigh, "2026-11-25/198.51.100.7", 193 * time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first := t0.Add(20 * time.Minute)

			// Process 1.
			lh1 := openLakehouse(t, dir)
			table1, err := NewTableSink(lh1)
			if err != nil {
				t.Fatal(err)
			}
			out1 := &memSink{name: "out"}
			d1, err := New(context.Background(), testConfig(newClock(first), prometheus.NewRegistry()), table1, out1)
			if err != nil {
				t.Fatal(err)
			}
			stop1 := start(t, d1)
			if err := d1.Raise(context.Background(), Alert{Type: tc.typ, Key: tc.key, Title: "first"}); err != nil {
				t.Fatal(err)
			}
			stop1() // drains
			lh1.Close()
			if len(out1.alerts()) != 1 {
				t.Fatalf("process 1 sent %d alerts, want 1", len(out1.alerts()))
			}

			// Process 2, over the same directory.
			lh2 := openLakehouse(t, dir)
			table2, err := NewTableSink(lh2)
			if err != nil {
				t.Fatal(err)
			}
			out2 := &memSink{name: "out"}
			reg := prometheus.NewRegistry()
			d2, err := New(context.Background(), testConfig(newClock(first.Add(tc.restart)), reg), table2, out2)
			if err != nil {
				t.Fatal(err)
			}
			stop2 := start(t, d2)
			if err := d2.Raise(context.Background(), Alert{Type: tc.typ, Key: tc.key, Title: "again"}); err != nil {
				t.Fatal(err)
			}
			stop2()
			if sent := len(out2.alerts()) == 1; sent != tc.wantSent {
				t.Errorf("process 2 sent the repeat: %t, want %t", sent, tc.wantSent)
			}
			res := sqlRows(t, lh2, lakehouse.OpsAlerts, "SELECT title, suppressed FROM ops.alerts ORDER BY created_at")
			want := fmt.Sprintf("[[first false] [again %t]]", !tc.wantSent)
			if got := fmt.Sprint(res.Rows); got != want {
				t.Errorf("ops.alerts %s, want %s", got, want)
			}
		})
	}
}
