package recentchange

import (
	"bufio"
	"compress/gzip"
	"crypto/md5"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A real event from the 2025 capture (arvindp25_DataPlumbHub, Apache-2.0).
const realEdit = `{"$schema": "/mediawiki/recentchange/1.0.0", "meta": {"uri": "https://commons.wikimedia.org/wiki/File:City_Lake,_Floresti,_Moldova_-_49359471043.jpg", "request_id": "7f95ae90-7fa8-4e76-8908-0f55ed80d39b", "id": "b18f469c-1522-4e04-b167-0b34aa79ea3e", "dt": "2025-05-03T07:46:19Z", "domain": "commons.wikimedia.org", "stream": "mediawiki.recentchange", "topic": "eqiad.mediawiki.recentchange", "partition": 0, "offset": 5559405228}, "id": 2842663881, "type": "edit", "namespace": 6, "title": "File:City Lake, Floresti, Moldova - 49359471043.jpg", "comment": "add SDC", "timestamp": 1746258379, "user": "CuratorBot", "bot": true, "minor": false, "patrolled": true, "length": {"old": 3057, "new": 6435}, "revision": {"old": 1016570351, "new": 1027292291}, "server_url": "https://commons.wikimedia.org", "server_name": "commons.wikimedia.org", "server_script_path": "/w", "wiki": "commonswiki"}`

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestDecodeRealEdit(t *testing.T) {
	e, err := Decode([]byte(realEdit), testNow, DefaultLimits())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got, want := e.Domain(), "commons.wikimedia.org"; got != want {
		t.Errorf("Domain() = %q, want %q", got, want)
	}
	if got, want := e.Type, TypeEdit; got != want {
		t.Errorf("Type = %q, want %q", got, want)
	}
	if got, want := e.LengthDelta(), int64(6435-3057); got != want {
		t.Errorf("LengthDelta() = %d, want %d", got, want)
	}
	if got, want := *e.Revision.New, int64(1027292291); got != want {
		t.Errorf("revision.new = %d, want %d", got, want)
	}
	if string(e.Raw) != realEdit {
		t.Errorf("Raw was not kept byte for byte")
	}
	want := fmt.Sprintf("%x", md5.Sum([]byte("commons.wikimedia.org|2842663881|1746258379")))
	if got := e.EventID(); got != want {
		t.Errorf("EventID() = %s, want %s", got, want)
	}
}

func TestEventIDFallbacks(t *testing.T) {
	logID := int64(77)
	ts := int64(1700000000)
	cases := []struct {
		name string
		e    Event
		key  string
	}{
		{"rc id", Event{Meta: Meta{Domain: "en.wikipedia.org"}, ID: ptr(int64(5)), Timestamp: &ts}, "en.wikipedia.org|5|1700000000"},
		{"server_name when meta.domain absent", Event{ServerName: "de.wikipedia.org", ID: ptr(int64(5)), Timestamp: &ts}, "de.wikipedia.org|5|1700000000"},
		{"meta id when rc id is null", Event{Meta: Meta{Domain: "en.wikipedia.org", ID: "abc"}, LogID: &logID, Timestamp: &ts}, "en.wikipedia.org|meta:abc|1700000000"},
		{"log id when meta id is absent too", Event{Meta: Meta{Domain: "en.wikipedia.org"}, LogID: &logID, Timestamp: &ts}, "en.wikipedia.org|log:77|1700000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := fmt.Sprintf("%x", md5.Sum([]byte(c.key)))
			if got := c.e.EventID(); got != want {
				t.Errorf("EventID() = %s, want md5(%q) = %s", got, c.key, want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeRejects(t *testing.T) {
	edit := func(mutate func(string) string) string { return mutate(realEdit) }
	cases := []struct {
		name   string
		raw    string
		reason Reason
		field  string
	}{
		{"empty", "", ReasonNotJSON, ""},
		{"whitespace", "  \n", ReasonNotJSON, ""},
		{"not json", "hello world", ReasonNotJSON, ""},
		{"truncated", realEdit[:200], ReasonNotJSON, ""},
		{"array", `[1,2,3]`, ReasonNotJSON, ""},
		{"trailing garbage", realEdit + "}", ReasonNotJSON, ""},
		{"missing type", edit(func(s string) string { return strings.Replace(s, `"type": "edit", `, "", 1) }), ReasonMissingField, "type"},
		{"null type", edit(func(s string) string { return strings.Replace(s, `"type": "edit"`, `"type": null`, 1) }), ReasonMissingField, "type"},
		{"unknown type", edit(func(s string) string { return strings.Replace(s, `"type": "edit"`, `"type": "vandalise"`, 1) }), ReasonUnknownType, "type"},
		{"unknown numeric type", edit(func(s string) string { return strings.Replace(s, `"type": "edit"`, `"type": 142`, 1) }), ReasonUnknownType, "type"},
		{"numeric-string type", edit(func(s string) string { return strings.Replace(s, `"type": "edit"`, `"type": "142"`, 1) }), ReasonUnknownType, "type"},
		{"type is boolean", edit(func(s string) string { return strings.Replace(s, `"type": "edit"`, `"type": true`, 1) }), ReasonWrongType, "type"},
		{"missing domain", edit(func(s string) string {
			s = strings.Replace(s, `"domain": "commons.wikimedia.org", `, "", 1)
			return strings.Replace(s, `"server_name": "commons.wikimedia.org", `, "", 1)
		}), ReasonMissingField, "meta.domain"},
		{"missing timestamp", edit(func(s string) string { return strings.Replace(s, `"timestamp": 1746258379, `, "", 1) }), ReasonMissingField, "timestamp"},
		{"timestamp string", edit(func(s string) string {
			return strings.Replace(s, `"timestamp": 1746258379`, `"timestamp": "1746258379"`, 1)
		}), ReasonWrongType, "timestamp"},
		{"timestamp fraction", edit(func(s string) string {
			return strings.Replace(s, `"timestamp": 1746258379`, `"timestamp": 1746258379.5`, 1)
		}), ReasonWrongType, "timestamp"},
		{"missing title", edit(func(s string) string {
			return strings.Replace(s, `"title": "File:City Lake, Floresti, Moldova - 49359471043.jpg", `, "", 1)
		}), ReasonMissingField, "title"},
		{"missing user", edit(func(s string) string { return strings.Replace(s, `"user": "CuratorBot", `, "", 1) }), ReasonMissingField, "user"},
		{"bot is string", edit(func(s string) string { return strings.Replace(s, `"bot": true`, `"bot": "yes"`, 1) }), ReasonWrongType, "bot"},
		{"meta is string", edit(func(s string) string {
			i := strings.Index(s, `"meta": {`)
			j := strings.Index(s, `}, "id"`)
			return s[:i] + `"meta": "x"` + s[j+1:]
		}), ReasonWrongType, "meta"},
		{"domain is number", edit(func(s string) string {
			return strings.Replace(s, `"domain": "commons.wikimedia.org"`, `"domain": 7`, 1)
		}), ReasonWrongType, "meta.domain"},
		{"edit without revision", edit(func(s string) string {
			return strings.Replace(s, `"revision": {"old": 1016570351, "new": 1027292291}, `, "", 1)
		}), ReasonMissingField, "revision.new"},
		{"edit without length", edit(func(s string) string {
			return strings.Replace(s, `"length": {"old": 3057, "new": 6435}, `, "", 1)
		}), ReasonMissingField, "length.new"},
		{"edit without id", edit(func(s string) string { return strings.Replace(s, `"id": 2842663881, `, "", 1) }), ReasonMissingField, "id"},
		{"before wikipedia", edit(func(s string) string {
			return strings.Replace(s, `"timestamp": 1746258379`, `"timestamp": 979430400`, 1)
		}), ReasonImplausibleTimestamp, "timestamp"},
		{"far future", edit(func(s string) string {
			return strings.Replace(s, `"timestamp": 1746258379`, `"timestamp": 1900000000`, 1)
		}), ReasonImplausibleTimestamp, "timestamp"},
		{"oversize", edit(func(s string) string {
			return strings.Replace(s, `"comment": "add SDC"`, `"comment": "`+strings.Repeat("x", 600<<10)+`"`, 1)
		}), ReasonOversize, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.raw), testNow, DefaultLimits())
			inv, ok := err.(*Invalid)
			if !ok {
				t.Fatalf("Decode error = %v (%T), want *Invalid with reason %s", err, err, c.reason)
			}
			if inv.Reason != c.reason || inv.Field != c.field {
				t.Errorf("got reason %s field %q (%v), want reason %s field %q", inv.Reason, inv.Field, inv, c.reason, c.field)
			}
			if inv.Error() == "" || ReasonOf(err) != c.reason {
				t.Errorf("ReasonOf = %q, want %q", ReasonOf(err), c.reason)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		typ  Type
	}{
		{"edit", realEdit, TypeEdit},
		{"numeric edit type", strings.Replace(realEdit, `"type": "edit"`, `"type": 0`, 1), TypeEdit},
		{"first day of wikipedia", strings.Replace(realEdit, `"timestamp": 1746258379`, `"timestamp": 979516800`, 1), TypeEdit},
		{"slightly ahead of the clock", strings.Replace(realEdit, `"timestamp": 1746258379`, fmt.Sprintf(`"timestamp": %d`, testNow.Add(4*time.Minute).Unix()), 1), TypeEdit},
		{"log without rc id", `{"meta":{"domain":"en.wikipedia.org","id":"x"},"type":"log","title":"User:X","user":"X","bot":false,"timestamp":1700000000,"id":null,"log_type":"block","log_action":"block","log_params":{"duration":"1 day"}}`, TypeLog},
		{"categorize", `{"meta":{"domain":"en.wikipedia.org"},"type":"categorize","namespace":14,"title":"Category:X","user":"X","bot":false,"timestamp":1700000000,"id":12}`, TypeCategorize},
		{"unknown fields are kept in raw", strings.Replace(realEdit, `"wiki": "commonswiki"`, `"wiki": "commonswiki", "future_field": [1,2]`, 1), TypeEdit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Decode([]byte(c.raw), testNow, DefaultLimits())
			if err != nil {
				t.Fatalf("Decode: %v, want valid", err)
			}
			if e.Type != c.typ {
				t.Errorf("Type = %q, want %q", e.Type, c.typ)
			}
		})
	}
}

func TestCanary(t *testing.T) {
	e, err := Parse([]byte(`{"meta":{"domain":"canary"},"type":"edit"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !e.IsCanary() {
		t.Error("IsCanary() = false for meta.domain canary, want true")
	}
	e, _ = Parse([]byte(realEdit))
	if e.IsCanary() {
		t.Error("IsCanary() = true for a real edit, want false")
	}
}

// sharedData returns the path of ../shared/data, walking up from the package
// directory; it skips the test only where that folder does not exist.
func sharedData(tb testing.TB) string {
	tb.Helper()
	data, ok := findSharedData()
	if !ok {
		tb.Skip("../shared/data is absent")
	}
	return data
}

// findSharedData returns the path of ../shared/data, walking up from the
// package directory, and whether it exists.
func findSharedData() (string, bool) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "..", "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// readLines reads the non-blank lines of the file at path, trimmed of
// surrounding white space. A .gz file is decompressed.
func readLines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	return readFirstLines(tb, path, -1)
}

// readFirstLines is readLines stopping after n lines; n < 0 reads them all.
func readFirstLines(tb testing.TB, path string, n int) [][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatal(err)
		}
		r = gz
	}
	var out [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for len(out) != n && sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, []byte(line))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// recordedEventFiles lists the real recorded events in the EventStreams
// layout (see PROVENANCE.md in the shared data folder).
func recordedEventFiles(data string) []string {
	files, _ := filepath.Glob(filepath.Join(data, "wikidata_editgroups_testdata", "*.json"))
	return append(files,
		filepath.Join(data, "polars_book_wikimedia_enwiki_2023-07-29.ndjson"),
		filepath.Join(data, "sat99496_wikistream-lakehouse_recentchanges_sample.jsonl"),
		filepath.Join(data, "arvindp25_DataPlumbHub_stream2025-05-03_07_46_20Z.jsonl"),
		filepath.Join(data, "visaalpathak_producer_ipynb_output_2024-11.converted.jsonl"),
		filepath.Join(data, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"),
	)
}

// TestRealRecordedEvents decodes every real recorded event in the
// EventStreams layout. The only rejections expected are the two events whose
// rc_type Spark turned into the string "142" (PROVENANCE.md section 7).
func TestRealRecordedEvents(t *testing.T) {
	files := recordedEventFiles(sharedData(t))
	total, rejected := 0, map[Reason]int{}
	ids := map[string]*Event{}
	dups := map[string]int{}
	for _, f := range files {
		for _, line := range readLines(t, f) {
			total++
			e, err := Decode(line, testNow, DefaultLimits())
			if err != nil {
				rejected[ReasonOf(err)]++
				if ReasonOf(err) != ReasonUnknownType {
					t.Errorf("%s: %v\n%s", filepath.Base(f), err, line)
				}
				continue
			}
			id := e.EventID()
			if prev, ok := ids[id]; ok {
				// The editgroups fixtures were made by copying one event and
				// editing its title: same meta.id, so the same event.
				if prev.Meta.ID != e.Meta.ID {
					t.Errorf("event_id %s shared by two different events:\n%s\n%s", id, prev.Raw, line)
				}
				dups[filepath.Base(f)]++
			}
			ids[id] = e
		}
	}
	if total < 24000 {
		t.Errorf("read %d events, want the ~25,000 recorded ones", total)
	}
	if got, want := rejected[ReasonUnknownType], 2; got != want {
		t.Errorf("unknown_type rejections = %d, want %d (the two type \"142\" events)", got, want)
	}
	// The CamiloMozoV capture holds 20 exact duplicates (Spark at-least-once).
	if got, want := dups["camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz"], 20; got != want {
		t.Errorf("duplicate events by event_id in the CamiloMozoV capture = %d, want %d", got, want)
	}
}

// BenchmarkParse compares Parse with the encoding/json decoder it replaced.
func BenchmarkParse(b *testing.B) {
	raw := []byte(realEdit)
	for _, bc := range []struct {
		name  string
		parse func([]byte) (*Event, error)
	}{{"hand-written", Parse}, {"encoding-json", parseReference}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.parse(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	raw := []byte(realEdit)
	lim := DefaultLimits()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := Decode(raw, testNow, lim)
		if err != nil {
			b.Fatal(err)
		}
		_ = e.EventID()
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(realEdit))
	f.Add([]byte(`{"meta":{"domain":"canary"},"type":"edit"}`))
	f.Add([]byte(`{"type":142}`))
	f.Add([]byte(`{"type":"log","id":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{0xff, 0xfe})
	lim := DefaultLimits()
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Decode(raw, testNow, lim)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if e.Domain() == "" || e.Timestamp == nil || e.Type == "" {
			t.Fatalf("valid event lacks domain, timestamp or type: %s", raw)
		}
		if id := e.EventID(); len(id) != 32 {
			t.Fatalf("event_id %q is not 32 hex digits", id)
		}
	})
}
