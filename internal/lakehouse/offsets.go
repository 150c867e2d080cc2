package lakehouse

import (
	"encoding/json"
	"fmt"

	"github.com/apache/iceberg-go/table"
)

// SummaryOffsets is the snapshot-summary key holding the Kafka offsets a
// table has consumed: {"topic": {"partition": next offset}}. It is written
// in the same commit as the rows, which is what makes bronze exactly once.
const SummaryOffsets = "wikistream.kafka-offsets"

// Offsets are the next offsets to consume, by topic and partition.
type Offsets map[string]map[int32]int64

// Merge raises o to the offsets of other, partition by partition. Offsets
// never go back: a writer that lost a partition in a rebalance and commits
// late cannot rewind the one that took it over.
func (o Offsets) Merge(other Offsets) {
	for topic, parts := range other {
		if o[topic] == nil {
			o[topic] = map[int32]int64{}
		}
		for p, off := range parts {
			if off > o[topic][p] {
				o[topic][p] = off
			}
		}
	}
}

// Clone returns a deep copy.
func (o Offsets) Clone() Offsets {
	out := Offsets{}
	out.Merge(o)
	return out
}

// Encode renders the offsets for the snapshot summary.
func (o Offsets) Encode() string {
	b, _ := json.Marshal(o) // map[string]map[int32]int64 always marshals
	return string(b)
}

// DecodeOffsets parses a snapshot summary value.
func DecodeOffsets(s string) (Offsets, error) {
	o := Offsets{}
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("snapshot summary %s: %w", SummaryOffsets, err)
	}
	return o, nil
}

// CommittedOffsets returns the offsets of the newest snapshot of tbl that
// carries them, walking back through parents past snapshots that do not
// (snapshots of other writers). An empty table has none. Maintenance
// carries the offsets into its own snapshots and never expires the newest
// snapshot carrying them; should the walk still reach an expired snapshot
// without finding them, that is an error rather than zero offsets, which
// would make bronze consume every topic from the start.
func CommittedOffsets(tbl *table.Table) (Offsets, error) {
	for s := tbl.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			if v, ok := s.Summary.Properties[SummaryOffsets]; ok {
				return DecodeOffsets(v)
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		parent := tbl.SnapshotByID(*s.ParentSnapshotID)
		if parent == nil {
			return nil, fmt.Errorf("table %s: no Kafka offsets in the snapshots back to %d, whose parent %d has expired",
				Name(tbl.Identifier()), s.SnapshotID, *s.ParentSnapshotID)
		}
		s = parent
	}
	return Offsets{}, nil
}
