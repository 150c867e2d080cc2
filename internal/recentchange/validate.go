package recentchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// Reason is the machine-readable cause of a rejected event. It is stored with
// every dead letter, so its values are part of the data contract.
type Reason string

// The reasons an event can be rejected for.
const (
	ReasonNotJSON              Reason = "not_json"
	ReasonMissingField         Reason = "missing_field"
	ReasonWrongType            Reason = "wrong_type"
	ReasonUnknownType          Reason = "unknown_type"
	ReasonImplausibleTimestamp Reason = "implausible_timestamp"
	ReasonOversize             Reason = "oversize"
)

// Reasons lists every Reason, in a stable order.
var Reasons = []Reason{
	ReasonNotJSON, ReasonMissingField, ReasonWrongType,
	ReasonUnknownType, ReasonImplausibleTimestamp, ReasonOversize,
}

// Invalid is the error for an event that failed decoding or validation.
type Invalid struct {
	Reason Reason
	Field  string // the offending JSON field path, if any ("meta.domain")
	Detail string // human-readable detail
}

func (e *Invalid) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Reason, e.Field, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
}

// ReasonOf returns the rejection reason carried by err, or "" if err is not
// an *Invalid.
func ReasonOf(err error) Reason {
	var inv *Invalid
	if errors.As(err, &inv) {
		return inv.Reason
	}
	return ""
}

// Limits bounds what validation accepts.
type Limits struct {
	// MaxBytes is the largest accepted event. Default 512 KiB, far above any
	// real event (about 1.2 KB on average) and below Kafka's 1 MB default.
	MaxBytes int
	// MinTime is the earliest plausible event time. Default 2001-01-15, the
	// day Wikipedia started; older events are corrupt, archived ones are not.
	MinTime time.Time
	// MaxFuture is how far ahead of the ingest clock an event may be stamped
	// (clock skew between Wikimedia's servers and ours). Default 5 minutes.
	MaxFuture time.Duration
}

// DefaultLimits returns the limits WikiStream uses unless configured.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:  512 << 10,
		MinTime:   time.Date(2001, 1, 15, 0, 0, 0, 0, time.UTC),
		MaxFuture: 5 * time.Minute,
	}
}

// Validate reports the first problem with the limits, naming the field.
func (l Limits) Validate() error {
	if l.MaxBytes <= 0 {
		return fmt.Errorf("max event bytes: got %d, want a positive number of bytes", l.MaxBytes)
	}
	if l.MaxFuture < 0 {
		return fmt.Errorf("max future skew: got %s, want a duration >= 0", l.MaxFuture)
	}
	return nil
}

// Decode parses and validates raw in one step.
func Decode(raw []byte, now time.Time, lim Limits) (*Event, error) {
	return decode(raw, now, lim, Parse)
}

// DecodeShared is Decode with ParseShared: the event's strings share raw's
// memory, which must not change while they are in use.
func DecodeShared(raw []byte, now time.Time, lim Limits) (*Event, error) {
	return decode(raw, now, lim, ParseShared)
}

func decode(raw []byte, now time.Time, lim Limits, parse func([]byte) (*Event, error)) (*Event, error) {
	if len(raw) > lim.MaxBytes {
		return nil, &Invalid{Reason: ReasonOversize,
			Detail: fmt.Sprintf("event is %d bytes, the limit is %d", len(raw), lim.MaxBytes)}
	}
	e, err := parse(raw)
	if err != nil {
		return e, err
	}
	return e, e.Validate(now, lim)
}

// Validate checks that the event has the fields its type requires and a
// plausible timestamp. now is the ingest clock.
func (e *Event) Validate(now time.Time, lim Limits) error {
	if len(e.Raw) > lim.MaxBytes {
		return &Invalid{Reason: ReasonOversize,
			Detail: fmt.Sprintf("event is %d bytes, the limit is %d", len(e.Raw), lim.MaxBytes)}
	}
	if e.Type == "" {
		return missing("type")
	}
	if e.Domain() == "" {
		return missing("meta.domain")
	}
	if e.Timestamp == nil {
		return missing("timestamp")
	}
	if e.Title == nil {
		return missing("title")
	}
	if e.User == nil {
		return missing("user")
	}
	if e.Bot == nil {
		return missing("bot")
	}
	switch e.Type {
	case TypeEdit, TypeNew:
		switch {
		case e.ID == nil:
			return missing("id")
		case e.Namespace == nil:
			return missing("namespace")
		case e.Revision == nil || e.Revision.New == nil:
			return missing("revision.new")
		case e.Length == nil || e.Length.New == nil:
			return missing("length.new")
		}
	case TypeCategorize:
		switch {
		case e.ID == nil:
			return missing("id")
		case e.Namespace == nil:
			return missing("namespace")
		}
	}
	ts := time.Unix(*e.Timestamp, 0)
	if ts.Before(lim.MinTime) {
		return &Invalid{Reason: ReasonImplausibleTimestamp, Field: "timestamp",
			Detail: fmt.Sprintf("%s is before %s", ts.UTC().Format(time.RFC3339), lim.MinTime.UTC().Format(time.RFC3339))}
	}
	if limit := now.Add(lim.MaxFuture); ts.After(limit) {
		return &Invalid{Reason: ReasonImplausibleTimestamp, Field: "timestamp",
			Detail: fmt.Sprintf("%s is more than %s ahead of the ingest clock %s",
				ts.UTC().Format(time.RFC3339), lim.MaxFuture, now.UTC().Format(time.RFC3339))}
	}
	return nil
}

func missing(field string) error {
	return &Invalid{Reason: ReasonMissingField, Field: field, Detail: "required field is absent or null"}
}

// Type is the recentchange type (rc_type). The schema allows a string or the
// numeric MediaWiki constant; both decode to the string form.
type Type string

// The known recentchange types.
const (
	TypeEdit       Type = "edit"
	TypeNew        Type = "new"
	TypeLog        Type = "log"
	TypeCategorize Type = "categorize"
	TypeExternal   Type = "external"
)

// numericTypes maps MediaWiki's RC_* constants to their names.
var numericTypes = map[int64]Type{0: TypeEdit, 1: TypeNew, 3: TypeLog, 5: TypeExternal, 6: TypeCategorize}

// typeNamed returns the Type called s, if it is a known one.
func typeNamed(s string) (Type, bool) {
	switch t := Type(s); t {
	case TypeEdit, TypeNew, TypeLog, TypeCategorize, TypeExternal:
		return t, true
	}
	return "", false
}

type unknownTypeError struct{ value string }

func (e *unknownTypeError) Error() string {
	return fmt.Sprintf("got %s, want one of edit, new, log, categorize, external", e.value)
}

// UnmarshalJSON accepts a known type name or its numeric RC_* constant, as
// Parse does, so that encoding/json decodes an Event the same way.
func (t *Type) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if name, ok := typeNamed(s); ok {
			*t = name
			return nil
		}
		return &unknownTypeError{value: strconv.Quote(s)}
	}
	if string(b) == "null" {
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "non-string", Type: reflect.TypeFor[string]()}
	}
	if name, ok := numericTypes[n]; ok {
		*t = name
		return nil
	}
	return &unknownTypeError{value: string(b)}
}
