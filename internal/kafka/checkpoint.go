package kafka

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Checkpoint is the position a source was read up to, with every message
// before it acknowledged by the broker.
type Checkpoint struct {
	Source   string    `json:"source"`
	Position string    `json:"position"`
	At       time.Time `json:"at"`
}

// CheckpointGroup is the consumer group whose offset-commit metadata holds
// the checkpoint of source. The group never has members: Kafka keeps
// committed offsets, and their metadata string, for any group id, which
// makes it a durable per-source key-value store on every Kafka cluster.
func CheckpointGroup(source string) string {
	sum := sha256.Sum256([]byte(source))
	return "wikistream-ingest-" + hex.EncodeToString(sum[:8])
}

// SaveCheckpoint stores cp in the offset metadata of topic's partition 0
// for the source's checkpoint group.
func SaveCheckpoint(ctx context.Context, adm *kadm.Client, topic string, cp Checkpoint) error {
	meta, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 0, LeaderEpoch: -1, Metadata: string(meta)})
	resp, err := adm.CommitOffsets(ctx, CheckpointGroup(cp.Source), os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("save ingest checkpoint of %s: %w", cp.Source, err)
	}
	return nil
}

// LoadCheckpoint returns the checkpoint of source, or a zero Checkpoint if
// none was saved.
func LoadCheckpoint(ctx context.Context, adm *kadm.Client, topic, source string) (Checkpoint, error) {
	resp, err := adm.FetchOffsets(ctx, CheckpointGroup(source))
	if errors.Is(err, kerr.GroupIDNotFound) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("load ingest checkpoint of %s: %w", source, err)
	}
	o, ok := resp.Lookup(topic, 0)
	if !ok || o.Err != nil || o.Metadata == "" {
		return Checkpoint{}, nil
	}
	var cp Checkpoint
	if err := json.Unmarshal([]byte(o.Metadata), &cp); err != nil || cp.Source != source {
		return Checkpoint{}, nil // not ours: start without it
	}
	return cp, nil
}
