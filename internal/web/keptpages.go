package web

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/query"
)

// Kept parts: a top list over whole days read the days' rows of its
// candidates from the daily rollup on every request, though a kept ranking
// (closed.go) already says who they mostly are. At the live feed's volume
// that read was 100 of a 2.5-day trending pages list's 164 ms, and it grows
// with the days: the candidates' rows are spread over every row group of
// every day's file (written most edits first), and DuckDB decodes the rows
// of the semi join's whole scan. So a kept ranking also keeps, for its
// first keys (keptPartKeys), their rows over the days summed in parts (a
// page; an editor on one wiki), a page's editors as 64-bit hashes of their
// names (two of a page's ten thousand editors share one about once in
// 10^11 lists), within maxKeptHashes. A request then asks for the
// candidates (the ranking alone), sums the candidates' hours (and the days
// of those without kept parts) the same way, and adds the parts up in Go
// as the list's detail and rows SQL would.
//
// Both statements read the hourly rollup's copy; should a commit reach it
// between them, or the daily rollup commit after the kept parts were read,
// the list is asked in one statement instead (rankedSQL.sql), as it is when
// the kept ranking cannot tell the list or two entities share a key.

// keptPartKeys is how many of a kept ranking's first keys keep their
// days' rows: a list's candidates are mostly its first entities. A
// variable for tests.
var keptPartKeys = func(limit int) int { return 3 * limit }

// maxKeptCandidates bounds the candidates a list passes to its second
// statement as a list of keys. A list with more is told by the exact sums
// of their days (rankedSQL.exactCandidates), and asked in one statement
// if that leaves more still (many entities tied at the cut). A variable
// for tests.
var maxKeptCandidates = 1000

// pagePart is one page's rows of a part of a span (its days, or its other
// hours) summed: what the trending pages' detail adds up.
type pagePart struct {
	key            int64
	domain, title  string
	edits, bytes   int64
	newPage        bool
	lastEdit       time.Time
	revisionNew    any // int64, or nil: none
	firstRevision  any // the oldest first_revision (int64, or nil)
	firstParent    any // its first_parent (int64, or nil for a creation)
	editors        []uint64
	lastEditTyp    string // DuckDB's type of last_edit, for the list's result
	revisionNewTyp string
}

// pageParts are the trending pages' parts.
var pageParts listParts = partsOf[pagePart]{sql: pagePartsSQL, read: readPageParts, sum: sumPageParts,
	key: func(p pagePart) int64 { return p.key }, edits: func(p pagePart) int64 { return p.edits },
	hashes: func(p pagePart) int { return len(p.editors) }}

// pagePartsSQL sums the rows of src (the page rollups' columns, q.cols,
// and rank_id) per page, the editors as the hashes of their names, each
// as often as the rows name it (readPageParts sorts them and leaves one
// of each: DuckDB's list_sort and list_distinct took 4 of the statement's
// 29 ms over a day at the live feed's volume).
func pagePartsSQL(src string) string {
	return `SELECT rank_id, domain, title, sum(edits)::BIGINT AS edits, sum(bytes_delta)::BIGINT AS bytes_delta,
		bool_or(new_page) AS new_page, max(last_edit) AS last_edit, max(last_revision) AS revision_new,
		min(first_revision) AS first_revision, arg_min_null(first_parent, first_revision) AS first_parent,
		flatten(list(list_transform(editors, x -> hash(x)))) AS editors
		FROM ` + src + ` AS b GROUP BY rank_id, domain, title`
}

// readPageParts reads pagePartsSQL's rows, of DuckDB's column types, each
// part's editors sorted and distinct.
func readPageParts(rows [][]any, types []string) ([]pagePart, error) {
	parts := make([]pagePart, 0, len(rows))
	for _, row := range rows {
		if len(row) != 11 {
			return nil, fmt.Errorf("page parts: got %d columns, want 11", len(row))
		}
		p := pagePart{revisionNew: row[7], firstRevision: row[8], firstParent: row[9]}
		var ok [6]bool
		p.key, ok[0] = row[0].(int64)
		p.domain, ok[1] = row[1].(string)
		p.title, ok[2] = row[2].(string)
		p.edits, ok[3] = row[3].(int64)
		p.bytes, ok[4] = row[4].(int64)
		p.lastEdit, ok[5] = row[6].(time.Time)
		p.newPage, _ = row[5].(bool)
		if slices.Contains(ok[:], false) {
			return nil, fmt.Errorf("page parts: unexpected types %T %T %T %T %T %T", row[0], row[1], row[2], row[3], row[4], row[6])
		}
		names, _ := row[10].([]any)
		p.editors = make([]uint64, 0, len(names))
		for _, n := range names {
			h, ok := n.(uint64)
			if !ok {
				return nil, fmt.Errorf("page parts: an editor's hash is %T, want uint64", n)
			}
			p.editors = append(p.editors, h)
		}
		slices.Sort(p.editors)
		p.editors = slices.Compact(p.editors)
		if len(types) > 7 {
			p.lastEditTyp, p.revisionNewTyp = types[6], types[7]
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// partsOf sums a top list's rows in parts of type P (pagePart,
// contributorPart): a kept ranking's days, a request's hours.
type partsOf[P any] struct {
	// sql sums the rows of src (the rollup's columns, q.cols, and
	// rank_id) per part.
	sql  func(src string) string
	read func(rows [][]any, types []string) ([]P, error)
	key  func(P) int64
	// edits is a part's edits.
	edits func(P) int64
	// hashes is how many editors' hashes a part holds (maxKeptHashes).
	hashes func(P) int
	// sum adds each entity's parts up into the list's rows, at most limit
	// of them; false when two entities share a key.
	sum func(parts []P, limit int) (*query.Result, bool)
}

// listParts are the kept parts of a top list's kind (rankedSQL.kept).
type listParts interface {
	keep(ctx context.Context, s *Server, q rankedSQL, top *closedTop) error
	answer(ctx context.Context, s *Server, q rankedSQL, top *closedTop, at query.At) (*query.Result, bool, error)
}

// keep reads the days' rows of the kept ranking's first keys into
// top.parts (a map[int64][]P), at the kept ranking's snapshot of the daily
// rollup, or leaves it nil.
func (ps partsOf[P]) keep(ctx context.Context, s *Server, q rankedSQL, top *closedTop) error {
	n := min(len(top.keys), keptPartKeys(q.limit))
	if n == 0 || top.snapshot == 0 && top.settled == 0 {
		return nil
	}
	res, err := s.readAt(ctx, ps.sql(q.keyedOf(q.cols, isClosed, top.keys[:n])),
		query.At{Since: q.span.f.from})
	if err != nil || !s.closedIntact(ctx, q, res, top) {
		return err // a commit in between: no kept parts
	}
	parts, err := ps.read(res.Rows, res.Types)
	if err != nil {
		return err
	}
	byKey := make(map[int64][]P, n)
	keyHashes := make(map[int64]int, n)
	for _, p := range parts {
		byKey[ps.key(p)] = append(byKey[ps.key(p)], p)
		keyHashes[ps.key(p)] += ps.hashes(p)
	}
	// The first keys whose parts hold at most a quarter of maxKeptHashes
	// are kept, each even with no rows (none in the filter's rows). A
	// month's 45 top pages at the live feed's volume have 600,000
	// editors, the first 15 about half of them: a list's candidates are
	// mostly its first entities, and those the kept parts leave out have
	// their days read with their hours.
	kept := make(map[int64][]P, n)
	hashes := 0
	for _, k := range top.keys[:n] {
		if hashes+keyHashes[k] > maxKeptHashes/4 {
			s.closed.partsCut.Add(1)
			break
		}
		kept[k] = byKey[k]
		hashes += keyHashes[k]
	}
	if len(kept) > 0 {
		top.parts, top.partHashes = kept, hashes
	}
	return nil
}

// isClosed selects the closed parts of a span.
func isClosed(p spanPart) bool { return p.closed }

// hasKey is the condition that a row's key (the SQL id) is one of keys.
// It is a list_contains: DuckDB filters an IN list of several keys after
// the scan, which then reads every column of the range's rows (the day's
// page-hours' editor lists, 40 of a week's 75 ms trending pages at the
// live feed's volume), while a list_contains on the key's column filters
// in the scan, which reads the other columns of the matching rows only.
// In a part written in the order of its keys (ordered: the daily rollups'
// files) the IN list is there too: DuckDB then skips the row groups whose
// keys' bounds leave the keys out, and filters the rest with
// list_contains. The month's anonymous editors at the live feed's volume:
// 3 editors' rows of 29 days in 53 ms instead of 86.
func hasKey(id string, keys []int64, ordered bool) string {
	list := make([]string, len(keys))
	for i, k := range keys {
		list[i] = strconv.FormatInt(k, 10)
	}
	cond := `list_contains([` + strings.Join(list, ", ") + `]::BIGINT[], ` + id + `)`
	if ordered {
		cond = id + ` IN (` + strings.Join(list, ", ") + `) AND ` + cond
	}
	return cond
}

// answer answers the list with the kept parts of top, or reports false
// when it cannot (see above).
func (ps partsOf[P]) answer(ctx context.Context, s *Server, q rankedSQL, top *closedTop, at query.At) (*query.Result, bool, error) {
	var kept map[int64][]P
	if top != nil {
		var ok bool
		if kept, ok = top.keptParts().(map[int64][]P); !ok {
			return nil, false, nil
		}
	} else if slices.ContainsFunc(q.parts(), func(p spanPart) bool { return p.closed }) {
		return nil, false, nil // whole days are read with a kept ranking only
	}
	// The candidates are ranked by the kept ranking and the open hours
	// alone, so the views need not list the hourly rollup's files before
	// them. A windowed copy's view of a week lists the week's older files,
	// and DuckDB binds them all even where the range's filter leaves them
	// out: 18 of a week's 30 ms ranking at the live feed's volume.
	open := func(p spanPart) bool { return !p.closed }
	openAt := at
	if since := q.since(open); !since.IsZero() {
		openAt.Since = since
	}
	sql := `WITH ` + q.candidates("rank_id", top) + `
		SELECT candidates.rank_id FROM candidates`
	if top != nil {
		sql = `WITH ` + q.candidates("rank_id", top) + `
			SELECT candidates.rank_id, coalesce(o.edits, 0)::BIGINT AS open` + q.inexact(top) + `
			FROM candidates LEFT JOIN open AS o USING (rank_id), cut`
	}
	res, err := s.readAt(ctx, sql, openAt)
	if err != nil || len(res.Rows) == 0 || flag(res, "inexact") {
		return nil, false, err
	}
	var keys []int64
	if top == nil {
		keys, err = keysOf(res.Rows, "candidates")
	} else if keys, err = ps.narrow(top, kept, res.Rows, q.limit); err == nil && len(keys) < len(res.Rows) {
		s.closed.narrowed.Add(1)
	}
	if err != nil {
		return nil, false, err
	}
	if len(keys) > maxKeptCandidates && top == nil {
		return nil, false, nil
	}
	if len(keys) > maxKeptCandidates {
		// Many entities outside the kept ranking could reach the cut by the
		// bound and their hours, and neither the tier nor the parts read
		// before tell them apart. Their days' edits, summed exactly, tell
		// which of them can.
		closed := res.Snapshots[q.daily]
		if res, err = s.readAt(ctx, `WITH `+q.candidates("rank_id", top)+`, `+q.exactCandidates()+`
			SELECT rank_id FROM exact_candidates`, at); err != nil || len(res.Rows) == 0 || len(res.Rows) > maxKeptCandidates ||
			!s.closedIntact(ctx, q, res, top) || (closed != 0 && closed != top.snapshot) {
			return nil, false, err
		}
		s.closed.exact.Add(1)
		if keys, err = keysOf(res.Rows, "exact candidates"); err != nil {
			return nil, false, err
		}
	}
	var unkept []int64
	for _, k := range keys {
		if _, ok := kept[k]; !ok && top != nil {
			unkept = append(unkept, k)
		}
	}
	// The candidates' open hours, and the closed part of those without
	// kept parts, told apart by a last column.
	var srcs []string
	if hours := q.keyedOf(q.cols, open, keys); hours != "" {
		srcs = append(srcs, `SELECT *, false AS closed_part FROM (`+ps.sql(hours)+`)`)
	}
	if len(unkept) == 0 {
		at = openAt
	} else {
		srcs = append(srcs, `SELECT *, true AS closed_part FROM (`+ps.sql(q.keyedOf(q.cols, isClosed, unkept))+`)`)
		s.closed.unkept.Add(1)
	}
	var parts, closedParts []P
	if len(srcs) > 0 {
		hits, err := s.readAt(ctx, strings.Join(srcs, ` UNION ALL `), at)
		if err != nil {
			return nil, false, err
		}
		if res.Snapshots[q.table] != hits.Snapshots[q.table] || (len(unkept) > 0 && !s.closedIntact(ctx, q, hits, top)) {
			return nil, false, nil
		}
		n := len(hits.Types) - 1
		if n < 0 {
			return nil, false, fmt.Errorf("candidates' parts: got no columns")
		}
		var openRows, closedRows [][]any
		for _, row := range hits.Rows {
			if c, _ := row[n].(bool); c {
				closedRows = append(closedRows, row[:n])
			} else {
				openRows = append(openRows, row[:n])
			}
		}
		if parts, err = ps.read(openRows, hits.Types[:n]); err != nil {
			return nil, false, err
		}
		if closedParts, err = ps.read(closedRows, hits.Types[:n]); err != nil {
			return nil, false, err
		}
		parts = append(parts, closedParts...)
	}
	if len(unkept) > 0 {
		ps.learn(s, top, unkept, closedParts)
	}
	for _, k := range keys {
		parts = append(parts, kept[k]...)
	}
	list, ok := ps.sum(parts, q.limit)
	return list, ok, nil
}

// keysOf returns the keys in the first column of rows (what they are).
func keysOf(rows [][]any, what string) ([]int64, error) {
	keys := make([]int64, 0, len(rows))
	for _, row := range rows {
		k, ok := row[0].(int64)
		if !ok {
			return nil, fmt.Errorf("%s: got %T, want a BIGINT key", what, row[0])
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// narrow returns the keys of the candidates rows (a key, and its edits in
// the open hours) that can make a list of limit entities, by what the kept
// ranking top knows of their days: the edits of the keys it holds
// (closedEdits) and of those whose parts it keeps (kept), and at most its
// floor for the others. The limit-th largest of the totals it knows (each
// at most the entity's) is at most the list's cut; the candidates whose
// totals can reach it are left.
func (ps partsOf[P]) narrow(top *closedTop, kept map[int64][]P, rows [][]any, limit int) ([]int64, error) {
	type candidate struct {
		key, edits int64 // edits: known, or at most
		known      bool
	}
	cands := make([]candidate, 0, len(rows))
	var lows []int64
	for _, row := range rows {
		k, ok1 := row[0].(int64)
		o, ok2 := row[1].(int64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("candidates: got key %T and edits %T, want integers", row[0], row[1])
		}
		c := candidate{key: k, edits: o + top.floor}
		if e, ok := top.closedEdits(k); ok {
			c.edits, c.known = o+e, true
		} else if kp, ok := kept[k]; ok {
			c.edits, c.known = o, true
			for _, p := range kp {
				c.edits += ps.edits(p)
			}
		}
		low := o
		if c.known {
			low = c.edits
		}
		cands, lows = append(cands, c), append(lows, low)
	}
	var cut int64
	if len(lows) >= limit && limit > 0 {
		slices.SortFunc(lows, func(a, b int64) int { return cmp.Compare(b, a) })
		cut = lows[limit-1]
	}
	keys := make([]int64, 0, len(cands))
	for _, c := range cands {
		if c.edits >= cut {
			keys = append(keys, c.key)
		}
	}
	return keys, nil
}

// maxLearnedKeys bounds the keys whose parts requests add to a kept
// ranking's. Their editors' hashes count against maxKeptHashes with the
// kept parts' (the rankings used least recently go to make room), and one
// ranking learns at most a quarter of it: a month's 100 trending pages at
// the live feed's volume have 67 candidates past the kept parts, whose
// days took 2.8 s on every request while a ranking could learn 8,192
// hashes.
const maxLearnedKeys = 4096

// learn adds the parts of the keys unkept (read from the days, at top's
// snapshot) to top's kept parts, each key even with no parts (none in the
// days), while they fit: a request after it finds them there instead of
// reading the days again. A month's anonymous editors at the live feed's
// volume read 3 candidates' days, 53 ms, on every request.
func (ps partsOf[P]) learn(s *Server, top *closedTop, unkept []int64, parts []P) {
	s.closed.mu.Lock()
	defer s.closed.mu.Unlock()
	top.mu.Lock()
	defer top.mu.Unlock()
	old, _ := top.parts.(map[int64][]P)
	// Another request may have learned some of them since.
	added := make(map[int64][]P, len(unkept))
	for _, k := range unkept {
		if _, ok := old[k]; !ok {
			added[k] = nil
		}
	}
	hashes := 0
	for _, p := range parts {
		if _, ok := added[ps.key(p)]; ok {
			added[ps.key(p)] = append(added[ps.key(p)], p)
			hashes += ps.hashes(p)
		}
	}
	if len(added) == 0 || !top.kept || top.learned+len(added) > maxLearnedKeys || top.learnedHashes+hashes > maxKeptHashes/4 {
		return // a ranking let go of learns nothing: its hashes are no longer counted
	}
	// Room is made as for a ranking kept (closedTops.keep): the one in use
	// now learns, the ones used least recently go.
	for s.closed.hashes+hashes > maxKeptHashes {
		if !s.closed.dropLeastUsed(top, false, true) {
			return
		}
	}
	kept := make(map[int64][]P, len(old)+len(added))
	maps.Copy(kept, old)
	maps.Copy(kept, added)
	top.parts, top.learned, top.learnedHashes = kept, top.learned+len(added), top.learnedHashes+hashes
	s.closed.hashes += hashes
	s.closed.learned.Add(int64(len(added)))
}

// sumPageParts adds up each page's parts into the trending pages' rows
// (the columns of trendingSQL's detail, in its order: most edits, then
// most editors, then domain and title), at most limit of them; false when
// two pages share a key (the list is then ranked by name).
func sumPageParts(parts []pagePart, limit int) (*query.Result, bool) {
	type page struct{ domain, title string }
	sums := map[page]*pagePart{}
	names := map[int64]page{}
	var order []page
	lastEditTyp, revisionTyp := "TIMESTAMP WITH TIME ZONE", "BIGINT"
	for _, p := range parts {
		id := page{p.domain, p.title}
		if prev, seen := names[p.key]; seen && prev != id {
			return nil, false
		}
		names[p.key] = id
		if p.lastEditTyp != "" {
			lastEditTyp, revisionTyp = p.lastEditTyp, p.revisionNewTyp
		}
		sum := sums[id]
		if sum == nil {
			sum = &pagePart{key: p.key, domain: p.domain, title: p.title}
			sums[id] = sum
			order = append(order, id)
		}
		sum.edits += p.edits
		sum.bytes += p.bytes
		sum.newPage = sum.newPage || p.newPage
		if p.lastEdit.After(sum.lastEdit) {
			sum.lastEdit = p.lastEdit
		}
		if r, ok := p.revisionNew.(int64); ok {
			if cur, ok := sum.revisionNew.(int64); !ok || r > cur {
				sum.revisionNew = r
			}
		}
		if r, ok := p.firstRevision.(int64); ok {
			if cur, ok := sum.firstRevision.(int64); !ok || r < cur {
				sum.firstRevision, sum.firstParent = r, p.firstParent
			}
		}
		sum.editors = mergeSorted(sum.editors, p.editors)
	}
	pages := make([]*pagePart, 0, len(order))
	for _, id := range order {
		pages = append(pages, sums[id])
	}
	slices.SortFunc(pages, func(a, b *pagePart) int {
		return cmp.Or(cmp.Compare(b.edits, a.edits), cmp.Compare(len(b.editors), len(a.editors)),
			strings.Compare(a.domain, b.domain), strings.Compare(a.title, b.title))
	})
	res := &query.Result{
		Columns: []string{"domain", "title", "edits", "editors", "bytes_delta", "new_page", "last_edit", "revision_new", "revision_old"},
		Types:   []string{"VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "BOOLEAN", lastEditTyp, revisionTyp, revisionTyp},
	}
	for _, p := range pages[:min(limit, len(pages))] {
		res.Rows = append(res.Rows, []any{p.domain, p.title, p.edits, int64(len(p.editors)), p.bytes, p.newPage,
			p.lastEdit, p.revisionNew, p.firstParent})
	}
	return res, true
}

// mergeSorted is the sorted union of two sorted runs of hashes.
func mergeSorted(a, b []uint64) []uint64 {
	if len(a) == 0 {
		return slices.Clone(b)
	}
	out := make([]uint64, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			out, a = append(out, a[0]), a[1:]
		case a[0] > b[0]:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// contributorParts are the top contributors' parts.
var contributorParts listParts = partsOf[contributorPart]{sql: contributorPartsSQL, read: readContributorParts,
	sum: sumContributorParts, key: func(p contributorPart) int64 { return p.key }, edits: func(p contributorPart) int64 { return p.edits },
	hashes: func(contributorPart) int { return 0 }}

// contributorPart is one editor's rows on one wiki of a part of a span
// summed: what the top contributors' detail adds up.
type contributorPart struct {
	key                   int64
	user, domain          string
	edits, added, removed int64
	created               int64
	bot, anonymous        bool
	lastEdit              time.Time
	lastEditTyp           string
}

// contributorPartsSQL sums the rows of src (contributorsSQL's cols and
// rank_id) per editor and wiki.
func contributorPartsSQL(src string) string {
	return `SELECT rank_id, user_normalized, domain, sum(edits)::BIGINT AS edits, bool_or(is_bot) AS bot,
		bool_or(is_anonymous) AS anon, sum(bytes_added)::BIGINT AS added, sum(bytes_removed)::BIGINT AS removed,
		sum(new_pages)::BIGINT AS created, max(last_edit) AS last_edit
		FROM ` + src + ` AS b GROUP BY rank_id, user_normalized, domain`
}

// readContributorParts reads contributorPartsSQL's rows, of DuckDB's
// column types.
func readContributorParts(rows [][]any, types []string) ([]contributorPart, error) {
	parts := make([]contributorPart, 0, len(rows))
	for _, row := range rows {
		if len(row) != 10 {
			return nil, fmt.Errorf("contributor parts: got %d columns, want 10", len(row))
		}
		var p contributorPart
		var ok [9]bool
		p.key, ok[0] = row[0].(int64)
		p.user, ok[1] = row[1].(string)
		p.domain, ok[2] = row[2].(string)
		p.edits, ok[3] = row[3].(int64)
		p.bot, ok[4] = row[4].(bool)
		p.anonymous, ok[5] = row[5].(bool)
		p.added, ok[6] = row[6].(int64)
		p.removed, ok[7] = row[7].(int64)
		p.created, ok[8] = row[8].(int64)
		if slices.Contains(ok[:], false) {
			return nil, fmt.Errorf("contributor parts: unexpected types %T %T %T %T %T %T %T %T %T",
				row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])
		}
		if p.lastEdit, ok[0] = row[9].(time.Time); !ok[0] {
			return nil, fmt.Errorf("contributor parts: last_edit is %T, want a time", row[9])
		}
		if len(types) > 9 {
			p.lastEditTyp = types[9]
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// sumContributorParts adds up each editor's parts into the top
// contributors' rows (contributorsSQL's rows: most edits first, then by
// name), at most limit of them; false when two editors share a key.
func sumContributorParts(parts []contributorPart, limit int) (*query.Result, bool) {
	type wiki struct{ user, domain string }
	perWiki := map[wiki]*contributorPart{}
	names := map[int64]string{}
	lastEditTyp := "TIMESTAMP WITH TIME ZONE"
	for _, p := range parts {
		if prev, seen := names[p.key]; seen && prev != p.user {
			return nil, false
		}
		names[p.key] = p.user
		if p.lastEditTyp != "" {
			lastEditTyp = p.lastEditTyp
		}
		w := perWiki[wiki{p.user, p.domain}]
		if w == nil {
			w = &contributorPart{user: p.user, domain: p.domain}
			perWiki[wiki{p.user, p.domain}] = w
		}
		w.edits += p.edits
		w.added += p.added
		w.removed += p.removed
		w.created += p.created
		w.bot = w.bot || p.bot
		w.anonymous = w.anonymous || p.anonymous
		if p.lastEdit.After(w.lastEdit) {
			w.lastEdit = p.lastEdit
		}
	}
	type editor struct {
		contributorPart
		wikis    int64
		top      string // the wiki of most edits (the first by name of those)
		topEdits int64
	}
	editors := map[string]*editor{}
	for _, w := range perWiki {
		e := editors[w.user]
		if e == nil {
			e = &editor{contributorPart: contributorPart{user: w.user}}
			editors[w.user] = e
		}
		e.edits += w.edits
		e.added += w.added
		e.removed += w.removed
		e.created += w.created
		e.bot = e.bot || w.bot
		e.anonymous = e.anonymous || w.anonymous
		if w.lastEdit.After(e.lastEdit) {
			e.lastEdit = w.lastEdit
		}
		e.wikis++
		if e.top == "" || w.edits > e.topEdits || (w.edits == e.topEdits && w.domain < e.top) {
			e.top, e.topEdits = w.domain, w.edits
		}
	}
	list := make([]*editor, 0, len(editors))
	for _, e := range editors {
		list = append(list, e)
	}
	slices.SortFunc(list, func(a, b *editor) int {
		return cmp.Or(cmp.Compare(b.edits, a.edits), strings.Compare(a.user, b.user))
	})
	res := &query.Result{
		Columns: []string{"user", "edits", "wikis", "top_domain", "is_bot", "is_anonymous", "bytes_added", "bytes_removed", "new_pages", "last_edit"},
		Types:   []string{"VARCHAR", "BIGINT", "BIGINT", "VARCHAR", "BOOLEAN", "BOOLEAN", "BIGINT", "BIGINT", "BIGINT", lastEditTyp},
	}
	for _, e := range list[:min(limit, len(list))] {
		res.Rows = append(res.Rows, []any{e.user, e.edits, e.wikis, e.top, e.bot, e.anonymous, e.added, e.removed, e.created, e.lastEdit})
	}
	return res, true
}
