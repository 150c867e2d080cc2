// Package webtest computes, in Go and straight from recorded events, the
// figures the dashboard and its API must show: the tests of internal/web
// and the browser test of internal/app compare what is served with these,
// not with the SQL the server runs.
package webtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/wikimedia/sites"
)

// Event is the part of a recentchange event the figures need.
type Event struct {
	Meta struct {
		Domain string `json:"domain"`
	} `json:"meta"`
	ID        *int64 `json:"id"`
	Type      string `json:"type"`
	Namespace *int   `json:"namespace"`
	Title     string `json:"title"`
	User      string `json:"user"`
	Bot       bool   `json:"bot"`
	Timestamp int64  `json:"timestamp"`
	Length    *struct {
		Old *int64 `json:"old"`
		New *int64 `json:"new"`
	} `json:"length"`
	Revision *struct {
		Old *int64 `json:"old"`
		New *int64 `json:"new"`
	} `json:"revision"`
}

// Clean returns the events of lines that every layer keeps as valid (the
// validity rules of the README, and what ingest accepts), each once, with
// their lines: a test feeds only those, so that every figure is over all
// of them. Only edits, page creations and categorizations are kept.
func Clean(tb testing.TB, lines [][]byte) ([]Event, [][]byte) {
	tb.Helper()
	var events []Event
	var kept [][]byte
	seen := map[string]bool{}
	for _, line := range lines {
		var e Event
		if json.Unmarshal(line, &e) != nil || !e.clean() || seen[e.key()] {
			continue
		}
		if _, err := recentchange.Decode(line, time.Unix(e.Timestamp, 0), recentchange.DefaultLimits()); err != nil {
			continue // ingest would dead-letter it
		}
		seen[e.key()] = true
		events, kept = append(events, e), append(kept, line)
	}
	return events, kept
}

func (e Event) key() string { return fmt.Sprintf("%s|%d|%d", e.Meta.Domain, *e.ID, e.Timestamp) }

func (e Event) clean() bool {
	if e.ID == nil || e.Meta.Domain == "" || strings.TrimSpace(e.Title) == "" || strings.TrimSpace(e.User) == "" {
		return false
	}
	if e.Namespace != nil && *e.Namespace < -2 {
		return false
	}
	if e.Length != nil && (e.Length.Old != nil && *e.Length.Old < 0 || e.Length.New != nil && *e.Length.New < 0) {
		return false
	}
	if e.Type == "edit" && e.Revision != nil && e.Revision.Old != nil && e.Revision.New != nil &&
		*e.Revision.Old != 0 && *e.Revision.New <= *e.Revision.Old {
		return false
	}
	return e.Type == "edit" || e.Type == "new" || e.Type == "categorize"
}

// Anonymous reports an IP address or a temporary account.
func (e Event) Anonymous() bool {
	_, err := netip.ParseAddr(e.User)
	return err == nil || strings.HasPrefix(e.User, "~")
}

// UserName is the name as MediaWiki writes it: spaces for underscores,
// the first letter upper case; addresses in their canonical form.
func (e Event) UserName() string {
	if a, err := netip.ParseAddr(e.User); err == nil {
		return strings.ToUpper(a.String())
	}
	u := strings.TrimSpace(strings.ReplaceAll(e.User, "_", " "))
	r, n := utf8.DecodeRuneInString(u)
	return string(unicode.ToUpper(r)) + u[n:]
}

// Delta is the change of the page's length.
func (e Event) Delta() int64 {
	var d int64
	if e.Length != nil {
		if e.Length.New != nil {
			d += *e.Length.New
		}
		if e.Length.Old != nil {
			d -= *e.Length.Old
		}
	}
	return d
}

// Edit reports an edit or a page creation: what contributors, pages and
// the risk score count.
func (e Event) Edit() bool { return e.Type == "edit" || e.Type == "new" }

// Region is the region of the event's wiki.
func (e Event) Region() string { return sites.Lookup(e.Meta.Domain).Region }

// Time is the event's time.
func (e Event) Time() time.Time { return time.Unix(e.Timestamp, 0).UTC() }

// Count is a name and a number.
type Count struct {
	Name string
	N    int
}

// Risk is one entity-day at MEDIUM or above.
type Risk struct {
	Entity, Date, Level string
	Score, Edits        int
}

// Figures are what the dashboard shows for a set of events.
type Figures struct {
	Events, Human, Bots, Anonymous, NewPages int
	// VelocityPeak is the most events in one clock hour.
	VelocityPeak int
	Regions      map[string]int
	Wikis        map[string]int
	// Contributors are the editors by edits (ties by name); Pages the pages
	// ("domain|title") by edits and editors, bots left out; Risk the
	// entity-days scoring 40 or more by the four rules of DESIGN.md, as the
	// feed orders them.
	Contributors []Count
	Pages        []Count
	Risk         []Risk
}

// Compute returns the figures of events.
func Compute(events []Event) Figures {
	x := Figures{Regions: map[string]int{}, Wikis: map[string]int{}}
	perHour := map[int64]int{}
	edits := map[string]int{}
	type page struct {
		edits   int
		editors map[string]bool
	}
	pages := map[string]*page{}
	type day struct {
		edits, anon, largeDeletions int
		hours                       map[int]int
		domains                     map[string]bool
	}
	days := map[string]*day{}
	for _, e := range events {
		x.Events++
		switch {
		case e.Bot:
			x.Bots++
		case !e.Anonymous():
			x.Human++
		}
		if e.Anonymous() {
			x.Anonymous++
		}
		if e.Type == "new" {
			x.NewPages++
		}
		x.Regions[e.Region()]++
		x.Wikis[e.Meta.Domain]++
		perHour[e.Timestamp/3600]++
		if !e.Edit() {
			continue
		}
		edits[e.UserName()]++
		if !e.Bot {
			k := e.Meta.Domain + "|" + e.Title
			if pages[k] == nil {
				pages[k] = &page{editors: map[string]bool{}}
			}
			pages[k].edits++
			pages[k].editors[e.UserName()] = true
		}
		dk := e.UserName() + "|" + e.Time().Format(time.DateOnly)
		if days[dk] == nil {
			days[dk] = &day{hours: map[int]int{}, domains: map[string]bool{}}
		}
		d := days[dk]
		d.edits++
		d.hours[e.Time().Hour()]++
		d.domains[e.Meta.Domain] = true
		if e.Anonymous() {
			d.anon++
		}
		if e.Delta() <= -1000 {
			d.largeDeletions++
		}
	}
	for _, n := range perHour {
		x.VelocityPeak = max(x.VelocityPeak, n)
	}
	for u, n := range edits {
		x.Contributors = append(x.Contributors, Count{u, n})
	}
	slices.SortFunc(x.Contributors, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Name, b.Name)) })
	keys := slices.Collect(maps.Keys(pages))
	slices.SortFunc(keys, func(a, b string) int {
		pa, pb := pages[a], pages[b]
		return cmp.Or(cmp.Compare(pb.edits, pa.edits), cmp.Compare(len(pb.editors), len(pa.editors)), strings.Compare(a, b))
	})
	for _, k := range keys {
		x.Pages = append(x.Pages, Count{k, pages[k].edits})
	}
	for k, d := range days {
		peak := 0
		for _, n := range d.hours {
			peak = max(peak, n)
		}
		score := 0
		if peak > 50 {
			score += 40
		}
		if d.largeDeletions > 3 {
			score += 30
		}
		if 100*float64(d.anon)/float64(d.edits) > 50 {
			score += 20
		}
		if len(d.domains) > 5 && peak > 50 {
			score += 10
		}
		if score >= 40 {
			entity, date, _ := strings.Cut(k, "|")
			level := "MEDIUM"
			if score >= 70 {
				level = "HIGH"
			}
			x.Risk = append(x.Risk, Risk{entity, date, level, score, d.edits})
		}
	}
	slices.SortFunc(x.Risk, func(a, b Risk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Edits, a.Edits), strings.Compare(b.Date, a.Date),
			strings.Compare(a.Entity, b.Entity))
	})
	return x
}
