package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// readBufferSize is the read buffer of file sources.
const readBufferSize = 64 << 10

// lineSource reads JSON lines from a file, optionally gzipped, or from
// standard input. Its resume token is the byte offset, in the uncompressed
// stream, just after a message's line.
type lineSource struct {
	name  string    // Name: the absolute path, or "stdin"
	where string    // prefix of Message.Where: the file's base name
	path  string    // the file, or "" for stdin
	stdin io.Reader // read when path is ""
	gzip  bool
	cfg   Config
}

func (s *lineSource) Name() string { return s.name }

// Run emits one message per non-blank line. A line longer than
// MaxEventBytes is emitted cut with Oversize set; memory stays bounded.
func (s *lineSource) Run(ctx context.Context, resume string, emit func(context.Context, Message) error) error {
	start, err := parseOffset(resume)
	if err != nil {
		return err
	}
	r, closeAll, err := s.open()
	if err != nil {
		return err
	}
	defer closeAll()
	br := bufio.NewReaderSize(r, readBufferSize)
	off, line := int64(0), 0
	if start > 0 {
		if line, err = skipLines(br, start); err != nil {
			return fmt.Errorf("resume position %q in %s: %w", resume, s.name, err)
		}
		off = start
	}
	pace := newPacer(s.cfg)
	limit := s.cfg.MaxEventBytes
	buf := make([]byte, 0, min(limit+2, readBufferSize))
	done := ctx.Done()
	for {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		// Read one line, keeping at most limit+2 bytes: the content plus
		// CR LF.
		buf = buf[:0]
		n, dropped := 0, false
		var rerr error
		for {
			chunk, err := br.ReadSlice('\n')
			n += len(chunk)
			if room := limit + 2 - len(buf); len(chunk) > room {
				chunk, dropped = chunk[:room], true
			}
			buf = append(buf, chunk...)
			if err != bufio.ErrBufferFull {
				rerr = err
				break
			}
		}
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("read %s after line %d: %w", s.name, line, rerr)
		}
		if n == 0 {
			return nil // the end
		}
		off += int64(n)
		line++
		content, oversize := buf, dropped
		if !dropped {
			content = bytes.TrimSuffix(content, []byte("\n"))
			content = bytes.TrimSuffix(content, []byte("\r"))
		}
		if len(content) > limit {
			content, oversize = content[:limit], true
		}
		if oversize || len(bytes.TrimSpace(content)) > 0 {
			m := Message{
				Data:     bytes.Clone(content),
				Position: strconv.FormatInt(off, 10),
				Where:    s.where + ":line " + strconv.Itoa(line),
				Oversize: oversize,
			}
			if err := pace.wait(ctx, m.Data); err != nil {
				return err
			}
			if err := emit(ctx, m); err != nil {
				return fmt.Errorf("emit %s: %w", m.Where, err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
	}
}

// open returns the uncompressed input and a function closing it.
func (s *lineSource) open() (io.Reader, func(), error) {
	var r io.Reader = s.stdin
	closeFile := func() {}
	if s.path != "" {
		f, err := os.Open(s.path)
		if err != nil {
			return nil, nil, fmt.Errorf("open source: %w", err)
		}
		r, closeFile = f, func() { f.Close() }
	}
	if !s.gzip {
		return r, closeFile, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, readBufferSize))
	if err != nil {
		closeFile()
		return nil, nil, fmt.Errorf("open source %s: gzip: %w", s.name, err)
	}
	return zr, func() { zr.Close(); closeFile() }, nil
}

// skipLines reads and discards the first n bytes, which must end at a line
// boundary, and returns how many lines they hold.
func skipLines(br *bufio.Reader, n int64) (int, error) {
	lines, remaining := 0, n
	var last byte
	for remaining > 0 {
		if _, err := br.Peek(1); err != nil {
			if err == io.EOF {
				return 0, fmt.Errorf("beyond the end of the input (%d bytes)", n-remaining)
			}
			return 0, err
		}
		b, _ := br.Peek(int(min(int64(br.Buffered()), remaining)))
		lines += bytes.Count(b, []byte("\n"))
		last = b[len(b)-1]
		_, _ = br.Discard(len(b)) // buffered: cannot fail
		remaining -= int64(len(b))
	}
	if last != '\n' {
		// Only the end of a last line without a line ending is a boundary.
		if _, err := br.Peek(1); err != io.EOF {
			return 0, errors.New("not at the end of a line")
		}
		lines++
	}
	return lines, nil
}

// parseOffset parses a file resume token.
func parseOffset(resume string) (int64, error) {
	if resume == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(resume, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("resume position %q: want a byte offset produced by this file source (a non-negative decimal number)", resume)
	}
	return n, nil
}
