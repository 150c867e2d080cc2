package gen

import (
	"slices"
	"time"
)

// vandalPlan is the burst of edits by one anonymous editor: when they happen
// and where.
type vandalPlan struct {
	times []int64 // event times, sorted, all within one clock hour
	user  string
	wikis []*wiki
}

const (
	vandalMaxDuration = 40 * time.Minute
	vandalMinDuration = 10 * time.Minute
)

// planVandal places cfg.VandalBurst edits in the clock hour around the middle
// of the generated span, inside the span where it is long enough.
func planVandal(cfg Config, w *world, r *rng) vandalPlan {
	if cfg.VandalBurst == 0 {
		return vandalPlan{}
	}
	hour := int64(time.Hour)
	start := cfg.Start.UnixNano()
	span := int64(float64(cfg.Count) / cfg.Rate * 1e9)
	mid := start + span/2
	h0 := mid - mid%hour
	ws := max(h0, start)
	availEnd := min(h0+hour, start+span)
	dur := min(int64(vandalMaxDuration), availEnd-ws)
	if dur < int64(vandalMinDuration) {
		// A short run: the burst may outlast the regular events.
		dur = min(int64(vandalMinDuration), h0+hour-ws)
	}
	from := ws
	if slack := availEnd - ws - dur; slack > 0 {
		from += int64(r.float() * float64(slack))
	}
	p := vandalPlan{times: make([]int64, cfg.VandalBurst)}
	for i := range p.times {
		p.times[i] = from + int64(r.float()*float64(dur))
	}
	slices.Sort(p.times)

	p.user = string(appendIP(nil, r.u64(), r.u64(), r.chance(0.7)))
	// The largest Wikipedias in the mix (any wiki if there are no Wikipedias).
	var cands []*wiki
	for _, wk := range w.wikis {
		if wk.fam == famWikipedia {
			cands = append(cands, wk)
		}
	}
	if len(cands) == 0 {
		cands = slices.Clone(w.wikis)
	}
	slices.SortStableFunc(cands, func(a, b *wiki) int { return b.n - a.n })
	cands = cands[:min(len(cands), 12)]
	n := min(len(cands), 6+r.intn(4))
	for i := 0; i < n; i++ { // partial shuffle: n distinct wikis
		j := i + r.intn(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	p.wikis = cands[:n]
	return p
}

// vandalEdit appends the i-th edit of the burst at time t.
func (w *world) vandalEdit(b []byte, ev *event, r *rng, p *vandalPlan, i int, t int64) []byte {
	wk := p.wikis[r.intn(len(p.wikis))]
	if i < len(p.wikis) {
		wk = p.wikis[i] // every chosen wiki gets at least one edit
	}
	ev.begin(wk, t)
	ev.typ = tEdit
	ev.kind = userIP
	ev.user = append(ev.user[:0], p.user...)
	ev.ns = 0
	ev.title = w.appendTitle(ev.title[:0], wk, 0, r.zipf(60))
	w.nextRC(ev, r)
	ev.revNew = nextRev(wk, r)
	ev.revOld = prevRev(ev.revNew, r)
	switch {
	case i%9 < 4: // a large deletion, one in four blanking the page
		removed := int64(r.logUniform(1000, 40000))
		ev.lenOld = removed + int64(r.logUniform(50, 60000))
		if i%9 == 0 {
			removed = ev.lenOld
		}
		ev.lenNew = ev.lenOld - removed
	case r.chance(0.6): // junk added
		ev.lenOld = max(r.sample(wk.oldLen), 200)
		ev.lenNew = ev.lenOld + int64(r.logUniform(3, 300))
	default: // a small removal
		ev.lenOld = max(r.sample(wk.oldLen), 1000)
		ev.lenNew = ev.lenOld - int64(r.logUniform(1, 900))
	}
	ev.hasPatrolled = wk.patrol == patrolRC
	if r.chance(0.3) {
		ev.comment = append(ev.comment, "/* "...)
		ev.comment = append(ev.comment, wk.text.sections[r.intn(len(wk.text.sections))]...)
		ev.comment = append(ev.comment, " */"...)
	}
	ev.parsed = renderComment(ev.parsed[:0], ev.comment, wk, ev.title, false)
	return w.render(b, ev, r)
}
