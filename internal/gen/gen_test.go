package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// generate returns every line cfg produces, with the kind of each.
func generate(tb testing.TB, cfg Config) (lines [][]byte, kinds []malformedKind, st Stats) {
	tb.Helper()
	g, err := New(cfg)
	if err != nil {
		tb.Fatalf("New(%+v): %v", cfg, err)
	}
	for {
		line, ok := g.Next()
		if !ok {
			break
		}
		lines = append(lines, bytes.Clone(line))
		kinds = append(kinds, g.lastKind)
	}
	return lines, kinds, g.Stats()
}

// allFaults is a configuration with every kind of fault switched on.
func allFaults(seed int64, count int) Config {
	cfg := DefaultConfig()
	cfg.Seed, cfg.Count = seed, count
	cfg.Duplicates, cfg.Malformed, cfg.OutOfOrder, cfg.VandalBurst = 0.05, 0.05, 0.05, 60
	return cfg
}

func digest(tb testing.TB, cfg Config) [32]byte {
	tb.Helper()
	h := sha256.New()
	if _, err := Write(context.Background(), h, cfg); err != nil {
		tb.Fatalf("Write: %v", err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func TestReproducible(t *testing.T) {
	restricted := DefaultConfig()
	restricted.Domains = []string{"de.wikipedia.org", "www.wikidata.org"}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"default", DefaultConfig()},
		{"all faults", allFaults(7, 5000)},
		{"restricted domains", restricted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := digest(t, c.cfg), digest(t, c.cfg)
			if a != b {
				t.Errorf("two runs of the same config: got digests %x and %x, want equal", a, b)
			}
			other := c.cfg
			other.Seed++
			if d := digest(t, other); d == a {
				t.Errorf("seed %d and %d: got the same digest %x, want different output", c.cfg.Seed, other.Seed, d)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Config)
		field string // "" means valid
	}{
		{"default", func(*Config) {}, ""},
		{"zero config", func(c *Config) { *c = Config{} }, ""},
		{"known and pattern domains", func(c *Config) {
			c.Domains = []string{"en.wikipedia.org", "nds.wikipedia.org", "de.wikivoyage.org", "meta.wikimedia.org"}
		}, ""},
		{"negative count", func(c *Config) { c.Count = -1 }, "Count"},
		{"start before wikipedia", func(c *Config) { c.Start = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) }, "Start"},
		{"start far future", func(c *Config) { c.Start = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }, "Start"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "Rate"},
		{"NaN rate", func(c *Config) { c.Rate = math.NaN() }, "Rate"},
		{"huge rate", func(c *Config) { c.Rate = 1e9 }, "Rate"},
		{"duplicates above 1", func(c *Config) { c.Duplicates = 1.5 }, "Duplicates"},
		{"negative duplicates", func(c *Config) { c.Duplicates = -0.1 }, "Duplicates"},
		{"all malformed", func(c *Config) { c.Malformed = 1 }, "Malformed"},
		{"out of order NaN", func(c *Config) { c.OutOfOrder = math.NaN() }, "OutOfOrder"},
		{"negative vandal burst", func(c *Config) { c.VandalBurst = -3 }, "VandalBurst"},
		{"not a wiki", func(c *Config) { c.Domains = []string{"example.com"} }, "Domains[0]"},
		{"unknown project", func(c *Config) { c.Domains = []string{"en.wikipedia.org", "en.wikifoo.org"} }, "Domains[1]"},
		{"upper case", func(c *Config) { c.Domains = []string{"EN.wikipedia.org"} }, "Domains[0]"},
		{"duplicate domain", func(c *Config) { c.Domains = []string{"en.wikipedia.org", "en.wikipedia.org"} }, "Domains[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.edit(&cfg)
			err := cfg.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate: got %v, want nil", err)
				}
				if _, err := New(cfg); err != nil {
					t.Fatalf("New: got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: got nil, want an error naming %s", c.field)
			}
			if !strings.Contains(err.Error(), c.field+":") || !strings.Contains(err.Error(), "want") {
				t.Errorf("Validate: got %q, want it to name %q and say what was expected", err, c.field)
			}
			if _, nerr := New(cfg); nerr == nil {
				t.Errorf("New: got nil error for an invalid config, want %v", err)
			}
		})
	}
}

func TestWriteMatchesStats(t *testing.T) {
	cfg := allFaults(3, 3000)
	var buf bytes.Buffer
	st, err := Write(context.Background(), &buf, cfg)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if got, want := int64(buf.Len()), st.Bytes; got != want {
		t.Errorf("bytes written: got %d, want Stats.Bytes %d", got, want)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		t.Errorf("output does not end with a newline")
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	if got, want := len(lines), st.Lines(); got != want {
		t.Errorf("lines: got %d, want Stats.Lines() %d", got, want)
	}
	if got, want := st.Events, cfg.Count+cfg.VandalBurst; got != want {
		t.Errorf("Stats.Events: got %d, want Count+VandalBurst = %d", got, want)
	}
	if got, want := st.Vandal, cfg.VandalBurst; got != want {
		t.Errorf("Stats.Vandal: got %d, want %d", got, want)
	}
	for i, l := range lines {
		if len(l) == 0 {
			t.Fatalf("line %d is empty", i)
		}
	}
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return f.n, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, io.Discard, DefaultConfig()); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := Write(context.Background(), &failingWriter{n: 1 << 20}, DefaultConfig()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write to a failing writer: got %v, want the writer's error", err)
	}
	bad := DefaultConfig()
	bad.Rate = -1
	if _, err := Write(context.Background(), io.Discard, bad); err == nil {
		t.Errorf("Write with an invalid config: got nil, want an error")
	}
}

func TestDBName(t *testing.T) {
	cases := []struct{ domain, wiki string }{
		{"en.wikipedia.org", "enwiki"},
		{"commons.wikimedia.org", "commonswiki"},
		{"www.wikidata.org", "wikidatawiki"},
		{"de.wiktionary.org", "dewiktionary"},
		{"zh-min-nan.wikipedia.org", "zh_min_nanwiki"},
		{"be-tarask.wikipedia.org", "be_x_oldwiki"},
		{"meta.wikimedia.org", "metawiki"},
		{"www.mediawiki.org", "mediawikiwiki"},
		{"fr.wikisource.org", "frwikisource"},
		{"nds.wikipedia.org", "ndswiki"},
		{"dk.wikimedia.org", "dkwikimedia"},
	}
	for _, c := range cases {
		got, _, err := dbName(c.domain)
		if err != nil || got != c.wiki {
			t.Errorf("dbName(%q): got %q, %v; want %q", c.domain, got, err, c.wiki)
		}
	}
}

// rcEvent is the part of an event the tests look at.
type rcEvent struct {
	Schema string `json:"$schema"`
	Meta   struct {
		URI       string `json:"uri"`
		RequestID string `json:"request_id"`
		ID        string `json:"id"`
		DT        string `json:"dt"`
		Domain    string `json:"domain"`
		Stream    string `json:"stream"`
		Topic     string `json:"topic"`
		Partition *int   `json:"partition"`
		Offset    *int64 `json:"offset"`
	} `json:"meta"`
	ID            *int64 `json:"id"`
	Type          string `json:"type"`
	Namespace     int    `json:"namespace"`
	Title         string `json:"title"`
	TitleURL      string `json:"title_url"`
	Comment       string `json:"comment"`
	Timestamp     int64  `json:"timestamp"`
	User          string `json:"user"`
	Bot           bool   `json:"bot"`
	NotifyURL     string `json:"notify_url"`
	Minor         *bool  `json:"minor"`
	Patrolled     *bool  `json:"patrolled"`
	Length        *struct{ Old, New *int64 }
	Revision      *struct{ Old, New *int64 }
	ServerURL     string          `json:"server_url"`
	ServerName    string          `json:"server_name"`
	ScriptPath    string          `json:"server_script_path"`
	Wiki          string          `json:"wiki"`
	ParsedComment string          `json:"parsedcomment"`
	LogID         *int64          `json:"log_id"`
	LogType       string          `json:"log_type"`
	LogParams     json.RawMessage `json:"log_params"`
}

func (e *rcEvent) delta() int64 {
	if e.Length == nil || e.Length.New == nil {
		return 0
	}
	old := int64(0)
	if e.Length.Old != nil {
		old = *e.Length.Old
	}
	return *e.Length.New - old
}

// topKeys returns the top-level keys of a JSON object in wire order.
func topKeys(tb testing.TB, line []byte) []string {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if _, err := dec.Token(); err != nil {
		tb.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			tb.Fatal(err)
		}
	}
	return keys
}

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	dtRE   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// TestWireLayout checks each type's field set and order against the layout
// of the 2025-2026 raw captures (arvindp25, sat99496).
func TestWireLayout(t *testing.T) {
	head := "$schema meta id type namespace title title_url comment timestamp user bot "
	tail := " server_url server_name server_script_path wiki parsedcomment"
	want := map[string][]string{
		"edit":       strings.Fields(head + "notify_url minor patrolled length revision" + tail),
		"new":        strings.Fields(head + "notify_url minor patrolled length revision" + tail),
		"categorize": strings.Fields(head + "notify_url" + tail),
		"log":        strings.Fields(head + "log_id log_type log_action log_params log_action_comment" + tail),
	}
	optional := map[string]bool{"patrolled": true, "id": true}
	lines, _, _ := generate(t, Config{Seed: 11, Count: 20000})
	seen := map[string]int{}
	for _, line := range lines {
		var e rcEvent
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, line)
		}
		seen[e.Type]++
		keys := topKeys(t, line)
		var exp []string
		for _, k := range want[e.Type] {
			if optional[k] && !slicesContains(keys, k) {
				if k == "id" && e.Type != "log" {
					t.Fatalf("%s event without id: %s", e.Type, line)
				}
				continue
			}
			exp = append(exp, k)
		}
		if strings.Join(keys, " ") != strings.Join(exp, " ") {
			t.Fatalf("%s keys: got %v, want %v", e.Type, keys, exp)
		}
		if e.Type == "new" && (e.Length.Old != nil || e.Revision.Old != nil) {
			t.Fatalf("new event with an old length or revision: %s", line)
		}
		if e.Schema != "/mediawiki/recentchange/1.0.0" || e.Meta.Stream != "mediawiki.recentchange" ||
			e.Meta.Topic != "codfw.mediawiki.recentchange" || e.Meta.Partition == nil || e.Meta.Offset == nil {
			t.Fatalf("bad envelope: %s", line)
		}
		if !uuidRE.MatchString(e.Meta.ID) || !uuidRE.MatchString(e.Meta.RequestID) {
			t.Fatalf("meta.id %q / request_id %q: want version-4 UUIDs", e.Meta.ID, e.Meta.RequestID)
		}
		if !dtRE.MatchString(e.Meta.DT) {
			t.Fatalf("meta.dt %q: want 2006-01-02T15:04:05.000Z", e.Meta.DT)
		}
		dt, _ := time.Parse(time.RFC3339Nano, e.Meta.DT)
		if lag := dt.Sub(time.Unix(e.Timestamp, 0)); lag < 0 || lag > 11*time.Second {
			t.Fatalf("meta.dt %s is %s after timestamp %d, want 0 to 11 s", e.Meta.DT, lag, e.Timestamp)
		}
		if e.Meta.URI != e.TitleURL || !strings.HasPrefix(e.TitleURL, "https://"+e.Meta.Domain+"/wiki/") {
			t.Fatalf("title_url %q / meta.uri %q do not match domain %q", e.TitleURL, e.Meta.URI, e.Meta.Domain)
		}
		if e.ServerName != e.Meta.Domain || e.ServerURL != "https://"+e.Meta.Domain || e.ScriptPath != "/w" {
			t.Fatalf("server fields do not match domain: %s", line)
		}
		if w, _, _ := dbName(e.Meta.Domain); w != e.Wiki {
			t.Fatalf("wiki %q for %s: want %q", e.Wiki, e.Meta.Domain, w)
		}
		if e.Type != "log" && !strings.HasPrefix(e.NotifyURL, "https://"+e.Meta.Domain+"/w/index.php?") {
			t.Fatalf("notify_url %q", e.NotifyURL)
		}
		if e.Type == "edit" && !strings.Contains(e.NotifyURL, "diff="+itoa(*e.Revision.New)+"&oldid="+itoa(*e.Revision.Old)) {
			t.Fatalf("notify_url %q does not name revisions %d/%d", e.NotifyURL, *e.Revision.New, *e.Revision.Old)
		}
		if !validUTF8(line) {
			t.Fatalf("invalid UTF-8: %q", line)
		}
	}
	for typ := range want {
		if seen[typ] == 0 {
			t.Errorf("no %s events in 20000", typ)
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return string(appendPad(nil, n, 1)) }

func TestTiming(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Count = 50000
	cfg.Rate = 40
	lines, _, _ := generate(t, cfg)
	var first, last int64
	for i, line := range lines {
		ts := num(t, line, `"timestamp":`)
		if i == 0 {
			first = ts
			if got, want := first, cfg.Start.Unix(); got != want {
				t.Errorf("first timestamp: got %d, want Start %d", got, want)
			}
		}
		if ts < last {
			t.Fatalf("line %d: timestamp %d after %d with OutOfOrder 0, want monotonic", i, ts, last)
		}
		last = ts
	}
	rate := float64(len(lines)) / float64(last-first)
	if math.Abs(rate-cfg.Rate)/cfg.Rate > 0.03 {
		t.Errorf("rate: got %.2f events/s, want %.0f ± 3%%", rate, cfg.Rate)
	}
}

func TestDomainsRestrict(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Count = 5000
	cfg.Domains = []string{"de.wikipedia.org", "www.wikidata.org", "nds.wikipedia.org"}
	lines, _, _ := generate(t, cfg)
	counts := map[string]int{}
	for _, line := range lines {
		counts[string(raw(line, `"domain":`))]++
	}
	if len(counts) != 3 {
		t.Errorf("domains: got %v, want exactly %v", counts, cfg.Domains)
	}
	for _, d := range cfg.Domains {
		if counts[d] == 0 {
			t.Errorf("domain %s: got no events, want some", d)
		}
	}
	// Calibrated: wikidata 4919 vs de 477 events; nds is not in the table (weight 10).
	if counts["www.wikidata.org"] < 5*counts["de.wikipedia.org"] {
		t.Errorf("wikidata %d vs de %d events: want the calibrated ratio (about 10:1)", counts["www.wikidata.org"], counts["de.wikipedia.org"])
	}
}

func TestEncoders(t *testing.T) {
	t.Run("json strings", func(t *testing.T) {
		for _, s := range []string{"plain", `quote " backslash \ slash /`, "ctl \x00\x01\x1f\n\r\t", "ünïcødé 中文 \u2028 🎉", "<a href=\"x\">&amp;</a>"} {
			b := append([]byte{'"'}, appendJSONString(nil, s)...)
			b = append(b, '"')
			var got string
			if err := json.Unmarshal(b, &got); err != nil || got != s {
				t.Errorf("appendJSONString(%q) = %s: decodes to %q, %v", s, b, got, err)
			}
		}
	})
	t.Run("dt", func(t *testing.T) {
		for _, ms := range []int64{0, 979_430_400_123, 1_793_491_200_999, 4_102_444_800_000, 951_782_400_000 /* 2000-02-29 */} {
			got := string(appendDTMillis(nil, ms))
			want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
			if got != want {
				t.Errorf("appendDTMillis(%d): got %s, want %s", ms, got, want)
			}
		}
		if got, want := string(appendMWTimestamp(nil, 1746258456)), "20250503074736"; got != want {
			t.Errorf("appendMWTimestamp: got %s, want %s", got, want)
		}
	})
	t.Run("title url", func(t *testing.T) {
		// Real pairs from the 2025 capture (arvindp25).
		cases := map[string]string{
			"Fa\u021ba Verde": "Fa%C8%9Ba_Verde",
			"File:City Lake, Floresti, Moldova - 49359471043.jpg": "File:City_Lake,_Floresti,_Moldova_-_49359471043.jpg",
			"Portal:电影/新进条目":                                      "Portal:%E7%94%B5%E5%BD%B1/%E6%96%B0%E8%BF%9B%E6%9D%A1%E7%9B%AE",
			"Travis Sullivan's Björkestra":                        "Travis_Sullivan%27s_Bj%C3%B6rkestra",
		}
		for title, want := range cases {
			if got := string(appendTitleURL(nil, title)); got != want {
				t.Errorf("appendTitleURL(%q): got %q, want %q", title, got, want)
			}
		}
	})
}

// TestRenderComment checks parsedcomment rendering against real pairs of
// comment and parsedcomment from the recorded captures.
func TestRenderComment(t *testing.T) {
	ltr := &wiki{sc: latinScript}
	rtl := &wiki{sc: hebrewScript}
	cases := []struct {
		name          string
		wk            *wiki
		page, comment string
		want          string
	}{
		{"section only", ltr, "Alex Winter", "/* Acting & directing */",
			`<span class="autocomment"><a href="/wiki/Alex_Winter#Acting_&amp;_directing" title="Alex Winter">→<bdi dir="ltr">Acting &amp; directing</bdi></a></span>`},
		{"rtl section with text", rtl, "מכה אפורה", "/* פתיח */ ז'",
			`<span class="autocomment"><a href="/wiki/%D7%9E%D7%9B%D7%94_%D7%90%D7%A4%D7%95%D7%A8%D7%94#פתיח" title="מכה אפורה">←<bdi dir="rtl">פתיח</bdi></a>: </span> ז&#039;`},
		{"wikibase", ltr, "Q40915961", "/* wbsetreference-add:2| */ [[Property:P407]]: [[Q7737]], Modify PubMed ID: 4487156 citation data from NCBI, Europe PMC and CrossRef",
			"\u200e" + `<span dir="auto"><span class="autocomment">Added reference to claim: </span></span> <a href="/wiki/Property:P407" title="Property:P407">Property:P407</a>: <a href="/wiki/Q7737" title="Q7737">Q7737</a>, Modify PubMed ID: 4487156 citation data from NCBI, Europe PMC and CrossRef`},
		{"wikibase term", ltr, "Q1", "/* wbsetdescription-add:1|en */ far-IR source in the constellation Puppis, [[:toollabs:quickstatements/#/batch/113291|batch #113291]]",
			"\u200e" + `<span dir="auto"><span class="autocomment">Added [en] description: </span></span> far-IR source in the constellation Puppis, <a href="https://iw.toolforge.org/quickstatements/#.2Fbatch.2F113291" class="extiw" title="toollabs:quickstatements/">batch #113291</a>`},
		{"categorize with apostrophe", ltr, "Category:X", "[[:File:William Wordsworth's Gravestone, Grasmere, Cumbria - geograph.org.uk - 4330640.jpg]] added to category",
			`<a href="/wiki/File:William_Wordsworth%27s_Gravestone,_Grasmere,_Cumbria_-_geograph.org.uk_-_4330640.jpg" title="File:William Wordsworth&#039;s Gravestone, Grasmere, Cumbria - geograph.org.uk - 4330640.jpg">File:William Wordsworth&#039;s Gravestone, Grasmere, Cumbria - geograph.org.uk - 4330640.jpg</a> added to category`},
		{"interwiki", ltr, "X", "Removing from [[Category:Asteroid]] using [[c:Help:Cat-a-lot|Cat-a-lot]]",
			`Removing from <a href="/wiki/Category:Asteroid" title="Category:Asteroid">Category:Asteroid</a> using <a href="https://commons.wikimedia.org/wiki/Help:Cat-a-lot" class="extiw" title="c:Help:Cat-a-lot">Cat-a-lot</a>`},
		{"plain", ltr, "X", "it's still July", "it&#039;s still July"},
		{"unclosed link", ltr, "X", "see [[Foo", "see [[Foo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(renderComment(nil, []byte(c.comment), c.wk, []byte(c.page), false))
			if got != c.want {
				t.Errorf("renderComment(%q):\n got %s\nwant %s", c.comment, got, c.want)
			}
		})
	}
}

func TestUserNames(t *testing.T) {
	r := newRNG(1)
	ipv4 := regexp.MustCompile(`^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$`)
	ipv6 := regexp.MustCompile(`^[0-9A-F]{1,4}(:[0-9A-F]{1,4}){7}$`)
	temp := regexp.MustCompile(`^~20(25|26)-\d{5}-\d{1,2}$`)
	t0 := DefaultStart.UnixNano()
	for i := 0; i < 1000; i++ {
		if s := string(appendIP(nil, r.u64(), r.u64(), true)); !ipv4.MatchString(s) {
			t.Fatalf("IPv4 %q", s)
		}
		if s := string(appendIP(nil, r.u64(), r.u64(), false)); !ipv6.MatchString(s) {
			t.Fatalf("IPv6 %q", s)
		}
		if s := string(appendTempAccount(nil, r, t0)); !temp.MatchString(s) {
			t.Fatalf("temporary account %q: want ~2026-12345-6 style", s)
		}
	}
}

// raw returns the raw JSON value of the first top-level key in line (string
// values without their quotes). It is a cheap alternative to json.Unmarshal
// for the statistics tests; TestWireLayout checks the full structure.
func raw(line []byte, key string) []byte {
	s, e, ok := fieldValue(line, key)
	if !ok {
		return nil
	}
	v := line[s:e]
	if len(v) >= 2 && v[0] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

func num(tb testing.TB, line []byte, key string) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(string(raw(line, key)), 10, 64)
	if err != nil {
		tb.Fatalf("%s: %v in %s", key, err, line)
	}
	return n
}
