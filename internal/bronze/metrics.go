package bronze

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the bronze stage's Prometheus metrics.
type Metrics struct {
	Records       *prometheus.CounterVec
	Duplicates    *prometheus.CounterVec
	CommitSeconds *prometheus.HistogramVec
	LastCommit    *prometheus.GaugeVec
	// Latency is ingest → bronze committed, per row (the original
	// ProcessingLatencyMs).
	Latency *prometheus.HistogramVec
	// Lag is the records of a topic not yet committed to its table.
	Lag *prometheus.GaugeVec
}

// NewMetrics creates the bronze metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Records: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "bronze",
			Name: "records_processed_total", Help: "Rows committed to a bronze table (the original BronzeRecordsProcessed)."}, []string{"table"}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "bronze",
			Name: "duplicates_skipped_total", Help: "Records not inserted because their key was already in the table."}, []string{"table"}),
		CommitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "wikistream", Subsystem: "bronze",
			Name: "commit_duration_seconds", Help: "Time to merge and commit one micro-batch.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}, []string{"table"}),
		LastCommit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "bronze",
			Name: "last_commit_timestamp_seconds", Help: "Unix time of the last commit."}, []string{"table"}),
	}
	m.Latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "wikistream", Subsystem: "bronze",
		Name: "processing_latency_seconds", Help: "From ingest reading an event to bronze committing its row (the original ProcessingLatencyMs).",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"table"})
	m.Lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wikistream", Subsystem: "bronze",
		Name: "consumer_lag_records", Help: "Records on the topic (up to its high watermark at the last fetch) not yet committed to the table."},
		[]string{"topic"})
	reg.MustRegister(m.Records, m.Duplicates, m.CommitSeconds, m.LastCommit, m.Latency, m.Lag)
	return m
}
