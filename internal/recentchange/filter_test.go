package recentchange

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	cases := []struct {
		spec string
		keep []string
		drop []string
	}{
		{"wikipedia", []string{"en.wikipedia.org", "vi.wikipedia.org", "zh-min-nan.wikipedia.org"},
			[]string{"commons.wikimedia.org", "www.wikidata.org", "en.wiktionary.org", "wikipedia.org", "canary"}},
		{"high-activity", []string{"en.wikipedia.org", "de.wikipedia.org", "ja.wikipedia.org", "fr.wikipedia.org", "zh.wikipedia.org", "es.wikipedia.org", "ru.wikipedia.org"},
			[]string{"it.wikipedia.org", "commons.wikimedia.org"}},
		{"all", []string{"en.wikipedia.org", "commons.wikimedia.org", "www.wikidata.org"}, nil},
		{"de, commons.wikimedia.org ,EN.wiktionary.org", []string{"de.wikipedia.org", "commons.wikimedia.org", "en.wiktionary.org"},
			[]string{"en.wikipedia.org"}},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			f, err := ParseFilter(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range c.keep {
				if !f.Keep(d) {
					t.Errorf("Keep(%q) = false, want true", d)
				}
			}
			for _, d := range c.drop {
				if f.Keep(d) {
					t.Errorf("Keep(%q) = true, want false", d)
				}
			}
		})
	}
	f, _ := ParseFilter("high-activity")
	if got := f.Domains(); len(got) != 7 || !slices.Contains(got, "ja.wikipedia.org") {
		t.Errorf("high-activity Domains() = %v, want the 7 HIGH_ACTIVITY editions", got)
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, spec := range []string{"", "en,,de", "https://en.wikipedia.org", "en wiki"} {
		_, err := ParseFilter(spec)
		if err == nil {
			t.Errorf("ParseFilter(%q) = nil error, want one", spec)
			continue
		}
		if !strings.Contains(err.Error(), "domain filter") {
			t.Errorf("ParseFilter(%q) error %q does not name the setting", spec, err)
		}
	}
}
