package gen

import (
	"bytes"
	"strconv"
)

// malformedKind says what a line is; tests use it to know what the decoder
// must say about each line.
type malformedKind uint8

const (
	kindValid malformedKind = iota
	kindDuplicate
	kindLate
	kindTruncated       // a valid event cut short (not_json)
	kindNotJSON         // text that is not a JSON object (not_json)
	kindMissingField    // a required field removed (missing_field)
	kindWrongType       // a field of the wrong JSON type (wrong_type)
	kindUnknownType     // an unknown "type" (unknown_type)
	kindImplausibleTime // a timestamp before Wikipedia or far in the future (implausible_timestamp)
)

// malformedWeights is the mix of malformed lines, by kind.
var malformedWeights = [...]struct {
	kind   malformedKind
	weight int
}{
	{kindTruncated, 25}, {kindNotJSON, 15}, {kindMissingField, 20},
	{kindWrongType, 15}, {kindUnknownType, 12}, {kindImplausibleTime, 13},
}

// malformed appends a malformed line to b. Most are a freshly generated
// event that was damaged the way real pipelines damage events.
func (g *Generator) malformed(b []byte) []byte {
	r := g.r
	g.mal = g.world.event(g.mal[:0], &g.ev, r, g.clock)
	ev := g.mal
	n := r.intn(100)
	kind := kindTruncated
	for _, kw := range malformedWeights {
		if n < kw.weight {
			kind = kw.kind
			break
		}
		n -= kw.weight
	}
	g.lastKind = kind
	switch kind {
	case kindTruncated:
		return append(b, ev[:1+r.intn(len(ev)-2)]...)
	case kindNotJSON:
		return notJSON(b, ev, r)
	case kindMissingField:
		keys := []string{`"type":`, `"timestamp":`, `"title":`, `"user":`, `"bot":`, `"domain":`}
		switch g.ev.typ {
		case tEdit, tNew:
			keys = append(keys, `},"id":`, `"revision":`, `"length":`, `"namespace":`)
		case tCategorize:
			keys = append(keys, `},"id":`, `"namespace":`)
		}
		key := keys[r.intn(len(keys))]
		if key == `"domain":` {
			// Decoders fall back to server_name: remove both.
			ev = removeField(ev, `"server_name":`)
		}
		return append(b, removeField(ev, key)...)
	case kindWrongType:
		repl := []struct{ key, value string }{
			{`"timestamp":`, ""}, // the same number as a string
			{`"bot":`, `"false"`},
			{`"namespace":`, `"0"`},
			{`"title":`, `12345`},
			{`"user":`, `["Example"]`},
			{`"type":`, `true`},
			{`"meta":`, `"mediawiki.recentchange"`},
			{`"domain":`, `0`},
		}[r.intn(8)]
		if repl.value == "" {
			s, e, ok := fieldValue(ev, repl.key)
			if !ok {
				return append(b, ev[:len(ev)/2]...)
			}
			v := append([]byte{'"'}, ev[s:e]...)
			return append(b, replaceValue(ev, repl.key, string(append(v, '"')))...)
		}
		return append(b, replaceValue(ev, repl.key, repl.value)...)
	case kindUnknownType:
		v := []string{`"edits"`, `"update"`, `"pageview"`, `"Edit"`, `"wikibase-change"`, `"142"`, `142`, `7`}[r.intn(8)]
		return append(b, replaceValue(ev, `"type":`, v)...)
	default: // kindImplausibleTime
		var sec int64
		switch r.intn(4) {
		case 0:
			sec = 0
		case 1:
			sec = int64(r.intn(979_430_400)) // 1970 to the day before Wikipedia
		case 2:
			sec = 979_430_400 // 2001-01-14
		default:
			sec = 4_102_444_800 + int64(r.intn(3_155_760_000)) // 2100 to 2200
		}
		ev = replaceValue(ev, `"timestamp":`, strconv.FormatInt(sec, 10))
		dt := appendDTMillis([]byte{'"'}, sec*1000+int64(r.intn(1000)))
		return append(b, replaceValue(ev, `"dt":`, string(append(dt, '"')))...)
	}
}

// notJSON appends text that is not a JSON object, of the kinds that end up in
// event files: SSE lines, proxy error pages, Python reprs, binary data.
func notJSON(b, ev []byte, r *rng) []byte {
	switch r.intn(8) {
	case 0:
		b = append(b, "data: "...)
		return append(b, ev...)
	case 1:
		return append(b, `<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>`...)
	case 2:
		return append(b, ":ok"...)
	case 3:
		return append(b, "event: message"...)
	case 4: // print(event) in Python
		py := bytes.ReplaceAll(ev, []byte(`"`), []byte(`'`))
		py = bytes.ReplaceAll(py, []byte(":true"), []byte(": True"))
		py = bytes.ReplaceAll(py, []byte(":false"), []byte(": False"))
		return append(b, py...)
	case 5:
		b = append(b, `id: [{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":`...)
		b = strconv.AppendInt(b, int64(2_000_000_000+r.intn(1_000_000_000)), 10)
		return append(b, "}]"...)
	case 6: // gzip bytes where text was expected
		b = append(b, 0x1f, 0x8b, 0x08, 0x00)
		for i := 0; i < 40+r.intn(200); i++ {
			c := byte(r.intn(256))
			if c == '\n' || c == '\r' {
				c = 0
			}
			b = append(b, c)
		}
		return b
	default: // two events on one line: a lost newline
		b = append(b, ev...)
		return append(b, ev...)
	}
}

// fieldValue finds the value of the first "key": in line: [start, end).
func fieldValue(line []byte, key string) (start, end int, ok bool) {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return 0, 0, false
	}
	if key[0] == '}' { // `},"id":`: the top-level id after meta
		i += 2
		key = key[2:]
	}
	start = i + len(key)
	return start, skipValue(line, start), true
}

// skipValue returns the index just after the JSON value that starts at i.
func skipValue(line []byte, i int) int {
	depth := 0
	for ; i < len(line); i++ {
		switch line[i] {
		case '"':
			i++
			for i < len(line) && line[i] != '"' {
				if line[i] == '\\' {
					i++
				}
				i++
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// removeField removes "key":value and its trailing comma.
func removeField(line []byte, key string) []byte {
	s, e, ok := fieldValue(line, key)
	if !ok {
		return line
	}
	keyStart := s - len(key)
	if key[0] == '}' {
		keyStart = s - len(key) + 2
	}
	if e < len(line) && line[e] == ',' {
		e++
	}
	return append(line[:keyStart:keyStart], line[e:]...)
}

// replaceValue replaces the value of "key": with value.
func replaceValue(line []byte, key, value string) []byte {
	s, e, ok := fieldValue(line, key)
	if !ok {
		return line
	}
	out := make([]byte, 0, len(line)+len(value))
	out = append(out, line[:s]...)
	out = append(out, value...)
	return append(out, line[e:]...)
}
