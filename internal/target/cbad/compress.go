package cbad

import (
	"compress/flate"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// gzipFraming is the size of a gzip member's header (10 bytes, no optional
// fields) and trailer (CRC32 and length, 8 bytes) around the DEFLATE data, so
// that the gzip compressor reports what gzip would write.
const gzipFraming = 18

// zstdWindow bounds back-references. It covers baseline+window for ~200-byte
// events on every profile while keeping the encoder's history buffer (twice
// the window, allocated once per pooled encoder) small.
const zstdWindow = 1 << 20

// scratch holds everything one analysis needs besides the events: the joined
// text, the permutation and the encoders, which only count their output. It is
// pooled so that idle detectors hold no buffers.
type scratch struct {
	text []byte
	perm []int32
	zenc *zstd.Encoder
	fw   *flate.Writer
	cnt  countWriter
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// The largest buffers a pooled scratch keeps. The usual analysis (hundreds
// of events of a few hundred bytes) fits well below; one over giant events
// drops its buffers rather than leave them in the pool.
const (
	maxPooledText = 1 << 20 // bytes of joined text
	maxPooledPerm = 1 << 16 // permutation entries (256 KiB)
)

// putScratch returns s to the pool without its oversized buffers.
func putScratch(s *scratch) {
	if cap(s.text) > maxPooledText {
		s.text = nil
	}
	if cap(s.perm) > maxPooledPerm {
		s.perm = nil
	}
	scratchPool.Put(s)
}

// countWriter counts and discards what is written to it.
type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

// sizes returns the compressed lengths of b, w and b+'\n'+w, where b and w
// are adjacent in text (text[:endB] and text[endB+1:]). b is compressed once:
// the encoder is flushed after b (its output so far is C(b)) and then
// continues with '\n'+w in the same stream, with b still in its history, so
// the total is C(bw). Only the block boundary after b distinguishes this from
// compressing bw in one go; observed and permuted splits are measured alike.
func (s *scratch) sizes(compressor string, text []byte, endB int) (cB, cW, cBW int) {
	if compressor == CompressorGzip {
		s.gzipStart()
		s.write(s.fw, text[:endB])
		_ = s.fw.Flush()
		cB = s.cnt.n + gzipFraming
		s.write(s.fw, text[endB:])
		_ = s.fw.Close()
		cBW = s.cnt.n + gzipFraming
		s.gzipStart()
		s.write(s.fw, text[endB+1:])
		_ = s.fw.Close()
		return cB, s.cnt.n + gzipFraming, cBW
	}
	s.zstdStart()
	s.write(s.zenc, text[:endB])
	_ = s.zenc.Flush()
	cB = s.cnt.n
	s.write(s.zenc, text[endB:])
	_ = s.zenc.Close()
	cBW = s.cnt.n
	s.zstdStart()
	s.write(s.zenc, text[endB+1:])
	_ = s.zenc.Close()
	return cB, s.cnt.n, cBW
}

// write feeds p to an encoder writing into s.cnt, which cannot fail.
func (s *scratch) write(w io.Writer, p []byte) {
	_, _ = w.Write(p)
}

// zstdStart resets the count and starts a new zstd stream into it.
func (s *scratch) zstdStart() {
	s.cnt.n = 0
	if s.zenc == nil {
		// Concurrency 1 makes the stream encoder synchronous: it compresses
		// on the calling goroutine and starts no goroutines of its own.
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithEncoderCRC(false))
		if err != nil {
			panic(fmt.Sprintf("cbad: zstd encoder: %v", err)) // options are constant
		}
		s.zenc = enc
	}
	s.zenc.Reset(&s.cnt)
}

// gzipStart resets the count and starts a new DEFLATE stream into it.
func (s *scratch) gzipStart() {
	s.cnt.n = 0
	if s.fw == nil {
		fw, err := flate.NewWriter(&s.cnt, flate.BestSpeed)
		if err != nil {
			panic(fmt.Sprintf("cbad: flate writer: %v", err)) // level is constant
		}
		s.fw = fw
		return
	}
	s.fw.Reset(&s.cnt)
}

// NCD returns the normalized compression distance between x and y with the
// named compressor ("" means zstd): (C(xy) − min(C(x),C(y))) / max(C(x),C(y)),
// where xy is x and y joined by '\n' as the detector joins events.
func NCD(x, y []byte, compressor string) (float64, error) {
	switch compressor {
	case "":
		compressor = CompressorZstd
	case CompressorZstd, CompressorGzip:
	default:
		return 0, fmt.Errorf("cbad: unknown compressor %q", compressor)
	}
	s := scratchPool.Get().(*scratch)
	defer putScratch(s)
	s.text = append(append(append(s.text[:0], x...), '\n'), y...)
	return ncd(s.sizes(compressor, s.text, len(x))), nil
}
