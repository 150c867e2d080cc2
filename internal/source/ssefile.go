package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/wikistream/wikistream/internal/wikimedia"
)

// sseFileSource reads a raw SSE capture. Its resume token is the byte offset
// just after a frame. Resuming parses the file from its start, so the last
// event ID carried over from earlier frames is right, and checks that the
// token is a frame boundary.
type sseFileSource struct {
	path string
	cfg  Config
}

func (s *sseFileSource) Name() string { return s.path }

// Run emits every frame of the capture, including a last frame that lacks
// its final blank line.
func (s *sseFileSource) Run(ctx context.Context, resume string, emit func(context.Context, Message) error) error {
	start, err := parseOffset(resume)
	if err != nil {
		return err
	}
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	defer f.Close()
	p := wikimedia.NewParser(f, wikimedia.ParserOptions{MaxFrameBytes: s.cfg.MaxEventBytes, DispatchAtEOF: true})
	pace := newPacer(s.cfg)
	base := filepath.Base(s.path)
	skipping := start > 0
	done := ctx.Done()
	for n := 1; ; n++ {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		fr, err := p.Next()
		if err == io.EOF {
			if skipping && p.Offset() != start {
				return fmt.Errorf("resume position %q in %s: beyond the end of the input (%d bytes)", resume, s.path, p.Offset())
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s after frame %d: %w", s.path, n-1, err)
		}
		off := p.Offset()
		if skipping {
			switch {
			case off < start:
				continue
			case off == start:
				skipping = false
				continue
			default:
				return fmt.Errorf("resume position %q in %s: not the end of a frame", resume, s.path)
			}
		}
		m := Message{
			Data:     fr.Data,
			Event:    fr.Event,
			Position: strconv.FormatInt(off, 10),
			Where:    base + ":frame " + strconv.Itoa(n),
			Oversize: fr.Oversize,
		}
		if err := pace.wait(ctx, m.Data); err != nil {
			return err
		}
		if err := emit(ctx, m); err != nil {
			return fmt.Errorf("emit %s: %w", m.Where, err)
		}
	}
}
