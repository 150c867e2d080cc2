package recentchange

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// parseReference is Parse written with encoding/json, as Parse was before
// it became a hand-written decoder. Parse must give the same results; the
// differential tests in parse_test.go check that it does.
func parseReference(raw []byte) (*Event, error) {
	e := &Event{Raw: raw}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, &Invalid{Reason: ReasonNotJSON, Detail: "empty event"}
	}
	if trimmed[0] != '{' {
		return nil, &Invalid{Reason: ReasonNotJSON, Detail: "not a JSON object"}
	}
	if err := json.Unmarshal(trimmed, e); err != nil {
		var typeErr *json.UnmarshalTypeError
		var unknown *unknownTypeError
		switch {
		case errors.As(err, &unknown):
			return e, &Invalid{Reason: ReasonUnknownType, Field: "type", Detail: unknown.Error()}
		case errors.As(err, &typeErr):
			return e, &Invalid{Reason: ReasonWrongType, Field: typeErr.Field,
				Detail: fmt.Sprintf("got JSON %s, want %s", typeErr.Value, jsonKind(typeErr.Type))}
		default:
			return nil, &Invalid{Reason: ReasonNotJSON, Detail: err.Error()}
		}
	}
	return e, nil
}

// jsonKind names the JSON kind a Go destination type expects, in the words
// a producer of the event would recognise.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice:
		return "JSON value"
	}
	return t.String()
}
