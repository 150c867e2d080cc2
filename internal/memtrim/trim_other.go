//go:build !(linux && cgo)

package memtrim

import "errors"

// Supported reports whether Trim can return memory here.
const Supported = false

func trim() {}

func holdFreed(int, int) error { return errors.New("memtrim: not supported on this platform") }

func releaseHeld() {}
