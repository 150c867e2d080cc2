package sites

import (
	"slices"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		domain string
		want   Site
	}{
		{"en.wikipedia.org", Site{"en.wikipedia.org", "wikipedia", "en", "English", RegionAmericas}},
		{"de.wikipedia.org", Site{"de.wikipedia.org", "wikipedia", "de", "German", RegionEurope}},
		{"ja.wikipedia.org", Site{"ja.wikipedia.org", "wikipedia", "ja", "Japanese", RegionAsiaPacific}},
		{"ar.wikipedia.org", Site{"ar.wikipedia.org", "wikipedia", "ar", "Arabic", RegionMiddleEast}},
		{"commons.wikimedia.org", Site{"commons.wikimedia.org", "commons", "mul", "Multilingual", RegionOther}},
		{"www.wikidata.org", Site{"www.wikidata.org", "wikidata", "mul", "Multilingual", RegionOther}},
		{"meta.wikimedia.org", Site{"meta.wikimedia.org", "meta", "mul", "Multilingual", RegionOther}},
		{"species.wikimedia.org", Site{"species.wikimedia.org", "species", "mul", "Multilingual", RegionOther}},
		{"www.mediawiki.org", Site{"www.mediawiki.org", "mediawiki", "mul", "Multilingual", RegionOther}},
		{"www.wikifunctions.org", Site{"www.wikifunctions.org", "wikifunctions", "mul", "Multilingual", RegionOther}},
		// Sister projects take their language's region.
		{"de.wiktionary.org", Site{"de.wiktionary.org", "wiktionary", "de", "German", RegionEurope}},
		{"es.wikibooks.org", Site{"es.wikibooks.org", "wikibooks", "es", "Spanish", RegionAmericas}},
		{"zh.wikisource.org", Site{"zh.wikisource.org", "wikisource", "zh", "Chinese", RegionAsiaPacific}},
		{"he.wikiquote.org", Site{"he.wikiquote.org", "wikiquote", "he", "Hebrew", RegionMiddleEast}},
		{"vi.wikivoyage.org", Site{"vi.wikivoyage.org", "wikivoyage", "vi", "Vietnamese", RegionAsiaPacific}},
		{"ru.wikinews.org", Site{"ru.wikinews.org", "wikinews", "ru", "Russian", RegionEurope}},
		{"de.wikiversity.org", Site{"de.wikiversity.org", "wikiversity", "de", "German", RegionEurope}},
		// Wikimedia codes that are not ISO codes.
		{"simple.wikipedia.org", Site{"simple.wikipedia.org", "wikipedia", "simple", "Simple English", RegionAmericas}},
		{"zh-min-nan.wikipedia.org", Site{"zh-min-nan.wikipedia.org", "wikipedia", "zh-min-nan", "Min Nan", RegionAsiaPacific}},
		{"be-tarask.wikipedia.org", Site{"be-tarask.wikipedia.org", "wikipedia", "be-tarask", "Belarusian (Taraškievica)", RegionEurope}},
		// A chapter's subdomain is a country: ar.wikimedia.org is Argentina.
		{"ar.wikimedia.org", Site{"ar.wikimedia.org", "wikimedia", "es", "Spanish", RegionAmericas}},
		{"dk.wikimedia.org", Site{"dk.wikimedia.org", "wikimedia", "da", "Danish", RegionEurope}},
		// Spellings of a known domain.
		{"EN.Wikipedia.ORG", Site{"en.wikipedia.org", "wikipedia", "en", "English", RegionAmericas}},
		{" fr.wikipedia.org. ", Site{"fr.wikipedia.org", "wikipedia", "fr", "French", RegionEurope}},
		{"https://it.wikipedia.org/wiki/Roma", Site{"it.wikipedia.org", "wikipedia", "it", "Italian", RegionEurope}},
		{"en.m.wikipedia.org", Site{"en.wikipedia.org", "wikipedia", "en", "English", RegionAmericas}},
		{"m.wikidata.org", Site{"www.wikidata.org", "wikidata", "mul", "Multilingual", RegionOther}},
		{"wikidata.org", Site{"www.wikidata.org", "wikidata", "mul", "Multilingual", RegionOther}},
		{"ko.wikipedia", Site{"ko.wikipedia.org", "wikipedia", "ko", "Korean", RegionAsiaPacific}},
		// Unknown domains: other, language from the subdomain when it looks like one.
		{"xyz.wikipedia.org", Site{"xyz.wikipedia.org", "wikipedia", "xyz", "", RegionOther}},
		{"abc-def.wiktionary.org", Site{"abc-def.wiktionary.org", "wiktionary", "abc-def", "", RegionOther}},
		{"zz.wikimedia.org", Site{"zz.wikimedia.org", "wikimedia", "", "", RegionOther}},
		{"phabricator.wikimedia.org", Site{"phabricator.wikimedia.org", "wikimedia", "", "", RegionOther}},
		{"www.wikipedia.org", Site{"www.wikipedia.org", "wikipedia", "", "", RegionOther}},
		{"canary", Site{"canary", "", "", "", RegionOther}},
		{"", Site{"", "", "", "", RegionOther}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			if got := Lookup(tt.domain); got != tt.want {
				t.Errorf("Lookup(%q) = %+v, want %+v", tt.domain, got, tt.want)
			}
		})
	}
}

// TestRegionSpotChecks pins the region of the languages the brief and the
// README name, so that an edit of the data file that moves one is deliberate.
func TestRegionSpotChecks(t *testing.T) {
	want := map[string][]string{
		RegionAmericas:    {"en", "simple", "es", "pt", "ht", "qu", "gn", "nah", "kl", "iu"},
		RegionEurope:      {"fr", "de", "ru", "it", "pl", "uk", "nl", "sv", "ka", "hy", "az", "tt", "eo", "la", "yi"},
		RegionMiddleEast:  {"ar", "arz", "ary", "fa", "he", "tr", "ku", "ckb", "azb", "kab"},
		RegionAsiaPacific: {"ja", "zh", "ko", "hi", "id", "vi", "th", "ceb", "kk", "uz", "sah", "ps", "haw", "mi"},
		RegionOther:       {"sw", "yo", "ha", "am", "zu", "af", "sn", "mg"},
	}
	for region, langs := range want {
		for _, lang := range langs {
			if got := Lookup(lang + ".wikipedia.org").Region; got != region {
				t.Errorf("%s.wikipedia.org: region %q, want %q", lang, got, region)
			}
		}
	}
}

func TestRegions(t *testing.T) {
	want := []string{"asia_pacific", "europe", "americas", "middle_east", "other"}
	if got := Regions(); !slices.Equal(got, want) {
		t.Fatalf("Regions() = %v, want %v", got, want)
	}
	Regions()[0] = "changed"
	if got := Regions()[0]; got != "asia_pacific" {
		t.Errorf("Regions() shares its slice: got %q after a caller's write", got)
	}
}

func TestWikipediaEditions(t *testing.T) {
	eds := WikipediaEditions()
	if len(eds) < 330 {
		t.Fatalf("WikipediaEditions() has %d editions, want at least 330", len(eds))
	}
	seen := map[string]bool{}
	perRegion := map[string]int{}
	for _, e := range eds {
		if seen[e.Domain] {
			t.Errorf("edition %s listed twice", e.Domain)
		}
		seen[e.Domain] = true
		perRegion[e.Region]++
		if want := e.Language + ".wikipedia.org"; e.Domain != want {
			t.Errorf("edition %+v: domain %q, want %q", e, e.Domain, want)
		}
		if e.Project != "wikipedia" || e.LanguageName == "" {
			t.Errorf("edition %+v: want project wikipedia and a language name", e)
		}
		if got := Lookup(e.Domain); got != e {
			t.Errorf("Lookup(%q) = %+v, want %+v", e.Domain, got, e)
		}
	}
	// The closed and special-code editions the brief names, and editions
	// every list of Wikipedias has.
	for _, code := range []string{
		"en", "ceb", "de", "fr", "sv", "nl", "ru", "es", "it", "arz", "pl", "ja", "zh", "uk", "vi", "war",
		"simple", "zh-yue", "zh-min-nan", "zh-classical", "be-tarask", "als", "bat-smg", "fiu-vro",
		"roa-rup", "roa-tara", "nds-nl", "cbk-zam", "map-bms", "aa", "cho", "ho", "hz", "ii", "kj",
		"kr", "mh", "mus", "ng", "lld", "skr", "hyw", "mnw", "gcr", "kus", "tly",
	} {
		if !seen[code+".wikipedia.org"] {
			t.Errorf("edition %s.wikipedia.org missing", code)
		}
	}
	for _, r := range Regions() {
		if perRegion[r] == 0 {
			t.Errorf("no edition in region %s", r)
		}
	}
	t.Logf("%d Wikipedia editions: %v", len(eds), perRegion)

	eds[0].Region = "changed"
	if WikipediaEditions()[0].Region == "changed" {
		t.Error("WikipediaEditions() shares its slice with the package")
	}
}

// TestDataFile checks the embedded file itself: it parses, lists no domain
// twice, uses only the five regions and the known projects.
func TestDataFile(t *testing.T) {
	tab, err := parse(wikisTSV)
	if err != nil {
		t.Fatalf("parse(wikis.tsv): %v", err)
	}
	domains := map[string]int{}
	for i, line := range strings.Split(wikisTSV, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("line %d: %d columns, want 6", i+1, len(f))
		}
		if prev, dup := domains[f[0]]; dup {
			t.Errorf("line %d: domain %s already on line %d", i+1, f[0], prev)
		}
		domains[f[0]] = i + 1
		if !slices.Contains(Regions(), f[4]) {
			t.Errorf("line %d: %s: region %q is not one of %v", i+1, f[0], f[4], Regions())
		}
		if f[3] != strings.TrimSpace(f[3]) || f[5] != strings.TrimSpace(f[5]) {
			t.Errorf("line %d: %s: stray spaces around a column", i+1, f[0])
		}
	}
	if tab.listed != len(domains) {
		t.Errorf("parse kept %d rows, the file has %d", tab.listed, len(domains))
	}
	if want := tab.listed + len(tab.editions)*len(sisterProjects); len(tab.byDomain) > want || len(tab.byDomain) < tab.listed {
		t.Errorf("%d domains resolve, want between %d and %d", len(tab.byDomain), tab.listed, want)
	}
	for d, s := range tab.byDomain {
		if s.Domain != d {
			t.Errorf("byDomain[%q].Domain = %q", d, s.Domain)
		}
	}
}

// TestParseRejects shows that parse, which guards the embedded file, catches
// each kind of mistake.
func TestParseRejects(t *testing.T) {
	row := func(f ...string) string { return strings.Join(f, "\t") + "\n" }
	good := row("xx.wikipedia.org", "wikipedia", "xx", "Xish", "europe", "")
	tests := []struct {
		name, text, want string
	}{
		{"duplicate domain", good + good, "listed twice"},
		{"unknown region", row("xx.wikipedia.org", "wikipedia", "xx", "Xish", "africa", ""), `region "africa"`},
		{"unknown project", row("xx.wikipedia.org", "wikipaedia", "xx", "Xish", "europe", ""), "unknown project"},
		{"missing column", row("xx.wikipedia.org", "wikipedia", "xx", "Xish", "europe"), "5 columns"},
		{"upper-case domain", row("XX.wikipedia.org", "wikipedia", "xx", "Xish", "europe", ""), "lower-case"},
		{"no language", row("xx.wikipedia.org", "wikipedia", "", "Xish", "europe", ""), "language"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("# comment\n\n" + tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse: error %v, want one containing %q", err, tt.want)
			}
		})
	}
	tab, err := parse(good)
	if err != nil {
		t.Fatalf("parse(good row): %v", err)
	}
	if got := tab.byDomain["xx.wikisource.org"]; got.Region != "europe" || got.Project != "wikisource" {
		t.Errorf("derived xx.wikisource.org = %+v, want project wikisource in europe", got)
	}
}

func BenchmarkLookup(b *testing.B) {
	domains := []string{"en.wikipedia.org", "commons.wikimedia.org", "www.wikidata.org", "de.wiktionary.org", "xyz.wikipedia.org"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Lookup(domains[i%len(domains)])
	}
}
