package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// encodeHistogram writes exactly what hdrhistogram-go's Encode writes, for
// histograms of every shape a run records: empty, one value, values at and
// beyond the ends of the range, dense and sparse spreads.
func TestEncodeHistogramIsTheLibrarysEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name   string
		values func() []int64
	}{
		{"empty", func() []int64 { return nil }},
		{"one zero", func() []int64 { return []int64{0} }},
		{"one value", func() []int64 { return []int64{12345} }},
		{"the ends of the range", func() []int64 { return []int64{0, 1, trendHighest, trendHighest} }},
		{"unit resolution range", func() []int64 { return []int64{1, 2, 3, 2047, 2048, 2049, 4095, 4096} }},
		{"dense", func() []int64 {
			var vs []int64
			for range 5000 {
				vs = append(vs, rng.Int64N(3000))
			}
			return vs
		}},
		{"log-spread", func() []int64 {
			var vs []int64
			for range 5000 {
				vs = append(vs, int64(math.Exp(rng.Float64()*math.Log(trendHighest))))
			}
			return vs
		}},
		{"millions of one value", func() []int64 {
			vs := []int64{500}
			for range 20 {
				vs = append(vs, vs...)
			}
			return vs
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistogram()
			for _, v := range tc.values() {
				_ = h.RecordValue(v)
			}
			want, err := h.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if got := encodeHistogram(h); got != string(want) {
				t.Fatalf("encoding differs from the library's:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

// A sink decoded from a result file keeps the library's encoding (its
// geometry is the file's), and round-trips.
func TestDecodedTrendEncodesAsItWasRead(t *testing.T) {
	s := NewSink(Trend)
	for _, v := range []float64{0.5, 3, 3, 250} {
		s.Add(v)
	}
	enc, err := s.EncodeHistogram()
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeTrend(enc, s.Count, s.Sum, s.Min, s.Max)
	if err != nil {
		t.Fatal(err)
	}
	d.Reset()
	d.Add(3)
	again, _ := d.EncodeHistogram()
	want, _ := d.hist.Encode()
	if again != string(want) || !d.decoded {
		t.Fatalf("a decoded sink's encoding %s, want the library's %s", again, want)
	}
}

// BenchmarkEncodeHistogram is one interval's http_req_duration histogram
// (2000 samples) encoded as the timeline does every second, by
// encodeHistogram and by the library's Encode.
func BenchmarkEncodeHistogram(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHistogram()
	for range 2000 {
		_ = h.RecordValue(10_000 + rng.Int64N(2000))
	}
	b.Run("driftload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = encodeHistogram(h)
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = h.Encode()
		}
	})
}
