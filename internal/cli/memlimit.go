package cli

import (
	"flag"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/wikistream/wikistream/internal/memlimit"
)

// byteSize is a flag holding a size such as 450MiB, 1GB or 1048576.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("got %q, want a size such as 450MiB, 1GiB or 0 for none", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// memoryLimit is --memory-limit: auto, live, or a size (0 for none).
type memoryLimit struct {
	rule string // "auto" or "live"; "" for a size
	size byteSize
}

func (m *memoryLimit) String() string {
	if m.rule != "" {
		return m.rule
	}
	return m.size.String()
}

func (m *memoryLimit) Set(s string) error {
	if r := strings.TrimSpace(s); r == "auto" || r == "live" {
		m.rule, m.size = r, 0
		return nil
	}
	m.rule = ""
	if err := m.size.Set(s); err != nil {
		return fmt.Errorf("got %q, want auto, live, a size such as 700MiB or 1GiB, or 0 for none", s)
	}
	return nil
}

// addMemoryLimitFlag adds --memory-limit and returns a function applying it,
// which returns one undoing it (for a command that returns, such as in
// tests). The limit is Go's soft memory limit: the garbage collector works
// harder as the heap approaches it. auto and live hold one while the live
// heap leaves it room (memlimit.Auto). The commands default to def, and
// a command reading the live feed to live (liveDefault) unless the flag is
// given. GOMEMLIMIT, when set, wins.
func addMemoryLimitFlag(fs *flag.FlagSet, def string) func(getenv func(string) string, liveDefault bool) (undo func(), err error) {
	var m memoryLimit
	if err := m.Set(def); err != nil {
		panic(err)
	}
	fs.Var(&m, "memory-limit", "soft memory limit of the process (Go's GC target): auto is 700MiB while the live heap is under 525MiB, none above (for replays of up to a day); live is 300MiB while it is under 225MiB, none above (the default when reading the live feed and for bench --freshness-rate); a size such as 900MiB fixes it; 0 for none; GOMEMLIMIT wins")
	return func(getenv func(string) string, liveDefault bool) (func(), error) {
		if liveDefault && !flagSet(fs, "memory-limit") {
			m.rule = "live"
		}
		switch {
		case getenv("GOMEMLIMIT") != "":
		case m.rule != "":
			cfg := memlimit.DefaultConfig()
			if m.rule == "live" {
				cfg = memlimit.LiveConfig()
			}
			g, err := memlimit.Auto(cfg)
			if err != nil {
				return nil, fmt.Errorf("--memory-limit %s: %w", m.rule, err)
			}
			return g.Stop, nil
		case m.size > 0:
			prev := debug.SetMemoryLimit(int64(m.size))
			return func() { debug.SetMemoryLimit(prev) }, nil
		}
		return func() {}, nil
	}
}
