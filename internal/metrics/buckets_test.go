package metrics

import (
	"math"
	"testing"
)

// rankValue is the percentile of rank k read from buckets, as Buckets
// documents it.
func rankValue(s *Sink, bs []Bucket, k int64) float64 {
	var run int64
	for _, b := range bs {
		run += b.Count
		if run >= k {
			return max(s.Min, min(b.Value, s.Max))
		}
	}
	return math.NaN()
}

func TestBucketsAnswerEveryPercentileAsPercentileDoes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		samples []float64
	}{
		{"one sample", []float64{12.5}},
		{"1..1000 ms", func() []float64 {
			var out []float64
			for i := 1; i <= 1000; i++ {
				out = append(out, float64(i))
			}
			return out
		}()},
		{"microseconds to seconds", []float64{0.001, 0.0504, 0.3, 7.77, 20.01, 20.02, 99.9, 1234.5, 4000, 4000}},
		{"zeros", []float64{0, 0, 0, 0.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := NewSink(Trend)
			for _, v := range c.samples {
				s.Add(v)
			}
			bs := s.Buckets()
			var total int64
			for i, b := range bs {
				total += b.Count
				if i > 0 && !(bs[i-1].Value < b.Value) {
					t.Fatalf("buckets not increasing: %v then %v", bs[i-1], b)
				}
			}
			if total != s.Count {
				t.Fatalf("buckets hold %d samples, sink %d", total, s.Count)
			}
			for _, p := range []float64{0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9} {
				k := int64(math.Floor(p/100*float64(s.Count) + 0.5))
				k = max(1, min(k, s.Count))
				if got, want := rankValue(s, bs, k), s.Percentile(p); got != want {
					t.Errorf("p(%g): buckets say %g, Percentile %g", p, got, want)
				}
			}
		})
	}
}

func TestBucketsOfOtherTypesAndEmptySinks(t *testing.T) {
	t.Parallel()
	for _, s := range []*Sink{NewSink(Trend), NewSink(Counter), NewSink(Rate), NewSink(Gauge)} {
		s.Add(0)
		if s.Type == Trend {
			s.Reset()
		}
		if bs := s.Buckets(); bs != nil {
			t.Errorf("%v: %v, want nil", s.Type, bs)
		}
	}
}
