package lakehouse

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
)

// page is about what a Parquet page of raw JSON holds: a megabyte of
// similar events.
func page() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, `{"id":%d,"type":"edit","title":"Page %d","user":"User%d","wiki":"enwiki","comment":"fix typo"}`,
			i, i%977, i%131)
	}
	return b.Bytes()
}

// Pages compress to frames arrow-go decodes, and an encoder costs a few
// megabytes instead of the 8 MiB history of arrow-go's own.
func TestZstdPages(t *testing.T) {
	codec, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := codec.(*pageCodec)
	if !ok {
		t.Fatalf("the registered zstd codec is a %T, want *pageCodec", codec)
	}
	src := page()
	for _, level := range []int{1, 3, compress.DefaultCompressionLevel} {
		enc := c.EncodeLevel(nil, src, level)
		if len(enc) >= len(src)/4 {
			t.Errorf("level %d: %d bytes compressed to %d", level, len(src), len(enc))
		}
		dec, err := c.DecodeWithError(nil, enc)
		if err != nil {
			t.Fatalf("level %d: decode: %v", level, err)
		}
		if !bytes.Equal(dec, src) {
			t.Fatalf("level %d: decoded %d bytes, not the %d encoded", level, len(dec), len(src))
		}
	}
	// The smaller window loses nothing on a page.
	if ours, arrows := len(c.EncodeLevel(nil, src, 1)), len(c.fullCodec.EncodeLevel(nil, src, 1)); ours > arrows*101/100 {
		t.Errorf("a page compressed to %d bytes, arrow-go's own encoder makes %d", ours, arrows)
	}
	// A new encoder and one page: runtime.GC empties the pools first.
	allocated := func(codec compress.Codec) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		codec.EncodeLevel(nil, src, 1)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	ours, arrows := allocated(c), allocated(c.fullCodec)
	t.Logf("a new encoder and a page of %d bytes allocated %d bytes (arrow-go's own: %d)", len(src), ours, arrows)
	if ours > 4<<20 || ours > arrows/2 {
		t.Errorf("a new encoder and a page allocated %.1f MB, want under 4 and under half of arrow-go's %.1f MB",
			float64(ours)/(1<<20), float64(arrows)/(1<<20))
	}
}
