package recentchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// The differential tests hold Parse to parseReference, the encoding/json
// decoder it replaced. The contract, for every input:
//
//   - Both fail or both succeed, with the same Reason; for wrong_type and
//     unknown_type also the same Field and Detail (dead letters store them).
//     The Detail of not_json is free-form: it describes the syntax error in
//     Parse's own words.
//   - When both succeed, the events are deep-equal (reflect.DeepEqual:
//     every pointer field equally nil or pointing to equal values, Raw and
//     LogParams equal byte for byte).
//   - After not_json both return a nil event. After wrong_type and
//     unknown_type both return an event with the same Domain(): callers read
//     only that from a rejected event. What else encoding/json leaves in a
//     struct after a type error (a pointer allocated for a value of the
//     wrong type, nothing stored after a failing Type.UnmarshalJSON) is an
//     accident of its implementation, not part of the contract, though
//     Parse mirrors it where that costs nothing.

// parseDiff returns how Parse and parseReference disagree about raw, or ""
// if they agree as the contract above requires.
func parseDiff(raw []byte) string {
	got, gotErr := Parse(raw)
	// ParseShared must decode exactly as Parse does.
	shared, sharedErr := ParseShared(slices.Clone(raw))
	if fmt.Sprint(sharedErr) != fmt.Sprint(gotErr) || !reflect.DeepEqual(shared, got) {
		return fmt.Sprintf("ParseShared gives %s, %v; Parse %s, %v", show(shared), sharedErr, show(got), gotErr)
	}
	want, wantErr := parseReference(raw)
	if (gotErr == nil) != (wantErr == nil) {
		return fmt.Sprintf("Parse error = %v, reference error = %v", gotErr, wantErr)
	}
	if gotErr != nil {
		g, w := gotErr.(*Invalid), wantErr.(*Invalid)
		if g.Reason != w.Reason {
			return fmt.Sprintf("Parse error = %v, reference error = %v", g, w)
		}
		if g.Reason == ReasonNotJSON {
			if got != nil || want != nil {
				return fmt.Sprintf("not_json: Parse event %v, reference event %v, want both nil", got != nil, want != nil)
			}
			return ""
		}
		if g.Field != w.Field || g.Detail != w.Detail {
			return fmt.Sprintf("Parse error = %v, reference error = %v", g, w)
		}
		if got == nil || want == nil || got.Domain() != want.Domain() {
			return fmt.Sprintf("after %s: Parse event %s, reference event %s, want the same Domain()", g.Reason, show(got), show(want))
		}
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("Parse event %s\nreference event %s", show(got), show(want))
	}
	return ""
}

// show renders an event with its pointer fields followed.
func show(e *Event) string {
	if e == nil {
		return "<nil>"
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Sprintf("%+v", *e)
	}
	return string(b)
}

// TestParseMatchesReferenceOnRecordedEvents runs both decoders over every
// real recorded event, and over every eighth line of the other captures in
// the shared data folder: flat and Druid layouts, upper-case keys (which
// encoding/json matches case-insensitively), Python reprs and raw SSE
// lines. Those are many events of few shapes; a sample keeps the test fast
// under the race detector.
func TestParseMatchesReferenceOnRecordedEvents(t *testing.T) {
	data := sharedData(t)
	recorded := recordedEventFiles(data)
	var total atomic.Int64
	t.Run("files", func(t *testing.T) {
		for i, f := range append(recorded, otherCaptureFiles(data)...) {
			step := 1
			if i >= len(recorded) {
				step = 8
			}
			t.Run(filepath.Base(f), func(t *testing.T) {
				t.Parallel()
				lines := readLines(t, f)
				if len(lines) == 0 {
					t.Fatalf("no events in %s", f)
				}
				if step == 1 {
					total.Add(int64(len(lines)))
				}
				failures := 0
				for n := 0; n < len(lines); n += step {
					if diff := parseDiff(lines[n]); diff != "" {
						t.Errorf("line %d: %s\n%s", n+1, diff, lines[n])
						if failures++; failures == 5 {
							t.Fatal("giving up after 5 differences")
						}
					}
				}
			})
		}
	})
	if got := total.Load(); got < 24000 {
		t.Errorf("compared %d recorded events, want the ~25,000 there are", got)
	}
}

// otherCaptureFiles lists the captures that are not in the EventStreams
// layout. They are differential test inputs only.
func otherCaptureFiles(data string) []string {
	var files []string
	for _, name := range []string{
		"camilomozov_wikistream_2023-01-24_25_flat.jsonl.gz",
		"druid_wikiticker-2015-09-12-sampled.json.gz",
		"kirajano_wiki-streams_es_RECENTCHANGE_EN_DE_2021-10.jsonl.gz",
		"kirajano_wiki-streams_es_RECENTCHANGE_GEO_2021-10.jsonl.gz",
		"sse_dlw-github_wiki_visualizer_example.events",
		"visaalpathak_producer_ipynb_output_2024-11.pyrepr.txt",
	} {
		files = append(files, filepath.Join(data, name))
	}
	return files
}

// nastyEvents are hand-made inputs for the corners of JSON decoding. They
// seed FuzzParseMatchesReference and run in TestParseMatchesReference.
var nastyEvents = []string{
	// Shapes that are not an object, or not only one.
	``, ` `, "\t\n", `null`, `[]`, `[{}]`, `"{}"`, `1`, `{`, `}`, `{}`, ` {} `,
	`{}x`, `{} {}`, `{}}`, `{},`, `{}{`, "{}\x00", "\xef\xbb\xbf{}",
	"\u00a0{}\u00a0", "\v{}\f", "\u2028{}\u3000", "{}\u0085", "{} \u00a0 ", "{}\u00a0x",

	// Truncated and malformed values.
	`{"a"`, `{"a":`, `{"a":"`, `{"a":"\`, `{"a":"\u12`, `{"a":"\u12G4"}`, `{"a":"\x"}`,
	`{"a":"\'"}`, `{"a":tru}`, `{"a":nul}`, `{"a":falsey}`, `{"a":-}`, `{"a":1.}`,
	`{"a":.5}`, `{"a":1e}`, `{"a":1e+}`, `{"a":01}`, `{"a":-01}`, `{"a":+1}`,
	`{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`, `{"a" 1}`, `{"a"::1}`, `{a:1}`,
	`{'a':1}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":{"b"}}`,
	`{"a":{"b":1,}}`, `{"a":NaN}`, `{"a":Infinity}`, `{"a":0x10}`,
	"{\"a\":\"x\x01\"}", "{\"a\":\"x\ny\"}", "{\"a\":\"x\x7f\"}", "{\"a\":1}\xff",
	"{\"a\"\x00:1}", "{\"a\":1\v}",

	// Strings: escapes, surrogates and invalid UTF-8, in known fields,
	// nested fields, keys and skipped values.
	`{"title":"a\"b\\c\/d\b\f\n\r\t\u00e9\u00E9\ud83d\ude00\u0000","meta":{"domain":"\u0065n.wikipedia.org"}}`,
	`{"title":"\ud800","user":"\udc00x","comment":"\ud800\u0041","wiki":"\ud800\ud800\udc00","log_type":"\ud83d\ud83d\ude00"}`,
	`{"title":"\ud800\\u0041","user":"\ud800\","comment":"\udbff\udfff","wiki":"\uDBFF\uDFFF\uFFFF\uFFFE"}`,
	"{\"title\":\"\xff\xfe\",\"user\":\"a\xc3\",\"comment\":\"\xed\xa0\x80\",\"wiki\":\"\xf4\x90\x80\x80\xc0\xaf\"}",
	"{\"meta\":{\"domain\":\"caf\xc3\xa9\xff\"},\"server_name\":\"\xef\xbf\xbd\"}",
	"{\"ti\xfftle\":\"x\",\"\xff\":1,\"log_params\":\"\xff\\u00ff\"}",
	`{"type":"\u0065dit","meta":{"dom\u0061in":"x"},"\u0074imestamp":1}`,
	`{"":1,"\"":2,"\\":3,"title":""}`,

	// Keys match field names case-insensitively, folded the Unicode way:
	// U+017F is a long s, U+212A the Kelvin sign; U+0130 and U+0131 match
	// no ASCII letter.
	`{"TYPE":"edit","Meta":{"DOMAIN":"x","Partition":1},"LENGTH":{"OLD":1,"nEw":2},"Title":"t"}`,
	`{"$ſchema":"x","wiKi":"y","ſerver_name":"z","uſer":"u","log_paramſ":[1]}`,
	`{"İd":1,"ıd":2,"tıtle":"t","tİtle":"u","META":{"İD":"m"}}`,
	`{"type":"edit","Type":"new","TYPE":null,"tYpE":"log"}`,
	`{"Log_Params":{"a":1},"LOG_PARAMS":2}`,
	`{"\u0054YPE":"edit","\u017fchema":1}`,

	// Null everywhere.
	`{"$schema":null,"meta":null,"id":null,"type":null,"namespace":null,"title":null,"title_url":null,"comment":null,"parsedcomment":null,"timestamp":null,"user":null,"bot":null,"notify_url":null,"minor":null,"patrolled":null,"length":null,"revision":null,"server_url":null,"server_name":null,"server_script_path":null,"wiki":null,"log_id":null,"log_type":null,"log_action":null,"log_params":null,"log_action_comment":null}`,
	`{"meta":{"uri":null,"request_id":null,"id":null,"dt":null,"domain":null,"stream":null,"topic":null,"partition":null,"offset":null},"length":{"old":null,"new":null}}`,

	// Duplicate keys: the last wins, objects merge, null resets pointers
	// but not strings, structs or the type.
	`{"id":5,"id":null}`, `{"id":null,"id":5}`, `{"id":5,"id":6}`,
	`{"type":"edit","type":null}`, `{"type":"edit","type":"new"}`,
	`{"title":"a","title":null}`, `{"comment":"a","comment":null}`,
	`{"meta":{"domain":"x","id":"i"},"meta":{"domain":"y"},"meta":null}`,
	`{"length":{"old":1},"length":{"new":2}}`,
	`{"length":{"old":1},"length":null,"length":{"new":2}}`,
	`{"length":{"old":1,"old":null,"new":3}}`,
	`{"log_params":{"a":1},"log_params":null}`, `{"log_params":null,"log_params":[ 1 , 2 ]}`,
	`{"bot":true,"bot":false,"minor":false,"minor":null}`,

	// Numbers in integer fields and in the type.
	`{"id":1e3}`, `{"id":-0}`, `{"id":1.0}`, `{"id":0.0}`, `{"id":1E+2}`, `{"id":-1}`,
	`{"id":9223372036854775807}`, `{"id":9223372036854775808}`,
	`{"id":-9223372036854775808}`, `{"id":-9223372036854775809}`,
	`{"id":18446744073709551616}`, `{"id":00}`, `{"timestamp":1746258379.0}`,
	`{"meta":{"offset":1e1}}`, `{"length":{"old":-5,"new":1.5}}`, `{"revision":{"new":99999999999999999999}}`,
	`{"type":0}`, `{"type":1}`, `{"type":2}`, `{"type":3}`, `{"type":5}`, `{"type":6}`,
	`{"type":-0}`, `{"type":1.0}`, `{"type":1e0}`, `{"type":-1}`, `{"type":142}`,
	`{"type":9223372036854775808}`, `{"type":-9223372036854775808}`,
	`{"type":"EDIT"}`, `{"type":"142"}`, `{"type":""}`, `{"type":"edit "}`,
	`{"type":true}`, `{"type":false}`, `{"type":{}}`, `{"type":[]}`, `{"type":{"a":[1]}}`,
	"{\"type\":\"\xff\"}", `{"type":"\ud800"}`,

	// Errors: the first type error wins, except that an error in the type
	// replaces it and stops decoding; syntax errors anywhere beat both.
	`{"meta":{"domain":"a"},"type":"bogus","server_name":"b"}`,
	`{"type":"bogus","meta":{"domain":"a"}}`,
	`{"id":"x","meta":{"domain":"a"}}`,
	`{"id":"x","type":"bogus"}`, `{"type":"bogus","id":"x"}`, `{"id":"x","bot":1}`,
	`{"id":"x","type":true}`, `{"type":{},"id":"x","meta":{"domain":"a"}}`,
	`{"type":"bogus","x":}`, `{"id":"x",}`, `{"type":true,"a":[1,]}`,
	`{"meta":{"domain":5},"meta":{"domain":"d"}}`,
	`{"server_name":"s","meta":"m","meta":{"domain":"d"}}`,
	`{"meta":{"domain":"d"},"length":"l","type":"edit","type":1.5}`,

	// White space wherever JSON allows it.
	"{ \"type\" : \"edit\" ,\n\t\"id\"\r: 1 , \"log_params\" : [ 1 , { \"a\" : \"b\" } ] , \"meta\" : { \"domain\" : \"x\" } }",
	"\r\n\t {\"log_params\":\t{}\n}\r\n\t ",

	// Skipped values: unknown fields and log_params of every kind.
	`{"future":[1,{"a":[true,false,null,"s",-1.5e-3]}],"meta":{"extra":{"x":[]}},"length":{"mid":[{}]}}`,
	`{"log_params":"str\u0041"}`, `{"log_params":-1.5E+3}`, `{"log_params":true}`,
	`{"log_params":{"duration":"1 day","flags":["a","b"],"nested":{"x":null}}}`,
}

// wrongTypeEvents puts a value of each JSON kind into every field, nested
// ones included.
func wrongTypeEvents() []string {
	fields := []string{"$schema", "meta", "id", "type", "namespace", "title", "title_url",
		"comment", "parsedcomment", "timestamp", "user", "bot", "notify_url", "minor",
		"patrolled", "length", "revision", "server_url", "server_name", "server_script_path",
		"wiki", "log_id", "log_type", "log_action", "log_params", "log_action_comment",
		"meta.uri", "meta.request_id", "meta.id", "meta.dt", "meta.domain", "meta.stream",
		"meta.topic", "meta.partition", "meta.offset",
		"length.old", "length.new", "revision.old", "revision.new"}
	values := []string{`"s"`, `""`, `7`, `-7`, `1.5`, `1e3`, `true`, `false`, `null`, `{}`,
		`{"old":1}`, `[]`, `[1,"x"]`}
	var out []string
	for _, f := range fields {
		for _, v := range values {
			member := fmt.Sprintf("%q:%s", f, v)
			if parent, child, ok := strings.Cut(f, "."); ok {
				member = fmt.Sprintf("%q:{%q:%s}", parent, child, v)
			}
			out = append(out, `{"server_name":"before",`+member+`,"meta":{"domain":"after"}}`)
		}
	}
	return out
}

// deepEvents nests arrays and objects in a skipped value to around
// encoding/json's depth limit of 10000, counting the event object.
func deepEvents() []string {
	var out []string
	for _, depth := range []int{9999, 10000, 10001} {
		n := depth - 1 // the event object is level 1
		out = append(out,
			`{"future":`+strings.Repeat("[", n)+strings.Repeat("]", n)+`}`,
			`{"log_params":`+strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)+`}`,
			`{"id":`+strings.Repeat("[", n)+strings.Repeat("]", n)+`}`,
			`{"meta":{"x":`+strings.Repeat("[", n-1)+strings.Repeat("]", n-1)+`}}`,
			`{"meta":{"domain":`+strings.Repeat("[", n-1)+strings.Repeat("]", n-1)+`}}`,
			`{"type":`+strings.Repeat("[", n)+strings.Repeat("]", n)+`}`,
		)
	}
	return out
}

func TestParseMatchesReference(t *testing.T) {
	cases := append([]string{realEdit}, nastyEvents...)
	cases = append(cases, wrongTypeEvents()...)
	cases = append(cases, deepEvents()...)
	for _, raw := range cases {
		if diff := parseDiff([]byte(raw)); diff != "" {
			if len(raw) > 200 {
				raw = raw[:200] + "..."
			}
			t.Errorf("%q:\n%s", raw, diff)
		}
	}
}

// FuzzParseMatchesReference is the differential fuzz test: Parse and
// parseReference must agree, as the contract at the top of this file says,
// on any input.
func FuzzParseMatchesReference(f *testing.F) {
	f.Add([]byte(realEdit))
	for _, raw := range nastyEvents {
		f.Add([]byte(raw))
	}
	for _, raw := range wrongTypeEvents() {
		f.Add([]byte(raw))
	}
	// A dozen events of every recorded file, evenly spread through it, and
	// the first lines of the other captures, which have few shapes.
	if data, ok := findSharedData(); ok {
		for _, file := range recordedEventFiles(data) {
			lines := readLines(f, file)
			step := max(1, len(lines)/12)
			for i := 0; i < len(lines); i += step {
				f.Add(lines[i])
			}
		}
		for _, file := range otherCaptureFiles(data) {
			for _, line := range readFirstLines(f, file, 4) {
				f.Add(line)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if diff := parseDiff(raw); diff != "" {
			t.Fatalf("%q:\n%s", raw, diff)
		}
	})
}

// TestParseSharedSharesMemory: ParseShared's plain strings are slices of
// the input, so changing the input changes them (the reason its callers
// must never do so), and it allocates only the event.
func TestParseSharedSharesMemory(t *testing.T) {
	raw := []byte(realEdit)
	ev, err := ParseShared(raw)
	if err != nil {
		t.Fatal(err)
	}
	user := strings.Clone(*ev.User)
	i := bytes.Index(raw, []byte(`"`+user+`"`))
	if i < 0 {
		t.Fatalf("user %q not found in the event", user)
	}
	raw[i+1] ^= 0x20
	if *ev.User == user {
		t.Errorf("user is still %q after its bytes in the input changed: not shared", user)
	}
	parsed, _ := Parse([]byte(realEdit))
	if *parsed.User != user {
		t.Errorf("Parse's user %q changed with another slice", *parsed.User)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseShared(raw); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("ParseShared(realEdit) allocates %v times, want 1", allocs)
	}
}

func TestParseAllocations(t *testing.T) {
	raw := []byte(realEdit)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Parse(raw); err != nil {
			t.Fatal(err)
		}
	})
	// One for the event and its pointer fields, one for the text of its
	// strings.
	if allocs > 2 {
		t.Errorf("Parse(realEdit) allocates %v times, want at most 2", allocs)
	}
}
