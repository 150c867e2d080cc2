package lakehouse

import (
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// zstdWindow is the window of the encoders that compress Parquet pages.
// arrow-go's encoders keep the library's default window of 8 MiB, and
// each pooled encoder holds a history buffer of that size even though a
// page is about a megabyte (page-row-limit, parquetProps): a page is
// compressed as one frame, so a window larger than the page finds nothing
// more.
const zstdWindow = 2 << 20

// pageCodec is arrow-go's zstd codec with encoders of a zstdWindow window
// that size their buffers by what they compress. Decoding, streams and
// everything else are arrow-go's.
type pageCodec struct {
	fullCodec
	mu    sync.Mutex
	pools map[zstd.EncoderLevel]*sync.Pool
}

// fullCodec is what arrow-go's own zstd codec implements.
type fullCodec interface {
	compress.Codec
	NewReader(io.Reader) io.ReadCloser
	NewWriter(io.Writer) io.WriteCloser
	NewWriterLevel(io.Writer, int) (io.WriteCloser, error)
	DecodeWithError(dst, src []byte) ([]byte, error)
}

func init() {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic(fmt.Sprintf("lakehouse: arrow-go has no zstd codec: %v", err))
	}
	full, ok := c.(fullCodec)
	if !ok {
		panic(fmt.Sprintf("lakehouse: arrow-go's zstd codec is a %T, which lacks a method this wrapper keeps", c))
	}
	compress.RegisterCodec(compress.Codecs.Zstd, &pageCodec{fullCodec: full, pools: map[zstd.EncoderLevel]*sync.Pool{}})
}

func (c *pageCodec) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

func (c *pageCodec) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	pool := c.pool(l)
	enc := pool.Get().(*zstd.Encoder)
	defer pool.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}

func (c *pageCodec) pool(l zstd.EncoderLevel) *sync.Pool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pools[l]
	if p == nil {
		p = &sync.Pool{New: func() any {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(l), zstd.WithWindowSize(zstdWindow),
				zstd.WithLowerEncoderMem(true), zstd.WithEncoderConcurrency(1),
				zstd.WithZeroFrames(true), zstd.WithAllLitEntropyCompression(true))
			if err != nil {
				panic(fmt.Sprintf("lakehouse: zstd encoder: %v", err)) // the options are constants
			}
			return enc
		}}
		c.pools[l] = p
	}
	return p
}
