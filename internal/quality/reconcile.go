package quality

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Reconciliation compares two queries over two snapshots, which one SQL
// statement cannot join (the engine pins one table per query). It proceeds
// by fingerprints, so that neither side is ever held in memory whole:
//
//  1. per group (date): the row count and the XOR of a 64-bit hash of each
//     (k, v), for both sides, chunk by chunk;
//  2. for a few groups that differ: the same per bucket of hash(k);
//  3. for a few buckets that differ: the rows themselves, compared to name
//     the keys missing, unexpected, duplicated or different.
const (
	reconcileBuckets = 1024 // level 2
	drillGroups      = 3    // groups examined at level 2
	drillBuckets     = 2    // buckets per group examined at level 3
	reportGroups     = 10   // differing groups listed in the detail
)

// side is one side of a reconciliation: a query over a table as of a
// snapshot (0: the table had nothing, an empty side).
type side struct {
	ident    table.Identifier
	snapshot int64
	sql      string
	distinct bool
}

// fingerprint is a multiset of rows in brief: its size and the XOR of the
// rows' hashes.
type fingerprint struct {
	n int64
	x uint64
}

func (e *evaluation) reconcile(ctx context.Context, c Check) Result {
	rc := c.Reconcile
	exp := rc.Expect
	up := rc.Upstream
	snap := e.pins.snapshot(c.Table)
	var cp lakehouse.Checkpoint
	if snap != 0 {
		cp = lakehouse.ReadCheckpoint(e.pins.table(c.Table), up)
	}
	detail := map[string]any{"snapshot": snap, "upstream": lakehouse.Name(up), "upstream_snapshot": cp.Snapshot,
		"upstream_head": e.pins.snapshot(up)}
	if e.cutoff != "" {
		detail["since"] = e.cutoff
	}
	if cp.Snapshot != 0 {
		if upTbl := e.pins.table(up); upTbl == nil || upTbl.SnapshotByID(cp.Snapshot) == nil {
			// Maintenance expires old snapshots and checkpoints do not pin
			// them: a stage lagging further behind than the retention has
			// read a snapshot no longer kept. The comparison waits for it
			// to catch up; the lag is the freshness check's to judge.
			detail["skipped"] = "upstream snapshot no longer kept"
			return Result{Status: StatusPass, Expected: exp, Detail: detail,
				Observed: fmt.Sprintf("cannot compare yet: %s snapshot %d, which %s has read, is no longer kept "+
					"(it lags behind the snapshot retention; its freshness check measures the lag)",
					lakehouse.Name(up), cp.Snapshot, lakehouse.Name(c.Table))}
		}
	}
	down := side{ident: c.Table, snapshot: snap, sql: rc.SQL}
	upper := side{ident: up, snapshot: cp.Snapshot, sql: rc.UpstreamSQL, distinct: rc.UpstreamDistinct}
	spans := []span{{lo: e.cutoff}}
	if e.pins.snapshot(up) != 0 {
		var err error
		if spans, _, err = e.tableSpans(ctx, up); err != nil {
			return failed(err, exp)
		}
	}
	downFP, upFP := map[string]fingerprint{}, map[string]fingerprint{}
	for _, sp := range spans {
		for _, x := range []struct {
			sd  side
			out map[string]fingerprint
		}{{down, downFP}, {upper, upFP}} {
			fp, err := e.fingerprints(ctx, x.sd, sp.sql("grp"), "grp")
			if err != nil {
				return failed(fmt.Errorf("fingerprint %s: %w", lakehouse.Name(x.sd.ident), err), exp)
			}
			maps.Copy(x.out, fp)
		}
	}
	var downRows, upRows int64
	for _, f := range downFP {
		downRows += f.n
	}
	for _, f := range upFP {
		upRows += f.n
	}
	groups := slices.Sorted(maps.Keys(union(downFP, upFP)))
	var differ []string
	for _, g := range groups {
		if downFP[g] != upFP[g] {
			differ = append(differ, g)
		}
	}
	upName := lakehouse.Name(up)
	if cp.Snapshot != 0 {
		upName = fmt.Sprintf("%s at snapshot %d", upName, cp.Snapshot)
	}
	detail["rows"], detail["upstream_rows"] = downRows, upRows
	if len(differ) == 0 {
		return Result{Status: StatusPass, Expected: exp, Detail: detail,
			Observed: fmt.Sprintf("%d rows match %s over %d dates", downRows, upName, len(groups))}
	}
	var listed []map[string]any
	for _, g := range differ[:min(len(differ), reportGroups)] {
		listed = append(listed, map[string]any{"group": g, "rows": downFP[g].n, "upstream_rows": upFP[g].n})
	}
	detail["differing_groups"] = listed
	samples, err := e.drill(ctx, down, upper, differ)
	if err != nil {
		detail["samples_error"] = err.Error()
	} else {
		detail["samples"] = samples
	}
	return Result{Status: StatusFail, Expected: exp, Detail: detail,
		Observed: fmt.Sprintf("%d rows vs %d in %s; %d of %d dates differ (first %s)", downRows, upRows, upName,
			len(differ), len(groups), differ[0])}
}

// union is the set of keys of a and b.
func union(a, b map[string]fingerprint) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// rows is the side's rows restricted by where, as (grp, hk, h) or
// (grp, k, v) with the side's distinctness.
func (sd side) rows(cols, where string) string {
	distinct := ""
	if sd.distinct {
		distinct = "DISTINCT "
	}
	return fmt.Sprintf("SELECT %s%s FROM (%s) AS r WHERE %s", distinct, cols, sd.sql, where)
}

const hashCols = "grp, hash(k) AS hk, hash(k, v) AS h"

// fingerprints returns the fingerprint of each value of by (an expression
// of grp and hk) over the side's rows matching where.
func (e *evaluation) fingerprints(ctx context.Context, sd side, where, by string) (map[string]fingerprint, error) {
	out := map[string]fingerprint{}
	if sd.snapshot == 0 {
		return out, nil
	}
	res, err := e.queryAt(ctx, sd.snapshot, fmt.Sprintf(
		"SELECT (%s)::VARCHAR AS g, count(*)::BIGINT, bit_xor(h) FROM (%s) GROUP BY g", by, sd.rows(hashCols, where)))
	if err != nil {
		return nil, err
	}
	for _, r := range res.Rows {
		g, _ := r[0].(string)
		out[g] = fingerprint{n: toInt64(r[1]), x: toUint64(r[2])}
	}
	return out, nil
}

// drill names the rows behind differing groups, as samples.
func (e *evaluation) drill(ctx context.Context, down, up side, groups []string) ([]map[string]any, error) {
	var samples []map[string]any
	for _, g := range groups[:min(len(groups), drillGroups)] {
		inGroup := "grp = " + quoteString(g)
		by := fmt.Sprintf("hk %% %d", reconcileBuckets)
		db, err := e.fingerprints(ctx, down, inGroup, by)
		if err != nil {
			return samples, err
		}
		ub, err := e.fingerprints(ctx, up, inGroup, by)
		if err != nil {
			return samples, err
		}
		var buckets []string
		for _, b := range slices.Sorted(maps.Keys(union(db, ub))) {
			if db[b] != ub[b] {
				buckets = append(buckets, b)
			}
		}
		for _, b := range buckets[:min(len(buckets), drillBuckets)] {
			where := fmt.Sprintf("%s AND hash(k) %% %d = %s", inGroup, reconcileBuckets, b)
			dr, err := e.keyed(ctx, down, where)
			if err != nil {
				return samples, err
			}
			ur, err := e.keyed(ctx, up, where)
			if err != nil {
				return samples, err
			}
			samples = append(samples, diffRows(g, dr, ur)...)
			if len(samples) >= e.s.cfg.Samples {
				return samples[:e.s.cfg.Samples], nil
			}
		}
	}
	return samples, nil
}

// keyed reads a side's rows as key → value → copies.
func (e *evaluation) keyed(ctx context.Context, sd side, where string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	if sd.snapshot == 0 {
		return out, nil
	}
	res, err := e.queryAt(ctx, sd.snapshot, fmt.Sprintf("SELECT k, v, count(*)::BIGINT FROM (%s) GROUP BY k, v",
		sd.rows("grp, k, v", where)))
	if err != nil {
		return nil, err
	}
	for _, r := range res.Rows {
		k, _ := r[0].(string)
		v, _ := r[1].(string)
		if out[k] == nil {
			out[k] = map[string]int64{}
		}
		out[k][v] += toInt64(r[2])
	}
	return out, nil
}

// diffRows names each key whose rows differ between the sides.
func diffRows(group string, down, up map[string]map[string]int64) []map[string]any {
	var out []map[string]any
	keys := map[string]bool{}
	for k := range down {
		keys[k] = true
	}
	for k := range up {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		d, u := down[k], up[k]
		if maps.Equal(d, u) {
			continue
		}
		s := map[string]any{"group": group, "key": k}
		switch {
		case len(d) == 0:
			s["problem"] = "missing"
			s["expected"] = values(u)
		case len(u) == 0:
			s["problem"] = "unexpected"
			s["found"] = values(d)
		case slices.Equal(slices.Sorted(maps.Keys(d)), slices.Sorted(maps.Keys(u))):
			s["problem"] = "duplicated"
			s["copies"], s["expected_copies"] = sum(d), sum(u)
		default:
			s["problem"] = "different"
			s["found"], s["expected"] = values(d), values(u)
		}
		out = append(out, s)
	}
	return out
}

func values(m map[string]int64) string { return strings.Join(slices.Sorted(maps.Keys(m)), " ; ") }

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
