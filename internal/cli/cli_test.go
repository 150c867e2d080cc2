package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/memlimit"
	"github.com/wikistream/wikistream/internal/recentchange"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// summaryValue reads "label: N" from a drained run's summary.
func summaryValue(t *testing.T, summary, label string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `:\s+(\d+)`).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("summary has no %q line:\n%s", label, summary)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestGenThenRunDrain is the README's offline walk-through: generate events
// with duplicates and malformed lines, ingest them with run --drain, and
// check the summary against the file, decoded independently.
func TestGenThenRunDrain(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl.gz")
	code, _, stderr := run(t, "gen", "--count", "3000", "--duplicates", "0.05", "--malformed", "0.02", "--seed", "7", "--out", file)
	if code != 0 {
		t.Fatalf("gen exited %d: %s", code, stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	lines, valid, invalid := 0, 0, 0
	ids := map[string]bool{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		lines++
		if ev, err := recentchange.Decode(sc.Bytes(), time.Now(), recentchange.DefaultLimits()); err != nil {
			invalid++
		} else {
			valid++
			ids[ev.EventID()] = true
		}
	}
	if invalid == 0 || lines < 3000 {
		t.Fatalf("generated %d lines with %d invalid; want >= 3000 with some malformed", lines, invalid)
	}

	args := []string{"run", "--source", file, "--filter", "all", "--drain", "--http", "", "--log-level", "debug",
		"--broker-addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
	code, out, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("run exited %d: %s", code, stderr)
	}
	if got := summaryValue(t, out, "events read"); got != lines {
		t.Errorf("events read %d, want %d lines", got, lines)
	}
	if got := summaryValue(t, out, "produced"); got != valid {
		t.Errorf("produced %d, want %d valid lines", got, valid)
	}
	if got := summaryValue(t, out, "dead-lettered"); got != invalid {
		t.Errorf("dead-lettered %d, want %d invalid lines", got, invalid)
	}
	if !strings.Contains(stderr, "embedded broker listening") {
		t.Errorf("run did not log the embedded broker: %s", stderr)
	}
	// A drained run checks data quality over the final tables.
	if !regexp.MustCompile(`data quality: +[1-9][0-9]* checks passed, 0 failed, 0 could not run`).MatchString(out) {
		t.Errorf("summary lacks a clean final data-quality run:\n%s", out)
	}

	if !strings.Contains(out, fmt.Sprintf("rows committed:  %d to bronze.raw_events, %d to bronze.dlq_events", len(ids), invalid)) {
		t.Errorf("summary does not report %d raw and %d dead-letter rows:\n%s", len(ids), invalid, out)
	}
	// SQL over the tables sees the same.
	data := filepath.Join(dir, "data")
	code, out, stderr = run(t, "query", "--data-dir", data, "--format", "csv",
		"SELECT (SELECT count(DISTINCT event_id) FROM bronze.raw_events) AS raw, (SELECT count(*) FROM bronze.dlq_events) AS dlq")
	if code != 0 {
		t.Fatalf("query exited %d: %s", code, stderr)
	}
	if want := fmt.Sprintf("raw,dlq\r\n%d,%d\r\n", len(ids), invalid); out != want {
		t.Errorf("query printed %q, want %q", out, want)
	}
	code, _, stderr = run(t, "query", "--data-dir", data, "DROP TABLE bronze.raw_events")
	if code == 0 || !strings.Contains(stderr, "read-only") {
		t.Errorf("DROP TABLE: exit %d, stderr %q; want a read-only refusal", code, stderr)
	}

	// A replay of the whole topics (the broker kept them) changes no table.
	snaps := func() string {
		_, out, _ := run(t, "query", "--data-dir", data, "--format", "csv",
			"SELECT (SELECT count(*) FROM bronze.raw_events), (SELECT count(*) FROM silver.cleaned_events), (SELECT sum(total_events) FROM gold.hourly_stats)")
		return out
	}
	before := snaps()
	bc := kafka.DefaultBrokerConfig()
	bc.Addr, bc.DataDir = "127.0.0.1:0", filepath.Join(data, "broker")
	broker, err := kafka.StartBroker(bc)
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = run(t, "replay", "--brokers", broker.Addr(), "--data-dir", data)
	broker.Close()
	if code != 0 {
		t.Fatalf("replay exited %d: %s", code, stderr)
	}
	replayed := fmt.Sprintf("replayed %d records", valid+invalid)
	present := fmt.Sprintf("0 rows added to bronze, %d already present", valid+invalid)
	if !strings.Contains(out, replayed) || !strings.Contains(out, present) || !strings.Contains(out, "silver: 0 rows added") {
		t.Errorf("replay of data already present:\n%s\nwant 0 rows added", out)
	}
	if after := snaps(); after != before {
		t.Errorf("replay changed the tables: %q, before %q", after, before)
	}

	// A second run on the same data directory resumes: the broker kept the
	// records, and ingest reads its position back from them.
	code, out, stderr = run(t, args...)
	if code != 0 {
		t.Fatalf("second run exited %d: %s", code, stderr)
	}
	if !strings.Contains(out, "resumed after:") {
		t.Fatalf("second run did not resume:\n%s\n%s", out, stderr)
	}
	// The first run ended cleanly, so its checkpoint is exact: nothing is
	// read, produced or committed again.
	if got := summaryValue(t, out, "events read"); got != 0 {
		t.Errorf("second run read %d events, want 0 after a clean finish", got)
	}
}

func TestBadSettingsNameThemselves(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{"bad filter", []string{"ingest", "--filter", "en,,de", "--source", "x.jsonl"}, nil, "--filter"},
		{"negative speed", []string{"ingest", "--speed", "-2", "--source", "x.jsonl"}, nil, "--speed"},
		{"unknown file type", []string{"ingest", "--source", "events.csv"}, nil, "--source events.csv"},
		{"bad env value", []string{"ingest"}, map[string]string{"WIKISTREAM_SPEED": "fast"}, "WIKISTREAM_SPEED"},
		{"bad broker address", []string{"broker", "--broker-addr", "nohost", "--data-dir", ""}, nil, "broker address"},
		{"bad log level", []string{"broker", "--log-level", "loud"}, nil, "--log-level"},
		{"bad sasl", []string{"ingest", "--source", "x.jsonl", "--kafka-sasl", "KERBEROS"}, nil, "SASL mechanism"},
		{"gen bad fraction", []string{"gen", "--duplicates", "2"}, nil, "uplicates"},
		{"gen bad start", []string{"gen", "--start", "yesterday"}, nil, "--start"},
		{"run bad alert cool-down", []string{"run", "--source", "-", "--alert-cooldown", "0s"}, nil, "--alert-cooldown"},
		{"run secret without webhook", []string{"run", "--source", "-"}, map[string]string{"WIKISTREAM_ALERT_WEBHOOK_SECRET": "s3cr3t"}, "--alert-webhook-url"},
		{"run on every interface without a token", []string{"run", "--source", "-", "--http", "0.0.0.0:8080"}, nil, "--http-token"},
		{"serve off loopback without a token", []string{"serve", "--http", "10.0.0.1:8080"}, nil, "WIKISTREAM_HTTP_TOKEN"},
		{"run bad dq interval", []string{"run", "--source", "-", "--dq-interval", "-1m"}, nil, "--dq-interval"},
		{"run bad dq first run", []string{"run", "--source", "-", "--dq-first-run", "-1m"}, nil, "--dq-first-run"},
		{"run bad query memory", []string{"run", "--source", "-", "--query-memory", "lots"}, nil, "--query-memory"},
		{"serve bad query memory", []string{"serve", "--query-memory", "12 parsecs"}, nil, "--query-memory"},
		{"run no query threads", []string{"run", "--source", "-", "--query-threads", "0"}, nil, "--query-threads 0: want 1 or more"},
		{"serve no query threads", []string{"serve", "--query-threads", "-2"}, nil, "--query-threads -2: want 1 or more"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, _, stderr := run(t, c.args...)
			if code == 0 {
				t.Fatalf("exit code 0, want failure")
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not mention %q", stderr, c.want)
			}
		})
	}
}

func TestEnvSetsFlags(t *testing.T) {
	t.Setenv("WIKISTREAM_COUNT", "5")
	t.Setenv("WIKISTREAM_SEED", "3")
	code, out, stderr := run(t, "gen", "--seed", "4")
	if code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	if n := strings.Count(out, "\n"); n < 5 || n > 6 {
		t.Errorf("WIKISTREAM_COUNT=5 gave %d lines, want 5 (plus duplicates)", n)
	}
	_, out2, _ := run(t, "gen", "--count", "5", "--seed", "4")
	if out != out2 {
		t.Errorf("--seed 4 on the command line did not win over WIKISTREAM_SEED=3")
	}
}

func TestByteSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"450MiB", 450 << 20, true}, {"1GiB", 1 << 30, true}, {"2GB", 2e9, true}, {"1048576", 1 << 20, true},
		{"0", 0, true}, {"12 KiB", 12 << 10, true}, {"lots", 0, false}, {"-1MiB", 0, false}, {"1.5GiB", 0, false},
	}
	for _, c := range cases {
		var b byteSize
		err := b.Set(c.in)
		if (err == nil) != c.ok || (c.ok && int64(b) != c.want) {
			t.Errorf("Set(%q) = %d, %v; want %d, ok %t", c.in, b, err, c.want, c.ok)
		}
	}
}

// TestMemoryLimitFlag: --memory-limit takes auto, live, a size or 0 (the
// default), and names what it wants otherwise; auto, live and a size set
// the runtime's limit, a command reading the live feed holds live's unless
// the flag is given, and GOMEMLIMIT wins over the flag.
func TestMemoryLimitFlag(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	for _, c := range []struct {
		args    []string
		live    bool // the command reads the live feed
		env     string
		want    int64 // the runtime's limit after applying; -1: auto's, -2: live's (a test's heap is small)
		wantErr string
	}{
		{args: nil, want: math.MaxInt64},
		{args: nil, live: true, want: -2},
		{args: []string{"--memory-limit", "live"}, want: -2},
		{args: []string{"--memory-limit", "0"}, live: true, want: math.MaxInt64},
		{args: []string{"--memory-limit", "auto"}, live: true, want: -1},
		{args: nil, live: true, env: "1GiB", want: math.MaxInt64},
		{args: []string{"--memory-limit", "auto"}, want: -1},
		{args: []string{"--memory-limit", "900MiB"}, want: 900 << 20},
		{args: []string{"--memory-limit", "0"}, want: math.MaxInt64},
		{args: []string{"--memory-limit", "900MiB"}, env: "1GiB", want: math.MaxInt64},
		{args: []string{"--memory-limit", "some"}, wantErr: "want auto, live, a size"},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		apply := addMemoryLimitFlag(fs, "0")
		err := fs.Parse(c.args)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		undo, err := apply(func(k string) string {
			if k == "GOMEMLIMIT" {
				return c.env
			}
			return ""
		}, c.live)
		if err != nil {
			t.Fatal(err)
		}
		got := debug.SetMemoryLimit(-1)
		undo()
		if after := debug.SetMemoryLimit(-1); after != math.MaxInt64 {
			t.Errorf("%v: limit %d once undone, want none", c.args, after)
		}
		if c.want == -1 && got != memlimit.DefaultConfig().Limit || c.want == -2 && got != memlimit.LiveConfig().Limit || c.want >= 0 && got != c.want {
			t.Errorf("%v (live %v, GOMEMLIMIT %q): limit %d, want %d", c.args, c.live, c.env, got, c.want)
		}
	}
}
