package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// TestDQOnce: `dq --once` over a pipeline's tables prints every check and
// exits 0 when all pass, 2 when one fails (naming it), and reports as JSON
// on request; bad settings name their flag.
func TestDQOnce(t *testing.T) {
	p := stagetest.New(t)
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Start = 800, time.Now().UTC().Add(-time.Hour)
	events, err := gen.Lines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Bronze(t, events)
	p.Silver(t)
	p.Gold(t)
	dataDir := filepath.Dir(strings.TrimPrefix(p.LH.Warehouse(), "file://"))
	checks := len(quality.DefaultChecks(quality.DefaultConfig()))

	code, out, stderr := run(t, "dq", "--once", "--data-dir", dataDir)
	if code != 0 {
		t.Fatalf("dq --once on a clean pipeline exited %d:\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"silver.reconciles_with_bronze", "PASS", "0 failed, 0 errors"} {
		if !strings.Contains(out, want) {
			t.Errorf("dq output lacks %q:\n%s", want, out)
		}
	}

	// A table staler than the threshold: exit 2, the check named.
	code, out, stderr = run(t, "dq", "--once", "--data-dir", dataDir, "--dq-max-source-age", "1ms")
	if code != 2 {
		t.Fatalf("dq --once with a stale bronze exited %d, want 2:\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "FAIL bronze.freshness") || !strings.Contains(stderr, "1 of") {
		t.Errorf("dq output does not name the failed check:\n%s\n%s", out, stderr)
	}

	code, out, stderr = run(t, "dq", "--once", "--format", "json", "--data-dir", dataDir)
	if code != 0 {
		t.Fatalf("dq --once --format json exited %d: %s", code, stderr)
	}
	var rep quality.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("dq --format json: %v\n%s", err, out)
	}
	if len(rep.Results) != checks || rep.RunID == "" {
		t.Errorf("JSON report has %d results and run id %q, want %d results and an id", len(rep.Results), rep.RunID, checks)
	}

	// Every run is in ops.dq_results.
	code, out, _ = run(t, "query", "--data-dir", dataDir, "--format", "csv",
		"SELECT count(DISTINCT run_id), count(*) FROM ops.dq_results")
	if want := "3," + itoa(3*checks); code != 0 || !strings.Contains(out, want) {
		t.Errorf("ops.dq_results: %q, want runs and rows %s", out, want)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dq-interval", "0s"}, "--dq-interval"},
		{[]string{"--dq-first-run", "-1s"}, "--dq-first-run"},
		{[]string{"--format", "xml"}, "--format"},
		{[]string{"--dq-volume-z", "-1"}, "--dq-volume-z"},
		{[]string{"--dq-lookback-days", "-2"}, "--dq-lookback-days"},
		{[]string{"--dq-memory", "lots"}, "--dq-memory"},
		{[]string{"--dq-chunk-rows", "0"}, "--dq-chunk-rows"},
	} {
		code, _, stderr := run(t, append([]string{"dq", "--once", "--data-dir", dataDir}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("dq %v: exit %d, %q; want a failure naming %s", tc.args, code, stderr, tc.want)
		}
	}
}

// TestDQEmpty: on a data directory without tables every check passes,
// saying there is nothing to check yet.
func TestDQEmpty(t *testing.T) {
	code, out, stderr := run(t, "dq", "--once", "--data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("dq on an empty data dir exited %d:\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "does not exist yet") {
		t.Errorf("dq on an empty data dir does not say why it passes:\n%s", out)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
