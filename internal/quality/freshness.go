package quality

import (
	"context"
	"fmt"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// freshness measures the age of the table's newest commit or, with an
// upstream, its lag: how long the oldest upstream commit it has not read
// has waited.
func (e *evaluation) freshness(ctx context.Context, c Check) Result {
	f := c.Freshness
	if len(f.Upstream) == 2 {
		return e.lag(ctx, c)
	}
	exp := fmt.Sprintf("newest commit at most %s old", human(f.MaxAge))
	if r, ok := e.absent(c.Table, exp); ok {
		return r
	}
	snap := e.pins.table(c.Table).CurrentSnapshot()
	at := time.UnixMilli(snap.TimestampMs).UTC()
	age := e.now.Sub(at)
	detail := map[string]any{"snapshot": snap.SnapshotID, "committed_at": at.Format(time.RFC3339Nano),
		"age_seconds": age.Seconds(), "max_age_seconds": f.MaxAge.Seconds()}
	if f.EventColumn != "" {
		res, err := e.query(ctx, c.Table, fmt.Sprintf("SELECT max(%s) FROM %s", quoteIdent(f.EventColumn),
			lakehouse.Name(c.Table)))
		if err != nil {
			detail["newest_event_error"] = err.Error()
		} else if t, ok := res.Rows[0][0].(time.Time); ok {
			detail["newest_event"] = t.UTC().Format(time.RFC3339Nano)
			detail["newest_event_age_seconds"] = e.now.Sub(t).Seconds()
		}
	}
	r := Result{Status: StatusPass, Expected: exp, Detail: detail,
		Observed: fmt.Sprintf("newest commit %s old (%s)", roundAge(age), at.Format(time.RFC3339))}
	if age > f.MaxAge {
		r.Status = StatusFail
	}
	return r
}

// lag measures how far the table is behind its upstream.
func (e *evaluation) lag(ctx context.Context, c Check) Result {
	f := c.Freshness
	exp := fmt.Sprintf("no %s commit left unread for more than %s", lakehouse.Name(f.Upstream), human(f.MaxAge))
	upTbl := e.pins.table(f.Upstream)
	if upTbl == nil || upTbl.CurrentSnapshot() == nil {
		return Result{Status: StatusPass, Expected: exp, Observed: "upstream has no data yet: nothing to read",
			Detail: map[string]any{"skipped": "upstream " + lakehouse.Name(f.Upstream) + " has no snapshot"}}
	}
	var cp lakehouse.Checkpoint
	if tbl := e.pins.table(c.Table); tbl != nil {
		cp = lakehouse.ReadCheckpoint(tbl, f.Upstream)
	}
	added, err := lakehouse.AddedSince(ctx, upTbl, cp)
	if err != nil {
		return failed(fmt.Errorf("list %s files added after the checkpoint: %w", lakehouse.Name(f.Upstream), err), exp)
	}
	detail := map[string]any{"snapshot": e.pins.snapshot(c.Table), "checkpoint": cp.Snapshot,
		"upstream_head": upTbl.CurrentSnapshot().SnapshotID, "max_lag_seconds": f.MaxAge.Seconds()}
	if len(added) == 0 {
		detail["lag_seconds"] = 0.0
		return Result{Status: StatusPass, Expected: exp, Detail: detail,
			Observed: "caught up: has read every " + lakehouse.Name(f.Upstream) + " commit"}
	}
	commits := map[int64]bool{}
	var rows int64
	oldest := e.now
	for _, a := range added {
		commits[a.At.Snapshot] = true
		rows += a.File.Count()
		if s := upTbl.SnapshotByID(a.At.Snapshot); s != nil {
			if t := time.UnixMilli(s.TimestampMs); t.Before(oldest) {
				oldest = t
			}
		}
	}
	lag := max(e.now.Sub(oldest), 0)
	detail["lag_seconds"], detail["unread_commits"], detail["unread_rows"] = lag.Seconds(), len(commits), rows
	detail["oldest_unread_commit_at"] = oldest.UTC().Format(time.RFC3339Nano)
	r := Result{Status: StatusPass, Expected: exp, Detail: detail,
		Observed: fmt.Sprintf("lag %s: %d commits (%d rows) not read yet", roundAge(lag), len(commits), rows)}
	if lag > f.MaxAge {
		r.Status = StatusFail
	}
	return r
}

// roundAge rounds a duration for people.
func roundAge(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
