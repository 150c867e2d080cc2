// Package sites maps Wikimedia wiki domains (en.wikipedia.org,
// de.wiktionary.org, commons.wikimedia.org, ...) to their project, language
// and region.
//
// The mapping is data, not code: wikis.tsv, embedded into the binary, lists
// every Wikipedia language edition and the wikis that have no language
// subdomain; a sister project's domain (de.wiktionary.org) takes its
// language's row. README.md, next to the data, explains how regions are
// assigned and records each judgement call.
package sites

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// The regions, as the original specification names them. Silver and gold
// tables are partitioned by these five values.
const (
	RegionAsiaPacific = "asia_pacific"
	RegionEurope      = "europe"
	RegionAmericas    = "americas"
	RegionMiddleEast  = "middle_east"
	RegionOther       = "other"
)

// Site describes one wiki.
type Site struct {
	// Domain is the wiki's canonical host name, such as "en.wikipedia.org".
	Domain string
	// Project is the wiki family: wikipedia, wiktionary, wikibooks, wikinews,
	// wikiquote, wikisource, wikiversity, wikivoyage, or for wikis without a
	// language subdomain commons, wikidata, meta, species, mediawiki,
	// wikifunctions, incubator or wikimedia (chapter and other
	// wikimedia.org wikis). It is "" for a domain outside Wikimedia.
	Project string
	// Language is Wikimedia's code for the wiki's language, which is the
	// language edition's subdomain ("de", "simple", "zh-min-nan",
	// "be-tarask"); "mul" for multilingual and project-wide wikis; "" when
	// unknown.
	Language string
	// LanguageName is the English name of Language, "" when unknown.
	LanguageName string
	// Region is one of the values Regions returns.
	Region string
}

// sisterProjects are the projects whose wikis are language editions named
// like Wikipedia's (xx.wiktionary.org); a domain of one of them takes the
// language and region of xx.wikipedia.org.
var sisterProjects = []string{
	"wiktionary", "wikibooks", "wikinews", "wikiquote", "wikisource", "wikiversity", "wikivoyage",
}

// projectBySLD maps the second-level label of a Wikimedia domain to the
// project of a wiki the data does not list.
var projectBySLD = map[string]string{
	"wikipedia": "wikipedia", "wiktionary": "wiktionary", "wikibooks": "wikibooks",
	"wikinews": "wikinews", "wikiquote": "wikiquote", "wikisource": "wikisource",
	"wikiversity": "wikiversity", "wikivoyage": "wikivoyage", "wikimedia": "wikimedia",
	"wikidata": "wikidata", "mediawiki": "mediawiki", "wikifunctions": "wikifunctions",
}

//go:embed wikis.tsv
var wikisTSV string

// table is the parsed data.
type table struct {
	byDomain map[string]Site // listed domains plus the derived sister-project domains
	listed   int             // rows in the data file
	editions []Site          // Wikipedia language editions, in file order
}

var data = mustParse(wikisTSV)

// Lookup returns the site of domain. It never fails: the domain is matched
// case-insensitively, with a trailing dot, a scheme, a path, a mobile label
// ("en.m.wikipedia.org") or a missing ".org" ("en.wikipedia", as IRC-era
// channels name wikis) tolerated. A domain the data does not cover gets
// Region "other", the project its second-level label names, and as Language
// its first label when that looks like a language code (except under
// wikimedia.org, where first labels are country codes: ar.wikimedia.org is
// Wikimedia Argentina).
func Lookup(domain string) Site {
	s, _ := lookup(domain)
	return s
}

// lookup is Lookup that also reports whether the data covers the domain.
func lookup(domain string) (Site, bool) {
	if s, ok := data.byDomain[domain]; ok {
		return s, true
	}
	d := canonical(domain)
	if s, ok := data.byDomain[d]; ok {
		return s, true
	}
	return guess(d), false
}

// Regions returns the five regions, in the order the original specification
// lists them, with "other" last.
func Regions() []string {
	return []string{RegionAsiaPacific, RegionEurope, RegionAmericas, RegionMiddleEast, RegionOther}
}

// WikipediaEditions returns every Wikipedia language edition in the data,
// closed ones included, sorted by language code. The test wikis and the
// English special wikis (test, nostalgia, ...) are not language editions.
func WikipediaEditions() []Site {
	return slices.Clone(data.editions)
}

// canonical lower-cases d and strips what is not part of a wiki's host name.
func canonical(d string) string {
	d = strings.TrimSpace(d)
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	if i := strings.IndexAny(d, "/?#"); i >= 0 {
		d = d[:i]
	}
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	labels := strings.Split(d, ".")
	if _, ok := projectBySLD[labels[len(labels)-1]]; ok {
		labels = append(labels, "org") // "en.wikipedia"
	}
	switch {
	case len(labels) == 4 && labels[1] == "m": // en.m.wikipedia.org
		labels = slices.Delete(labels, 1, 2)
	case len(labels) == 3 && labels[0] == "m": // m.wikidata.org
		labels[0] = "www"
	case len(labels) == 2 && labels[1] == "org":
		switch labels[0] {
		case "wikidata", "mediawiki", "wikifunctions":
			labels = append([]string{"www"}, labels...)
		}
	}
	return strings.Join(labels, ".")
}

// guess builds the site of a domain the data does not cover.
func guess(d string) Site {
	s := Site{Domain: d, Region: RegionOther}
	labels := strings.Split(d, ".")
	n := len(labels)
	if n >= 2 && labels[n-1] == "org" {
		s.Project = projectBySLD[labels[n-2]]
	}
	if n >= 3 && s.Project != "wikimedia" && looksLikeLanguageCode(labels[0]) {
		s.Language = labels[0]
	}
	return s
}

// looksLikeLanguageCode reports whether label has the shape of a Wikimedia
// language code: two or three letters, optionally followed by hyphenated
// subtags ("zh-min-nan", "be-tarask", "roa-rup").
func looksLikeLanguageCode(label string) bool {
	switch label {
	case "www", "m", "api", "test", "test2":
		return false
	}
	head, rest, _ := strings.Cut(label, "-")
	if len(head) < 2 || len(head) > 3 || !isLower(head) {
		return false
	}
	for rest != "" {
		var sub string
		sub, rest, _ = strings.Cut(rest, "-")
		if len(sub) < 2 || len(sub) > 8 || !isLowerAlnum(sub) {
			return false
		}
	}
	return true
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func isLowerAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

func mustParse(text string) *table {
	t, err := parse(text)
	if err != nil {
		panic("sites: embedded wikis.tsv: " + err.Error())
	}
	return t
}

// parse reads the data file and checks it: six tab-separated columns, no
// domain twice, a known region and project, the language of a language
// edition equal to its subdomain.
func parse(text string) (*table, error) {
	t := &table{byDomain: map[string]Site{}}
	known := map[string]bool{}
	for _, p := range projectBySLD {
		known[p] = true
	}
	for _, p := range []string{"commons", "meta", "species", "incubator"} {
		known[p] = true
	}
	regions := map[string]bool{}
	for _, r := range Regions() {
		regions[r] = true
	}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %d: %d columns, want 6 (domain, project, language, language_name, region, note)", i+1, len(f))
		}
		s := Site{Domain: f[0], Project: f[1], Language: f[2], LanguageName: f[3], Region: f[4]}
		switch {
		case s.Domain == "" || s.Domain != strings.ToLower(s.Domain) || strings.Count(s.Domain, ".") < 1:
			return nil, fmt.Errorf("line %d: domain %q is not a lower-case host name", i+1, s.Domain)
		case !known[s.Project]:
			return nil, fmt.Errorf("line %d: %s: unknown project %q", i+1, s.Domain, s.Project)
		case s.Language == "" || s.LanguageName == "":
			return nil, fmt.Errorf("line %d: %s: language and language name are required", i+1, s.Domain)
		case !regions[s.Region]:
			return nil, fmt.Errorf("line %d: %s: region %q, want one of %s", i+1, s.Domain, s.Region, strings.Join(Regions(), ", "))
		}
		if _, dup := t.byDomain[s.Domain]; dup {
			return nil, fmt.Errorf("line %d: domain %s listed twice", i+1, s.Domain)
		}
		t.byDomain[s.Domain] = s
		t.listed++
		sub, rest, _ := strings.Cut(s.Domain, ".")
		if rest == "wikipedia.org" && sub == s.Language {
			t.editions = append(t.editions, s)
		}
	}
	// Sister projects take the row of their language's Wikipedia; a sister
	// wiki listed explicitly keeps its own row.
	for _, e := range t.editions {
		for _, p := range sisterProjects {
			d := e.Language + "." + p + ".org"
			if _, ok := t.byDomain[d]; !ok {
				t.byDomain[d] = Site{Domain: d, Project: p, Language: e.Language, LanguageName: e.LanguageName, Region: e.Region}
			}
		}
	}
	slices.SortFunc(t.editions, func(a, b Site) int { return strings.Compare(a.Language, b.Language) })
	return t, nil
}
