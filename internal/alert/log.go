package alert

import (
	"context"
	"log/slog"
)

// LogSink writes every alert to a structured log: critical at error level,
// warning at warn, info at info, and suppressed repeats at debug. The
// message is always "alert"; the fields are attributes.
type LogSink struct {
	log *slog.Logger
}

// NewLogSink builds the sink; a nil logger discards.
func NewLogSink(log *slog.Logger) *LogSink {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LogSink{log: log}
}

// Name is "log".
func (s *LogSink) Name() string { return "log" }

// MaxBatch is the most alerts one Send logs.
func (s *LogSink) MaxBatch() int { return 64 }

// RecordsSuppressed is true: repeats are logged at debug level.
func (s *LogSink) RecordsSuppressed() bool { return true }

// Send logs the batch.
func (s *LogSink) Send(ctx context.Context, batch []Alert) error {
	for _, a := range batch {
		level := slog.LevelInfo
		switch {
		case a.Suppressed:
			level = slog.LevelDebug
		case a.Severity == Critical:
			level = slog.LevelError
		case a.Severity == Warning:
			level = slog.LevelWarn
		}
		s.log.LogAttrs(ctx, level, "alert",
			slog.String("alert_id", a.ID),
			slog.String("alert_type", string(a.Type)),
			slog.String("severity", string(a.Severity)),
			slog.String("title", a.Title),
			slog.String("key", a.Key),
			slog.Any("evidence", a.Evidence),
			slog.String("execution_id", a.ExecutionID),
			slog.String("error", a.Error),
			slog.String("runbook", a.Runbook),
			slog.Time("created_at", a.CreatedAt),
			slog.Bool("suppressed", a.Suppressed))
	}
	return nil
}
