package quality

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// record appends the run's results to ops.dq_results in one commit.
func (s *Stage) record(ctx context.Context, rep Report) error {
	if len(rep.Results) == 0 {
		return nil
	}
	if _, err := s.lh.EnsureTable(ctx, lakehouse.DQResultsTable); err != nil {
		return err
	}
	schema, err := table.SchemaToArrowSchema(lakehouse.DQResultsTable.Schema(), nil, false, false)
	if err != nil {
		return err
	}
	runDate := rep.StartedAt.UTC().Format(time.DateOnly)
	_, err = s.lh.Commit(ctx, lakehouse.OpsDQResults, func(ctx context.Context, _ *table.Table, tx *table.Transaction) error {
		rec := lakehouse.BuildRecord(schema, rep.Results, nil, func(b *array.RecordBuilder, r Result) {
			appendResult(b, rep.RunID, runDate, r)
		})
		return lakehouse.AppendRecords(ctx, tx, schema, []arrow.RecordBatch{rec},
			map[string]string{"wikistream.stage": "quality", "wikistream.dq.run-id": rep.RunID})
	})
	if err != nil {
		return fmt.Errorf("record results in %s: %w", lakehouse.Name(lakehouse.OpsDQResults), err)
	}
	return nil
}

// appendResult writes one row in the column order of
// lakehouse.DQResultsTable.
func appendResult(b *array.RecordBuilder, runID, runDate string, r Result) {
	str := func(i int, v string) { b.Field(i).(*array.StringBuilder).Append(v) }
	detail, err := json.Marshal(r.Detail)
	if err != nil {
		detail, _ = json.Marshal(map[string]string{"detail_error": err.Error()})
	}
	str(0, runID)
	str(1, runDate)
	str(2, r.Check)
	str(3, r.Table)
	str(4, string(r.Kind))
	str(5, string(r.Status))
	str(6, r.Observed)
	str(7, r.Expected)
	str(8, string(detail))
	b.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(r.EvaluatedAt.UnixMicro()))
	b.Field(10).(*array.Int32Builder).Append(lakehouse.OpsSchemaVersion)
}

// metrics are the stage's Prometheus metrics.
type metrics struct {
	status  *prometheus.GaugeVec
	failed  prometheus.Gauge
	runs    *prometheus.CounterVec
	lastRun prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "dq",
			Name: "check_status", Help: "Outcome of the check in the last run: 1 pass, 0 fail, -1 error."},
			[]string{"table", "check"}),
		failed: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "dq",
			Name: "checks_failed", Help: "Checks that failed or could not be evaluated in the last run."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "dq",
			Name: "runs_total", Help: "Data-quality runs by result: pass (every check passed), fail (a check failed " +
				"or could not be evaluated) or error (the run itself failed)."}, []string{"result"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "dq",
			Name: "last_run_timestamp_seconds", Help: "Unix time the last data-quality run started."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.status, m.failed, m.runs, m.lastRun} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register data-quality metrics: %w", err)
			}
		}
	}
	return m, nil
}

// observe sets the metrics from a run.
func (m *metrics) observe(rep Report) {
	m.lastRun.Set(float64(rep.StartedAt.UnixMilli()) / 1000)
	for _, r := range rep.Results {
		v := 1.0
		switch r.Status {
		case StatusFail:
			v = 0
		case StatusError:
			v = -1
		}
		m.status.WithLabelValues(r.Table, r.Check).Set(v)
	}
	n := len(rep.Failures())
	if len(rep.Results) > 0 {
		m.failed.Set(float64(n))
	}
	switch {
	case rep.Error != "":
		m.runs.WithLabelValues("error").Inc()
	case n > 0:
		m.runs.WithLabelValues("fail").Inc()
	default:
		m.runs.WithLabelValues("pass").Inc()
	}
}
