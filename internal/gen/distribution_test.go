package gen

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"sort"
	"testing"
)

var (
	ipv4RE = regexp.MustCompile(`^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$`)
	ipv6RE = regexp.MustCompile(`^[0-9A-F]{1,4}(:[0-9A-F]{1,4}){7}$`)
)

func isAnonymous(user string) bool {
	return user != "" && user[0] == '~' || ipv4RE.MatchString(user) || ipv6RE.MatchString(user)
}

// lengths is the length change of one edit.
type lengths struct{ old, new int64 }

func (l lengths) delta() int64 { return l.new - l.old }

// sampleStats summarises a clean generated sample.
type sampleStats struct {
	n                      int
	types, domains         map[string]int
	bots, anon, temp, ipv6 int
	bytes                  int
	edits                  []lengths
	patrolledByDomain      map[string][2]int // edits with / without the field
	nsByDomain             map[string]map[int64]int
}

func collect(t *testing.T, cfg Config) sampleStats {
	t.Helper()
	lines, _, _ := generate(t, cfg)
	s := sampleStats{n: len(lines), types: map[string]int{}, domains: map[string]int{},
		patrolledByDomain: map[string][2]int{}, nsByDomain: map[string]map[int64]int{}}
	for _, line := range lines {
		typ, domain, user := string(raw(line, `"type":`)), string(raw(line, `"domain":`)), string(raw(line, `"user":`))
		s.bytes += len(line)
		s.types[typ]++
		s.domains[domain]++
		if string(raw(line, `"bot":`)) == "true" {
			s.bots++
		}
		if isAnonymous(user) {
			s.anon++
			if user[0] == '~' {
				s.temp++
			}
			if ipv6RE.MatchString(user) {
				s.ipv6++
			}
		}
		if typ == "edit" {
			l := raw(line, `"length":`)
			s.edits = append(s.edits, lengths{num(t, l, `"old":`), num(t, l, `"new":`)})
			pc := s.patrolledByDomain[domain]
			if bytes.Contains(line, []byte(`"patrolled":`)) {
				pc[0]++
			} else {
				pc[1]++
			}
			s.patrolledByDomain[domain] = pc
			if s.nsByDomain[domain] == nil {
				s.nsByDomain[domain] = map[int64]int{}
			}
			s.nsByDomain[domain][num(t, line, `"namespace":`)]++
		}
	}
	return s
}

// TestDistributions compares a large clean sample with the calibration
// tables (calibration.go): the shares must match within the tolerances,
// which are several standard errors wide.
func TestDistributions(t *testing.T) {
	s := collect(t, Config{Seed: 5, Count: 100000})
	n := float64(s.n)
	share := func(k int) float64 { return float64(k) / n }
	cases := []struct {
		name      string
		got, want float64
		tol       float64 // absolute
	}{
		{"edit share", share(s.types["edit"]), float64(calibEdit) / calibEvents, 0.015},
		{"categorize share", share(s.types["categorize"]), float64(calibCategorize) / calibEvents, 0.015},
		{"new share", share(s.types["new"]), float64(calibNew) / calibEvents, 0.008},
		{"log share", share(s.types["log"]), float64(calibLog) / calibEvents, 0.008},
		{"bot share", share(s.bots), float64(calibBot) / calibEvents, 0.02},
		{"anonymous share", share(s.anon), float64(calibIP) / calibEvents, 0.01},
		{"temporary accounts among anonymous", float64(s.temp) / float64(s.anon), tempAccountShare, 0.05},
		{"IPv6 among IP editors", float64(s.ipv6) / float64(s.anon-s.temp), 1 - ipv4Share, 0.06},
	}
	for _, c := range cases {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s: got %.4f, want %.4f ± %.3f", c.name, c.got, c.want, c.tol)
		}
	}

	// Top domains: the same ten, in nearly the same order, each within 10%
	// of its calibrated share.
	var doms []string
	for d := range s.domains {
		doms = append(doms, d)
	}
	sort.Slice(doms, func(i, j int) bool { return s.domains[doms[i]] > s.domains[doms[j]] })
	wantTop := []string{"commons.wikimedia.org", "www.wikidata.org", "en.wikipedia.org", "id.wikipedia.org", "ar.wikipedia.org"}
	if got := doms[:5]; !slices.Equal(got, wantTop) {
		t.Errorf("top 5 domains: got %v, want %v", got, wantTop)
	}
	for _, d := range domainTable[:10] {
		got, want := share(s.domains[d.domain]), float64(d.n)/calibEvents
		if math.Abs(got-want) > 0.1*want+0.001 {
			t.Errorf("share of %s: got %.4f, want %.4f ± 10%%", d.domain, got, want)
		}
	}
	if len(s.domains) < 120 {
		t.Errorf("distinct domains: got %d, want most of the %d calibrated ones", len(s.domains), len(domainTable))
	}

	if mean := float64(s.bytes) / n; mean < 900 || mean > 1600 {
		t.Errorf("mean event size: got %.0f bytes, want 900 to 1600 (live feed about 1200)", mean)
	}
}

// TestLengthChanges checks the heavy tail of page-length changes against
// the calibrated quantiles: mostly small, some large, rare blanking.
func TestLengthChanges(t *testing.T) {
	s := collect(t, Config{Seed: 6, Count: 100000, Domains: []string{"en.wikipedia.org", "de.wikipedia.org"}})
	var abs []int64
	large, blank := 0, 0
	for _, e := range s.edits {
		d := e.delta()
		abs = append(abs, max(d, -d))
		if d <= -1000 {
			large++
		}
		if e.new == 0 && e.old > 0 {
			blank++
		}
		if e.new < 0 || e.old < 0 {
			t.Fatalf("negative length: %+v", e)
		}
	}
	slices.Sort(abs)
	q := func(p float64) int64 { return abs[int(p*float64(len(abs)-1))] }
	edits := float64(len(s.edits))
	// kirajano EN_DE: 345 of 24,809 edits remove 1000 bytes or more (1.39%),
	// 27 blank the page (0.11%); median |delta| 27, 99th percentile about 10 kB.
	cases := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"share removing >= 1000 bytes", float64(large) / edits, 0.010, 0.018},
		{"share blanking the page", float64(blank) / edits, 0.0004, 0.0025},
		{"median |delta|", float64(q(0.5)), 10, 60},
		{"99th percentile |delta|", float64(q(0.99)), 3000, 30000},
	}
	for _, c := range cases {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: got %.4g, want %.4g to %.4g", c.name, c.got, c.min, c.max)
		}
	}
}

// TestWikiTraits checks per-wiki traits: namespaces, where "patrolled"
// appears, and rc ids increasing per wiki.
func TestWikiTraits(t *testing.T) {
	s := collect(t, Config{Seed: 8, Count: 60000})
	nsShare := func(domain string, ns int64) float64 {
		total := 0
		for _, c := range s.nsByDomain[domain] {
			total += c
		}
		return float64(s.nsByDomain[domain][ns]) / float64(total)
	}
	if got := nsShare("www.wikidata.org", 0); got < 0.88 {
		t.Errorf("wikidata edits in the main namespace: got %.3f, want >= 0.88 (calibrated 0.931)", got)
	}
	if got := nsShare("commons.wikimedia.org", 6); got < 0.83 {
		t.Errorf("commons edits in the File namespace: got %.3f, want >= 0.83 (calibrated 0.878)", got)
	}
	if got := nsShare("en.wikipedia.org", 0); got < 0.70 || got > 0.82 {
		t.Errorf("enwiki edits in the main namespace: got %.3f, want 0.70-0.82 (calibrated 0.759)", got)
	}
	// enwiki patrols only new pages: its edits never carry "patrolled";
	// commons patrols every change: always.
	if pc := s.patrolledByDomain["en.wikipedia.org"]; pc[0] != 0 || pc[1] == 0 {
		t.Errorf("enwiki edits with/without patrolled: got %v, want none with", pc)
	}
	if pc := s.patrolledByDomain["commons.wikimedia.org"]; pc[1] != 0 || pc[0] == 0 {
		t.Errorf("commons edits with/without patrolled: got %v, want all with", pc)
	}
}

func TestIDsIncreasePerWiki(t *testing.T) {
	lines, _, _ := generate(t, Config{Seed: 9, Count: 20000})
	last := map[string]int64{}
	lastRev := map[string]int64{}
	for _, line := range lines {
		domain, typ := string(raw(line, `"domain":`)), string(raw(line, `"type":`))
		if id := raw(line, `},"id":`); id != nil {
			n := num(t, line, `},"id":`)
			if n <= last[domain] {
				t.Fatalf("%s: rc id %d after %d, want increasing", domain, n, last[domain])
			}
			last[domain] = n
		} else if typ != "log" {
			t.Fatalf("%s event without an rc id: %s", typ, line)
		}
		if typ == "edit" || typ == "new" {
			rev := raw(line, `"revision":`)
			cur := num(t, rev, `"new":`)
			if cur <= lastRev[domain] {
				t.Fatalf("%s: revision %d after %d, want increasing", domain, cur, lastRev[domain])
			}
			lastRev[domain] = cur
			if typ == "edit" {
				if old := num(t, rev, `"old":`); old >= cur || old < 1 {
					t.Fatalf("revision.old %d, new %d: want 1 <= old < new", old, cur)
				}
			}
		}
	}
}

// TestBotsBurst checks that bots work in runs: a bot's next event on the
// same wiki is very often by the same bot.
func TestBotsBurst(t *testing.T) {
	lines, _, _ := generate(t, Config{Seed: 10, Count: 30000})
	lastBot := map[string]string{}
	same, total := 0, 0
	perBot := map[string]int{}
	for _, line := range lines {
		if string(raw(line, `"bot":`)) != "true" {
			continue
		}
		user, domain := string(raw(line, `"user":`)), string(raw(line, `"domain":`))
		perBot[user]++
		if prev, ok := lastBot[domain]; ok {
			total++
			if prev == user {
				same++
			}
		}
		lastBot[domain] = user
	}
	if got := float64(same) / float64(total); got < 0.8 {
		t.Errorf("share of bot events by the wiki's previous bot: got %.2f, want >= 0.8", got)
	}
	if len(perBot) < 50 {
		t.Errorf("distinct bot accounts: got %d, want >= 50", len(perBot))
	}
}
