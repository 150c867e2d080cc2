// Package testtool finds the external programs tests drive (kcat,
// prometheus, chromium, ...), and holds the few helpers tests of several
// packages share.
package testtool

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer safe for a process or logger writing to it
// while a test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Look finds a command the test drives. Where it is missing the test is
// skipped, except under WIKISTREAM_REQUIRE_TOOLS=1 (CI), where it fails.
func Look(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("WIKISTREAM_REQUIRE_TOOLS") == "1" {
			tb.Fatalf("%s is not installed (bash .ci/run installs it): %v", name, err)
		}
		tb.Skipf("%s is not installed; bash .ci/run installs it", name)
	}
	return p
}
