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

// memoryLimit is --memory-limit: auto, or a size (0 for none).
type memoryLimit struct {
	auto bool
	size byteSize
}

func (m *memoryLimit) String() string {
	if m.auto {
		return "auto"
	}
	return m.size.String()
}

func (m *memoryLimit) Set(s string) error {
	if strings.TrimSpace(s) == "auto" {
		m.auto, m.size = true, 0
		return nil
	}
	m.auto = false
	if err := m.size.Set(s); err != nil {
		return fmt.Errorf("got %q, want auto, a size such as 700MiB or 1GiB, or 0 for none", s)
	}
	return nil
}

// addMemoryLimitFlag adds --memory-limit and returns a function applying it,
// which returns one undoing it (for a command that returns, such as in
// tests). The limit is Go's soft memory limit: the garbage collector works
// harder as the heap approaches it. auto holds one while the live heap
// leaves it room (memlimit.Auto). The commands default to none.
// GOMEMLIMIT, when set, wins.
func addMemoryLimitFlag(fs *flag.FlagSet, def string) func(getenv func(string) string) (undo func(), err error) {
	var m memoryLimit
	if err := m.Set(def); err != nil {
		panic(err)
	}
	fs.Var(&m, "memory-limit", "soft memory limit of the process (Go's GC target): auto is 700MiB while the live heap is under 525MiB, none above; a size such as 900MiB fixes it; 0 for none (for replays of up to a day, auto); GOMEMLIMIT wins")
	return func(getenv func(string) string) (func(), error) {
		switch {
		case getenv("GOMEMLIMIT") != "":
		case m.auto:
			g, err := memlimit.Auto(memlimit.DefaultConfig())
			if err != nil {
				return nil, fmt.Errorf("--memory-limit auto: %w", err)
			}
			return g.Stop, nil
		case m.size > 0:
			prev := debug.SetMemoryLimit(int64(m.size))
			return func() { debug.SetMemoryLimit(prev) }, nil
		}
		return func() {}, nil
	}
}
