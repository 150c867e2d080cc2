package memtrim

import "testing"

// Freed C memory below a chunk in use stays resident until Trim returns it.
func TestTrimReturnsFreedMemory(t *testing.T) {
	if !Supported {
		t.Skip("malloc_trim exists only in glibc")
	}
	Trim() // what earlier tests left
	// 64 MiB in chunks below glibc's mmap threshold.
	const n, size = 1024, 64 << 10
	before := resident()
	if err := holdFreed(n, size); err != nil {
		t.Fatal(err)
	}
	defer releaseHeld()
	held := resident() - before
	if held < n*size*3/4 {
		t.Fatalf("resident memory grew by %d MB after freeing, want about %d: the test does not hold freed memory",
			held>>20, n*size>>20)
	}
	released := Trim()
	if released < n*size*3/4 {
		t.Errorf("Trim released %d MB, want at least %d of the %d MB freed", released>>20, n*size*3/4>>20, held>>20)
	}
}
