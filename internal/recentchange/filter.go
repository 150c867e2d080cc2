package recentchange

import (
	"fmt"
	"slices"
	"strings"
)

// The domain filter presets.
const (
	FilterHighActivity = "high-activity"
	FilterWikipedia    = "wikipedia"
	FilterAll          = "all"
)

// HighActivityLanguages are the Wikipedia editions of the original design's
// HIGH_ACTIVITY list.
var HighActivityLanguages = []string{"en", "de", "ja", "fr", "zh", "es", "ru"}

// Filter decides which domains ingest keeps. The zero value keeps nothing;
// build one with ParseFilter.
type Filter struct {
	spec      string
	all       bool
	wikipedia bool
	domains   map[string]bool
}

// ParseFilter builds a Filter from a preset name (high-activity, wikipedia,
// all) or a comma-separated list of domains. A list item without a dot is a
// Wikipedia language code: "de" means de.wikipedia.org.
func ParseFilter(spec string) (Filter, error) {
	spec = strings.TrimSpace(spec)
	f := Filter{spec: spec}
	switch spec {
	case FilterAll:
		f.all = true
		return f, nil
	case FilterWikipedia:
		f.wikipedia = true
		return f, nil
	case FilterHighActivity:
		f.domains = map[string]bool{}
		for _, lang := range HighActivityLanguages {
			f.domains[lang+".wikipedia.org"] = true
		}
		return f, nil
	case "":
		return Filter{}, fmt.Errorf("domain filter: empty; want %s, %s, %s or a comma-separated list of domains",
			FilterHighActivity, FilterWikipedia, FilterAll)
	}
	f.domains = map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			return Filter{}, fmt.Errorf("domain filter %q: empty list item; want domains such as en.wikipedia.org,commons.wikimedia.org", spec)
		}
		if strings.ContainsAny(item, " /:") {
			return Filter{}, fmt.Errorf("domain filter %q: %q is not a domain; want a host name such as de.wikipedia.org", spec, item)
		}
		if !strings.Contains(item, ".") {
			item += ".wikipedia.org"
		}
		f.domains[item] = true
	}
	return f, nil
}

// Keep reports whether events of domain pass the filter.
func (f Filter) Keep(domain string) bool {
	switch {
	case f.all:
		return true
	case f.wikipedia:
		return IsWikipedia(domain)
	}
	return f.domains[domain]
}

// String returns the filter as it was given.
func (f Filter) String() string { return f.spec }

// Domains lists the explicit domains of a list or preset filter, sorted; it
// is empty for the all and wikipedia presets.
func (f Filter) Domains() []string {
	out := make([]string, 0, len(f.domains))
	for d := range f.domains {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// IsWikipedia reports whether domain is a Wikipedia language edition
// (xx.wikipedia.org), excluding the test and meta-like wikis without a
// language subdomain.
func IsWikipedia(domain string) bool {
	lang, ok := strings.CutSuffix(domain, ".wikipedia.org")
	return ok && lang != "" && !strings.Contains(lang, ".")
}
