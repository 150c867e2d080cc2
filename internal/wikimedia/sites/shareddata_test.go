package sites

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// deliberatelyOther are the languages of wikis in shared/data whose region
// is "other" on purpose: Sub-Saharan Africa has no region of its own (see
// README.md). Every other language wiki seen there must map to one of the
// four named regions.
var deliberatelyOther = map[string]bool{"af": true, "sn": true, "yo": true}

// wantDomains is how many distinct wikis the scan must find in the files
// whose wiki counts PROVENANCE.md states; it proves the scan reads them.
var wantDomains = map[string]int{
	"camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz": 141,
	"kirajano_wiki-streams_es_RECENTCHANGE_GEO_2021-10.jsonl.gz":               70,
	"druid_wikiticker-2015-09-12-sampled.json.gz":                              51,
}

// TestSharedDataDomains checks that every wiki in the recorded events of
// shared/data is covered by wikis.tsv, and that language wikis get a named
// region.
func TestSharedDataDomains(t *testing.T) {
	dir := sharedDataDir(t)
	seen := map[string][]string{} // domain → files
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") || strings.Contains(path, "schemas") {
			return err
		}
		b, err := readMaybeGzip(path)
		if err != nil {
			return err
		}
		name := filepath.Base(path)
		found := scanDomains(b)
		if want, ok := wantDomains[name]; ok && len(found) != want {
			t.Errorf("%s: found %d wikis, want %d", name, len(found), want)
		}
		for dom := range found {
			seen[dom] = append(seen[dom], name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 150 {
		t.Fatalf("found %d distinct wikis in %s, want at least 150", len(seen), dir)
	}
	domains := make([]string, 0, len(seen))
	for d := range seen {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	for _, d := range domains {
		s, ok := lookup(d)
		switch {
		case !ok:
			t.Errorf("%s (in %s): not covered by wikis.tsv", d, seen[d][0])
		case s.Region == RegionOther && s.Language != "mul" && !deliberatelyOther[s.Language]:
			t.Errorf("%s (in %s): language %q has region other, want a named region", d, seen[d][0], s.Language)
		case deliberatelyOther[s.Language] && s.Region != RegionOther:
			t.Errorf("%s: region %q, but deliberatelyOther lists %q", d, s.Region, s.Language)
		}
	}
	t.Logf("%d distinct wikis in %s resolve", len(domains), dir)
}

// sharedDataDir finds shared/data by walking up from the test's directory;
// the test is skipped when there is none.
func sharedDataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no shared/data above the test directory")
		}
		dir = parent
	}
}

func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	return io.ReadAll(r)
}

// scanDomains returns the wikis named by the domain fields of recorded
// events in any of the shapes shared/data holds: EventStreams JSON
// (meta.domain, server_name), flattened and ksqlDB projections (meta_domain,
// META_DOMAIN, SERVER_NAME), Python repr ('domain': '...') and Druid
// wikiticker channels ("#en.wikipedia").
func scanDomains(b []byte) map[string]bool {
	out := map[string]bool{}
	keys := []string{"domain", "meta_domain", "META_DOMAIN", "server_name", "SERVER_NAME", "channel"}
	for _, q := range []byte{'"', '\''} {
		for _, k := range keys {
			pat := []byte(string(q) + k + string(q))
			for rest := b; ; {
				i := bytes.Index(rest, pat)
				if i < 0 {
					break
				}
				rest = rest[i+len(pat):]
				v, ok := quotedValue(rest, q)
				if !ok {
					continue
				}
				if k == "channel" {
					if !strings.HasPrefix(v, "#") {
						continue
					}
					v = v[1:] + ".org"
				}
				if isHost(v) {
					out[v] = true
				}
			}
		}
	}
	return out
}

// quotedValue reads `: "value"` (any spaces, quote q) at the start of b.
func quotedValue(b []byte, q byte) (string, bool) {
	b = bytes.TrimLeft(b, " ")
	if len(b) == 0 || b[0] != ':' {
		return "", false
	}
	b = bytes.TrimLeft(b[1:], " ")
	if len(b) == 0 || b[0] != q {
		return "", false
	}
	end := bytes.IndexByte(b[1:], q)
	if end < 0 || end > 100 {
		return "", false
	}
	return string(b[1 : 1+end]), true
}

func isHost(v string) bool {
	if !strings.Contains(v, ".") {
		return false
	}
	return !slices.ContainsFunc([]byte(v), func(c byte) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-')
	})
}
