package web

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Kept rankings read ahead. The dashboard's ranges are rolling: its 7d is
// the 168 hours up to gold's newest hour, so every new hour moves the
// range's partial first day, and a new kept ranking (closed.go) is built
// by the first request that asks for it: a week's trending pages at the
// live feed's volume took 1.0-1.4 s once an hour instead of 40 ms. The
// live poller reads ahead before it tells the dashboard of a commit
// (live.read): for each top list asked for in the last hour over a range
// that ended at gold's newest hour, it makes sure the kept ranking of the
// same range ending at the newest hour now is there, so that the
// dashboard's refresh finds it. Most commits leave the hour and the daily
// rollup as they were, and find every ranking kept.

// warmFor is how long a list asked for is read ahead.
const warmFor = time.Hour

// maxWarm bounds the lists read ahead (the dashboard's 12 at start
// among them).
const maxWarm = 32

// warmLists are the top lists read ahead.
type warmLists struct {
	mu sync.Mutex
	m  map[string]*warmList
	// reading is held while the lists are read ahead: by the dashboard's
	// first lists at start (warmDashboard), during which the live updates
	// do not wait for it.
	reading sync.Mutex
	// built counts the kept rankings built ahead (for tests).
	built atomic.Int64
}

// warmList is a top list asked for over a range ending at gold's newest
// hour: its statement (q, without a span), the range's length and places,
// and when it was last asked for.
type warmList struct {
	q     rankedSQL
	span  time.Duration
	f     filters // regions and domains
	asked time.Time
	// spare: noted at start for the dashboard's switches, not asked for;
	// its kept ranking is a spare (closedTops.keep).
	spare bool
}

// note records a top list asked for over f, when f ends at gold's newest
// hour.
func (s *Server) noteRolling(ctx context.Context, f filters, q rankedSQL) {
	if !s.endsAtNewest(ctx, f) {
		return
	}
	s.warm.note(q, f.to.Sub(f.from), f, false)
}

// note records the top list q asked for now (or to read ahead as a spare)
// over a range as long as length ending at gold's newest hour, in the
// places of f.
func (w *warmLists) note(q rankedSQL, length time.Duration, f filters, spare bool) {
	q.span = span{}
	key := fmt.Sprint(q.table, q.cond, q.limit, f.regions, f.domains, length)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil || (w.m[key] == nil && len(w.m) >= maxWarm) {
		w.m = map[string]*warmList{}
	}
	if old := w.m[key]; spare && old != nil && !old.spare {
		return // asked for already: no spare
	}
	w.m[key] = &warmList{q: q, span: length, f: filters{regions: f.regions, domains: f.domains}, asked: time.Now(), spare: spare}
}

// prefetchBytes bounds what warmDashboard reads of each daily rollup's
// files: the newest month of pages at the live feed's volume is 783 MB.
const prefetchBytes = 1 << 30

// warmDashboard reads ahead, in the background, the kept rankings of the
// lists the dashboard shows over its ranges with whole days
// (ui/src/main.ts: the 7 and 30 days up to gold's newest hour), as if
// asked for now: the first person to open a month's range found no kept
// ranking, and waited 3.5 s for the trending pages at the live feed's
// volume. The lists it shows first (15 trending pages without bots, 15
// contributors of every kind) come first; then those its switches show
// (the pages with bots, each kind of contributor), whose first request
// took 0.25-3 s over the month. The live updates meanwhile do not read
// ahead. A list read ahead and not asked for is let go of after warmFor,
// and its kept ranking is among the first let go of (closedTops).
func (s *Server) warmDashboard(ctx context.Context) {
	ranges := []int{7 * 24, 30 * 24}
	note := func(spare bool, qs ...rankedSQL) {
		for _, hours := range ranges {
			for _, q := range qs {
				s.warm.note(q, time.Duration(hours-1)*time.Hour, filters{}, spare)
			}
		}
	}
	note(false, trendingSQL(15, true), contributorsSQL(15, contributorKinds["all"]))
	s.warm.reading.Lock()
	go func() {
		defer s.warm.reading.Unlock()
		// The hourly rollups' copies first: a ranking read before them has
		// no settled hours (span.settledTo), and was read again, under
		// another key, once they were there.
		if err := s.eng.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("copying the tables into memory before reading the dashboard's lists ahead failed", "err", err)
		}
		// Their days first, into the page cache (query.Engine.Prefetch):
		// on a cold one, the kept rankings ran out of the query's 30 s.
		for _, daily := range []string{lakehouse.Name(lakehouse.GoldPagesDaily), lakehouse.Name(lakehouse.GoldContributorsDaily)} {
			start := time.Now()
			files, bytes, err := s.eng.Prefetch(ctx, daily, prefetchBytes)
			if err != nil {
				s.log.Warn("reading a daily rollup's files ahead failed", "table", daily, "err", err)
				continue
			}
			s.log.Debug("read a daily rollup's files ahead", "table", daily, "files", len(files), "bytes", bytes,
				"seconds", time.Since(start).Seconds())
		}
		if err := s.readAheadLocked(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("reading the dashboard's first lists ahead failed", "err", err)
			}
			return
		}
		note(true, trendingSQL(15, false), contributorsSQL(15, contributorKinds["human"]),
			contributorsSQL(15, contributorKinds["anonymous"]), contributorsSQL(15, contributorKinds["bot"]))
		if err := s.readAheadLocked(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reading the dashboard's other lists ahead failed", "err", err)
		}
	}()
}

// endsAtNewest reports whether f ends at gold's newest hour.
func (s *Server) endsAtNewest(ctx context.Context, f filters) bool {
	newest, ok := s.newestHour(ctx)
	return ok && f.to.Equal(newest)
}

// newestHour is gold's newest hour (goldExtent).
func (s *Server) newestHour(ctx context.Context) (time.Time, bool) {
	ext, err := s.goldExtent(ctx)
	if err != nil || !ext.ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, ext.last)
	return t, err == nil
}

// readAhead builds the kept rankings of the lists asked for in the last
// warmFor, over their ranges moved to end at gold's newest hour, that are
// not kept yet.
func (s *Server) readAhead(ctx context.Context) error {
	s.warm.reading.Lock()
	defer s.warm.reading.Unlock()
	return s.readAheadLocked(ctx)
}

// tryReadAhead is readAhead, unless the lists are being read ahead
// already.
func (s *Server) tryReadAhead(ctx context.Context) error {
	if !s.warm.reading.TryLock() {
		return nil
	}
	defer s.warm.reading.Unlock()
	return s.readAheadLocked(ctx)
}

// readAheadLocked is readAhead with s.warm.reading held.
func (s *Server) readAheadLocked(ctx context.Context) error {
	newest, ok := s.newestHour(ctx)
	if !ok {
		return nil
	}
	s.warm.mu.Lock()
	var lists []warmList
	for key, l := range s.warm.m {
		if time.Since(l.asked) > warmFor {
			delete(s.warm.m, key)
			continue
		}
		lists = append(lists, *l)
	}
	s.warm.mu.Unlock()
	for _, l := range lists {
		f := l.f
		f.from, f.to = newest.Add(-l.span), newest
		q := l.q
		var err error
		if q.span, err = s.listSpan(ctx, q, f); err != nil {
			return err
		}
		built := s.closed.built.Load()
		if _, err := s.closedTopKept(ctx, q, l.spare); err != nil {
			return err
		}
		s.warm.built.Add(s.closed.built.Load() - built)
	}
	return nil
}
