package gen

import (
	"strconv"
	"strings"
)

// family is a Wikimedia project family; it decides title shapes, comments
// and which calibrated distributions apply.
type family uint8

const (
	famWikipedia family = iota
	famWiktionary
	famWikisource
	famWikiquote
	famWikibooks
	famWikinews
	famWikiversity
	famWikivoyage
	famCommons
	famWikidata
	famMediaWiki
	famWikimedia // meta, species, incubator, chapter wikis
)

var familyBySuffix = map[string]family{
	"wikipedia": famWikipedia, "wiktionary": famWiktionary, "wikisource": famWikisource,
	"wikiquote": famWikiquote, "wikibooks": famWikibooks, "wikinews": famWikinews,
	"wikiversity": famWikiversity, "wikivoyage": famWikivoyage,
}

// patrolMode says which changes of a wiki carry the "patrolled" field.
type patrolMode uint8

const (
	patrolNone patrolMode = iota // no patrolling: never
	patrolNew                    // new-page patrol only: page creations
	patrolRC                     // recent-changes patrol: edits and creations
)

// domainStat is one row of the calibrated domain table (calibration.go).
type domainStat struct {
	domain string
	wiki   string // database name; derived from the domain when empty
	n      int    // events seen
	types  [4]float64
	bot    float64
	anon   float64
	patrol patrolMode
	rcID   int64
	revID  int64
}

var domainIndex = func() map[string]int {
	m := make(map[string]int, len(domainTable))
	for i, d := range domainTable {
		m[d.domain] = i
	}
	return m
}()

// Pooled shares of the families in the calibration set, for domains that
// are not in the table (wikipedia 12,503 events, sister projects 1,494).
var (
	priorWikipedia = domainStat{n: 1, types: [4]float64{0.483, 0.043, 0.080, 0.394}, bot: 0.39, anon: 0.086, patrol: patrolRC}
	priorSister    = domainStat{n: 1, types: [4]float64{0.248, 0.218, 0.100, 0.434}, bot: 0.308, anon: 0.039, patrol: patrolRC}
)

// unknownDomainWeight is the weight, in calibration events, of a domain the
// table lacks: that of a small wiki (of the 162 domains in the table the
// median was seen 7 times, the 75th percentile 37 times).
const unknownDomainWeight = 10

// lookupDomain returns the calibration of a domain, or of its family for a
// well-formed domain that the table lacks.
func lookupDomain(d string) (domainStat, error) {
	if i, ok := domainIndex[d]; ok {
		st := domainTable[i]
		if st.wiki == "" {
			st.wiki, _, _ = dbName(d)
		}
		return st, nil
	}
	name, fam, err := dbName(d)
	if err != nil {
		return domainStat{}, err
	}
	st := priorSister
	if fam == famWikipedia {
		st = priorWikipedia
	}
	st.n = unknownDomainWeight
	st.domain, st.wiki = d, name
	h := mix64(uint64(len(d)) ^ hashString(d))
	st.rcID = 1_000_000 + int64(h%50_000_000)
	st.revID = st.rcID / 2
	return st, nil
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// dbName derives the wiki database name (the "wiki" field) from a domain.
func dbName(d string) (string, family, error) {
	switch d {
	case "commons.wikimedia.org":
		return "commonswiki", famCommons, nil
	case "www.wikidata.org":
		return "wikidatawiki", famWikidata, nil
	case "test.wikidata.org":
		return "testwikidatawiki", famWikidata, nil
	case "www.mediawiki.org":
		return "mediawikiwiki", famMediaWiki, nil
	case "be-tarask.wikipedia.org":
		return "be_x_oldwiki", famWikipedia, nil
	case "test.wikipedia.org":
		return "testwiki", famWikipedia, nil
	}
	parts := strings.Split(d, ".")
	if len(parts) != 3 || parts[2] != "org" {
		return "", 0, domainError(d, "")
	}
	sub, site := parts[0], parts[1]
	if !validLabel(sub) {
		return "", 0, domainError(d, "has an invalid first label")
	}
	if site == "wikimedia" {
		switch sub {
		case "meta", "species", "incubator", "outreach", "foundation", "wikimania", "login":
			return sub + "wiki", famWikimedia, nil
		}
		return strings.ReplaceAll(sub, "-", "_") + "wikimedia", famWikimedia, nil
	}
	fam, ok := familyBySuffix[site]
	if !ok {
		return "", 0, domainError(d, "is not a known project")
	}
	db := strings.ReplaceAll(sub, "-", "_")
	if fam == famWikipedia {
		return db + "wiki", fam, nil
	}
	return db + site, fam, nil
}

func validLabel(s string) bool {
	if len(s) < 2 || len(s) > 20 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// flaggedRevs lists Wikipedias that use FlaggedRevs (review log events).
var flaggedRevs = map[string]bool{"de": true, "ru": true, "pl": true, "hu": true, "fi": true, "ar": true,
	"uk": true, "sq": true, "bs": true, "ka": true, "be": true, "eo": true}

// wiki is one wiki and its evolving state.
type wiki struct {
	domainStat
	idx        int
	fam        family
	lang       string
	typeCum    [4]float64
	sc         *script
	ns         nsNames
	text       *langText
	flagged    bool
	pages      int // size of the page universe
	users      int // registered human editors
	nsEdit     nsMix
	nsNew      nsMix
	oldLen     *quantiles
	delta      *quantiles
	newLen     *quantiles
	minor      float64
	patrolledP float64
	notifyBase string // https://host/w/index.php?
	tail       string // the constant fields before parsedcomment
	titleBase  string // https://host/wiki/

	bots      []string
	curBot    int
	curHuman  int
	curAnon   string
	logID     int64
	nextItem  int64 // next Wikidata item number
	lastReqHi uint64
	lastReqLo uint64
	lastAFSec int64 // second of the last abuse-filter hit (it has no ids)
}

// world is everything the generator knows: the wikis and their state.
type world struct {
	wikis      []*wiki
	cum        []float64 // cumulative weights of wikis
	offset     int64     // meta.offset of the next event
	userSalt   uint64
	globalBots []string
	tmp        []byte
}

func newWorld(cfg Config, r *rng) (*world, error) {
	var stats []domainStat
	if len(cfg.Domains) == 0 {
		stats = domainTable
	} else {
		for _, d := range cfg.Domains {
			st, err := lookupDomain(d)
			if err != nil {
				return nil, err
			}
			stats = append(stats, st)
		}
	}
	w := &world{offset: 2_300_000_000 + int64(r.intn(1_000_000)), userSalt: r.u64(), tmp: make([]byte, 0, 256)}
	for i := 0; i < 40; i++ {
		w.globalBots = append(w.globalBots, w.botName(r))
	}
	total := 0.0
	for i, st := range stats {
		wk := w.newWiki(i, st, r)
		w.wikis = append(w.wikis, wk)
		total += float64(max(st.n, 1))
		w.cum = append(w.cum, total)
	}
	return w, nil
}

func (w *world) newWiki(i int, st domainStat, r *rng) *wiki {
	if st.wiki == "" {
		st.wiki, _, _ = dbName(st.domain)
	}
	_, fam, err := dbName(st.domain)
	if err != nil {
		fam = famWikimedia
	}
	wk := &wiki{domainStat: st, idx: i, fam: fam, curBot: -1, curHuman: -1}
	wk.lang = "en"
	if fam <= famWikivoyage {
		wk.lang = st.domain[:strings.IndexByte(st.domain, '.')]
		if wk.lang == "simple" || wk.lang == "test" {
			wk.lang = "en"
		}
	}
	wk.sc = scriptOf(wk.lang)
	wk.ns = enNS
	if ns, ok := localNS[wk.lang]; ok {
		wk.ns = ns
	}
	if fam != famWikipedia {
		wk.ns.project = projectNS[fam]
	}
	wk.text = textFor(wk.lang)
	wk.flagged = fam == famWikipedia && flaggedRevs[wk.lang]
	sum := 0.0
	for j, p := range st.types {
		sum += p
		wk.typeCum[j] = sum
	}
	for j := range wk.typeCum {
		wk.typeCum[j] /= sum
	}
	if fam == famWikidata {
		wk.typeCum = [4]float64{wk.typeCum[0], wk.typeCum[1], 1, 1} // Wikidata has no categorize
	}
	wk.pages = 2000 + st.n*400
	wk.users = 300 + st.n*40
	switch fam {
	case famWikidata:
		wk.nsEdit, wk.nsNew = nsEditWikidata, nsNewWikidata
		wk.oldLen, wk.delta, wk.newLen = &wikidataOldLen, &wikidataDelta, &wikidataNewLen
		wk.minor, wk.patrolledP = minorWikidata, patrolledWikidata
		wk.nextItem = 137_000_000 + int64(r.intn(1_000_000))
	case famCommons:
		wk.nsEdit, wk.nsNew = nsEditCommons, nsNewCommons
		wk.oldLen, wk.delta, wk.newLen = &commonsOldLen, &commonsDelta, &wikiNewLen
		wk.minor, wk.patrolledP = minorCommons, patrolledCommons
	case famWikipedia:
		wk.nsEdit, wk.nsNew = nsEditWikipedia, nsNewWikipedia
		wk.oldLen, wk.delta, wk.newLen = &wikiOldLen, &wikiDelta, &wikiNewLen
		wk.minor, wk.patrolledP = minorWikipedia, patrolledOther
	default:
		wk.nsEdit, wk.nsNew = nsEditSister, nsNewSister
		wk.oldLen, wk.delta, wk.newLen = &wikiOldLen, &wikiDelta, &wikiNewLen
		wk.minor, wk.patrolledP = minorWikipedia, patrolledOther
	}
	// The log id sequence runs at about a quarter of the rc id sequence
	// (frwiki 111.7M vs 484.6M, commons 372M vs 2843M, dewiki 139M vs 332M).
	wk.logID = st.rcID / 4
	host := "https://" + st.domain
	wk.notifyBase = host + "/w/index.php?"
	wk.titleBase = host + "/wiki/"
	wk.tail = `"server_url":"` + host + `","server_name":"` + st.domain +
		`","server_script_path":"/w","wiki":"` + st.wiki + `","parsedcomment":"`
	// Bots: a few local ones, plus some of the cross-wiki bots.
	nLocal := 2 + min(40, st.n/40)
	for j := 0; j < nLocal; j++ {
		wk.bots = append(wk.bots, w.botName(r))
	}
	for j := 0; j < 4; j++ {
		wk.bots = append(wk.bots, w.globalBots[r.intn(len(w.globalBots))])
	}
	return wk
}

// botName makes a bot account name such as "Kalinbot" or "Sta-bot".
func (w *world) botName(r *rng) string {
	h := hstream(r.u64())
	b := appendWord(nil, latinScript, &h, true)
	return string(b) + botSuffixes[h.intn(len(botSuffixes))]
}

func (w *world) pickWiki(r *rng) *wiki {
	if len(w.wikis) == 1 {
		return w.wikis[0]
	}
	x := r.float() * w.cum[len(w.cum)-1]
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if w.cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return w.wikis[lo]
}

// humanName appends the name of registered user k. The same k gives the
// same name on every wiki of the same script, as global accounts do.
func (w *world) humanName(b []byte, wk *wiki, k int) []byte {
	h := hstream(mix64(uint64(k) ^ w.userSalt))
	if wk.sc.syl[0] != latinSyl[0] && h.intn(2) == 0 {
		b = appendWords(b, wk.sc, &h, 1+h.intn(2), true)
		if h.intn(3) == 0 {
			b = strconv.AppendInt(b, int64(h.intn(2000)), 10)
		}
		return b
	}
	switch h.intn(10) {
	case 0, 1, 2:
		b = append(b, firstNames[h.intn(len(firstNames))]...)
		b = append(b, ' ')
		b = append(b, lastNames[h.intn(len(lastNames))]...)
	case 3:
		b = append(b, firstNames[h.intn(len(firstNames))]...)
		b = strconv.AppendInt(b, int64(h.intn(9990)+10), 10)
	case 4:
		b = appendWord(b, latinScript, &h, true)
		b = strconv.AppendInt(b, int64(h.intn(990)+10), 10)
	case 5:
		b = appendWord(b, latinScript, &h, true)
		b = appendWord(b, latinScript, &h, true)
	case 6:
		b = append(b, firstNames[h.intn(len(firstNames))]...)
		b = append(b, lastNames[h.intn(len(lastNames))]...)
	case 7:
		b = appendWord(b, latinScript, &h, true)
	case 8:
		b = append(b, firstNames[h.intn(len(firstNames))]...)
		b = append(b, '.')
		b = appendWord(b, latinScript, &h, false)
	default:
		b = appendWord(b, latinScript, &h, true)
		b = append(b, ' ')
		b = appendWord(b, latinScript, &h, true)
	}
	return b
}

var ipv6Prefixes = []string{"2A01", "2A02", "2001", "2600", "2601", "2603", "2605", "2806", "2409", "240E",
	"2401", "2A00", "2003", "2800", "2A04"}

// appendIP appends an IPv4 or IPv6 address made from the random words x and
// y, as MediaWiki shows anonymous editors (IPv6 in upper case without leading
// zeros).
func appendIP(b []byte, x, y uint64, v4 bool) []byte {
	if v4 {
		first := 1 + x%223
		if first == 10 || first == 127 {
			first++
		}
		b = strconv.AppendUint(b, first, 10)
		for i := 0; i < 3; i++ {
			b = append(b, '.')
			b = strconv.AppendUint(b, y>>(8*i)&0xff, 10)
		}
		return b
	}
	b = append(b, ipv6Prefixes[x%uint64(len(ipv6Prefixes))]...)
	start := len(b)
	for i := 0; i < 7; i++ {
		var g uint64
		if i < 4 {
			g = y >> (16 * i) & 0xffff
		} else {
			g = x >> (16 * (i - 3)) & 0xffff
		}
		b = append(b, ':')
		b = strconv.AppendUint(b, g, 16)
	}
	for i := start; i < len(b); i++ {
		if b[i] >= 'a' && b[i] <= 'f' {
			b[i] -= 'a' - 'A'
		}
	}
	return b
}

// appendTempAccount appends a temporary account name such as
// "~2026-12881-95", the form Wikimedia gives logged-out editors since 2025.
func appendTempAccount(b []byte, r *rng, tNanos int64) []byte {
	y, _, _ := civil(floorDiv(tNanos, 86_400_000_000_000))
	if r.chance(0.2) {
		y--
	}
	b = append(b, '~')
	b = strconv.AppendInt(b, y, 10)
	b = append(b, '-')
	b = appendDigits(b, uint64(10000+r.intn(90000)), 5)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(r.intn(100)), 10)
}

// userKind classifies the editor of an event.
type userKind uint8

const (
	userHuman userKind = iota
	userBot
	userIP
	userTemp
)

// pickUser chooses the editor: a bot (bots work in long runs), an anonymous
// editor or a registered human, at the wiki's calibrated shares.
func (w *world) pickUser(ev *event, r *rng) {
	wk := ev.wk
	u := r.float()
	switch {
	case u < wk.bot:
		ev.kind = userBot
		if wk.curBot < 0 || !r.chance(0.9) {
			wk.curBot = r.zipf(len(wk.bots))
		}
		ev.user = append(ev.user[:0], wk.bots[wk.curBot]...)
	case u < wk.bot+wk.anon:
		w.pickAnon(ev, r)
	default:
		ev.kind = userHuman
		if wk.curHuman < 0 || !r.chance(0.35) {
			wk.curHuman = r.zipf(wk.users)
		}
		ev.user = w.humanName(ev.user[:0], wk, wk.curHuman)
	}
}

func (w *world) pickAnon(ev *event, r *rng) {
	wk := ev.wk
	if wk.curAnon != "" && r.chance(0.3) {
		ev.user = append(ev.user[:0], wk.curAnon...)
	} else {
		switch {
		case r.chance(tempAccountShare):
			ev.user = appendTempAccount(ev.user[:0], r, ev.t)
		default:
			ev.user = appendIP(ev.user[:0], r.u64(), r.u64(), r.chance(ipv4Share))
		}
		wk.curAnon = string(ev.user)
	}
	ev.kind = userIP
	if ev.user[0] == '~' {
		ev.kind = userTemp
	}
}

// nsPrefix returns the title prefix of namespace ns on wk, "" for articles.
func nsPrefix(wk *wiki, ns int) string {
	switch ns {
	case 0:
		return ""
	case 1:
		return wk.ns.talk
	case 2:
		return wk.ns.user
	case 3:
		return wk.ns.userTalk
	case 4:
		return wk.ns.project
	case 5:
		return wk.ns.project + " talk"
	case 6:
		return wk.ns.file
	case 10:
		return wk.ns.template
	case 12:
		return "Help"
	case 14:
		return wk.ns.category
	case 15:
		return "Category talk"
	case 100:
		return "Portal"
	case 104:
		return "Page"
	case 118:
		return "Draft"
	case 120:
		return "Property"
	case 146:
		return "Lexeme"
	case 828:
		return "Module"
	}
	return "Project"
}

// appendTitle appends the title of page k of namespace ns on wk. The same
// page always has the same title.
func (w *world) appendTitle(b []byte, wk *wiki, ns int, k int) []byte {
	h := hstream(mix64(uint64(wk.idx)<<40 ^ uint64(ns+1)<<28 ^ uint64(k)*0x9e3779b97f4a7c15))
	if p := nsPrefix(wk, ns); p != "" {
		b = append(b, p...)
		b = append(b, ':')
	}
	switch {
	case wk.fam == famWikidata && ns == 0:
		b = append(b, 'Q')
		return strconv.AppendUint(b, 1+h.next()%136_000_000, 10)
	case ns == 120:
		b = append(b, 'P')
		return strconv.AppendUint(b, 1+h.next()%13_000, 10)
	case ns == 146:
		b = append(b, 'L')
		return strconv.AppendUint(b, 1+h.next()%1_500_000, 10)
	case ns == 2 || ns == 3:
		if ns == 3 && h.intn(4) == 0 {
			return appendIP(b, h.next(), h.next(), h.intn(3) > 0) // talk page of an IP editor
		}
		b = w.humanName(b, wk, int(h.next()%uint64(wk.users)))
		if ns == 2 && h.intn(3) == 0 {
			b = append(b, "/sandbox"...)
		}
		return b
	case ns == 6:
		return appendFileName(b, &h)
	case ns == 14:
		sc := wk.sc
		if wk.fam == famCommons {
			sc = latinScript
		}
		b = appendWords(b, sc, &h, 1+h.intn(3), false)
		if sc == latinScript || sc.syl[0] == latinSyl[0] {
			if h.intn(2) == 0 {
				b = append(b, commonsCatWords[h.intn(len(commonsCatWords))]...)
				b = appendWords(b, sc, &h, 1+h.intn(2), true)
			}
			if h.intn(3) == 0 {
				b = append(b, ' ')
				b = strconv.AppendInt(b, int64(1900+h.intn(127)), 10)
			}
		}
		return b
	case ns == 104 && wk.fam == famWikisource:
		b = appendWords(b, wk.sc, &h, 1+h.intn(3), true)
		b = append(b, ".djvu/"...)
		return strconv.AppendInt(b, int64(1+h.intn(400)), 10)
	case wk.fam == famWiktionary && ns == 0:
		sc := wk.sc
		if h.intn(5) < 2 {
			sc = []*script{latinScript, cyrillicScript, hanScript, arabicScript, japaneseScript}[h.intn(5)]
		}
		return appendWord(b, sc, &h, false)
	}
	b = appendWords(b, wk.sc, &h, 1+h.intn(wk.sc.maxWords), true)
	switch h.intn(10) {
	case 0:
		b = append(b, " ("...)
		b = appendWord(b, wk.sc, &h, false)
		b = append(b, ')')
	case 1:
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(1900+h.intn(127)), 10)
	}
	return b
}

// appendFileName appends a Commons-style file name (without "File:").
func appendFileName(b []byte, h *hstream) []byte {
	sc := latinScript
	switch h.intn(20) {
	case 0, 1:
		sc = cyrillicScript
	case 2:
		sc = hanScript
	case 3:
		sc = japaneseScript
	case 4:
		sc = arabicScript
	}
	switch h.intn(6) {
	case 0:
		b = append(b, "IMG_"...)
		b = appendDigits(b, uint64(20150101+h.intn(111231)), 8)
		b = append(b, '_')
		b = appendDigits(b, uint64(h.intn(240000)), 6)
	case 1:
		b = append(b, "DSC"...)
		b = appendDigits(b, uint64(h.intn(100000)), 5)
	default:
		b = appendWords(b, sc, h, 2+h.intn(4), true)
		switch h.intn(4) {
		case 0:
			b = append(b, " ("...)
			b = strconv.AppendInt(b, int64(10_000_000_000+h.intn(50_000_000_000)), 10)
			b = append(b, ')')
		case 1:
			b = append(b, " - geograph.org.uk - "...)
			b = strconv.AppendInt(b, int64(1+h.intn(7_000_000)), 10)
		case 2:
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(1850+h.intn(177)), 10)
		}
	}
	return append(b, fileExts[h.intn(len(fileExts))]...)
}
