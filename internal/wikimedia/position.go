package wikimedia

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Offset is one element of an EventStreams event ID: a position in one
// Kafka topic partition, given either as an offset or as a timestamp.
// EventStreams ids carry one element per datacenter topic, for example
//
//	[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1670732822001},
//	 {"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]
//
// in either order. An offset of -1 means "no position in this topic".
type Offset struct {
	// Topic is the Kafka topic, for example "eqiad.mediawiki.recentchange".
	Topic string `json:"topic"`
	// Partition is the Kafka partition.
	Partition int32 `json:"partition"`
	// Offset is the Kafka offset, or nil when the position is a timestamp.
	Offset *int64 `json:"offset,omitempty"`
	// Timestamp is the position as milliseconds since the Unix epoch, or
	// nil when the position is an offset.
	Timestamp *int64 `json:"timestamp,omitempty"`
}

// ParsePosition parses an EventStreams Last-Event-ID value: a JSON array of
// topic positions, each with a topic, a partition and an offset or a
// timestamp. The SSE client itself treats ids as opaque strings; this is
// for tools that need to look inside them.
func ParsePosition(id string) ([]Offset, error) {
	if id == "" {
		return nil, errors.New("parse event position: empty id")
	}
	var raw []struct {
		Topic     *string          `json:"topic"`
		Partition *int32           `json:"partition"`
		Offset    *json.RawMessage `json:"offset"`
		Timestamp *json.RawMessage `json:"timestamp"`
	}
	dec := json.NewDecoder(strings.NewReader(id))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse event position %q: want a JSON array of {topic, partition, offset|timestamp}: %w", id, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse event position %q: trailing data after the JSON array", id)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("parse event position %q: empty array", id)
	}
	out := make([]Offset, len(raw))
	for i, r := range raw {
		switch {
		case r.Topic == nil || *r.Topic == "":
			return nil, fmt.Errorf("parse event position %q: element %d has no topic", id, i)
		case r.Partition == nil:
			return nil, fmt.Errorf("parse event position %q: element %d has no partition", id, i)
		case (r.Offset == nil) == (r.Timestamp == nil):
			return nil, fmt.Errorf("parse event position %q: element %d must have exactly one of offset and timestamp", id, i)
		}
		o := Offset{Topic: *r.Topic, Partition: *r.Partition}
		var err error
		if r.Offset != nil {
			o.Offset, err = parseInt64(*r.Offset)
		} else {
			o.Timestamp, err = parseInt64(*r.Timestamp)
		}
		if err != nil {
			return nil, fmt.Errorf("parse event position %q: element %d: %w", id, i, err)
		}
		out[i] = o
	}
	return out, nil
}

func parseInt64(raw json.RawMessage) (*int64, error) {
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("want an integer, got %s", raw)
	}
	return &n, nil
}

// FormatPosition returns the EventStreams id for the given positions, the
// inverse of ParsePosition.
func FormatPosition(offsets []Offset) string {
	b, err := json.Marshal(offsets)
	if err != nil { // cannot happen: Offset has only strings and integers
		panic(err)
	}
	return string(b)
}
