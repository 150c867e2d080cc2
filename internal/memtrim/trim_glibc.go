//go:build linux && cgo

package memtrim

/*
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static void **held;
static int nheld;

// hold_freed leaves n chunks of size bytes freed but not returned: it
// allocates and touches them, then frees all but a last small chunk
// allocated after them, which keeps them below the arena's top.
static int hold_freed(int n, size_t size) {
	held = malloc(sizeof(void *) * (n + 1));
	if (held == NULL) return -1;
	for (int i = 0; i < n; i++) {
		held[i] = malloc(size);
		if (held[i] == NULL) return -1;
		memset(held[i], 1, size);
	}
	held[n] = malloc(64);
	for (int i = 0; i < n; i++) free(held[i]);
	nheld = n;
	return 0;
}

static void release_held(void) {
	if (held == NULL) return;
	free(held[nheld]);
	free(held);
	held = NULL;
}
*/
import "C"

import "fmt"

// Supported reports whether Trim can return memory here.
const Supported = true

func trim() { C.malloc_trim(0) }

// holdFreed, for tests, leaves about n×size bytes of the C heap freed but
// resident, as DuckDB's frees do; releaseHeld lets go of what pins them.
func holdFreed(n int, size int) error {
	if C.hold_freed(C.int(n), C.size_t(size)) != 0 {
		return fmt.Errorf("malloc %d chunks of %d bytes failed", n, size)
	}
	return nil
}

func releaseHeld() { C.release_held() }
