package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/apache/iceberg-go/catalog"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/supervise"
)

// tableStatus is one table's freshness.
type tableStatus struct {
	Table      string     `json:"table"`
	Snapshot   int64      `json:"snapshot_id,omitempty"`
	LastCommit *time.Time `json:"last_commit,omitempty"`
	AgeSeconds *float64   `json:"age_seconds,omitempty"`
}

// pipelineStatus is GET /api/v1/pipeline: the health the dashboard shows.
type pipelineStatus struct {
	Stages  []supervise.State `json:"stages"`
	Lag     map[string]int64  `json:"consumer_lag"`
	Tables  []tableStatus     `json:"tables"`
	Ingest  ingestStatus      `json:"ingest"`
	Quality *qualityStatus    `json:"quality"`
}

type ingestStatus struct {
	Read         int64            `json:"read"`
	Produced     int64            `json:"produced"`
	DeadLettered int64            `json:"dead_lettered"`
	DLQShare     float64          `json:"dlq_share"`
	Reasons      map[string]int64 `json:"dlq_reasons"`
}

type qualityStatus struct {
	RunID  string    `json:"run_id"`
	At     time.Time `json:"at"`
	Passed int       `json:"passed"`
	Failed int       `json:"failed"`
	Errors int       `json:"errors"`
}

// pipeline serves GET /api/v1/pipeline.
func pipeline(lh *lakehouse.Lakehouse, sup *supervise.Supervisor, brz *bronze.Stage, ing *ingest.Stage, dq *quality.Stage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := pipelineNow(r.Context(), lh, sup, brz, ing, dq, time.Now())
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(st)
	}
}

func pipelineNow(ctx context.Context, lh *lakehouse.Lakehouse, sup *supervise.Supervisor, brz *bronze.Stage, ing *ingest.Stage, dq *quality.Stage, now time.Time) (pipelineStatus, error) {
	st := pipelineStatus{Stages: sup.States(), Lag: brz.Lag()}
	for _, ident := range lakehouse.Tables() {
		ts := tableStatus{Table: lakehouse.Name(ident)}
		tbl, err := lh.Load(ctx, ident)
		if err != nil && !errors.Is(err, catalog.ErrNoSuchTable) {
			return st, err
		}
		if err == nil && tbl.CurrentSnapshot() != nil {
			snap := tbl.CurrentSnapshot()
			at := time.UnixMilli(snap.TimestampMs).UTC()
			age := now.Sub(at).Seconds()
			ts.Snapshot, ts.LastCommit, ts.AgeSeconds = snap.SnapshotID, &at, &age
		}
		st.Tables = append(st.Tables, ts)
	}
	is := ing.Stats()
	st.Ingest = ingestStatus{Read: is.Read, Produced: is.Produced, DeadLettered: is.DLQ, Reasons: is.Reasons}
	if st.Ingest.Reasons == nil {
		st.Ingest.Reasons = map[string]int64{}
	}
	if is.Read > 0 {
		st.Ingest.DLQShare = float64(is.DLQ) / float64(is.Read)
	}
	if rep, ok := dq.Last(); ok {
		st.Quality = &qualityStatus{RunID: rep.RunID, At: rep.StartedAt, Passed: rep.Count(quality.StatusPass),
			Failed: rep.Count(quality.StatusFail), Errors: rep.Count(quality.StatusError)}
	}
	return st, nil
}
