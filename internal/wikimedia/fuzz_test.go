package wikimedia

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/iotest"
	"time"
)

// refParse is a deliberately naive reading of the specification: split the
// whole input into lines, then apply the field rules with unbounded buffers,
// capping only at dispatch. The streaming Parser must agree with it on every
// input.
func refParse(in []byte, o ParserOptions) (frames []Frame, lastID string, retry time.Duration, haveRetry bool) {
	limit := o.MaxFrameBytes
	if limit <= 0 {
		limit = DefaultMaxFrameBytes
	}
	in = bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))
	var lines [][]byte
	complete := true
	for len(in) > 0 {
		i := bytes.IndexAny(in, "\r\n")
		if i < 0 {
			lines, complete = append(lines, in), false
			break
		}
		lines = append(lines, in[:i])
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			in = in[i+2:]
		} else {
			in = in[i+1:]
		}
	}
	if !complete && !o.DispatchAtEOF {
		lines = lines[:len(lines)-1]
	}
	var data, event []byte
	var frameRetry time.Duration
	idBuf := o.LastEventID
	lastID = o.LastEventID
	dispatch := func() {
		lastID = idBuf
		d := bytes.TrimSuffix(data, []byte("\n"))
		if len(d) > 0 {
			f := Frame{Event: "message", ID: idBuf, Data: d, Retry: frameRetry}
			if len(event) > 0 {
				f.Event = string(event)
			}
			if len(d) > limit {
				f.Data, f.Oversize = d[:limit], true
			}
			frames = append(frames, f)
		}
		data, event, frameRetry = nil, nil, 0
	}
	for _, line := range lines {
		if len(line) == 0 {
			dispatch()
			continue
		}
		name, value := line, []byte(nil)
		if c := bytes.IndexByte(line, ':'); c >= 0 {
			name, value = line[:c], line[c+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(name) {
		case "data":
			data = append(append(data, value...), '\n')
		case "event":
			if len(value) <= limit {
				event = append([]byte(nil), value...)
			}
		case "id":
			if len(value) <= limit && bytes.IndexByte(value, 0) < 0 {
				idBuf = string(value)
			}
		case "retry":
			if len(value) > 0 && len(value) <= maxRetryDigits && bytes.Trim(value, "0123456789") == nil {
				ms, _ := strconv.ParseInt(string(value), 10, 64)
				retry, haveRetry = time.Duration(ms)*time.Millisecond, true
				frameRetry = retry
			}
		}
	}
	if o.DispatchAtEOF {
		dispatch()
	}
	return frames, lastID, retry, haveRetry
}

func FuzzParser(f *testing.F) {
	capture, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sse", "wiki_visualizer_example.events"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(capture, uint16(0), true, "")
	f.Add(capture, uint16(100), false, "x")
	for _, s := range []string{
		"event: message\nid: 1\ndata: {}\n\n",
		"data: a\r\ndata: b\rdata: c\n\r\n",
		"data: a\r",
		"\xEF\xBB\xBFdata: a\n\n",
		"\xEF\xBB",
		"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid\n\n",
		"retry: 2500\ndata: a\n\nretry: 25x\nretry: 1234567890123\n\n",
		":ok\n\ndata\ndata\n\ndata:  two\ndata:none\n\n",
		"event: add\ndata: a\n\nevent\ndata: b",
		"datadatadata: x\nDATA: y\nfoo\n\n",
		"data: abcdefgh\nid: 9\n\n",
	} {
		f.Add([]byte(s), uint16(4), false, "")
		f.Add([]byte(s), uint16(0), true, "")
	}
	f.Fuzz(func(t *testing.T, in []byte, limit uint16, atEOF bool, initialID string) {
		opts := ParserOptions{MaxFrameBytes: int(limit), DispatchAtEOF: atEOF, LastEventID: initialID}
		max := opts.MaxFrameBytes
		if max == 0 {
			max = DefaultMaxFrameBytes
		}
		want, wantID, wantRetry, wantHaveRetry := refParse(in, opts)
		for rname, r := range map[string]io.Reader{
			"whole":    bytes.NewReader(in),
			"one-byte": iotest.OneByteReader(bytes.NewReader(in)),
			"half":     iotest.HalfReader(bytes.NewReader(in)),
		} {
			got, p, err := parseAll(r, opts)
			if err != io.EOF {
				t.Fatalf("%s: got error %v, want io.EOF", rname, err)
			}
			for i, fr := range got {
				if len(fr.Data) == 0 || len(fr.Data) > max {
					t.Fatalf("%s: frame %d has %d bytes of data, want 1..%d", rname, i, len(fr.Data), max)
				}
				if fr.Oversize && len(fr.Data) != max {
					t.Fatalf("%s: oversize frame %d has %d bytes, want exactly the cap %d", rname, i, len(fr.Data), max)
				}
				if fr.Event == "" || bytes.ContainsAny([]byte(fr.Event), "\r\n") {
					t.Fatalf("%s: frame %d has event type %q, want a non-empty single line", rname, i, fr.Event)
				}
				if fr.ID != initialID && bytes.ContainsAny([]byte(fr.ID), "\x00\r\n") {
					t.Fatalf("%s: frame %d has id %q with NUL, CR or LF", rname, i, fr.ID)
				}
			}
			if fmtFrames(got) != fmtFrames(want) {
				t.Fatalf("%s: got frames\n%s\nwant (reference parser)\n%s", rname, fmtFrames(got), fmtFrames(want))
			}
			if p.LastEventID() != wantID {
				t.Fatalf("%s: got LastEventID %q, want %q", rname, p.LastEventID(), wantID)
			}
			if d, ok := p.RetryDelay(); d != wantRetry || ok != wantHaveRetry {
				t.Fatalf("%s: got RetryDelay %v, %v, want %v, %v", rname, d, ok, wantRetry, wantHaveRetry)
			}
			if off := p.Offset(); off < 0 || off > int64(len(in)) || (atEOF && off != int64(len(in))) {
				t.Fatalf("%s: got final offset %d for %d input bytes (DispatchAtEOF %v)", rname, off, len(in), atEOF)
			}
		}
	})
}
