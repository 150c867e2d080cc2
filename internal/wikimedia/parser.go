package wikimedia

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"time"
)

// DefaultMaxFrameBytes is the default cap on the data of one frame (1 MiB).
const DefaultMaxFrameBytes = 1 << 20

// parserBufferSize is the size of the parser's read buffer. Typical
// recentchange frames (about 1.2 KB) fit many times over, so most lines are
// handled as one slice of the buffer without copying them twice.
const parserBufferSize = 64 << 10

// maxRetryDigits bounds a retry field: 12 digits of milliseconds (about 31
// years) still fit a time.Duration; longer values are ignored.
const maxRetryDigits = 12

// Frame is one dispatched server-sent event.
type Frame struct {
	// Event is the event type: the last "event" field of the frame, or
	// "message" when the frame has none.
	Event string
	// ID is the last event ID as of this frame: the most recent "id" field
	// of this or an earlier frame of the stream. It is the position to
	// resume after this frame.
	ID string
	// Data is the frame's data: its "data" lines joined with "\n". It is
	// never empty, is owned by the receiver and is at most MaxFrameBytes
	// long.
	Data []byte
	// Retry is the reconnection delay set by a "retry" field in this frame,
	// or 0 if the frame has none.
	Retry time.Duration
	// Oversize reports that the frame's data was longer than MaxFrameBytes:
	// Data holds its first MaxFrameBytes bytes and the rest was skipped.
	Oversize bool
}

// ParserOptions configures a Parser. The zero value is usable.
type ParserOptions struct {
	// MaxFrameBytes caps the data of one frame. A frame with more data is
	// dispatched with Data truncated to the cap and Oversize set; an "id" or
	// "event" value longer than the cap is ignored, as the specification
	// does for an id containing NUL. Default (0): DefaultMaxFrameBytes.
	MaxFrameBytes int
	// DispatchAtEOF dispatches a frame that is still pending at the end of
	// the input, even without its final blank line (and processes a last
	// line that lacks its line ending). Use it for files; the real capture
	// testdata/sse ends like that. Without it, as the specification requires
	// for network streams, a partial frame at the end is discarded: the
	// server sends it again after a resume.
	DispatchAtEOF bool
	// LastEventID is the initial last event ID, normally the one the
	// connection was resumed from, so that frames before the stream's first
	// "id" field carry it. The specification starts from the empty string.
	LastEventID string
}

// Parser reads server-sent events from a stream following the WHATWG
// EventSource parsing rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html):
//
//   - lines end in LF, CRLF or CR; a single leading byte order mark is skipped;
//   - a line starting with ":" is a comment and is ignored;
//   - "field: value" sets a field, with one leading space of the value
//     removed; a line without a colon is a field with an empty value;
//   - "data" lines are joined with "\n"; "event" sets the event type;
//     "id" sets the last event ID unless the value contains NUL, and the
//     last event ID persists across frames until changed; "retry" (ASCII
//     digits only) sets the reconnection delay in milliseconds; other
//     fields are ignored;
//   - a blank line dispatches the frame; a frame with empty data is not
//     dispatched (unlike the specification, which dispatches a "data:" line
//     with an empty value as an empty message: EventStreams never sends one
//     and it would carry nothing).
//
// Memory is bounded by MaxFrameBytes whatever the input. A Parser is not safe
// for concurrent use.
type Parser struct {
	r       *bufio.Reader
	limit   int
	atEOF   bool
	started bool
	err     error // sticky error returned by Next

	// Reading.
	skip       int   // bytes of the last piece still to be discarded
	crSeen     bool  // the last line ended in CR: a following LF belongs to it
	offset     int64 // bytes consumed, including skip
	lastOffset int64 // offset at the last dispatch attempt

	// The line being read.
	inLine       bool
	inValue      bool // the colon has been seen
	valueStarted bool // the first byte of the value has been seen
	name         [8]byte
	nameLen      int
	nameLong     bool
	field        field
	val          []byte // value of an id, event or retry field
	valLong      bool

	// The frame being read.
	data       []byte
	dataLines  int
	oversize   bool
	event      []byte
	frameRetry time.Duration

	lastID    string // the last event ID buffer
	sourceID  string // the last event ID as of the last dispatch attempt
	retry     time.Duration
	haveRetry bool
}

var newline = []byte{'\n'}

type field uint8

const (
	fieldIgnore field = iota
	fieldData
	fieldEvent
	fieldID
	fieldRetry
)

// NewParser returns a Parser reading from r.
func NewParser(r io.Reader, opts ParserOptions) *Parser {
	limit := opts.MaxFrameBytes
	if limit <= 0 {
		limit = DefaultMaxFrameBytes
	}
	return &Parser{
		r:        bufio.NewReaderSize(r, parserBufferSize),
		limit:    limit,
		atEOF:    opts.DispatchAtEOF,
		lastID:   opts.LastEventID,
		sourceID: opts.LastEventID,
	}
}

// Next returns the next dispatched frame. At the end of the input it returns
// io.EOF; other read errors are returned as they are. After an error, Next
// keeps returning that error.
func (p *Parser) Next() (Frame, error) {
	if p.err != nil {
		return Frame{}, p.err
	}
	if !p.started {
		p.started = true
		p.skipBOM()
	}
	for {
		b, end, err := p.piece()
		if err != nil {
			p.err = err
			if err == io.EOF && p.atEOF {
				if p.inLine {
					p.endLine()
				}
				if f, ok := p.dispatch(); ok {
					return f, nil
				}
			}
			return Frame{}, err
		}
		if !p.inLine && end && len(b) == 0 {
			if f, ok := p.dispatch(); ok {
				return f, nil
			}
			continue
		}
		p.inLine = true
		p.feed(b)
		if end {
			p.endLine()
		}
	}
}

// LastEventID returns the last event ID as of the last blank line (or the
// end of input with DispatchAtEOF), whether or not that frame was
// dispatched: the position to resume from after everything Next returned.
func (p *Parser) LastEventID() string { return p.sourceID }

// Offset returns the number of input bytes up to the end of the last frame
// (its blank line, or the end of input with DispatchAtEOF), whether or not
// that frame was dispatched. After Next returns a frame, it is the offset
// just past that frame. When the blank line ends in CRLF, its LF counts
// with the next frame: the parser does not wait for it.
func (p *Parser) Offset() int64 { return p.lastOffset }

// RetryDelay returns the reconnection delay set by the last valid "retry"
// field of the stream, and whether there was one. Unlike Frame.Retry it also
// covers "retry" fields in frames that were not dispatched.
func (p *Parser) RetryDelay() (time.Duration, bool) { return p.retry, p.haveRetry }

func (p *Parser) skipBOM() {
	b, err := p.r.Peek(1)
	if err != nil || b[0] != 0xEF {
		return
	}
	if b, err = p.r.Peek(3); err == nil && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = p.r.Discard(3) // buffered: cannot fail
		p.offset += 3
	}
}

// piece returns the next run of bytes of the current line without its line
// ending, and whether the line ended there. The bytes stay valid until the
// next call.
func (p *Parser) piece() ([]byte, bool, error) {
	for {
		if p.skip > 0 {
			_, _ = p.r.Discard(p.skip) // buffered: cannot fail
			p.skip = 0
		}
		if _, err := p.r.Peek(1); err != nil {
			return nil, false, err
		}
		buf, _ := p.r.Peek(p.r.Buffered())
		if p.crSeen {
			p.crSeen = false
			if buf[0] == '\n' {
				p.skip = 1
				p.offset++
				continue
			}
		}
		i := indexEOL(buf)
		if i < 0 {
			p.skip = len(buf)
			p.offset += int64(len(buf))
			return buf, false, nil
		}
		p.crSeen = buf[i] == '\r'
		p.skip = i + 1
		p.offset += int64(i + 1)
		return buf[:i], true, nil
	}
}

// indexEOL returns the index of the first CR or LF in b, or -1.
func indexEOL(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	seg := b
	if i >= 0 {
		seg = b[:i]
	}
	if j := bytes.IndexByte(seg, '\r'); j >= 0 {
		return j
	}
	return i
}

// feed processes the next piece of the current line.
func (p *Parser) feed(b []byte) {
	if !p.inValue {
		c := bytes.IndexByte(b, ':')
		name := b
		if c >= 0 {
			name = b[:c]
		}
		if !p.nameLong {
			if p.nameLen+len(name) > len(p.name) {
				p.nameLong = true
			} else {
				p.nameLen += copy(p.name[p.nameLen:], name)
			}
		}
		if c < 0 {
			return
		}
		p.inValue = true
		p.startField()
		b = b[c+1:]
	}
	if !p.valueStarted {
		if len(b) == 0 {
			return
		}
		p.valueStarted = true
		if b[0] == ' ' {
			b = b[1:]
		}
	}
	switch p.field {
	case fieldData:
		p.appendData(b)
	case fieldEvent, fieldID:
		if len(p.val)+len(b) > p.limit {
			p.valLong = true
		} else if !p.valLong {
			p.val = append(p.val, b...)
		}
	case fieldRetry:
		if len(p.val)+len(b) > maxRetryDigits {
			p.valLong = true
		} else if !p.valLong {
			p.val = append(p.val, b...)
		}
	}
}

// startField is called once the field name of the current line is known.
func (p *Parser) startField() {
	p.field = fieldIgnore
	if !p.nameLong {
		switch string(p.name[:p.nameLen]) {
		case "data":
			p.field = fieldData
			if p.dataLines > 0 {
				p.appendData(newline)
			}
			p.dataLines++
		case "event":
			p.field = fieldEvent
		case "id":
			p.field = fieldID
		case "retry":
			p.field = fieldRetry
		}
	}
}

func (p *Parser) appendData(b []byte) {
	if room := p.limit - len(p.data); len(b) > room {
		b = b[:room]
		p.oversize = true
	}
	p.data = append(p.data, b...)
}

// endLine completes the current line.
func (p *Parser) endLine() {
	if !p.inValue {
		p.startField() // a line without a colon: the field has an empty value
	}
	if !p.valLong {
		switch p.field {
		case fieldEvent:
			p.event = append(p.event[:0], p.val...)
		case fieldID:
			if bytes.IndexByte(p.val, 0) < 0 && string(p.val) != p.lastID {
				p.lastID = string(p.val)
			}
		case fieldRetry:
			if ms, ok := parseDigits(p.val); ok {
				p.retry = time.Duration(ms) * time.Millisecond
				p.haveRetry = true
				p.frameRetry = p.retry
			}
		}
	}
	p.inLine, p.inValue, p.valueStarted = false, false, false
	p.nameLen, p.nameLong = 0, false
	p.val, p.valLong = p.val[:0], false
}

// parseDigits parses a non-empty run of ASCII digits.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// dispatch ends the current frame and returns it if it has data.
func (p *Parser) dispatch() (Frame, bool) {
	p.sourceID = p.lastID
	p.lastOffset = p.offset
	var f Frame
	ok := len(p.data) > 0
	if ok {
		f = Frame{Event: eventType(p.event), ID: p.lastID, Data: p.data, Retry: p.frameRetry, Oversize: p.oversize}
		p.data = nil // handed over to the receiver
	} else {
		p.data = p.data[:0]
	}
	p.dataLines, p.oversize, p.frameRetry = 0, false, 0
	p.event = p.event[:0]
	return f, ok
}

func eventType(b []byte) string {
	switch string(b) {
	case "", "message":
		return "message"
	}
	return string(b)
}
