package wikimedia

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// captureID is the id of all three frames of the real capture.
const captureID = `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1670732822001},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`

// readers returns the ways a test feeds input to the parser: whole, one
// byte per Read (every line and CRLF split across reads), half reads, and
// with the final Read returning data together with io.EOF.
func readers(in string) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"one-byte": iotest.OneByteReader(strings.NewReader(in)),
		"half":     iotest.HalfReader(strings.NewReader(in)),
		"data-err": iotest.DataErrReader(strings.NewReader(in)),
	}
}

// parseAll returns every frame up to the first error.
func parseAll(r io.Reader, opts ParserOptions) ([]Frame, *Parser, error) {
	p := NewParser(r, opts)
	var frames []Frame
	for {
		f, err := p.Next()
		if err != nil {
			return frames, p, err
		}
		frames = append(frames, f)
	}
}

func fmtFrames(fs []Frame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "{event=%q id=%q data=%q retry=%v oversize=%v} ", f.Event, f.ID, f.Data, f.Retry, f.Oversize)
	}
	return b.String()
}

func msg(id, data string) Frame {
	return Frame{Event: "message", ID: id, Data: []byte(data)}
}

func TestParser(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		opts   ParserOptions
		want   []Frame
		lastID string // LastEventID after the input; "" if not checked... see below
	}{
		{name: "LF", in: "event: message\nid: 1\ndata: {}\n\n", want: []Frame{msg("1", "{}")}, lastID: "1"},
		{name: "CRLF", in: "event: message\r\nid: 1\r\ndata: {}\r\n\r\n", want: []Frame{msg("1", "{}")}, lastID: "1"},
		{name: "CR", in: "event: message\rid: 1\rdata: {}\r\r", want: []Frame{msg("1", "{}")}, lastID: "1"},
		{name: "mixed endings", in: "data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r\n", want: []Frame{msg("", "a\nb\nc"), msg("", "d")}},
		{name: "CR then LF is one line end", in: "data: a\r\n\r\n", want: []Frame{msg("", "a")}},
		{name: "LF then CR is two line ends", in: "data: a\n\rdata: b\n\n", want: []Frame{msg("", "a"), msg("", "b")}},
		{name: "multi-line data joined with LF", in: "data: {\ndata:   \"a\": 1\ndata: }\n\n", want: []Frame{msg("", "{\n  \"a\": 1\n}")}},
		{name: "comments ignored", in: ":ok\n\n: hello\ndata: x\n:another\n\n:\n", want: []Frame{msg("", "x")}},
		{name: "id persists across frames", in: "id: 1\ndata: a\n\ndata: b\n\n", want: []Frame{msg("1", "a"), msg("1", "b")}, lastID: "1"},
		{name: "id after data in the same frame", in: "data: a\nid: 5\n\n", want: []Frame{msg("5", "a")}, lastID: "5"},
		{name: "id with NUL ignored", in: "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", want: []Frame{msg("1", "a"), msg("1", "b")}, lastID: "1"},
		{name: "empty id clears", in: "id: 1\ndata: a\n\nid\ndata: b\n\n", want: []Frame{msg("1", "a"), msg("", "b")}},
		{name: "id-only frame moves LastEventID", in: "id: 1\ndata: a\n\nid: 2\n\n", want: []Frame{msg("1", "a")}, lastID: "2"},
		{name: "id of a partial frame is not the last event ID", in: "id: 1\ndata: a\n\nid: 2\ndata: b\n", want: []Frame{msg("1", "a")}, lastID: "1"},
		{name: "initial last event ID", in: "data: a\n\n", opts: ParserOptions{LastEventID: "x"}, want: []Frame{msg("x", "a")}, lastID: "x"},
		{name: "retry", in: "retry: 2500\ndata: a\n\ndata: b\n\n",
			want: []Frame{{Event: "message", Data: []byte("a"), Retry: 2500 * time.Millisecond}, msg("", "b")}},
		{name: "retry not digits ignored", in: "retry: 25x\ndata: a\n\nretry: -1\ndata: b\n\nretry:\ndata: c\n\nretry: 1.5\ndata: d\n\nretry: 1234567890123\ndata: e\n\n",
			want: []Frame{msg("", "a"), msg("", "b"), msg("", "c"), msg("", "d"), msg("", "e")}},
		{name: "unknown and wrong-case fields ignored", in: "foo: bar\nDATA: x\nData: y\ndatadatadata: z\ndata: a\n\n", want: []Frame{msg("", "a")}},
		{name: "line without colon is a field with empty value", in: "data\ndata\n\n", want: []Frame{msg("", "\n")}},
		{name: "single empty data line is not dispatched", in: "data\n\ndata:\n\ndata: \n\ndata: a\n\n", want: []Frame{msg("", "a")}},
		{name: "exactly one leading space stripped", in: "data:  two\ndata:none\ndata: \tx\n\n", want: []Frame{msg("", " two\nnone\n\tx")}},
		{name: "colon in value kept", in: "data: a: b:c\n\n", want: []Frame{msg("", "a: b:c")}},
		{name: "event type and reset", in: "event: add\ndata: a\n\ndata: b\n\nevent\ndata: c\n\n",
			want: []Frame{{Event: "add", Data: []byte("a")}, msg("", "b"), msg("", "c")}},
		{name: "frame without data not dispatched", in: "event: x\nid: 7\n\ndata: a\n\n", want: []Frame{msg("7", "a")}, lastID: "7"},
		{name: "BOM skipped", in: "\xEF\xBB\xBFdata: a\n\n", want: []Frame{msg("", "a")}},
		{name: "second BOM is part of the field name", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", want: []Frame{msg("", "b")}},
		{name: "blank lines only", in: "\n\n\r\n\r\r", want: nil},
		{name: "partial frame discarded at EOF", in: "data: a\n\ndata: b\n", want: []Frame{msg("", "a")}},
		{name: "partial line discarded at EOF", in: "data: a", want: nil},
		{name: "partial frame dispatched at EOF", in: "data: a\n\nid: 2\ndata: b\n", opts: ParserOptions{DispatchAtEOF: true},
			want: []Frame{msg("", "a"), msg("2", "b")}, lastID: "2"},
		{name: "last line without ending dispatched at EOF", in: "id: 3\ndata: a", opts: ParserOptions{DispatchAtEOF: true}, want: []Frame{msg("3", "a")}, lastID: "3"},
		{name: "last line ending in CR dispatched at EOF", in: "data: a\r", opts: ParserOptions{DispatchAtEOF: true}, want: []Frame{msg("", "a")}},
		{name: "oversize line truncated, frame fields after it kept", in: "data: abcdefgh\nid: 9\nevent: e\n\ndata: ok\n\n", opts: ParserOptions{MaxFrameBytes: 4},
			want: []Frame{{Event: "e", ID: "9", Data: []byte("abcd"), Oversize: true}, msg("9", "ok")}, lastID: "9"},
		{name: "oversize across lines", in: "data: abc\ndata: def\n\n", opts: ParserOptions{MaxFrameBytes: 5},
			want: []Frame{{Event: "message", Data: []byte("abc\nd"), Oversize: true}}},
		{name: "oversize by the line separator alone", in: "data: abc\ndata\n\n", opts: ParserOptions{MaxFrameBytes: 3},
			want: []Frame{{Event: "message", Data: []byte("abc"), Oversize: true}}},
		{name: "exactly the cap is not oversize", in: "data: abc\n\n", opts: ParserOptions{MaxFrameBytes: 3}, want: []Frame{msg("", "abc")}},
		{name: "id longer than the cap ignored", in: "id: 1\ndata: a\n\nid: 12345\ndata: b\n\n", opts: ParserOptions{MaxFrameBytes: 4},
			want: []Frame{msg("1", "a"), msg("1", "b")}, lastID: "1"},
		{name: "event longer than the cap ignored", in: "event: abcdef\ndata: a\n\n", opts: ParserOptions{MaxFrameBytes: 4}, want: []Frame{msg("", "a")}},
	}
	for _, tt := range tests {
		for rname, r := range readers(tt.in) {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got, p, err := parseAll(r, tt.opts)
				if err != io.EOF {
					t.Fatalf("got error %v, want io.EOF", err)
				}
				if fmtFrames(got) != fmtFrames(tt.want) {
					t.Errorf("got frames\n%s\nwant\n%s", fmtFrames(got), fmtFrames(tt.want))
				}
				if got := p.LastEventID(); got != tt.lastID {
					t.Errorf("got LastEventID %q, want %q", got, tt.lastID)
				}
				if _, err := p.Next(); err != io.EOF {
					t.Errorf("got %v from Next after EOF, want io.EOF again", err)
				}
			})
		}
	}
}

func TestParserRetryDelay(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"data: a\n\n", 0, false},
		{"retry: 3000\n\n", 3 * time.Second, true},                           // in a frame that is not dispatched
		{"retry: 3000\n\nretry: x\ndata: a\n\n", 3 * time.Second, true},      // an invalid retry keeps the last one
		{"retry: 3000\n\nretry: 0\ndata: a\n\n", 0, true},                    // 0 is a valid delay
		{"retry: 3000\n\nretry: 15\ndata: a\n", 15 * time.Millisecond, true}, // fields act when their line ends
	}
	for _, tt := range tests {
		_, p, _ := parseAll(strings.NewReader(tt.in), ParserOptions{})
		if got, ok := p.RetryDelay(); got != tt.want || ok != tt.wantOK {
			t.Errorf("%q: got RetryDelay %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParserOffset(t *testing.T) {
	in := "data: a\n\n:c\n\ndata: b\r\n\r\ndata: c"
	for rname, r := range readers(in) {
		p := NewParser(r, ParserOptions{DispatchAtEOF: true})
		var got []int64
		for {
			if _, err := p.Next(); err != nil {
				break
			}
			got = append(got, p.Offset())
		}
		// The LF of the CRLF ending the blank line is only known once the
		// next byte arrives, so it counts with the next frame.
		want := []int64{9, int64(len("data: a\n\n:c\n\ndata: b\r\n\r")), int64(len(in))}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got offsets %v, want %v", rname, got, want)
		}
	}
}

func TestParserReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom))
	got, _, err := parseAll(r, ParserOptions{DispatchAtEOF: true})
	if !errors.Is(err, boom) {
		t.Fatalf("got error %v, want %v", err, boom)
	}
	if want := []Frame{msg("", "a")}; fmtFrames(got) != fmtFrames(want) {
		t.Errorf("got frames %s, want %s (a partial frame before an error is never dispatched)", fmtFrames(got), fmtFrames(want))
	}
}

// repeatReader yields an endless run of one byte.
type repeatReader byte

func (r repeatReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(r)
	}
	return len(b), nil
}

func TestParserMemoryBounded(t *testing.T) {
	const huge = 64 << 20
	const limit = 1 << 10
	in := io.MultiReader(strings.NewReader("id: 1\ndata: "), io.LimitReader(repeatReader('x'), huge),
		strings.NewReader("\nid: 2\n\ndata: next\n\n"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, _, err := parseAll(in, ParserOptions{MaxFrameBytes: limit})
	runtime.ReadMemStats(&after)
	if err != io.EOF {
		t.Fatalf("got error %v, want io.EOF", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d frames, want 2", len(got))
	}
	if f := got[0]; len(f.Data) != limit || !f.Oversize || f.ID != "2" || strings.Trim(string(f.Data), "x") != "" {
		t.Errorf("got first frame id %q, %d bytes, oversize %v; want id \"2\", %d bytes of x, oversize", f.ID, len(f.Data), f.Oversize, limit)
	}
	if f := got[1]; string(f.Data) != "next" || f.Oversize {
		t.Errorf("got second frame %q oversize %v, want \"next\" not oversize", f.Data, f.Oversize)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("parsing a %d MiB frame allocated %d bytes, want at most 4 MiB", huge>>20, alloc)
	}
}

func TestParserRealCapture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sse", "wiki_visualizer_example.events"))
	if err != nil {
		t.Fatal(err)
	}
	domains := []string{"commons.wikimedia.org", "en.wiktionary.org", "www.wikidata.org"}
	tests := []struct {
		name   string
		atEOF  bool
		frames int
	}{
		{"file: last frame without blank line is dispatched", true, 3},
		{"network: last frame without blank line is discarded", false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, p, err := parseAll(bytes.NewReader(raw), ParserOptions{DispatchAtEOF: tt.atEOF})
			if err != io.EOF {
				t.Fatalf("got error %v, want io.EOF", err)
			}
			if len(got) != tt.frames {
				t.Fatalf("got %d frames, want %d", len(got), tt.frames)
			}
			for i, f := range got {
				var ev struct {
					Meta struct {
						Domain string `json:"domain"`
					} `json:"meta"`
					ParsedComment string `json:"parsedcomment"`
				}
				if err := json.Unmarshal(f.Data, &ev); err != nil {
					t.Fatalf("frame %d: data is not JSON: %v", i, err)
				}
				if f.Event != "message" || f.ID != captureID || ev.Meta.Domain != domains[i] || f.Oversize {
					t.Errorf("frame %d: got event %q id %q domain %q oversize %v, want message, %s, %s, false",
						i, f.Event, f.ID, ev.Meta.Domain, f.Oversize, captureID, domains[i])
				}
			}
			if tt.atEOF {
				if got, want := p.Offset(), int64(len(raw)); got != want {
					t.Errorf("got final offset %d, want the file size %d", got, want)
				}
			}
		})
	}
}
