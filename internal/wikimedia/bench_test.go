package wikimedia_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/wikistream/wikistream/internal/wikimedia"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// BenchmarkParser parses real EventStreams wire data: the recorded 3-frame
// capture repeated, and the 18,935 real events of the shared capture framed
// as EventStreams sends them.
func BenchmarkParser(b *testing.B) {
	capture, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sse", "wiki_visualizer_example.events"))
	if err != nil {
		b.Fatal(err)
	}
	capture = append(capture, "\n\n"...)
	b.Run("capture", func(b *testing.B) {
		benchParse(b, bytes.Repeat(capture, 1000), 3000)
	})
	b.Run("recentchange", func(b *testing.B) {
		events := ssetest.ReadLines(b, ssetest.SharedData(b, realCapture))
		var stream []byte
		for i, ev := range events {
			stream = ssetest.AppendFrame(stream, ssetest.FormatID(ssetest.DefaultTopic, 0, int64(i)), ev)
		}
		benchParse(b, stream, len(events))
	})
}

func benchParse(b *testing.B, stream []byte, frames int) {
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	r := bytes.NewReader(stream)
	for b.Loop() {
		r.Reset(stream)
		p := wikimedia.NewParser(r, wikimedia.ParserOptions{})
		n := 0
		for {
			if _, err := p.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n != frames {
			b.Fatalf("got %d frames, want %d", n, frames)
		}
	}
	b.ReportMetric(float64(b.N)*float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
