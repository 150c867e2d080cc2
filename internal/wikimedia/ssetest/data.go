package ssetest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot returns the directory holding go.mod, walking up from the
// working directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SharedData returns the path of a file in the shared real-data folder
// (../shared/data from the repository root) and skips the test when the
// folder is absent.
func SharedData(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(RepoRoot(tb)), "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("shared data folder %s not available: %v", dir, err)
	}
	return filepath.Join(dir, name)
}

// ReadLines returns the non-blank lines of a JSON-lines file, gunzipping it
// when its name ends in .gz.
func ReadLines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatalf("gunzip %s: %v", path, err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	var lines [][]byte
	for sc.Scan() {
		if line := bytes.TrimSuffix(sc.Bytes(), []byte("\r")); len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, bytes.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return lines
}
