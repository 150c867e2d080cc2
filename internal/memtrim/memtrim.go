// Package memtrim gives the C heap's free memory back to the operating
// system.
//
// DuckDB allocates its buffers through its own jemalloc, bounded by each
// database's memory limit, but everything else it allocates (parsed and
// bound statements, catalog entries, file lists, strings) through the C
// library's malloc. glibc returns freed memory to the system only from the
// top of each arena; a freed page below a chunk still in use stays in the
// process. An engine that answers query after query, its views rebuilt as
// tables commit, leaves such holes all the time: after 150 commits each
// followed by 5 queries, 21 MB of the process's 89 MB of anonymous memory
// were such pages, and malloc_trim returned them (docs/PERFORMANCE.md,
// session 12).
package memtrim

import (
	"os"
	"strconv"
	"strings"
)

// Trim returns the free pages of the C heap to the system and reports by
// how much the process's resident memory fell (0 when it did not, or where
// the C library cannot trim).
func Trim() int64 {
	before := resident()
	trim()
	return max(before-resident(), 0)
}

// resident is the process's resident set in bytes (0 if unknown).
func resident() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
