package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/pprof"
	"strings"
	"sync"
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

// CommitError is a commit the catalog did not accept as a conflict: when
// Err is not a conflict (IsConflict), the commit's outcome is unknown (the
// catalog may have taken it), so files it references must not be deleted.
type CommitError struct {
	Table   string
	Attempt int
	Err     error
}

func (e *CommitError) Error() string {
	return fmt.Sprintf("commit %s (attempt %d): %v", e.Table, e.Attempt, e.Err)
}

func (e *CommitError) Unwrap() error { return e.Err }

// tableLocks serialize the commit attempts of one process on one table
// (keyed by warehouse and table name): writers that would only fail each
// other's requirement checks wait instead. This is what lets a slow commit
// (compaction staging reads every manifest) land between the one-second
// commits of a streaming stage. Writers in other processes still conflict
// and retry.
var tableLocks sync.Map // string -> chan struct{} (capacity 1)

func (l *Lakehouse) lockTable(ctx context.Context, ident table.Identifier) (unlock func(), err error) {
	v, _ := tableLocks.LoadOrStore(l.warehouse+"|"+Name(ident), make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Commit runs build on a fresh handle of the table and commits the
// transaction it stages, retrying from a reloaded table when another writer
// committed first. build must derive everything it stages from the table it
// is given (offsets to merge, rows to skip), because each attempt sees the
// newest state. It returns the committed table.
//
// Within one process, the attempts of all Commits on a table run one at a
// time; build must not call Commit. A failure of the catalog commit itself
// is a *CommitError; any other error means nothing was committed.
func (l *Lakehouse) Commit(ctx context.Context, ident table.Identifier, build func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error) (out *table.Table, err error) {
	began, conflicts := time.Now(), 0
	defer func() { l.metrics.observe(Name(ident), began, conflicts, out, err) }()
	// The table label follows the writer goroutines iceberg-go starts, so
	// a CPU profile splits commit work by table (-tagfocus table=NAME).
	pprof.Do(ctx, pprof.Labels("table", Name(ident)), func(ctx context.Context) {
		out, conflicts, err = l.commit(ctx, ident, build)
	})
	return out, err
}

func (l *Lakehouse) commit(ctx context.Context, ident table.Identifier, build func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error) (*table.Table, int, error) {
	conflicts := 0
	backoff := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := l.attempt(ctx, ident, build)
		if err == nil {
			return out, conflicts, nil
		}
		var ce *CommitError
		if !errors.As(err, &ce) || !IsConflict(ce.Err) || attempt >= MaxCommitAttempts {
			if ce != nil {
				ce.Attempt = attempt
			}
			return nil, conflicts, err
		}
		conflicts++
		l.log.Debug("commit conflict, retrying", "table", Name(ident), "attempt", attempt, "err", ce.Err)
		sleep := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return nil, conflicts, ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// attempt is one load, build and commit, holding the table's lock.
func (l *Lakehouse) attempt(ctx context.Context, ident table.Identifier, build func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error) (*table.Table, error) {
	l.gate.Yield(ctx) // requests first (see package priority)
	unlock, err := l.lockTable(ctx, ident)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tbl, err := l.Load(ctx, ident)
	if err != nil {
		return nil, err
	}
	tx := tbl.NewTransaction()
	var pending *pendingRecent
	if cols := l.recent.columns(Name(ident)); cols != nil {
		pending = &pendingRecent{tbl: tbl, columns: cols}
		ctx = context.WithValue(ctx, pendingKey{}, pending)
	}
	if err := build(ctx, tbl, tx); err != nil {
		pending.release()
		return nil, err
	}
	out, err := tx.Commit(ctx)
	if err != nil {
		pending.release()
		return nil, &CommitError{Table: Name(ident), Err: err}
	}
	if pending != nil {
		l.keepCommitted(ctx, out, pending)
	}
	// out is not what the next Load returns: the catalog caches its own
	// table over the same metadata (cachingCatalog), while out keeps the
	// Arrow batches its transaction wrote (200 MB of a 2M-event replay's
	// heap) for as long as the caller holds it.
	return out, nil
}
