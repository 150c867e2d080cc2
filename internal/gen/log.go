package gen

import "strconv"

// logKind is a (log_type, log_action) pair.
type logKind uint8

const (
	logUpload logKind = iota
	logOverwrite
	logAutocreate
	logCreateUser
	logThanks
	logPatrol
	logAbuseFilter
	logDelete
	logMove
	logReview
	logBlock
	logProtect
	numLogKinds
)

// logWeights is the mix of log events per project group: Commons, Wikidata,
// everything else. The recorded data has too few log events with log_* fields
// to calibrate it (14 in the 2024-2026 raw captures: upload 2, delete 2,
// abusefilter 3, review 3, patrol 1, thanks 1, move 1, renameuser 1), so the
// weights are set by hand in that spirit: uploads dominate Commons,
// account creation, patrol, abuse-filter hits and thanks elsewhere.
var logWeights = [3][numLogKinds]int{
	{logUpload: 45, logOverwrite: 6, logAutocreate: 12, logCreateUser: 2, logThanks: 3, logPatrol: 14,
		logAbuseFilter: 5, logDelete: 8, logMove: 3, logBlock: 1, logProtect: 1},
	{logAutocreate: 22, logCreateUser: 3, logThanks: 5, logPatrol: 25, logAbuseFilter: 15, logDelete: 15,
		logBlock: 4, logProtect: 3},
	{logUpload: 3, logAutocreate: 22, logCreateUser: 4, logThanks: 12, logPatrol: 10, logAbuseFilter: 14,
		logDelete: 9, logMove: 7, logReview: 12, logBlock: 4, logProtect: 2},
}

var blockDurations = []string{"31 hours", "1 week", "3 months", "infinite", "1 day", "2 weeks"}

func (w *world) fillLog(ev *event, r *rng) {
	wk := ev.wk
	group := 2
	switch wk.fam {
	case famCommons:
		group = 0
	case famWikidata:
		group = 1
	}
	weights := &logWeights[group]
	total := 0
	for _, x := range weights {
		total += x
	}
	n := r.intn(total)
	kind := logKind(0)
	for ; kind < numLogKinds-1 && n >= weights[kind]; kind++ {
		n -= weights[kind]
	}
	// Kinds the wiki does not have fall back to one it has.
	switch {
	case kind == logPatrol && wk.patrol != patrolRC:
		kind = logDelete
	case kind == logReview && !wk.flagged:
		kind = logThanks
	case kind == logAbuseFilter && wk.lastAFSec == ev.t/1e9:
		// Abuse-filter hits carry neither an rc id nor a log id, so two in
		// the same second of one wiki would share an event_id.
		kind = logThanks
	}
	ev.comment = ev.comment[:0]
	ev.logComment = ev.logComment[:0]
	ev.logParams = ev.logParams[:0]
	ev.hasID = true
	wk.logID += int64(1 + r.intn(3))
	ev.logID = wk.logID
	pageNS := 0
	if wk.fam == famCommons {
		pageNS = 6
	}
	switch kind {
	case logUpload, logOverwrite:
		ev.logType = "upload"
		ev.ns = 6
		if kind == logUpload {
			ev.logAction = "upload"
			ev.title = w.appendTitle(ev.title[:0], wk, 6, wk.pages+r.intn(1<<30))
		} else {
			ev.logAction = "overwrite"
			ev.title = w.appendTitle(ev.title[:0], wk, 6, r.zipf(wk.pages))
		}
		ev.comment = append(ev.comment, uploadSummaries[r.intn(len(uploadSummaries))]...)
		ev.logParams = append(ev.logParams, `{"img_sha1":"`...)
		for i := 0; i < 31; i++ {
			ev.logParams = append(ev.logParams, "0123456789abcdefghijklmnopqrstuvwxyz"[r.intn(36)])
		}
		ev.logParams = append(ev.logParams, `","img_timestamp":"`...)
		ev.logParams = appendMWTimestamp(ev.logParams, ev.t/1e9)
		ev.logParams = append(ev.logParams, `"}`...)
		if kind == logUpload {
			ev.logComment = append(ev.logComment, "uploaded &quot;[["...)
		} else {
			ev.logComment = append(ev.logComment, "uploaded a new version of &quot;[["...)
		}
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, "]]&quot;: "...)
		ev.logComment = append(ev.logComment, ev.comment...)
	case logAutocreate, logCreateUser:
		ev.logType = "newusers"
		ev.logAction = "create"
		if kind == logAutocreate {
			ev.logAction = "autocreate"
		}
		// The new account makes the event.
		ev.kind = userHuman
		ev.user = w.humanName(ev.user[:0], wk, wk.users+r.intn(1<<30))
		ev.ns = 2
		ev.title = append(append(append(ev.title[:0], wk.ns.user...), ':'), ev.user...)
		ev.logParams = append(ev.logParams, `{"userid":`...)
		ev.logParams = strconv.AppendInt(ev.logParams, int64(40_000_000+r.intn(20_000_000)), 10)
		ev.logParams = append(ev.logParams, '}')
		ev.logComment = append(ev.logComment, "User account [["...)
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, '|')
		ev.logComment = append(ev.logComment, ev.user...)
		ev.logComment = append(ev.logComment, "]] was created"...)
		if kind == logAutocreate {
			ev.logComment = append(ev.logComment, " automatically"...)
		}
	case logThanks:
		ev.logType, ev.logAction = "thanks", "thank"
		ev.hasID = false
		ev.ns = 2
		ev.title = append(append(ev.title[:0], wk.ns.user...), ':')
		start := len(ev.title)
		ev.title = w.humanName(ev.title, wk, r.zipf(wk.users))
		ev.logParams = append(ev.logParams, "[]"...)
		ev.logComment = append(ev.logComment, ev.user...)
		ev.logComment = append(ev.logComment, wk.text.thanked...)
		ev.logComment = append(ev.logComment, ev.title[start:]...)
	case logPatrol:
		ev.logType, ev.logAction = "patrol", "patrol"
		ev.hasID = false
		ev.ns = pageNS
		ev.title = w.appendTitle(ev.title[:0], wk, pageNS, r.zipf(wk.pages))
		cur := wk.revID - int64(r.intn(5000))
		prev := prevRev(cur, r)
		ev.logParams = append(ev.logParams, `{"curid":"`...)
		ev.logParams = strconv.AppendInt(ev.logParams, cur, 10)
		ev.logParams = append(ev.logParams, `","previd":"`...)
		ev.logParams = strconv.AppendInt(ev.logParams, prev, 10)
		ev.logParams = append(ev.logParams, `","auto":0}`...)
		ev.logComment = append(ev.logComment, "marked revision "...)
		ev.logComment = strconv.AppendInt(ev.logComment, cur, 10)
		ev.logComment = append(ev.logComment, " of [["...)
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, "]] patrolled "...)
	case logAbuseFilter:
		ev.logType, ev.logAction = "abusefilter", "hit"
		ev.hasID = false
		ev.logID = 0
		wk.lastAFSec = ev.t / 1e9
		if r.chance(0.6) {
			w.pickAnon(ev, r)
		}
		ev.ns = pageNS
		ev.title = w.appendTitle(ev.title[:0], wk, pageNS, r.zipf(wk.pages))
		filter := 1 + r.zipf(1500)
		logNo := 1_000_000 + r.intn(40_000_000)
		actions := []string{"tag", "tag", "warn", "disallow", "tag,warn"}[r.intn(5)]
		ev.logParams = append(ev.logParams, `{"action":"edit","filter":"`...)
		ev.logParams = strconv.AppendInt(ev.logParams, int64(filter), 10)
		ev.logParams = append(ev.logParams, `","actions":"`...)
		ev.logParams = append(ev.logParams, actions...)
		ev.logParams = append(ev.logParams, `","log":`...)
		ev.logParams = strconv.AppendInt(ev.logParams, int64(logNo), 10)
		ev.logParams = append(ev.logParams, '}')
		ev.logComment = append(ev.logComment, ev.user...)
		ev.logComment = append(ev.logComment, " triggered [[Special:AbuseFilter/"...)
		ev.logComment = strconv.AppendInt(ev.logComment, int64(filter), 10)
		ev.logComment = append(ev.logComment, "|filter "...)
		ev.logComment = strconv.AppendInt(ev.logComment, int64(filter), 10)
		ev.logComment = append(ev.logComment, "]], performing the action \"edit\" on [["...)
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, "]]. Actions taken: "...)
		ev.logComment = append(ev.logComment, actions...)
		ev.logComment = append(ev.logComment, " ([[Special:AbuseLog/"...)
		ev.logComment = strconv.AppendInt(ev.logComment, int64(logNo), 10)
		ev.logComment = append(ev.logComment, "|details]])"...)
	case logDelete:
		ev.logType, ev.logAction = "delete", "delete"
		ev.ns = pageNS
		if r.chance(0.2) {
			ev.ns = 3
		}
		ev.title = w.appendTitle(ev.title[:0], wk, ev.ns, r.zipf(wk.pages))
		ev.comment = append(ev.comment, deleteReasons[r.intn(len(deleteReasons))]...)
		ev.logParams = append(ev.logParams, "[]"...)
		ev.logComment = append(ev.logComment, "deleted &quot;[["...)
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, "]]&quot;: "...)
		ev.logComment = append(ev.logComment, ev.comment...)
	case logMove:
		ev.logType, ev.logAction = "move", "move"
		ev.ns = pageNS
		ev.title = w.appendTitle(ev.title[:0], wk, pageNS, r.zipf(wk.pages))
		target := w.appendTitle(w.tmp[:0], wk, pageNS, wk.pages+r.intn(1<<30))
		w.tmp = target
		ev.logParams = append(ev.logParams, `{"target":"`...)
		ev.logParams = appendJSONString(ev.logParams, target)
		ev.logParams = append(ev.logParams, `","noredir":"0"}`...)
		ev.logComment = append(ev.logComment, "moved [["...)
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, "]] to [["...)
		ev.logComment = append(ev.logComment, target...)
		ev.logComment = append(ev.logComment, "]]"...)
		if r.chance(0.5) {
			ev.comment = append(ev.comment, wk.text.summaries[r.intn(len(wk.text.summaries))]...)
			ev.logComment = append(ev.logComment, ": "...)
			ev.logComment = append(ev.logComment, ev.comment...)
		}
	case logReview:
		ev.logType, ev.logAction = "review", "approve"
		ev.hasID = false
		ev.ns = 0
		ev.title = w.appendTitle(ev.title[:0], wk, 0, r.zipf(wk.pages))
		cur := wk.revID - int64(r.intn(5000))
		ev.logParams = append(ev.logParams, '[')
		ev.logParams = strconv.AppendInt(ev.logParams, cur, 10)
		ev.logParams = append(ev.logParams, ',')
		ev.logParams = strconv.AppendInt(ev.logParams, prevRev(cur, r), 10)
		ev.logParams = append(ev.logParams, `,"`...)
		ev.logParams = appendMWTimestamp(ev.logParams, ev.t/1e9-int64(r.intn(86400)))
		ev.logParams = append(ev.logParams, `"]`...)
		ev.logComment = append(ev.logComment, ev.user...)
		if wk.lang == "de" {
			ev.logComment = append(ev.logComment, " sichtete eine Version von [["...)
		} else {
			ev.logComment = append(ev.logComment, " reviewed a version of [["...)
		}
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, "]]"...)
	case logBlock:
		ev.logType, ev.logAction = "block", "block"
		ev.ns = 2
		ev.title = append(append(ev.title[:0], wk.ns.user...), ':')
		start := len(ev.title)
		if r.chance(0.6) {
			ev.title = appendIP(ev.title, r.u64(), r.u64(), r.chance(ipv4Share))
		} else {
			ev.title = w.humanName(ev.title, wk, r.zipf(wk.users))
		}
		dur := blockDurations[r.intn(len(blockDurations))]
		ev.comment = append(ev.comment, blockReasons[r.intn(len(blockReasons))]...)
		ev.logParams = append(ev.logParams, `{"duration":"`...)
		ev.logParams = append(ev.logParams, dur...)
		ev.logParams = append(ev.logParams, `","flags":"anononly,nocreate","sitewide":true}`...)
		ev.logComment = append(ev.logComment, "blocked [["...)
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, '|')
		ev.logComment = append(ev.logComment, ev.title[start:]...)
		ev.logComment = append(ev.logComment, "]] with an expiration time of "...)
		ev.logComment = append(ev.logComment, dur...)
		ev.logComment = append(ev.logComment, " (anonymous users only, account creation blocked): "...)
		ev.logComment = append(ev.logComment, ev.comment...)
	default: // logProtect
		ev.logType, ev.logAction = "protect", "protect"
		ev.ns = pageNS
		ev.title = w.appendTitle(ev.title[:0], wk, pageNS, r.zipf(200))
		ev.comment = append(ev.comment, "Persistent [[Wikipedia:Vandalism|vandalism]]"...)
		ev.logParams = append(ev.logParams, `{"description":"[edit=autoconfirmed] (expires `...)
		ev.logParams = appendDTMillis(ev.logParams, (ev.t+int64(7*86400e9))/1e6)
		ev.logParams = append(ev.logParams, `)","cascade":false}`...)
		ev.logComment = append(ev.logComment, "protected &quot;[["...)
		ev.logComment = append(ev.logComment, ev.title...)
		ev.logComment = append(ev.logComment, "]]&quot; [edit=autoconfirmed]: "...)
		ev.logComment = append(ev.logComment, ev.comment...)
	}
	if ev.hasID {
		w.nextRC(ev, r)
	}
	ev.parsed = renderComment(ev.parsed[:0], ev.comment, wk, ev.title, false)
}
