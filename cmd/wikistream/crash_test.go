package main

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
)

// buildBinary compiles wikistream once for the test.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "wikistream")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCrashRecovery replays a file of 200k generated events (5% duplicates,
// malformed lines) through `wikistream run --drain` and kills the process
// with SIGKILL at random moments, many times, restarting it each time. In
// the end bronze.raw_events holds exactly the distinct valid events and
// bronze.dlq_events exactly the malformed lines.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and replays 200k events")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl")
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Duplicates, cfg.Malformed, cfg.OutOfOrder = 200_000, 42, 0.05, 0.001, 0.02
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Write(context.Background(), f, cfg); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// What the tables must hold, computed from the file independently.
	wantIDs := map[string]bool{}
	malformed := 0
	in, _ := os.Open(file)
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		ev, err := recentchange.Decode(sc.Bytes(), time.Now(), recentchange.DefaultLimits())
		if err != nil {
			malformed++
			continue
		}
		wantIDs[ev.EventID()] = true
	}
	in.Close()

	data := filepath.Join(dir, "data")
	args := []string{"run", "--source", file, "--filter", "all", "--drain", "--http", "",
		"--broker-addr", "127.0.0.1:0", "--data-dir", data, "--bronze-interval", "300ms", "--bronze-batch", "20000"}
	r := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	const maxKills = 12
	kills := 0
	for run := 0; ; run++ {
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		limit := 5 * time.Minute
		if kills < maxKills {
			limit = time.Duration(300+r.IntN(1700)) * time.Millisecond
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed: %v", run, err)
			}
			t.Logf("run %d drained the file after %d kills", run, kills)
		case <-time.After(limit):
			if kills >= maxKills {
				cmd.Process.Kill()
				t.Fatalf("run %d did not finish in %s", run, limit)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
			continue
		}
		break
	}
	if kills < 5 {
		t.Fatalf("only %d kills happened before the file was drained; the test did not exercise crashes", kills)
	}
	ctx := context.Background()
	lh, err := lakehouse.Open(ctx, lakehouse.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer lh.Close()
	gotIDs := column(t, lh, lakehouse.BronzeRawEvents, "event_id")
	if len(gotIDs) != len(wantIDs) {
		t.Errorf("bronze.raw_events has %d rows, want %d distinct valid events", len(gotIDs), len(wantIDs))
	}
	seen := map[string]bool{}
	for _, id := range gotIDs {
		if seen[id] {
			t.Fatalf("event_id %s is in bronze.raw_events twice", id)
		}
		seen[id] = true
		if !wantIDs[id] {
			t.Fatalf("event_id %s is in bronze.raw_events but not a valid event of the file", id)
		}
	}
	dlq := column(t, lh, lakehouse.BronzeDLQEvents, "dlq_id")
	if len(dlq) != malformed {
		t.Errorf("bronze.dlq_events has %d rows, want the %d malformed lines", len(dlq), malformed)
	}
}

// column returns every value of a string column of a table, sorted.
func column(tb testing.TB, lh *lakehouse.Lakehouse, ident table.Identifier, name string) []string {
	tb.Helper()
	tbl, err := lh.Load(context.Background(), ident)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := lakehouse.ScanStrings(context.Background(), tbl, name)
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(out)
	return out
}
