package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// The topics WikiStream uses.
const (
	TopicRaw = "raw-events"
	TopicDLQ = "dlq-events"
)

// The record headers ingest writes. Bronze stores them with each row.
const (
	// HeaderSource is the identity of the source the record was read from
	// (a stream URL or an absolute file path).
	HeaderSource = "wikistream.source"
	// HeaderPosition is the record's own source position: the SSE id (a JSON
	// array of topic/partition positions) or a file byte offset.
	HeaderPosition = "wikistream.position"
	// HeaderResume is the position ingest resumes from after a restart: the
	// position of the last source message that, like every message before
	// it, was acknowledged by the broker when this record was produced.
	HeaderResume = "wikistream.resume"
	// HeaderIngestedAt is when ingest read the event (RFC 3339, UTC, ns).
	HeaderIngestedAt = "wikistream.ingested_at"
	// HeaderEventID is the event's event_id (raw-events only).
	HeaderEventID = "wikistream.event_id"
	// HeaderReason is the machine-readable rejection reason (dlq-events only).
	HeaderReason = "wikistream.reason"
	// HeaderDetail is the human-readable rejection detail (dlq-events only).
	HeaderDetail = "wikistream.detail"
	// HeaderWhere is a human-readable source position such as
	// "events.jsonl:line 12" (dlq-events only).
	HeaderWhere = "wikistream.where"
)

// EnsureTopics creates the topics that do not exist yet with the given
// partition count and replication factor (-1 uses the broker default).
// Existing topics are left as they are.
func EnsureTopics(ctx context.Context, adm *kadm.Client, partitions int32, replication int16, topics ...string) error {
	resp, err := adm.CreateTopics(ctx, partitions, replication, nil, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	for _, t := range resp.Sorted() {
		if t.Err != nil && !errors.Is(t.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t.Topic, t.Err)
		}
	}
	return nil
}
