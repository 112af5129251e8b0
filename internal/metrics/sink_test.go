package metrics

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTrendStatisticsMatchKnownSamples(t *testing.T) {
	s := NewSink(Trend)
	for i := 1; i <= 1000; i++ {
		s.Add(float64(i)) // 1..1000 ms
	}
	cases := []struct {
		stat string
		p    float64
		want float64
	}{
		{"avg", 0, 500.5},
		{"min", 0, 1},
		{"max", 0, 1000},
		{"med", 0, 500},
		{"p", 90, 900},
		{"p", 95, 950},
		{"p", 99, 990},
		{"p", 99.9, 999},
		{"count", 0, 1000},
	}
	for _, c := range cases {
		got, ok := s.Stat(c.stat, c.p, 0)
		if !ok {
			t.Fatalf("%s(%g): no value", c.stat, c.p)
		}
		// 3 significant digits: within 0.1 % of the true value.
		if !near(got, c.want, c.want*0.001+1e-9) {
			t.Errorf("%s(%g) = %g, want %g ±0.1%%", c.stat, c.p, got, c.want)
		}
	}
}

func TestTrendKeepsSubMillisecondPrecisionAndExactExtremes(t *testing.T) {
	s := NewSink(Trend)
	s.Add(0.0123) // 12.3 µs
	s.Add(0.5)
	s.Add(7_200_000) // two hours: beyond the histogram, clamped inside it
	if s.Min != 0.0123 || s.Max != 7_200_000 {
		t.Fatalf("min/max = %g/%g, want exact 0.0123/7200000", s.Min, s.Max)
	}
	if got := s.Percentile(1); !near(got, 0.012, 0.001) {
		t.Errorf("p(1) = %g, want ≈0.012", got)
	}
	if got := s.Percentile(100); got != 7_200_000 {
		t.Errorf("p(100) = %g, want the exact max", got)
	}
}

func TestCounterRateGaugeStatistics(t *testing.T) {
	c := NewSink(Counter)
	for i := 0; i < 10; i++ {
		c.Add(3)
	}
	if v, _ := c.Stat("count", 0, 0); v != 30 {
		t.Errorf("counter count = %g, want 30", v)
	}
	if v, _ := c.Stat("rate", 0, 2*time.Second); v != 15 {
		t.Errorf("counter rate = %g/s, want 15", v)
	}
	if _, ok := c.Stat("value", 0, 0); ok {
		t.Errorf("value must not exist for a counter")
	}

	r := NewSink(Rate)
	for i := 0; i < 4; i++ {
		r.Add(float64(i % 2))
	}
	r.Add(1)
	if v, _ := r.Stat("rate", 0, 0); v != 0.6 {
		t.Errorf("rate = %g, want 0.6", v)
	}
	if v, _ := r.Stat("fails", 0, 0); v != 2 {
		t.Errorf("fails = %g, want 2", v)
	}

	g := NewSink(Gauge)
	for _, v := range []float64{5, 1, 9, 4} {
		g.Add(v)
	}
	vals := g.Values(0)
	if vals["value"] != 4 || vals["min"] != 1 || vals["max"] != 9 {
		t.Errorf("gauge values = %v, want value 4 min 1 max 9", vals)
	}
}

func TestEmptySinkHasNoStatistics(t *testing.T) {
	for _, typ := range []Type{Counter, Gauge, Rate, Trend} {
		if _, ok := NewSink(typ).Stat("rate", 0, time.Second); ok {
			t.Errorf("%s: empty sink must report no data", typ)
		}
	}
}

func TestMergeEqualsRecordingEverythingInOne(t *testing.T) {
	a, b, all := NewSink(Trend), NewSink(Trend), NewSink(Trend)
	for i := 0; i < 5000; i++ {
		v := float64(i%977) * 1.37
		all.Add(v)
		if i%3 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	a.Merge(b)
	for _, p := range []float64{50, 90, 95, 99, 99.9} {
		if a.Percentile(p) != all.Percentile(p) {
			t.Errorf("p(%g): merged %g, single %g", p, a.Percentile(p), all.Percentile(p))
		}
	}
	if a.Count != all.Count || !near(a.Sum, all.Sum, 1e-6) || a.Min != all.Min || a.Max != all.Max {
		t.Errorf("merged count/sum/min/max differ: %+v vs %+v", a, all)
	}
}

func TestHistogramEncodingRoundTripsExactly(t *testing.T) {
	s := NewSink(Trend)
	for i := 0; i < 3000; i++ {
		s.Add(float64(i) * 0.731)
	}
	enc, err := s.EncodeHistogram()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeTrend(enc, s.Count, s.Sum, s.Min, s.Max)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []float64{1, 50, 95, 99.99} {
		if back.Percentile(p) != s.Percentile(p) {
			t.Errorf("p(%g): decoded %g, original %g", p, back.Percentile(p), s.Percentile(p))
		}
	}
	// Two decoded halves merged equal the whole.
	if _, err := DecodeTrend(enc, s.Count+1, 0, 0, 0); err == nil {
		t.Errorf("a count that does not match the histogram must be rejected")
	}
	if _, err := DecodeTrend("not base64!", 1, 0, 0, 0); err == nil {
		t.Errorf("garbage must be rejected")
	}
}

func TestPercentileKey(t *testing.T) {
	for p, want := range map[float64]string{95: "p(95)", 99.9: "p(99.9)", 90: "p(90)"} {
		if got := PercentileKey(p); got != want {
			t.Errorf("PercentileKey(%g) = %q, want %q", p, got, want)
		}
	}
}

func TestCountsAtOrBelowAreCumulativeBuckets(t *testing.T) {
	trend := NewSink(Trend)
	for _, v := range []float64{0.4, 1, 1, 2.5, 10, 250, 7_200_000} {
		trend.Add(v)
	}
	counter := NewSink(Counter)
	counter.Add(3)
	bounds := []float64{0.5, 1, 2, 5, 100, 1000}
	cases := []struct {
		name string
		sink *Sink
		want []int64
	}{
		{"trend", trend, []int64{1, 3, 3, 4, 5, 6}},
		{"empty trend", NewSink(Trend), []int64{0, 0, 0, 0, 0, 0}},
		{"not a trend", counter, []int64{0, 0, 0, 0, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.sink.CountsAtOrBelow(bounds)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("CountsAtOrBelow(%v) = %v, want %v", bounds, got, c.want)
			}
		})
	}
}
