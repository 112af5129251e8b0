package metrics

// The HdrHistogram V2 compressed encoding of a Trend's histogram, byte for
// byte what hdrhistogram-go's PackedHistogram.Encode writes, without its
// cost: Encode makes a new zlib writer at BestCompression for every call,
// about 1 MB of compressor state allocated and cleared, where a payload of
// a few hundred bytes is compressed; the result file's timeline encodes
// every Trend series' histogram every second. Here the writer is reused.
// Only histograms of driftload's own geometry (newHistogram) are encoded
// this way; a decoded one (DecodeTrend) goes through Encode.

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/bits"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

const (
	v2EncodingCookie           = 0x1c849303 | 0x10
	v2CompressedEncodingCookie = 0x1c849304 | 0x10
	v2HeaderSize               = 40
	// The index geometry of newHistogram: 3 significant digits need
	// single-unit resolution up to 2000, a sub-bucket count of 2^11; the
	// lowest value 1 makes the unit magnitude 0.
	subBucketHalfCountMagnitude = 10
	subBucketHalfCount          = 1 << subBucketHalfCountMagnitude
	subBucketMask               = 1<<(subBucketHalfCountMagnitude+1) - 1
)

// countsIndex is the index of v's bucket in the counts array of
// newHistogram's geometry.
func countsIndex(v int64) int64 {
	bucket := int64(64-bits.LeadingZeros64(uint64(v|subBucketMask))) - (subBucketHalfCountMagnitude + 1)
	sub := v >> uint(bucket)
	return (bucket+1)<<subBucketHalfCountMagnitude + sub - subBucketHalfCount
}

// appendZigZag appends v as HdrHistogram's ZigZag LEB128: 7 bits a byte,
// and all 8 of the ninth.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for range 8 {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}

type encoder struct {
	inner, out bytes.Buffer
	zw         *zlib.Writer
}

var encoders = sync.Pool{New: func() any {
	zw, _ := zlib.NewWriterLevel(nil, zlib.BestCompression) // a valid level
	return &encoder{zw: zw}
}}

// encodeHistogram returns h (of newHistogram's geometry) in the V2
// compressed format, base64-encoded.
func encodeHistogram(h *hdr.PackedHistogram) string {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.inner.Reset()
	var hd [v2HeaderSize]byte
	e.inner.Write(hd[:])
	// The payload: every count from index 0 to the last populated bucket,
	// a run of more than one zero as its negated length.
	b := e.inner.AvailableBuffer()
	next := int64(0) // the index after the last count written
	zerosUpTo := func(i int64) {
		switch n := i - next; {
		case n == 1:
			b = appendZigZag(b, 0)
		case n > 1:
			b = appendZigZag(b, -n)
		}
	}
	end := int64(1) // an empty histogram: one zero count
	for value, count := range h.ForEachBucket {
		i := countsIndex(value)
		end = i + 1
		if count == 0 {
			continue // part of a run of zeros
		}
		zerosUpTo(i)
		b = appendZigZag(b, count)
		next = i + 1
	}
	zerosUpTo(end)
	e.inner.Write(b)
	inner := e.inner.Bytes()
	binary.BigEndian.PutUint32(inner[0:], v2EncodingCookie)
	binary.BigEndian.PutUint32(inner[4:], uint32(len(inner)-v2HeaderSize))
	binary.BigEndian.PutUint32(inner[8:], 0) // normalizingIndexOffset
	binary.BigEndian.PutUint32(inner[12:], trendSignificant)
	binary.BigEndian.PutUint64(inner[16:], trendLowest)
	binary.BigEndian.PutUint64(inner[24:], trendHighest)
	binary.BigEndian.PutUint64(inner[32:], math.Float64bits(1)) // integer to double conversion ratio

	e.out.Reset()
	var cookie [8]byte
	e.out.Write(cookie[:])
	e.zw.Reset(&e.out)
	_, _ = e.zw.Write(inner) // writes to a bytes.Buffer do not fail
	_ = e.zw.Close()
	out := e.out.Bytes()
	binary.BigEndian.PutUint32(out[0:], v2CompressedEncodingCookie)
	binary.BigEndian.PutUint32(out[4:], uint32(len(out)-8))
	return base64.StdEncoding.EncodeToString(out)
}
