package lakehouse

import (
	"errors"
	"strconv"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
)

// commitMetrics measure every commit of every table, whichever stage makes
// it: together they are the records processed per table, commit duration,
// commit failures and table freshness.
type commitMetrics struct {
	commits    *prometheus.CounterVec
	conflicts  *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	rows       *prometheus.CounterVec
	lastCommit *prometheus.GaugeVec
	fileReads  *prometheus.CounterVec
}

func newCommitMetrics(reg prometheus.Registerer) *commitMetrics {
	m := &commitMetrics{
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "lakehouse",
			Name: "commits_total", Help: "Table commits, by result (ok or failed)."}, []string{"table", "result"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "lakehouse",
			Name: "commit_conflicts_total", Help: "Commit attempts retried because another writer committed first."}, []string{"table"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "wikistream", Subsystem: "lakehouse",
			Name: "commit_duration_seconds", Help: "Time to stage and commit one transaction, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}, []string{"table"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "lakehouse",
			Name: "rows_committed_total", Help: "Rows added to a table by commits (the snapshot summary's added-records; compaction not counted)."}, []string{"table"}),
		lastCommit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "lakehouse",
			Name: "last_commit_timestamp_seconds", Help: "Unix time of the table's last commit by this process."}, []string{"table"}),
		fileReads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "lakehouse",
			Name: "file_reads_total", Help: "Data files a stage read of a table it declared (ReadsRecent), by where from: memory (the records just committed) or storage."}, []string{"table", "from"}),
	}
	m.commits = register(reg, m.commits)
	m.conflicts = register(reg, m.conflicts)
	m.duration = register(reg, m.duration)
	m.rows = register(reg, m.rows)
	m.lastCommit = register(reg, m.lastCommit)
	m.fileReads = register(reg, m.fileReads)
	return m
}

// register registers c on reg, or returns the collector already registered
// under its name: several lakehouses of one process share their metrics.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// observe records one commit: its table, when it began, how many attempts
// lost to another writer, and its outcome.
func (m *commitMetrics) observe(name string, began time.Time, conflicts int, out *table.Table, err error) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(name).Observe(time.Since(began).Seconds())
	if conflicts > 0 {
		m.conflicts.WithLabelValues(name).Add(float64(conflicts))
	}
	if errors.Is(err, ErrNoChange) {
		return
	}
	if err != nil {
		m.commits.WithLabelValues(name, "failed").Inc()
		return
	}
	m.commits.WithLabelValues(name, "ok").Inc()
	m.lastCommit.WithLabelValues(name).SetToCurrentTime()
	// Compaction ("replace") rewrites rows that were counted when added.
	if snap := out.CurrentSnapshot(); snap != nil && snap.Summary != nil && snap.Summary.Operation != table.OpReplace {
		if n, err := strconv.ParseInt(snap.Summary.Properties["added-records"], 10, 64); err == nil {
			m.rows.WithLabelValues(name).Add(float64(n))
		}
	}
}

// read counts one file read of table, from memory or from storage.
func (m *commitMetrics) read(table string, kept bool) {
	if m == nil {
		return
	}
	from := "storage"
	if kept {
		from = "memory"
	}
	m.fileReads.WithLabelValues(table, from).Inc()
}
