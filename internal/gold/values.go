package gold

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
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

// appendValue appends one value the SQL engine returned to a builder of
// the column's Arrow type; nil appends a null.
func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("got %T, want a string", v)
		}
		b.Append(s)
	case *array.Int32Builder:
		b.Append(toInt32(v))
	case *array.Int64Builder:
		b.Append(toInt64(v))
	case *array.Float64Builder:
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("got %T, want a float64", v)
		}
		b.Append(f)
	case *array.BooleanBuilder:
		t, ok := v.(bool)
		if !ok {
			return fmt.Errorf("got %T, want a bool", v)
		}
		b.Append(t)
	case *array.TimestampBuilder:
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("got %T, want a time", v)
		}
		b.Append(arrow.Timestamp(t.UnixMicro()))
	case *array.ListBuilder:
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("got %T, want a list", v)
		}
		b.Append(true)
		for _, e := range l {
			if err := appendValue(b.ValueBuilder(), e); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("no conversion of %T to %T", v, b)
	}
	return nil
}
