package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/stagetest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

func TestBindingNeedsATokenOffLoopback(t *testing.T) {
	token := "0123456789abcdef0123"
	for _, c := range []struct {
		addr, token, want string
	}{
		{"127.0.0.1:8080", "", ""},
		{"localhost:8080", "", ""},
		{"[::1]:8080", "", ""},
		{"0.0.0.0:8080", "", "--http-token"},
		{":8080", "", "--http-token"},
		{"192.168.1.5:8080", "", "WIKISTREAM_HTTP_TOKEN"},
		{"0.0.0.0:8080", token, ""},
		{"0.0.0.0:8080", "short", "16 characters"},
		{"nohostport", "", "host:port"},
	} {
		err := Config{Addr: c.addr, Token: c.token}.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Validate(%s, token %q) = %v, want %q", c.addr, c.token, err, c.want)
		}
	}
}

// server is a Server over a small real pipeline's tables.
func server(t *testing.T, token string) (*httptest.Server, int) {
	t.Helper()
	events := ssetest.ReadLines(t, ssetest.SharedData(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"))[:500]
	p := stagetest.New(t)
	p.Bronze(t, events)
	n := len(p.Query(t, "SELECT event_id FROM bronze.raw_events"))
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	addr := "127.0.0.1:8080"
	if token != "" {
		addr = "0.0.0.0:8080"
	}
	s, err := New(Config{Addr: addr, Token: token}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, n
}

func post(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func sqlBody(sql string) string {
	b, _ := json.Marshal(map[string]string{"sql": sql})
	return string(b)
}

// TestQueryEndpoint: SQL over the tables as JSON; writes, ATTACH, COPY,
// file reads and extension loading are refused and change nothing.
func TestQueryEndpoint(t *testing.T) {
	ts, n := server(t, "")
	code, out := post(t, ts.URL, "", sqlBody("SELECT count(*) AS n, count(DISTINCT domain) AS domains FROM bronze.raw_events"))
	if code != 200 {
		t.Fatalf("status %d: %v", code, out)
	}
	rows := out["rows"].([]any)
	if got := rows[0].([]any)[0].(float64); int(got) != n {
		t.Errorf("count %v, want %d", got, n)
	}
	cols := out["columns"].([]any)
	if cols[0].(map[string]any)["name"] != "n" || cols[0].(map[string]any)["type"] != "BIGINT" {
		t.Errorf("columns %v, want n BIGINT first", cols)
	}
	if _, ok := out["snapshots"].(map[string]any)["bronze.raw_events"]; !ok {
		t.Errorf("snapshots %v: want the snapshot bronze.raw_events was read at", out["snapshots"])
	}
	for _, c := range []struct {
		name, sql string
	}{
		{"drop", "DROP TABLE bronze.raw_events"},
		{"insert", "INSERT INTO bronze.raw_events SELECT * FROM bronze.raw_events"},
		{"delete", "DELETE FROM bronze.raw_events"},
		{"attach", "ATTACH '/tmp/x.duckdb' AS x"},
		{"copy", "COPY (SELECT 1) TO '/tmp/wikistream-web-test.csv'"},
		{"read file", "SELECT * FROM read_csv('/etc/passwd')"},
		{"read text", "SELECT * FROM read_text('/etc/hostname')"},
		{"install", "INSTALL httpfs"},
		{"load", "LOAD httpfs"},
		{"two statements", "SELECT 1; DROP TABLE bronze.raw_events"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := post(t, ts.URL, "", sqlBody(c.sql))
			if code == 200 || out["error"] == nil || out["rows"] != nil {
				t.Fatalf("status %d, body %v: want a refusal with an error", code, out)
			}
		})
	}
	code, out = post(t, ts.URL, "", sqlBody("SELECT count(*) FROM bronze.raw_events"))
	if code != 200 || int(out["rows"].([]any)[0].([]any)[0].(float64)) != n {
		t.Errorf("after the refused statements: %d %v, want %d rows still", code, out, n)
	}
	for _, body := range []string{"", "{", `{"sql": ""}`, `{"query": "SELECT 1"}`} {
		if code, out := post(t, ts.URL, "", body); code != 400 || out["error"] == nil {
			t.Errorf("body %q: %d %v, want 400 with an error", body, code, out)
		}
	}
}

// TestTokenRequiredOffLoopback: with a token every request but /healthz
// needs it.
func TestTokenRequiredOffLoopback(t *testing.T) {
	token := "0123456789abcdef0123"
	ts, _ := server(t, token)
	if code, _ := post(t, ts.URL, "", sqlBody("SELECT 1")); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := post(t, ts.URL, "wrong-token-wrong-token", sqlBody("SELECT 1")); code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, out := post(t, ts.URL, token, sqlBody("SELECT 1 AS one")); code != 200 {
		t.Errorf("right token: %d %v, want 200", code, out)
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz without a token: %d, want 200", resp.StatusCode)
	}
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("/healthz asked for authentication")
	}
}
