// Package ui holds the dashboard's build output, embedded in the binary.
// The sources are in the repository's ui/ folder; `make ui` builds them
// with vite into dist/app, which is not committed. dist/README.md is, so
// that the embedding compiles on a fresh checkout: Files then reports that
// the dashboard was not built.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Files returns the built dashboard (index.html and assets/), and false
// when it was not built before this binary was compiled.
func Files() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil, false
	}
	return sub, true
}
