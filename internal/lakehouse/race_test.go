//go:build race

package lakehouse_test

// raceEnabled: the race detector slows commits several times.
const raceEnabled = true
