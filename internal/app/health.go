package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/supervise"
)

// bronzeHealth: progress is the offsets committed to the tables; bronze is
// behind while the topics' end offsets are ahead of them. An unreachable
// broker is an error, which the supervisor counts as no progress.
func bronzeHealth(adm *kadm.Client, brz *bronze.Stage, topics ...string) func(context.Context) (supervise.Health, error) {
	return func(ctx context.Context) (supervise.Health, error) {
		ends, err := adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return supervise.Health{}, fmt.Errorf("list end offsets: %w", err)
		}
		committed := brz.Committed()
		var progress, lag int64
		for _, parts := range committed {
			for _, off := range parts {
				progress += off
			}
		}
		ends.Each(func(o kadm.ListedOffset) { lag += max(o.Offset-committed[o.Topic][o.Partition], 0) })
		return supervise.Health{Progress: progress, Behind: lag > 0, Detail: map[string]any{"lag_records": lag}}, nil
	}
}

// tableHealth: progress is the sequence numbers of the stage's output
// tables (every commit raises them); the stage is behind while caughtUp
// says so.
func tableHealth(lh *lakehouse.Lakehouse, caughtUp func(context.Context) (bool, error), outputs ...table.Identifier) func(context.Context) (supervise.Health, error) {
	return func(ctx context.Context) (supervise.Health, error) {
		var progress int64
		for _, ident := range outputs {
			tbl, err := lh.Load(ctx, ident)
			if errors.Is(err, catalog.ErrNoSuchTable) {
				continue
			}
			if err != nil {
				return supervise.Health{}, err
			}
			progress += lakehouse.Head(tbl).Sequence
		}
		caught, err := caughtUp(ctx)
		if err != nil {
			return supervise.Health{}, err
		}
		return supervise.Health{Progress: progress, Behind: !caught,
			Detail: map[string]any{"output_sequence": progress, "caught_up": caught}}, nil
	}
}

// readyz answers 200 when every stage runs (or has finished) and its last
// health probe succeeded, 503 otherwise; the body lists each stage's state.
func readyz(sup *supervise.Supervisor) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		ok, states := sup.Ready()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(map[string]any{"ready": ok, "stages": states})
	}
}
