package query

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wikistream/wikistream/internal/memtrim"
)

// trimmer returns the C heap's free memory to the system every 10 s while
// any engine is open (see memtrim): DuckDB's allocations outside its
// buffer manager leave freed pages that glibc keeps. It is one for the
// process, as the C heap is.
var trimmer = &trimLoop{every: 10 * time.Second}

// trimLoop runs memtrim.Trim every so often while it has users.
type trimLoop struct {
	every time.Duration
	mu    sync.Mutex
	log   *slog.Logger // the newest user's that logs anything
	users int
	stop  chan struct{}
	done  chan struct{}
	runs  int // trims done, for tests
}

// start counts a user; the first starts the loop. The loop logs to the
// newest user's logger, unless that one discards everything.
func (t *trimLoop) start(log *slog.Logger) {
	if !memtrim.Supported {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.log == nil || log.Enabled(context.Background(), slog.LevelError) {
		t.log = log
	}
	t.users++
	if t.users > 1 {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	t.stop, t.done = stop, done
	go func() {
		defer close(done)
		tick := time.NewTicker(t.every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			released := memtrim.Trim()
			took := time.Since(start)
			t.mu.Lock()
			t.runs++
			log := t.log
			t.mu.Unlock()
			log.Debug("returned free C heap memory to the system",
				"released_mb", float64(released)/(1<<20), "seconds", took.Seconds())
		}
	}()
}

// end counts a user gone; the last stops the loop and waits for it.
func (t *trimLoop) end() {
	if !memtrim.Supported {
		return
	}
	t.mu.Lock()
	t.users--
	if t.users > 0 {
		t.mu.Unlock()
		return
	}
	stop, done := t.stop, t.done
	t.stop, t.done = nil, nil
	t.mu.Unlock()
	close(stop)
	<-done
}

// state is the loop's users and trims so far.
func (t *trimLoop) state() (users, runs int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.users, t.runs
}
