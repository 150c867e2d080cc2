package query

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/memtrim"
	"github.com/wikistream/wikistream/internal/testtool"
)

// The trimmer runs while it has users, one loop for all of them, and stops
// with the last.
func TestTrimLoop(t *testing.T) {
	if !memtrim.Supported {
		t.Skip("malloc_trim exists only in glibc")
	}
	tl := &trimLoop{every: time.Millisecond}
	waitRuns := func(what string) {
		t.Helper()
		_, from := tl.state()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, runs := tl.state(); runs >= from+3 {
				return
			}
		}
		t.Fatalf("%s: the loop does not trim", what)
	}
	tl.start(slog.New(slog.DiscardHandler))
	waitRuns("one user")
	var logged testtool.Buffer
	tl.start(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	tl.end()
	waitRuns("after one of two users ended")
	if !strings.Contains(logged.String(), "returned free C heap memory") {
		t.Errorf("the trims are not logged to the logger of the user that has one; it got %q", logged.String())
	}
	tl.end()
	if tl.stop != nil {
		t.Fatal("the loop's stop channel is kept after the last user ended")
	}
	_, stopped := tl.state()
	time.Sleep(20 * time.Millisecond)
	if users, runs := tl.state(); users != 0 || runs != stopped {
		t.Errorf("after the last user: %d users, %d trims after it ended, want 0 and 0", users, runs-stopped)
	}
	tl.start(slog.New(slog.DiscardHandler))
	defer tl.end()
	waitRuns("started again")
}

// Every open engine is a user of the process's trimmer until it closes.
func TestEnginesUseTheTrimmer(t *testing.T) {
	if !memtrim.Supported {
		t.Skip("malloc_trim exists only in glibc")
	}
	lh, _ := rawEvents(t, 1, 10, 1)
	users, _ := trimmer.state()
	e, err := Open(t.Context(), lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := trimmer.state(); got != users+1 {
		t.Errorf("trimmer users with the engine open: got %d, want %d", got, users+1)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := trimmer.state(); got != users {
		t.Errorf("trimmer users after Close: got %d, want %d", got, users)
	}
}
