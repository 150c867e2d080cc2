package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"
)

// IsConflict reports whether a commit failed because another writer
// committed first. iceberg-go reports a lost compare-and-swap as
// table.ErrCommitFailed, but a commit from a stale table handle fails the
// catalog's requirement check with a plain error; both mean "reload and
// try again".
func IsConflict(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, table.ErrCommitFailed) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "requirement failed") || strings.Contains(msg, "has changed") ||
		isBusy(err)
}

// isBusy reports whether a SQLite catalog was too busy to take the write;
// nothing was written, so trying again is safe.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// ErrNoChange is returned by a Commit build function that finds nothing to
// commit; Commit returns it unchanged and counts no failure.
var ErrNoChange = errors.New("nothing to commit")

// MaxCommitAttempts bounds the retries of one commit.
const MaxCommitAttempts = 20

// Commit runs build on a fresh handle of the table and commits the
// transaction it stages, retrying from a reloaded table when another writer
// committed first. build must derive everything it stages from the table it
// is given (offsets to merge, rows to skip), because each attempt sees the
// newest state. It returns the committed table.
func (l *Lakehouse) Commit(ctx context.Context, ident table.Identifier, build func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error) (out *table.Table, err error) {
	began, conflicts := time.Now(), 0
	defer func() { l.metrics.observe(Name(ident), began, conflicts, out, err) }()
	backoff := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		tbl, err := l.Load(ctx, ident)
		if err != nil {
			return nil, err
		}
		tx := tbl.NewTransaction()
		if err := build(ctx, tbl, tx); err != nil {
			return nil, err
		}
		out, err := tx.Commit(ctx)
		if err == nil {
			return out, nil
		}
		if !IsConflict(err) || attempt >= MaxCommitAttempts {
			return nil, fmt.Errorf("commit %s (attempt %d): %w", Name(ident), attempt, err)
		}
		conflicts++
		l.log.Debug("commit conflict, retrying", "table", Name(ident), "attempt", attempt, "err", err)
		sleep := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, time.Second)
	}
}
