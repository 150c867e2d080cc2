package gen

import (
	"bytes"
	"strconv"
)

// Comments are built as wikitext (the "comment" field) and rendered to HTML
// the way MediaWiki renders edit summaries ("parsedcomment"): a leading
// /* section */ or Wikibase /* magic */ autocomment, [[links]] (internal and
// interwiki), everything else HTML-escaped.

// interwiki prefixes that comments use, with their URL bases.
var interwiki = []struct{ prefix, base string }{
	{"c:", "https://commons.wikimedia.org/wiki/"},
	{"d:", "https://www.wikidata.org/wiki/"},
	{"toollabs:", "https://iw.toolforge.org/"},
	{"phab:", "https://phabricator.wikimedia.org/"},
	{"meta:", "https://meta.wikimedia.org/wiki/"},
}

// wikibaseText renders Wikibase autocomment magic words in English.
var wikibaseText = map[string]string{
	"wbsetclaim-create":            "Created claim",
	"wbcreateclaim-create":         "Created claim",
	"wbsetclaim-update":            "Changed claim",
	"wbremoveclaims-remove":        "Removed claim",
	"wbsetreference-add":           "Added reference to claim",
	"wbsetqualifier-add":           "Added qualifier",
	"wbeditentity-update":          "Changed an entity",
	"wbeditentity-create-item":     "Created a new Item",
	"wbeditentity-create-property": "Created a new Property",
	"wbsetdescription-add":         "Added [%] description",
	"wbsetlabel-add":               "Added [%] label",
	"wbsetaliases-add":             "Added [%] alias",
	"wbsetsitelink-add":            "Added link to [%]",
}

// renderComment appends the parsedcomment of comment c on page to p. With
// labels, links to Wikidata entities show the entity's label, as Wikidata
// renders them for logged-in readers since 2024.
func renderComment(p, c []byte, wk *wiki, page []byte, labels bool) []byte {
	if bytes.HasPrefix(c, []byte("/* ")) {
		if j := bytes.Index(c[3:], []byte(" */")); j >= 0 {
			inner := c[3 : 3+j]
			rest := c[3+j+3:]
			if len(rest) > 0 && rest[0] == ' ' {
				rest = rest[1:]
			}
			if text, ok := wikibaseAutocomment(inner); ok {
				p = append(p, "\u200e<span dir=\"auto\"><span class=\"autocomment\">"...)
				p = appendWikibaseText(p, text, inner)
				p = append(p, ": </span></span> "...)
				return renderLinks(p, rest, labels)
			}
			p = append(p, `<span class="autocomment"><a href="/wiki/`...)
			p = appendTitleURL(p, page)
			p = append(p, '#')
			p = appendAnchor(p, inner)
			p = append(p, `" title="`...)
			p = appendHTML(p, page)
			if wk.sc.rtl {
				p = append(p, `">←<bdi dir="rtl">`...)
			} else {
				p = append(p, `">→<bdi dir="ltr">`...)
			}
			p = appendHTML(p, inner)
			p = append(p, "</bdi></a>"...)
			if len(rest) == 0 {
				return append(p, "</span>"...)
			}
			p = append(p, ": </span> "...)
			return renderLinks(p, rest, labels)
		}
	}
	return renderLinks(p, c, labels)
}

// wikibaseAutocomment recognises "wbsetclaim-create:2||1" and the like.
func wikibaseAutocomment(inner []byte) (string, bool) {
	if !bytes.HasPrefix(inner, []byte("wb")) {
		return "", false
	}
	name := inner
	if i := bytes.IndexByte(inner, ':'); i >= 0 {
		name = inner[:i]
	}
	text, ok := wikibaseText[string(name)]
	return text, ok
}

// appendWikibaseText appends text with "%" replaced by the language the
// magic word names after its last "|".
func appendWikibaseText(p []byte, text string, inner []byte) []byte {
	lang := inner
	if i := bytes.LastIndexByte(inner, '|'); i >= 0 {
		lang = inner[i+1:]
	}
	for i := 0; i < len(text); i++ {
		if text[i] == '%' {
			p = appendHTML(p, lang)
		} else {
			p = append(p, text[i])
		}
	}
	return p
}

// renderLinks renders [[target]] and [[target|label]] links, HTML-escaping
// the rest.
func renderLinks(p, c []byte, labels bool) []byte {
	for {
		i := bytes.Index(c, []byte("[["))
		if i < 0 {
			return appendHTML(p, c)
		}
		j := bytes.Index(c[i+2:], []byte("]]"))
		if j < 0 {
			return appendHTML(p, c)
		}
		p = appendHTML(p, c[:i])
		p = renderLink(p, c[i+2:i+2+j], labels)
		c = c[i+2+j+2:]
	}
}

func renderLink(p, link []byte, labels bool) []byte {
	target, label := link, []byte(nil)
	if k := bytes.IndexByte(link, '|'); k >= 0 {
		target, label = link[:k], link[k+1:]
	}
	if len(target) > 0 && target[0] == ':' {
		target = target[1:]
	}
	bare := label == nil
	if bare {
		label = target
	}
	for _, iw := range interwiki {
		if bytes.HasPrefix(target, []byte(iw.prefix)) {
			p = append(p, `<a href="`...)
			p = append(p, iw.base...)
			page := target[len(iw.prefix):]
			if k := bytes.IndexByte(page, '#'); k >= 0 {
				// Fragments use MediaWiki's legacy anchor encoding.
				p = appendTitleURL(p, page[:k])
				p = append(p, '#')
				for _, c := range page[k+1:] {
					if c == '/' {
						p = append(p, ".2F"...)
					} else {
						p = append(p, c)
					}
				}
			} else {
				p = appendTitleURL(p, page)
			}
			p = append(p, `" class="extiw" title="`...)
			if k := bytes.IndexByte(target, '#'); k >= 0 {
				p = appendHTML(p, target[:k])
			} else {
				p = appendHTML(p, target)
			}
			p = append(p, `">`...)
			p = appendHTML(p, label)
			return append(p, "</a>"...)
		}
	}
	if labels && bare {
		if id := entityID(target); id != nil {
			return appendEntityLink(p, target, id)
		}
	}
	page, frag := target, []byte(nil)
	if k := bytes.IndexByte(target, '#'); k >= 0 {
		page, frag = target[:k], target[k+1:]
	}
	p = append(p, `<a href="/wiki/`...)
	p = appendTitleURL(p, page)
	if frag != nil {
		p = append(p, '#')
		p = appendAnchor(p, frag)
	}
	p = append(p, `" title="`...)
	p = appendHTML(p, page)
	p = append(p, `">`...)
	p = appendHTML(p, label)
	return append(p, "</a>"...)
}

// commentFor writes the comment of ev (wikitext) and renders parsedcomment.
func (w *world) commentFor(ev *event, r *rng) {
	ev.comment = ev.comment[:0]
	switch ev.typ {
	case tEdit:
		switch ev.wk.fam {
		case famWikidata:
			w.wikidataEditComment(ev, r)
		case famCommons:
			w.commonsEditComment(ev, r)
		default:
			w.wikiEditComment(ev, r)
		}
	case tNew:
		switch ev.wk.fam {
		case famWikidata:
			ev.comment = append(ev.comment, "/* wbeditentity-create-"...)
			if ev.ns == 120 {
				ev.comment = append(ev.comment, "property:0| */ "...)
			} else {
				ev.comment = append(ev.comment, "item:0| */ "...)
			}
			w.wikidataToolSuffix(ev, r, true)
		default:
			w.newPageComment(ev, r)
		}
	case tCategorize:
		w.categorizeComment(ev, r)
	}
	// 28 of the 51 Wikidata events of the 2024-2026 raw captures render
	// entity labels.
	labels := ev.wk.fam == famWikidata && r.chance(0.55)
	ev.parsed = renderComment(ev.parsed[:0], ev.comment, ev.wk, ev.title, labels)
}

func (w *world) wikiEditComment(ev *event, r *rng) {
	wk, lt := ev.wk, ev.wk.text
	if ev.kind == userBot {
		w.botComment(ev, r)
		return
	}
	u := r.float()
	switch {
	case u < emptyCommentWikipedia:
		// no summary
	case u < 0.48:
		ev.comment = append(ev.comment, "/* "...)
		ev.comment = append(ev.comment, lt.sections[r.intn(len(lt.sections))]...)
		ev.comment = append(ev.comment, " */"...)
		if r.chance(0.6) {
			ev.comment = append(ev.comment, ' ')
			ev.comment = append(ev.comment, lt.summaries[r.intn(len(lt.summaries))]...)
		}
	case u < 0.78:
		ev.comment = append(ev.comment, lt.summaries[r.intn(len(lt.summaries))]...)
		if r.chance(0.3) {
			ev.comment = append(ev.comment, " [["...)
			ev.comment = w.appendTitle(ev.comment, wk, 0, r.zipf(wk.pages))
			ev.comment = append(ev.comment, "]]"...)
		}
	case u < 0.88:
		// An undo, with links to the reverted editor.
		w.tmp = w.humanName(w.tmp[:0], wk, r.zipf(wk.users))
		ev.comment = append(ev.comment, "Undid revision "...)
		ev.comment = strconv.AppendInt(ev.comment, wk.revID-int64(r.intn(500000)), 10)
		ev.comment = append(ev.comment, " by [[Special:Contributions/"...)
		ev.comment = append(ev.comment, w.tmp...)
		ev.comment = append(ev.comment, '|')
		ev.comment = append(ev.comment, w.tmp...)
		ev.comment = append(ev.comment, "]] ([["...)
		ev.comment = append(ev.comment, wk.ns.userTalk...)
		ev.comment = append(ev.comment, ':')
		ev.comment = append(ev.comment, w.tmp...)
		ev.comment = append(ev.comment, "|talk]])"...)
	case u < 0.95:
		ev.comment = append(ev.comment, "Added [["...)
		ev.comment = w.appendTitle(ev.comment, wk, 0, r.zipf(wk.pages))
		ev.comment = append(ev.comment, "]]"...)
	default:
		ev.comment = append(ev.comment, "Redirected page to [["...)
		ev.comment = w.appendTitle(ev.comment, wk, 0, r.zipf(wk.pages))
		ev.comment = append(ev.comment, "]]"...)
	}
}

func (w *world) botComment(ev *event, r *rng) {
	wk := ev.wk
	switch u := r.float(); {
	case u < 0.55:
		ev.comment = append(ev.comment, wk.text.bot[r.intn(len(wk.text.bot))]...)
	case u < 0.75 && wk.fam == famWikipedia:
		ev.comment = append(ev.comment, "Rescuing "...)
		ev.comment = strconv.AppendInt(ev.comment, int64(1+r.intn(4)), 10)
		ev.comment = append(ev.comment, " sources and tagging 0 as dead.) #IABot (v2.0.9.5"...)
	default:
		if r.chance(0.5) {
			ev.comment = append(ev.comment, "Removing from [["...)
		} else {
			ev.comment = append(ev.comment, "Adding [["...)
		}
		ev.comment = w.appendTitle(ev.comment, wk, 14, r.zipf(wk.pages))
		ev.comment = append(ev.comment, "]] using [[c:Help:Cat-a-lot|Cat-a-lot]]"...)
	}
}

func (w *world) newPageComment(ev *event, r *rng) {
	wk, lt := ev.wk, ev.wk.text
	switch u := r.float(); {
	case u < 0.2:
		ev.comment = append(ev.comment, "Redirected page to [["...)
		ev.comment = w.appendTitle(ev.comment, wk, 0, r.zipf(wk.pages))
		ev.comment = append(ev.comment, "]]"...)
	case ev.kind == userBot:
		ev.comment = append(ev.comment, lt.bot[r.intn(len(lt.bot))]...)
	default:
		ev.comment = append(ev.comment, lt.created...)
		ev.comment = append(ev.comment, lt.createdQ[0]...)
		h := hstream(r.u64())
		if wk.lang == "en" && wk.fam == famWikipedia && r.chance(0.4) {
			ev.comment = append(ev.comment, "{{Short description|"...)
			ev.comment = appendWords(ev.comment, wk.sc, &h, 2+h.intn(3), false)
			ev.comment = append(ev.comment, "}} "...)
		}
		ev.comment = append(ev.comment, "'''"...)
		ev.comment = append(ev.comment, ev.title...)
		ev.comment = append(ev.comment, "''' "...)
		// MediaWiki cuts the quoted text at about 200 bytes.
		ev.comment = appendWords(ev.comment, wk.sc, &h, 4+h.intn(14), false)
		ev.comment = append(ev.comment, lt.createdQ[1]...)
	}
}

func (w *world) categorizeComment(ev *event, r *rng) {
	wk, lt := ev.wk, ev.wk.text
	ev.comment = append(ev.comment, "[[:"...)
	memberNS := 0
	if wk.fam == famCommons {
		memberNS = 6
		if r.chance(0.25) {
			memberNS = 14
		}
	} else if r.chance(0.08) {
		memberNS = 14
	}
	start := len(ev.comment)
	ev.comment = w.appendTitle(ev.comment, wk, memberNS, r.zipf(wk.pages))
	member := ev.comment[start:]
	ev.comment = append(ev.comment, "]]"...)
	if r.chance(0.75) {
		ev.comment = append(ev.comment, lt.catAdd...)
	} else {
		ev.comment = append(ev.comment, lt.catRemove...)
	}
	if lt == enText && wk.fam != famCommons && r.chance(0.35) {
		w.tmp = append(w.tmp[:0], member...)
		ev.comment = append(ev.comment, ", [[Special:WhatLinksHere/"...)
		ev.comment = append(ev.comment, w.tmp...)
		ev.comment = append(ev.comment, "|this page is included within other pages]]"...)
	}
}

var wikidataEditMagic = []string{"wbsetclaim-create:2||1", "wbcreateclaim-create:1|", "wbsetclaim-update:2||1",
	"wbremoveclaims-remove:1|", "wbsetreference-add:2|", "wbsetqualifier-add:1|", "wbeditentity-update:0|"}

var wikidataTermMagic = []string{"wbsetdescription-add:1|", "wbsetlabel-add:1|", "wbsetaliases-add:1|", "wbsetsitelink-add:1|"}

func (w *world) wikidataEditComment(ev *event, r *rng) {
	if r.chance(0.25) {
		m := wikidataTermMagic[r.intn(len(wikidataTermMagic))]
		lang := termLangs[r.intn(len(termLangs))]
		ev.comment = append(ev.comment, "/* "...)
		ev.comment = append(ev.comment, m...)
		ev.comment = append(ev.comment, lang...)
		if m == "wbsetsitelink-add:1|" {
			ev.comment = append(ev.comment, "wiki */ "...)
		} else {
			ev.comment = append(ev.comment, " */ "...)
		}
		h := hstream(r.u64())
		if m == "wbsetdescription-add:1|" {
			ev.comment = append(ev.comment, descriptions[h.intn(len(descriptions))]...)
			ev.comment = append(ev.comment, ' ')
		}
		ev.comment = appendWords(ev.comment, scriptOf(lang), &h, 1+h.intn(3), true)
	} else {
		ev.comment = append(ev.comment, "/* "...)
		ev.comment = append(ev.comment, wikidataEditMagic[r.intn(len(wikidataEditMagic))]...)
		ev.comment = append(ev.comment, " */ [[Property:P"...)
		ev.comment = strconv.AppendInt(ev.comment, int64(1+r.zipf(13000)), 10)
		ev.comment = append(ev.comment, "]]: "...)
		if r.chance(0.6) {
			ev.comment = append(ev.comment, "[[Q"...)
			ev.comment = strconv.AppendInt(ev.comment, int64(1+r.zipf(135_000_000)), 10)
			ev.comment = append(ev.comment, "]]"...)
		} else {
			ev.comment = strconv.AppendInt(ev.comment, int64(r.intn(99_999_999)), 10)
		}
	}
	w.wikidataToolSuffix(ev, r, false)
}

// wikidataToolSuffix appends the tool tag batch edits carry.
func (w *world) wikidataToolSuffix(ev *event, r *rng, always bool) {
	u := r.float()
	if !always && (ev.kind != userBot && u < 0.6 || ev.kind == userBot && u < 0.3) {
		return
	}
	if !always {
		ev.comment = append(ev.comment, ", "...)
	}
	switch u := r.float(); {
	case u < 0.4:
		n := 100000 + r.intn(200000)
		ev.comment = append(ev.comment, "[[:toollabs:quickstatements/#/batch/"...)
		ev.comment = strconv.AppendInt(ev.comment, int64(n), 10)
		ev.comment = append(ev.comment, "|batch #"...)
		ev.comment = strconv.AppendInt(ev.comment, int64(n), 10)
		ev.comment = append(ev.comment, "]]"...)
	case u < 0.7:
		ev.comment = append(ev.comment, "#quickstatements; #temporary_batch_"...)
		ev.comment = strconv.AppendInt(ev.comment, ev.t/1e6-int64(r.intn(3_600_000)), 10)
	default:
		ev.comment = append(ev.comment, "Modify PubMed ID: "...)
		ev.comment = strconv.AppendInt(ev.comment, int64(1_000_000+r.intn(38_000_000)), 10)
		ev.comment = append(ev.comment, " citation data from NCBI, Europe PMC and CrossRef"...)
	}
}

func (w *world) commonsEditComment(ev *event, r *rng) {
	wk := ev.wk
	switch u := r.float(); {
	case u < 0.02:
	case u < 0.35:
		ev.comment = append(ev.comment, "/* wbeditentity-update:0| */ "...)
		ev.comment = append(ev.comment, commonsSummaries[r.intn(len(commonsSummaries))]...)
	case u < 0.5:
		ev.comment = append(ev.comment, "/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P"...)
		ev.comment = strconv.AppendInt(ev.comment, int64([]int{180, 170, 571, 1163, 6216, 275}[r.intn(6)]), 10)
		ev.comment = append(ev.comment, "]]: [[d:Special:EntityPage/Q"...)
		ev.comment = strconv.AppendInt(ev.comment, int64(1+r.zipf(135_000_000)), 10)
		ev.comment = append(ev.comment, "]]"...)
	case u < 0.7:
		if r.chance(0.7) {
			ev.comment = append(ev.comment, "added [["...)
		} else {
			ev.comment = append(ev.comment, "removed [["...)
		}
		ev.comment = w.appendTitle(ev.comment, wk, 14, r.zipf(wk.pages))
		ev.comment = append(ev.comment, "]]"...)
	case u < 0.82:
		ev.comment = append(ev.comment, "Moving from [["...)
		ev.comment = w.appendTitle(ev.comment, wk, 14, r.zipf(wk.pages))
		ev.comment = append(ev.comment, "]] to [["...)
		ev.comment = w.appendTitle(ev.comment, wk, 14, r.zipf(wk.pages))
		ev.comment = append(ev.comment, "]] using [[Help:Cat-a-lot|Cat-a-lot]]"...)
	case u < 0.92:
		lang := termLangs[r.intn(len(termLangs))]
		ev.comment = append(ev.comment, "/* wbsetlabel-add:1|"...)
		ev.comment = append(ev.comment, lang...)
		ev.comment = append(ev.comment, " */ "...)
		h := hstream(r.u64())
		ev.comment = appendWords(ev.comment, scriptOf(lang), &h, 2+h.intn(5), false)
	default:
		ev.comment = append(ev.comment, []string{"Cosmetic changes", "+{{Location}}", "/* Summary */",
			"/* Licensing */ +{{self|cc-by-sa-4.0}}", "Bot: Removing redundant category"}[r.intn(5)]...)
	}
}

// entityID returns the id of a Wikidata entity link target ("Q42",
// "Property:P31", "Lexeme:L7"), or nil.
func entityID(target []byte) []byte {
	id := target
	if i := bytes.IndexByte(target, ':'); i >= 0 {
		id = target[i+1:]
	}
	if len(id) < 2 || (id[0] != 'Q' && id[0] != 'P' && id[0] != 'L') {
		return nil
	}
	for _, c := range id[1:] {
		if c < '0' || c > '9' {
			return nil
		}
	}
	return id
}

// appendEntityLink renders a link to a Wikidata entity with its (synthetic)
// label and description, the way Wikidata shows them in parsedcomment.
func appendEntityLink(p, target, id []byte) []byte {
	h := hstream(hashString(string(id)))
	var tmp [160]byte
	label := appendWords(tmp[:0], latinScript, &h, 1+h.intn(3), false)
	n := len(label)
	desc := append(label, descriptions[h.intn(len(descriptions))]...)
	desc = append(desc, ' ')
	desc = appendWords(desc, latinScript, &h, 1+h.intn(2), true)
	label, desc = desc[:n], desc[n:]
	p = append(p, `<a href="/wiki/`...)
	p = appendTitleURL(p, target)
	p = append(p, "\" title=\"\u200e"...)
	p = appendHTML(p, label)
	p = append(p, "\u200e | \u200e"...)
	p = appendHTML(p, desc)
	p = append(p, "\u200e\"><span class=\"wb-itemlink\"><span class=\"wb-itemlink-label\" lang=\"en\" dir=\"ltr\">"...)
	p = appendHTML(p, label)
	p = append(p, `</span> <span class="wb-itemlink-id">(`...)
	p = append(p, id...)
	return append(p, ")</span></span></a>"...)
}
