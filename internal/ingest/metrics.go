package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest stage's Prometheus metrics.
type Metrics struct {
	Read          prometheus.Counter
	BytesRead     prometheus.Counter
	Produced      prometheus.Counter
	DLQ           *prometheus.CounterVec
	Filtered      prometheus.Counter
	Canary        prometheus.Counter
	Reconnects    prometheus.Counter
	ProduceErrors prometheus.Counter
}

// NewMetrics creates the ingest metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "ingest", Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	m := &Metrics{
		Read:          counter("events_read_total", "Messages read from the source."),
		BytesRead:     counter("read_bytes_total", "Bytes of event data read from the source."),
		Produced:      counter("events_produced_total", "Valid events acknowledged on the raw topic."),
		Filtered:      counter("events_filtered_total", "Events dropped because their domain is filtered out."),
		Canary:        counter("canary_events_total", "Wikimedia canary events seen and dropped."),
		Reconnects:    counter("reconnects_total", "Reconnections to the EventStreams service."),
		ProduceErrors: counter("produce_errors_total", "Records the broker failed to acknowledge."),
		DLQ: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wikistream", Subsystem: "ingest",
			Name: "events_dead_lettered_total", Help: "Rejected events acknowledged on the dead-letter topic, by reason."},
			[]string{"reason"}),
	}
	reg.MustRegister(m.DLQ)
	return m
}
