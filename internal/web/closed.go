package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wikistream/wikistream/internal/query"
)

// A top list over whole days ranks their daily rollup's rows, which
// change only when a day is over (and when late events reach a past day),
// and the hours around them, which change with every gold run. Grouping
// the days' rows by entity was the largest part of a 30-day list (75k
// pages from 100k rows of BenchmarkAPI's month; millions at the live
// feed's volume), done again on every request. closedTops keeps, per
// snapshot of the daily rollup, the entities with the most edits over the
// days and a bound on every other entity's; a request adds the hours' rows
// to them (rankedSQL.sql).
//
// The hours before the whole days (a rolling range's partial first day)
// belong to a day that is over too, and are kept with them: the
// dashboard's 7d range read them from the hourly rollup's files on every
// request, 12 hours of them 170 of a 250 ms week at the live feed's volume.
// Their rows change only with a late event into that day, which also
// rewrites the day's daily rows (gold writes the daily commit after the
// hourly one, in the same run), so the daily rollup's snapshot tells when
// they change; between those two commits a list ranks them as they were.
//
// The kept ranking answers exactly when the bound is below the list's
// cut: the limit-th largest of the totals it knows, each at most the
// entity's true total. An entity the kept ranking leaves out has at most
// the bound over the days, so it can reach the cut only through the hours'
// rows, and those entities are candidates too (upper). When the bound is
// not below the cut the statement says so (inexact) and the list is ranked
// without the kept ranking.
//
// A request checks the kept ranking against the snapshot its query is
// about to read; should the daily rollup commit in between (a day over, a
// late event into a past day), that one list is ranked by the days as
// they were a moment before, as dailyDays' kept answers are. The rows it
// shows are read at the query's snapshot, but for the kept parts
// (keptpages.go): those are the days' rows at the kept ranking's
// snapshot, the current one when the request began.
type closedTops struct {
	mu sync.Mutex
	m  map[closedTopKey]*closedTop
	// told and untold count the lists ranked with a kept ranking and those
	// it could not tell (ranked again without it); fewHours those whose
	// hours were summed for some entities only (openThreshold).
	told, untold, fewHours atomic.Int64
	// hashes is what the kept rankings' parts hold (closedTop.partHashes and
	// learnedHashes).
	hashes int
	// uses counts the kept rankings' uses; closedTop.used is a ranking's
	// last.
	uses int64
	// keptParts counts the lists told by a kept ranking and summed from
	// its kept parts (and counted as told); built the kept rankings read.
	keptParts, built atomic.Int64
	// pruned counts the kept rankings that summed some keys only
	// (closedTopSQL).
	pruned atomic.Int64
	// partsCut counts the kept rankings whose parts were cut short by
	// maxKeptHashes.
	partsCut atomic.Int64
	// exact counts the lists whose candidates were told by their closed
	// parts summed exactly (rankedSQL.exactCandidates).
	exact atomic.Int64
	// hourParts counts the lists without whole days summed in parts
	// (keptpages.go).
	hourParts atomic.Int64
	// narrowed counts the lists whose candidates the tier or learned parts
	// told apart; unkept those that read the days of candidates without
	// kept parts; learned the keys whose parts were learned.
	narrowed, unkept, learned atomic.Int64
	// closedHours counts the lists whose kept ranking holds hours of a
	// day that is over, without a whole day (span.closedTo); settled the
	// kept rankings read with settled hours (span.settledTo).
	closedHours, settled atomic.Int64
}

type closedTopKey struct {
	sql  string // the days' ranking (closedTopSQL)
	keep int
}

// closedTop is the ranking of a daily part: its keys with their edits
// over the days, the most first, and the most edits any other key has
// there (0: none has any). snapshot is the daily rollup's it was read at.
type closedTop struct {
	snapshot int64
	// settled is the token of the settled hours' files (settledToken) the
	// ranking was read with, 0 without them.
	settled uint64
	keys    []int64
	edits   []int64
	bound   int64
	// byKey are the edits of keys, and of the keys after them up to
	// maxTierKeys when the kept ranking is flat (see tier), by key: sorted
	// keys and their edits. floor is the most edits any key outside them
	// has (at most bound).
	byKey, byKeyEdits []int64
	floor             int64
	// parts are the days' rows of the first keys summed in parts
	// (keptpages.go: a map[int64][]P of the list's partsOf[P]), holding
	// partHashes editors' hashes; nil when not kept.
	parts      any
	partHashes int
	// mu guards parts once the ranking is kept: requests add the parts of
	// learned keys they read, with learnedHashes hashes (partsOf.learn).
	mu                     sync.Mutex
	learned, learnedHashes int
	// kept says the ranking is in closedTops.m, and used when it was last
	// asked for there (closedTops.uses); both under closedTops.mu.
	kept bool
	used int64
}

// keptParts returns c.parts.
func (c *closedTop) keptParts() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parts
}

// maxTierKeys is how many keys a flat kept ranking (tier) holds after
// its first ones, for requests to tell candidates by (keptpages.go). A
// variable for tests.
var maxTierKeys = 16384

// closedTopKeep is how many keys a kept ranking holds for a list of limit
// entities: enough for the bound to fall well below a short list's cut,
// few enough to pass as a list of values in each statement. A variable for
// tests, which make it small.
var closedTopKeep = func(limit int) int { return max(8*limit, 128) }

// maxClosedTops bounds the rankings kept (one per daily part, filter and
// limit).
const maxClosedTops = 64

// closedTopSQL is the query for the ranking of q's closed parts (its
// whole days and the hours before them): their keys by edits, one more
// than keep, each row with the threshold t of the pruning below (1: every
// key was summed).
//
// Summing every key of the days was more than the engine's memory could
// hold at the live feed's volume: 29 days of the pages' daily rollup are
// 16 million rows of 7.9 million pages, and the 30-day trending pages ran
// out of DuckDB's 512 MB on every request. When an entity has at most
// rowsPerSpan rows per day (and hour), the ranking is pruned as a list's is
// (prunedRanking): only the keys with a row of at least t edits are summed,
// and every other key has at most (t - 1) edits in each of its rows, which
// the bound then covers (closedTop). The rows are counted twice over, as a
// key two names share has twice as many.
func (q rankedSQL) closedTopSQL(keep int) string {
	closed := q.baseOf(func(p spanPart) bool { return p.closed })
	n := strconv.Itoa(keep + maxTierKeys + 1)
	if rows := q.closedRows(); rows > 0 {
		return `WITH ` + prunedRanking(closed, "rank_id", "", keep, rows) + `
			SELECT rank_id, edits::BIGINT AS edits, threshold.t FROM ranked, threshold ORDER BY edits DESC LIMIT ` + n
	}
	return `SELECT rank_id, sum(edits)::BIGINT AS edits, 1::BIGINT AS t FROM ` + closed +
		` GROUP BY ALL ORDER BY edits DESC LIMIT ` + n
}

// closedRows is the most rows a key has in q's closed parts (twice the
// rows an entity has: see closedTopSQL), 0 when they are not bounded.
func (q rankedSQL) closedRows() int {
	rows := 0
	for _, p := range q.parts() {
		if !p.closed {
			continue
		}
		step := time.Hour
		if p.daily {
			step = 24 * time.Hour
		}
		rows += int(p.to.Sub(p.from)/step) + 1
	}
	return 2 * q.rowsPerSpan * rows
}

// closedTop returns the kept ranking of q's closed parts at the daily
// rollup's current snapshot, reading it first if none is kept; nil when q
// reads no whole day or the rollup has no snapshot.
func (s *Server) closedTop(ctx context.Context, q rankedSQL) (*closedTop, error) {
	return s.closedTopKept(ctx, q, false)
}

// closedTopKept is closedTop, keeping a ranking it reads as a spare when
// spare is set (closedTops.keep).
func (s *Server) closedTopKept(ctx context.Context, q rankedSQL, spare bool) (*closedTop, error) {
	if !slices.ContainsFunc(q.parts(), func(p spanPart) bool { return p.closed }) {
		return nil, nil
	}
	snap, daily, err := s.eng.Snapshot(ctx, q.daily)
	if err != nil {
		return nil, err
	}
	// Before the first day is over (no daily rollup yet), settled hours
	// alone can be kept: their files tell when they change.
	_, hasSettled := q.settledPart()
	if !daily && (!hasSettled || !q.span.first.IsZero() || !q.span.closedTo.IsZero()) {
		return nil, nil
	}
	settled, ok := s.settledToken(q)
	if !ok {
		return nil, nil // the list is read whole
	}
	keep := closedTopKeep(q.limit)
	key := closedTopKey{q.closedTopSQL(keep), keep}
	if top := s.closed.get(key, snap, settled, !spare); top != nil {
		return top, nil
	}
	start := time.Now()
	res, err := s.readAt(ctx, key.sql, query.At{Since: q.span.f.from})
	if err != nil {
		return nil, err
	}
	s.closed.built.Add(1)
	if after, ok := s.settledToken(q); !ok || after != settled {
		return nil, nil // a commit rewrote the settled hours meanwhile
	}
	top, err := q.readClosedTop(res.Rows, keep)
	if err != nil {
		return nil, err
	}
	top.snapshot, top.settled = res.Snapshots[q.daily], settled
	if hasSettled {
		s.closed.settled.Add(1)
	}
	if q.span.first.IsZero() {
		top.snapshot = snap // hours alone: the rollup's, read before them
	}
	if len(res.Rows) > 0 && res.Rows[0][2] != int64(1) {
		s.closed.pruned.Add(1)
	}
	if top.snapshot == 0 && daily {
		return top, nil // no snapshot to keep it for
	}
	ranked := time.Since(start)
	if q.kept != nil {
		if err := q.kept.keep(ctx, s, q, top); err != nil {
			return nil, err
		}
	}
	kept := s.closed.keep(key, top, spare)
	s.log.Debug("read a kept ranking", "table", q.daily, "cond", q.cond, "limit", q.limit, "from", q.span.f.from, "to", q.span.f.to,
		"regions", q.span.f.regions, "domains", q.span.f.domains, "keys", len(top.keys), "hashes", top.partHashes, "spare", spare, "kept", kept,
		"ranking_seconds", ranked.Seconds(), "seconds", time.Since(start).Seconds())
	return top, nil
}

// get returns the ranking kept under key when it is of snapshot snap and
// of the settled hours' files settled (nil: none), and notes its use when
// use is set (not when a spare is read ahead: a spare stays one until it
// is asked for).
func (c *closedTops) get(key closedTopKey, snap int64, settled uint64, use bool) *closedTop {
	c.mu.Lock()
	defer c.mu.Unlock()
	top := c.m[key]
	if top == nil || top.snapshot != snap || top.settled != settled {
		return nil
	}
	if use {
		c.uses++
		top.used = c.uses
	}
	return top
}

// keep keeps top under key, in place of the ranking kept there before (of
// an older snapshot), and lets go of the rankings used least recently
// until it fits among maxClosedTops rankings of maxKeptHashes hashes:
// letting go of them all at once made every list build its ranking again,
// seconds each over a month at the live feed's volume.
//
// A spare ranking (read ahead for a list nobody has asked for yet) counts
// as used least recently of all until it is asked for, and lets go of
// other spares only: when they cannot make room, it is not kept (false)
// and nothing is let go of. A spare in place of a ranking that was asked
// for is no spare.
func (c *closedTops) keep(key closedTopKey, top *closedTop, spare bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[closedTopKey]*closedTop{}
	}
	old := c.m[key]
	if old != nil && old.used != 0 {
		spare = false
	}
	if spare {
		n, hashes := len(c.m), c.hashes
		for k, t := range c.m {
			if t.used == 0 || k == key {
				n, hashes = n-1, hashes-t.heldHashes()
			}
		}
		if n >= maxClosedTops || hashes+top.partHashes > maxKeptHashes {
			return false
		}
	}
	if old != nil {
		c.drop(key, old)
	}
	for len(c.m) >= maxClosedTops || c.hashes+top.partHashes > maxKeptHashes {
		if !c.dropLeastUsed(nil, spare, len(c.m) < maxClosedTops) {
			break
		}
	}
	top.kept, top.used = true, 0
	if !spare {
		c.uses++
		top.used = c.uses
	}
	c.m[key] = top
	c.hashes += top.partHashes
	return true
}

// dropLeastUsed lets go of the ranking used least recently but except,
// with c.mu held: of the spares alone when spares is set (never used),
// and of those holding hashes alone when hashes is set (to make room for
// hashes: letting go of a contributors' ranking, which holds none, made
// none); false when there is none.
func (c *closedTops) dropLeastUsed(except *closedTop, spares, hashes bool) bool {
	var lru closedTopKey
	var oldest *closedTop
	for k, t := range c.m {
		if t == except || (spares && t.used != 0) || (oldest != nil && t.used >= oldest.used) {
			continue
		}
		if hashes && t.heldHashes() == 0 {
			continue
		}
		lru, oldest = k, t
	}
	if oldest == nil {
		return false
	}
	c.drop(lru, oldest)
	return true
}

// heldHashes is how many hashes top's parts hold, learned ones included.
func (top *closedTop) heldHashes() int {
	top.mu.Lock()
	defer top.mu.Unlock()
	return top.partHashes + top.learnedHashes
}

// drop lets go of the ranking top kept under key, with c.mu held.
func (c *closedTops) drop(key closedTopKey, top *closedTop) {
	top.mu.Lock()
	c.hashes -= top.partHashes + top.learnedHashes
	top.mu.Unlock()
	top.kept = false
	delete(c.m, key)
}

// closedSnapshot is the daily rollup's snapshot that res, a statement
// over q's closed parts, read: the statement's own, or, when the closed
// parts are hours alone (span.closedTo), the rollup's now. Either changes
// with a late event into the closed hours (see above).
func (s *Server) closedSnapshot(ctx context.Context, q rankedSQL, res *query.Result) int64 {
	if q.span.first.IsZero() {
		snap, _, _ := s.eng.Snapshot(ctx, q.daily)
		return snap
	}
	return res.Snapshots[q.daily]
}

// settledToken is the token of q's settled hours' files in the hourly
// rollup's copy now (query.Engine.CopyFilesWithin), 0 when q has none;
// false when the copy cannot tell.
func (s *Server) settledToken(q rankedSQL) (uint64, bool) {
	p, ok := q.settledPart()
	if !ok {
		return 0, true
	}
	_, token, ok := s.eng.CopyFilesWithin(p.table, p.from, p.to)
	return token, ok
}

// closedIntact reports whether res, read after top, read q's closed parts
// as top holds them: the daily rollup at top's snapshot, and the settled
// hours' files top was read with, still the same now (so also when res
// was read: see CopyFilesWithin).
func (s *Server) closedIntact(ctx context.Context, q rankedSQL, res *query.Result, top *closedTop) bool {
	if s.closedSnapshot(ctx, q, res) != top.snapshot {
		return false
	}
	settled, ok := s.settledToken(q)
	return ok && settled == top.settled
}

// readClosedTop reads closedTopSQL's rows into a kept ranking of keep
// keys (without a snapshot), and the tier after them.
func (q rankedSQL) readClosedTop(rows [][]any, keep int) (*closedTop, error) {
	top := &closedTop{}
	closedRows := int64(q.closedRows())
	var more [][2]int64
	for i, row := range rows {
		k, ok1 := row[0].(int64)
		e, ok2 := row[1].(int64)
		t, ok3 := row[2].(int64)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("ranking of %s: got key %T, edits %T and threshold %T, want integers", q.daily, row[0], row[1], row[2])
		}
		// The keys the pruning left out have fewer than t edits in each of
		// their rows.
		top.bound = max(top.bound, (t-1)*closedRows)
		top.floor = max(top.floor, (t-1)*closedRows)
		if i == keep {
			top.bound = max(top.bound, e)
		}
		switch {
		case i < keep:
			top.keys, top.edits = append(top.keys, k), append(top.edits, e)
		case i < keep+maxTierKeys:
			more = append(more, [2]int64{k, e})
		default:
			top.floor = max(top.floor, e)
		}
	}
	// floor is now the pruning's, or the edits of the first key after the
	// tier.
	if !top.tier(q.limit) {
		more, top.floor = nil, top.bound
	}
	all := make([][2]int64, 0, len(top.keys)+len(more))
	for i, k := range top.keys {
		all = append(all, [2]int64{k, top.edits[i]})
	}
	all = append(all, more...)
	slices.SortFunc(all, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	top.byKey, top.byKeyEdits = make([]int64, len(all)), make([]int64, len(all))
	for i, ke := range all {
		top.byKey[i], top.byKeyEdits[i] = ke[0], ke[1]
	}
	return top, nil
}

// tier reports whether the kept ranking is flat for a list of limit
// entities: its bound is at least half its limit-th total, so that an
// entity it leaves out reaches that with few edits in the hours. A
// month's anonymous editors at the live feed's volume: the 15th has 8
// edits over the days, the 129th 7, and 42,875 editors with an edit in the
// day's hours were candidates. The keys after the first then tell most of
// them apart (their edits, or the floor's), and are kept.
func (c *closedTop) tier(limit int) bool {
	return limit >= 1 && len(c.edits) >= limit && c.edits[limit-1] <= 2*c.bound
}

// closedEdits returns the edits of key k over the days, when the kept
// ranking holds it (byKey).
func (c *closedTop) closedEdits(k int64) (int64, bool) {
	if i, ok := slices.BinarySearch(c.byKey, k); ok {
		return c.byKeyEdits[i], true
	}
	return 0, false
}

// maxKeptHashes bounds the editors' hashes the kept rankings' parts hold
// together (8 bytes each), and a quarter of it one ranking's: a top page
// of the generated live volume has thousands of editors a day. A variable
// for tests.
var maxKeptHashes = 2 << 20

// values is the kept ranking as the relation closed(rank_id, edits): two
// list literals unnested, which DuckDB plans faster than a VALUES row per
// key.
func (c *closedTop) values() string {
	if len(c.keys) == 0 {
		return `closed AS (SELECT NULL::BIGINT AS rank_id, NULL::BIGINT AS edits WHERE false)`
	}
	var keys, edits strings.Builder
	for i, k := range c.keys {
		if i > 0 {
			keys.WriteString(", ")
			edits.WriteString(", ")
		}
		keys.WriteString(strconv.FormatInt(k, 10))
		edits.WriteString(strconv.FormatInt(c.edits[i], 10))
	}
	return `closed AS (SELECT unnest([` + keys.String() + `]::BIGINT[]) AS rank_id, unnest([` + edits.String() + `]::BIGINT[]) AS edits)`
}
