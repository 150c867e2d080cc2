package gen

import "strconv"

// evType is the recentchange type.
type evType uint8

const (
	tEdit evType = iota
	tNew
	tLog
	tCategorize
)

var typeNames = [...]string{"edit", "new", "log", "categorize"}

// event is the scratch state of the event being generated. Its buffers are
// reused from event to event.
type event struct {
	wk   *wiki
	typ  evType
	kind userKind
	ns   int
	t    int64 // event time, ns since the epoch

	title, titleURL, user, comment, parsed []byte
	logParams, logComment                  []byte

	hasID          bool
	rcID           int64
	revOld, revNew int64
	lenOld, lenNew int64
	minor          bool
	hasPatrolled   bool
	patrolled      bool
	logID          int64
	logType        string
	logAction      string
	sameRequest    bool // reuse the wiki's last request id (categorize after an edit)
}

func (ev *event) init() {
	for _, p := range []*[]byte{&ev.title, &ev.titleURL, &ev.user, &ev.comment, &ev.parsed, &ev.logParams, &ev.logComment} {
		*p = make([]byte, 0, 512)
	}
}

func (ev *event) begin(wk *wiki, t int64) {
	ev.wk, ev.t = wk, t
	ev.hasID, ev.hasPatrolled, ev.minor, ev.patrolled, ev.sameRequest = false, false, false, false, false
	ev.comment, ev.parsed = ev.comment[:0], ev.parsed[:0]
}

// event appends one regular event at time t to b.
func (w *world) event(b []byte, ev *event, r *rng, t int64) []byte {
	wk := w.pickWiki(r)
	ev.begin(wk, t)
	u := r.float()
	typ := tEdit
	for typ < tCategorize && u >= wk.typeCum[typ] {
		typ++
	}
	ev.typ = typ
	w.pickUser(ev, r)
	switch typ {
	case tEdit:
		w.fillEdit(ev, r)
	case tNew:
		w.fillNew(ev, r)
	case tLog:
		w.fillLog(ev, r)
	default:
		w.fillCategorize(ev, r)
	}
	return w.render(b, ev, r)
}

func (w *world) nextRC(ev *event, r *rng) {
	wk := ev.wk
	wk.rcID++
	if r.intn(4) == 0 { // changes the stream does not show (deleted, suppressed)
		wk.rcID += int64(1 + r.intn(3))
	}
	ev.rcID, ev.hasID = wk.rcID, true
}

func nextRev(wk *wiki, r *rng) int64 {
	wk.revID += int64(1 + r.intn(2))
	return wk.revID
}

// prevRev is the page's previous revision: often minutes old, often years.
func prevRev(cur int64, r *rng) int64 {
	var old int64
	if r.chance(0.4) {
		old = cur - int64(r.logUniform(1, 2e6))
	} else {
		old = cur - 1 - int64(r.float()*0.95*float64(cur))
	}
	return max(old, 1)
}

func (w *world) fillEdit(ev *event, r *rng) {
	wk := ev.wk
	ev.ns = wk.nsEdit.pick(r)
	if ev.ns == 104 && wk.fam != famWikisource {
		ev.ns = 0
	}
	ev.title = w.appendTitle(ev.title[:0], wk, ev.ns, r.zipf(wk.pages))
	w.nextRC(ev, r)
	ev.revNew = nextRev(wk, r)
	ev.revOld = prevRev(ev.revNew, r)
	ev.lenOld, ev.lenNew = editLengths(wk, r)
	p := wk.minor
	switch ev.kind {
	case userBot:
		if wk.fam != famWikidata {
			p = max(p, 0.6)
		}
	case userIP, userTemp:
		p *= 0.3
	}
	ev.minor = r.chance(p)
	ev.hasPatrolled = wk.patrol == patrolRC
	ev.patrolled = patrolledFor(ev, r)
	w.commentFor(ev, r)
}

// editLengths draws the page length before and after an edit from the
// calibrated quantiles: most edits change a few bytes, a few add or remove
// tens of kilobytes, and a wiki page is occasionally blanked.
func editLengths(wk *wiki, r *rng) (old, new int64) {
	if wk.fam != famCommons && wk.fam != famWikidata && r.chance(blankRateWiki) {
		return max(r.sample(wk.oldLen), 120), 0
	}
	old = r.sample(wk.oldLen)
	d := r.sample(wk.delta)
	if old+d < 0 {
		old = -d + r.sample(wk.oldLen)/4
	}
	return old, old + d
}

func patrolledFor(ev *event, r *rng) bool {
	switch ev.kind {
	case userBot:
		return true
	case userIP, userTemp:
		return r.chance(0.05)
	}
	return r.chance(ev.wk.patrolledP)
}

func (w *world) fillNew(ev *event, r *rng) {
	wk := ev.wk
	ev.ns = wk.nsNew.pick(r)
	if ev.ns == 104 && wk.fam != famWikisource {
		ev.ns = 0
	}
	if wk.fam == famWikidata && ev.ns == 0 {
		wk.nextItem++
		ev.title = append(ev.title[:0], 'Q')
		ev.title = strconv.AppendInt(ev.title, wk.nextItem, 10)
	} else {
		// A page that did not exist: beyond the pages edits pick from.
		ev.title = w.appendTitle(ev.title[:0], wk, ev.ns, wk.pages+r.intn(1<<30))
	}
	w.nextRC(ev, r)
	ev.revNew = nextRev(wk, r)
	ev.lenNew = r.sample(wk.newLen)
	ev.hasPatrolled = wk.patrol != patrolNone
	ev.patrolled = patrolledFor(ev, r)
	w.commentFor(ev, r)
}

func (w *world) fillCategorize(ev *event, r *rng) {
	wk := ev.wk
	ev.ns = 14
	ev.title = w.appendTitle(ev.title[:0], wk, 14, r.zipf(wk.pages))
	w.nextRC(ev, r)
	// notify_url points at the revision of the member page that changed.
	ev.revNew = wk.revID - int64(r.intn(40))
	ev.revOld = 0
	if !r.chance(0.1) {
		ev.revOld = prevRev(ev.revNew, r)
	}
	ev.sameRequest = r.chance(0.6)
	w.commentFor(ev, r)
}

// render appends the event as compact JSON in the EventStreams field order.
func (w *world) render(b []byte, ev *event, r *rng) []byte {
	wk := ev.wk
	ev.titleURL = append(ev.titleURL[:0], wk.titleBase...)
	ev.titleURL = appendTitleURL(ev.titleURL, ev.title)

	b = append(b, `{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"uri":"`...)
	b = appendJSONString(b, ev.titleURL)
	b = append(b, `","request_id":"`...)
	hi, lo := r.u64(), r.u64()
	if ev.sameRequest && wk.lastReqHi != 0 {
		hi, lo = wk.lastReqHi, wk.lastReqLo
	}
	wk.lastReqHi, wk.lastReqLo = hi, lo
	b = appendUUID(b, hi, lo)
	b = append(b, `","id":"`...)
	b = appendUUID(b, r.u64(), r.u64())
	b = append(b, `","domain":"`...)
	b = append(b, wk.domain...)
	b = append(b, `","stream":"mediawiki.recentchange","dt":"`...)
	// meta.dt is when EventBus produced the event: a little after the change.
	lag := min(int64(r.expo()*300e6), 10e9)
	b = appendDTMillis(b, (ev.t+lag)/1e6)
	b = append(b, `","topic":"codfw.mediawiki.recentchange","partition":0,"offset":`...)
	w.offset++
	b = strconv.AppendInt(b, w.offset, 10)
	b = append(b, "},"...)
	if ev.hasID {
		b = append(b, `"id":`...)
		b = strconv.AppendInt(b, ev.rcID, 10)
		b = append(b, ',')
	}
	b = append(b, `"type":"`...)
	b = append(b, typeNames[ev.typ]...)
	b = append(b, `","namespace":`...)
	b = strconv.AppendInt(b, int64(ev.ns), 10)
	b = append(b, `,"title":"`...)
	b = appendJSONString(b, ev.title)
	b = append(b, `","title_url":"`...)
	b = appendJSONString(b, ev.titleURL)
	b = append(b, `","comment":"`...)
	b = appendJSONString(b, ev.comment)
	b = append(b, `","timestamp":`...)
	b = strconv.AppendInt(b, ev.t/1e9, 10)
	b = append(b, `,"user":"`...)
	b = appendJSONString(b, ev.user)
	if ev.kind == userBot {
		b = append(b, `","bot":true,`...)
	} else {
		b = append(b, `","bot":false,`...)
	}
	switch ev.typ {
	case tEdit:
		b = append(b, `"notify_url":"`...)
		b = append(b, wk.notifyBase...)
		b = append(b, "diff="...)
		b = strconv.AppendInt(b, ev.revNew, 10)
		b = append(b, "&oldid="...)
		b = strconv.AppendInt(b, ev.revOld, 10)
		b = appendRCID(b, ev)
		b = appendBool(b, `","minor":`, ev.minor)
		if ev.hasPatrolled {
			b = appendBool(b, `,"patrolled":`, ev.patrolled)
		}
		b = append(b, `,"length":{"old":`...)
		b = strconv.AppendInt(b, ev.lenOld, 10)
		b = append(b, `,"new":`...)
		b = strconv.AppendInt(b, ev.lenNew, 10)
		b = append(b, `},"revision":{"old":`...)
		b = strconv.AppendInt(b, ev.revOld, 10)
		b = append(b, `,"new":`...)
		b = strconv.AppendInt(b, ev.revNew, 10)
		b = append(b, "},"...)
	case tNew:
		b = append(b, `"notify_url":"`...)
		b = append(b, wk.notifyBase...)
		b = append(b, "oldid="...)
		b = strconv.AppendInt(b, ev.revNew, 10)
		b = appendRCID(b, ev)
		b = append(b, `","minor":false`...)
		if ev.hasPatrolled {
			b = appendBool(b, `,"patrolled":`, ev.patrolled)
		}
		b = append(b, `,"length":{"new":`...)
		b = strconv.AppendInt(b, ev.lenNew, 10)
		b = append(b, `},"revision":{"new":`...)
		b = strconv.AppendInt(b, ev.revNew, 10)
		b = append(b, "},"...)
	case tCategorize:
		b = append(b, `"notify_url":"`...)
		b = append(b, wk.notifyBase...)
		b = append(b, "diff="...)
		b = strconv.AppendInt(b, ev.revNew, 10)
		b = append(b, "&oldid="...)
		b = strconv.AppendInt(b, ev.revOld, 10)
		b = append(b, `",`...)
	case tLog:
		b = append(b, `"log_id":`...)
		b = strconv.AppendInt(b, ev.logID, 10)
		b = append(b, `,"log_type":"`...)
		b = append(b, ev.logType...)
		b = append(b, `","log_action":"`...)
		b = append(b, ev.logAction...)
		b = append(b, `","log_params":`...)
		b = append(b, ev.logParams...)
		b = append(b, `,"log_action_comment":"`...)
		b = appendJSONString(b, ev.logComment)
		b = append(b, `",`...)
	}
	b = append(b, wk.tail...)
	b = appendJSONString(b, ev.parsed)
	return append(b, `"}`...)
}

// appendRCID adds the rc id to notify_url where patrolling uses it.
func appendRCID(b []byte, ev *event) []byte {
	if ev.hasPatrolled {
		b = append(b, "&rcid="...)
		b = strconv.AppendInt(b, ev.rcID, 10)
	}
	return b
}

func appendBool(b []byte, key string, v bool) []byte {
	b = append(b, key...)
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendMWTimestamp appends a Unix time as MediaWiki's YYYYMMDDhhmmss.
func appendMWTimestamp(b []byte, sec int64) []byte {
	days := floorDiv(sec, 86400)
	rem := sec - days*86400
	y, m, d := civil(days)
	b = appendPad(b, y, 4)
	b = appendPad(b, m, 2)
	b = appendPad(b, d, 2)
	b = appendPad(b, rem/3600, 2)
	b = appendPad(b, rem/60%60, 2)
	return appendPad(b, rem%60, 2)
}
