// Package testtool finds the external programs tests drive (kcat,
// prometheus, chromium, ...).
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

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
