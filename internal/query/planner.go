package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Planned tables: planning a table's snapshot (listing its data and delete
// files from the manifests, see tablePlan) costs a query that reads a
// table which commits every second tens to hundreds of milliseconds, and
// grows with the table's manifests. For the tables named in Config.Planned,
// the planner (one goroutine, started by Open and stopped by Close) looks
// at their current snapshots every Config.ResidentPoll, and at once when
// Engine.Refresh asks, and plans a new one into the engine's plan cache.
//
// This is not a cache of data or results, and it never makes a query read
// an older snapshot: a query still loads the table's metadata and reads
// the snapshot that is current then. It finds that snapshot's plan ready
// when the planner got there first, waits for the planner when it is
// planning that very snapshot, and otherwise plans it itself, as without
// the planner. The current plan of a table evicts its older current plans
// (planCache.add), so the cache stays bounded.

// planLoop is the planner: it plans at once, then every ResidentPoll and
// whenever Refresh asks, until ctx ends (Close). Close waits for it
// (planDone).
func (e *Engine) planLoop(ctx context.Context) {
	defer close(e.planDone)
	tick := time.NewTicker(e.cfg.ResidentPoll)
	defer tick.Stop()
	var lastErr string      // logged once, until a round succeeds
	var asked chan struct{} // closed once the round Refresh asked for is done
	for {
		err := e.planAll(ctx)
		if asked != nil {
			close(asked)
			asked = nil
		}
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && err.Error() != lastErr:
			e.log.Warn("background planning failed; queries plan the table themselves", "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			e.log.Info("background planning works again")
			lastErr = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case asked = <-e.planKick:
		}
	}
}

// planAll plans the current snapshot of every planned table (those that
// are planned already cost a metadata load).
func (e *Engine) planAll(ctx context.Context) error {
	var errs []error
	for _, ident := range e.tables {
		if !e.planned[lakehouse.Name(ident)] {
			continue
		}
		if err := e.planCurrent(ctx, ident); err != nil {
			errs = append(errs, fmt.Errorf("plan %s: %w", lakehouse.Name(ident), err))
		}
	}
	return errors.Join(errs...)
}

// planCurrent puts the plan of a table's current snapshot in the cache.
func (e *Engine) planCurrent(ctx context.Context, ident table.Identifier) error {
	name := lakehouse.Name(ident)
	tbl, err := e.lh.Load(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return nil
	}
	if err != nil {
		return err
	}
	snap, schema := tbl.CurrentSnapshot(), tbl.Schema()
	if snap == nil {
		return nil
	}
	key := planKey{name: name, snapshotID: snap.SnapshotID, schemaID: schema.ID}
	_, err = e.plans.get(ctx, key, planFor{current: true, at: snap.TimestampMs},
		func() (*tablePlan, error) { return e.plan(ctx, name, tbl, snap, schema) })
	return err
}
