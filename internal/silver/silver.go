package silver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/schedule"
)

// Config configures the silver stage.
type Config struct {
	// LargeDeletionBytes is the smallest removal flagged as a large
	// deletion. Default 1000.
	LargeDeletionBytes int64
	// Poll is how often Run looks for new bronze commits. Default 200ms.
	Poll time.Duration
	// MinInterval is the least time between two silver commits; the
	// original schedule is 5m. Default 0: after every bronze commit.
	MinInterval time.Duration
	// MaxRows bounds the bronze rows one run reads (whole bronze commits,
	// at least one), and so silver's memory during a backlog. Default 50000.
	MaxRows int64
	// IndexKeys bounds the merge index (about 40 bytes a key). Default 2M.
	IndexKeys int
	// Logger receives progress.
	Logger *slog.Logger
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{LargeDeletionBytes: 1000, Poll: 200 * time.Millisecond, MaxRows: 50_000, IndexKeys: 2_000_000}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.LargeDeletionBytes < 1:
		return fmt.Errorf("large deletion bytes: got %d, want at least 1", c.LargeDeletionBytes)
	case c.Poll <= 0:
		return fmt.Errorf("silver poll interval: got %s, want a positive duration", c.Poll)
	case c.MinInterval < 0:
		return fmt.Errorf("silver interval: got %s, want 0 or a positive duration such as 5m", c.MinInterval)
	case c.MaxRows < 1 || c.IndexKeys < 1:
		return errors.New("silver max rows and index keys must be at least 1")
	}
	return nil
}

// Stage is the silver stage.
type Stage struct {
	cfg    Config
	hurry  schedule.Hurry // Hurry
	lh     *lakehouse.Lakehouse
	log    *slog.Logger
	schema *arrow.Schema
	idx    *lakehouse.KeyIndex
	hints  lakehouse.SizeHints
}

// Result is what one run did.
type Result struct {
	Files, Read, Added, Duplicates int
	Checkpoint                     lakehouse.Checkpoint
	Caught                         bool // silver has read everything bronze holds
}

// New builds the silver stage.
func New(cfg Config, lh *lakehouse.Lakehouse) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	schema, err := table.SchemaToArrowSchema(lakehouse.CleanedEventsTable.Schema(), nil, false, false)
	if err != nil {
		return nil, err
	}
	lh.ReadsRecent(lakehouse.BronzeRawEvents, bronzeColumns) // kept in memory for RunOnce
	return &Stage{cfg: cfg, lh: lh, log: log.With("stage", "silver"), schema: schema,
		idx: lakehouse.NewKeyIndex("event_id", cfg.IndexKeys, partitionFilter)}, nil
}

// partitionFilter selects one (event_date, region) partition: "2026-11-25/europe".
func partitionFilter(part string) (iceberg.BooleanExpression, error) {
	date, region, ok := strings.Cut(part, "/")
	if !ok {
		return nil, fmt.Errorf("bad silver partition %q", part)
	}
	return iceberg.NewAnd(iceberg.EqualTo(iceberg.Reference("event_date"), date),
		iceberg.EqualTo(iceberg.Reference("region"), region)), nil
}

// Hurry has Run stop resting between runs (schedule.Hurry): bronze has
// committed all there is.
func (s *Stage) Hurry() { s.hurry.Set() }

// Run processes new bronze commits until ctx is cancelled.
func (s *Stage) Run(ctx context.Context) error {
	err := schedule.Incremental(ctx, s.cfg.Poll, s.cfg.MinInterval, &s.hurry, func(ctx context.Context) (bool, bool, error) {
		s.lh.Gate().Yield(ctx) // requests first (package priority)
		res, err := s.RunOnce(ctx)
		return res.Added > 0 || res.Files > 0, !res.Caught, err
	})
	if err != nil {
		return fmt.Errorf("silver: %w", err)
	}
	return nil
}

// RunOnce reads the bronze files committed after silver's checkpoint (at
// most about MaxRows rows) and merges them into silver.cleaned_events in one
// commit that also records the new checkpoint.
func (s *Stage) RunOnce(ctx context.Context) (Result, error) {
	var res Result
	silverTbl, err := s.lh.EnsureTable(ctx, lakehouse.CleanedEventsTable)
	if err != nil {
		return res, err
	}
	bronzeTbl, err := s.lh.Load(ctx, lakehouse.BronzeRawEvents)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		res.Caught = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	cp := lakehouse.ReadCheckpoint(silverTbl, lakehouse.BronzeRawEvents)
	head := lakehouse.Head(bronzeTbl)
	if head.Sequence <= cp.Sequence {
		res.Caught, res.Checkpoint = true, cp
		return res, nil
	}
	newFiles, err := lakehouse.AddedSince(ctx, bronzeTbl, cp)
	if err != nil {
		return res, err
	}
	// Whole commits only, oldest first, so the checkpoint is exact. When
	// every file is taken the checkpoint is bronze's head, which also steps
	// over commits that added no file.
	next := head
	files := newFiles
	if taken, at := lakehouse.TakeWhole(newFiles, s.cfg.MaxRows); len(taken) < len(newFiles) {
		files, next = taken, at
	}
	res.Caught = next == head
	if len(files) == 0 {
		// Bronze commits without files (offsets only): nothing to clean.
		res.Caught, res.Checkpoint = true, cp
		return res, nil
	}
	var n int64
	for _, f := range files {
		n += f.File.Count()
	}
	rows := make([]row, 0, n)
	for _, f := range files {
		err := s.lh.ReadFile(ctx, bronzeTbl, f.File, bronzeColumns, func(rec arrow.RecordBatch) error {
			var err error
			rows, err = s.appendRows(rows, rec)
			return err
		})
		if err != nil {
			return res, err
		}
	}
	res.Files, res.Read = len(files), len(rows)
	var added map[string][]lakehouse.Key
	tbl, err := s.lh.Commit(ctx, lakehouse.SilverCleanedEvents, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
		touched := map[string]bool{}
		for _, r := range rows {
			touched[r.part] = true
		}
		if err := s.idx.Sync(ctx, tbl, touched); err != nil {
			return err
		}
		var keep []row
		keep, added = lakehouse.KeepAbsent(s.idx, rows, rowPart, rowKey)
		res.Added, res.Duplicates = len(keep), len(rows)-len(keep)
		props := lakehouse.CheckpointProps(lakehouse.BronzeRawEvents, next)
		props["wikistream.stage"] = "silver"
		return lakehouse.AppendRecords(ctx, tx, s.schema, s.records(keep), props)
	})
	if err != nil {
		return res, fmt.Errorf("commit %s: %w", lakehouse.Name(lakehouse.SilverCleanedEvents), err)
	}
	s.idx.Committed(lakehouse.SnapshotID(tbl), added)
	res.Checkpoint = next
	s.log.Debug("silver committed", "files", res.Files, "read", res.Read, "added", res.Added, "duplicates", res.Duplicates,
		"bronze_sequence", next.Sequence)
	return res, nil
}

// records builds the Arrow records of silver rows, one per partition.
func (s *Stage) records(rows []row) []arrow.RecordBatch {
	now := time.Now().UTC()
	return lakehouse.RecordsByPartition(s.schema, rows, func(r row) string { return r.part }, &s.hints,
		func(b *array.RecordBuilder, r row) { r.append(b, now) })
}

// CaughtUp reports whether silver has read every bronze commit.
func (s *Stage) CaughtUp(ctx context.Context) (bool, error) {
	bronzeTbl, err := s.lh.Load(ctx, lakehouse.BronzeRawEvents)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	silverTbl, err := s.lh.Load(ctx, lakehouse.SilverCleanedEvents)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return lakehouse.ReadAll(ctx, bronzeTbl, lakehouse.Checkpoint{})
	}
	if err != nil {
		return false, err
	}
	return lakehouse.ReadAll(ctx, bronzeTbl, lakehouse.ReadCheckpoint(silverTbl, lakehouse.BronzeRawEvents))
}
