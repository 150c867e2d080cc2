package cli

import (
	"flag"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
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

// addMemoryLimitFlag adds --memory-limit and returns a function applying it.
// The limit is Go's soft memory limit: the garbage collector works harder as
// the heap approaches it. GOMEMLIMIT, when set, wins.
func addMemoryLimitFlag(fs *flag.FlagSet, def string) func(getenv func(string) string) {
	var b byteSize
	if err := b.Set(def); err != nil {
		panic(err)
	}
	fs.Var(&b, "memory-limit", "soft memory limit of the process (Go GC target), e.g. 450MiB; 0 for none; GOMEMLIMIT wins")
	return func(getenv func(string) string) {
		if getenv("GOMEMLIMIT") == "" && b > 0 {
			debug.SetMemoryLimit(int64(b))
		}
	}
}
