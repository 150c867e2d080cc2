package gold

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// The SQL engine returns Go values of DuckDB's types; these convert them.

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	case nil:
		return 0
	}
	var out int64
	fmt.Sscan(fmt.Sprint(v), &out)
	return out
}

func toInt32(v any) int32 { return int32(toInt64(v)) }

func appendOptString(b *array.StringBuilder, v any) {
	if s, ok := v.(string); ok {
		b.Append(s)
		return
	}
	b.AppendNull()
}

func stringsN(v any, n int) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if len(out) == n {
			break
		}
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func strings5(v any) []string  { return stringsN(v, 5) }
func strings10(v any) []string { return stringsN(v, 10) }

func ints5(v any) []int64 {
	list, _ := v.([]any)
	var out []int64
	for _, x := range list {
		if len(out) == 5 {
			break
		}
		if x != nil {
			out = append(out, toInt64(x))
		}
	}
	return out
}
