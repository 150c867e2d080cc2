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
