package compare

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/driftload/driftload/internal/metrics"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRankIsTheHDRRank(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    float64
		n    int64
		want int64
	}{
		{50, 1, 1}, {50, 2, 1}, {50, 3, 2}, {50, 1000, 500}, {95, 1000, 950}, {99, 1000, 990},
		{99, 10, 10}, {0.01, 10, 1}, {100, 7, 7}, {95, 887, 843},
	}
	for _, c := range cases {
		if got := rank(c.p, c.n); got != c.want {
			t.Errorf("rank(%g, %d) = %d, want %d", c.p, c.n, got, c.want)
		}
	}
}

func TestZForConfidence(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ conf, want float64 }{{0.95, 1.959964}, {0.99, 2.575829}, {0.9, 1.644854}, {0.6827, 1.0}} {
		if got := zFor(c.conf); !near(got, c.want, 1e-4) {
			t.Errorf("zFor(%g) = %g, want %g", c.conf, got, c.want)
		}
	}
}

// binomialTailBySum is P(X ≥ k) for X ~ Binomial(n, p), summed term by term.
func binomialTailBySum(n, k int64, p float64) float64 {
	sum := 0.0
	for i := k; i <= n; i++ {
		lc, _ := math.Lgamma(float64(n + 1))
		li, _ := math.Lgamma(float64(i + 1))
		lr, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lc - li - lr + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return sum
}

func TestBinomialTailMatchesTheSumOfItsTerms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n, k int64
		p    float64
	}{
		{1, 1, 0.5}, {10, 0, 0.3}, {10, 1, 0.3}, {10, 5, 0.5}, {10, 10, 0.9}, {10, 11, 0.9},
		{100, 50, 0.5}, {100, 95, 0.95}, {100, 99, 0.97}, {1000, 950, 0.94}, {1000, 500, 0.48},
		{5000, 4750, 0.951}, {20000, 19800, 0.99}, {100, 3, 0.001},
	}
	for _, c := range cases {
		want := 1.0
		if c.k > 0 {
			want = binomialTailBySum(c.n, c.k, c.p)
		}
		if got := binomialTail(c.n, c.k, c.p); !near(got, want, 1e-9) {
			t.Errorf("P(Bin(%d, %g) ≥ %d) = %.12g, want %.12g", c.n, c.p, c.k, got, want)
		}
	}
	if binomialTail(10, 3, 0) != 0 || binomialTail(10, 3, 1) != 1 {
		t.Error("degenerate p: want 0 at p=0 and 1 at p=1")
	}
}

func TestRegIncBetaKnownValues(t *testing.T) {
	t.Parallel()
	cases := []struct{ a, b, x, want float64 }{
		{1, 1, 0.3, 0.3},                  // uniform
		{2, 1, 0.5, 0.25},                 // x^a
		{1, 3, 0.2, 1 - math.Pow(0.8, 3)}, // 1 − (1−x)^b
		{5, 5, 0.5, 0.5},                  // symmetry
		{400, 400, 0.5, 0.5},
		{0.5, 0.5, 0.5, 0.5},
		{3, 7, 0, 0}, {3, 7, 1, 1},
	}
	for _, c := range cases {
		if got := regIncBeta(c.a, c.b, c.x); !near(got, c.want, 1e-12) {
			t.Errorf("I_%g(%g, %g) = %.15g, want %.15g", c.x, c.a, c.b, got, c.want)
		}
	}
}

func TestWilsonInterval(t *testing.T) {
	t.Parallel()
	z := zFor(0.95)
	cases := []struct {
		k, n           int64
		wantLo, wantHi float64
	}{
		{0, 10, 0, 0.2775},
		{5, 10, 0.2366, 0.7634},
		{10, 10, 0.7225, 1},
		{1, 1000, 0.000177, 0.005638},
	}
	for _, c := range cases {
		lo, hi := wilson(c.k, c.n, z)
		if !near(lo, c.wantLo, 1e-4) || !near(hi, c.wantHi, 1e-4) {
			t.Errorf("wilson(%d/%d) = [%.6f, %.6f], want [%.4f, %.4f]", c.k, c.n, lo, hi, c.wantLo, c.wantHi)
		}
	}
}

// Newcombe (1998), Statistics in Medicine 17:873, table II, method 10:
// examples (a), (e) and (h).
func TestNewcombeMatchesThePublishedExamples(t *testing.T) {
	t.Parallel()
	z := zFor(0.95)
	cases := []struct {
		k1, n1, k2, n2 int64
		diff, lo, hi   float64
	}{
		// The paper states p1 − p2; newcombe returns new − base, so base is the paper's second share.
		{48, 80, 56, 70, 0.2, 0.0524, 0.3339},
		{0, 20, 0, 10, 0, -0.1611, 0.2775},
		{0, 20, 10, 10, 1, 0.6791, 1},
	}
	for _, c := range cases {
		diff, lo, hi := newcombe(c.k1, c.n1, c.k2, c.n2, z)
		if !near(diff, c.diff, 1e-12) || !near(lo, c.lo, 1e-4) || !near(hi, c.hi, 1e-4) {
			t.Errorf("newcombe(%d/%d → %d/%d) = %.4f [%.4f, %.4f], want %.4f [%.4f, %.4f]",
				c.k1, c.n1, c.k2, c.n2, diff, lo, hi, c.diff, c.lo, c.hi)
		}
	}
}

func TestPoissonRatio(t *testing.T) {
	t.Parallel()
	z := zFor(0.95)
	ratio, lo, hi := poissonRatio(1000, 10, 1000, 10, z)
	if ratio != 1 || !(lo < 1 && hi > 1) || !near(lo*hi, 1, 1e-9) {
		t.Errorf("equal rates: %g [%g, %g], want 1 inside an interval symmetric in log", ratio, lo, hi)
	}
	// 10 % fewer requests over 10 000: the interval is about ±2.7 %.
	ratio, lo, hi = poissonRatio(10000, 100, 9000, 100, z)
	if !near(ratio, 0.9, 1e-12) || !(lo > 0.87 && lo < 0.89) || !(hi > 0.91 && hi < 0.93) {
		t.Errorf("10%% fewer: %g [%g, %g]", ratio, lo, hi)
	}
	// Rates, not counts: twice the requests in twice the time.
	if ratio, _, _ = poissonRatio(500, 10, 1000, 20, z); ratio != 1 {
		t.Errorf("same rate over another length: %g", ratio)
	}
}

func TestQuantileInterpolates(t *testing.T) {
	t.Parallel()
	xs := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.5, 3}, {1, 5}, {0.25, 2}, {0.1, 1.4}} {
		if got := quantile(xs, c.q); !near(got, c.want, 1e-12) {
			t.Errorf("quantile(%g) = %g, want %g", c.q, got, c.want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing: want NaN")
	}
}

func TestRelativeIntervalNeedsDefinedDraws(t *testing.T) {
	t.Parallel()
	base := []float64{10, 10, 10, 10}
	lo, hi, ok := relativeInterval(base, []float64{11, 11, 11, 11}, 0.95)
	if !ok || !near(lo, 0.1, 1e-12) || !near(hi, 0.1, 1e-12) {
		t.Errorf("constant +10%%: [%g, %g] %v", lo, hi, ok)
	}
	nan := math.NaN()
	if _, _, ok := relativeInterval([]float64{10, 0, nan, 10}, []float64{11, 11, 11, nan}, 0.95); ok {
		t.Error("three of four draws undefined: want no interval")
	}
}

// hand-made histograms: samples at a few values.
func sinkOf(values map[float64]int) *metrics.Sink {
	s := metrics.NewSink(metrics.Trend)
	for v, n := range values {
		for range n {
			s.Add(v)
		}
	}
	return s
}

// The exact bootstrap distribution of a percentile is what resampling n
// values from the buckets and taking their percentile gives.
func TestExactPercentileIsTheDistributionOfResampledPercentiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		values map[float64]int
		p      float64
	}{
		{"median of 20", map[float64]int{10: 6, 20: 5, 30: 5, 40: 4}, 50},
		{"p95 of 40", map[float64]int{1: 30, 2: 6, 5: 3, 50: 1}, 95},
		{"p99 of 200", map[float64]int{3: 150, 4: 40, 9: 8, 100: 2}, 99},
		{"one value", map[float64]int{7: 12}, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sink := sinkOf(c.values)
			bs := sink.Buckets()
			d := exactPercentile(bs, sink.Min, sink.Max, c.p)
			// Resample: n draws of a sample, counted by bucket; the
			// resampled percentile is in the first bucket whose running
			// count reaches the rank (Buckets' rule).
			n := sink.Count
			var pool []int // a bucket index per sample
			for j, b := range bs {
				for range b.Count {
					pool = append(pool, j)
				}
			}
			const trials = 40000
			rng := rand.New(rand.NewPCG(1, 2))
			counts := make([]int, len(bs))
			drawn := make([]int64, len(bs))
			k := rank(c.p, n)
			for range trials {
				clear(drawn)
				for range n {
					drawn[pool[rng.IntN(len(pool))]]++
				}
				var run int64
				for j, m := range drawn {
					if run += m; run >= k {
						counts[j]++
						break
					}
				}
			}
			cum := 0
			for j := range bs {
				cum += counts[j]
				got, want := d.cdf[j], float64(cum)/trials
				if !near(got, want, 0.01) {
					t.Errorf("P(p(%g)* ≤ %g) = %.4f exactly, %.4f resampled", c.p, d.values[j], got, want)
				}
			}
			if d.cdf[len(d.cdf)-1] != 1 {
				t.Errorf("CDF ends at %g, want 1", d.cdf[len(d.cdf)-1])
			}
		})
	}
}

func TestExactPercentileDrawsCoverItsValues(t *testing.T) {
	t.Parallel()
	two := sinkOf(map[float64]int{10: 1, 20: 1})
	d := exactPercentile(two.Buckets(), two.Min, two.Max, 50)
	if got := d.draw(0); got != d.values[0] {
		t.Errorf("draw(0) = %g, want the smallest value", got)
	}
	if got := d.draw(0.999999); got != d.values[len(d.values)-1] {
		t.Errorf("draw(→1) = %g, want the largest value", got)
	}
	if !math.IsNaN((exactDist{}).draw(0.5)) {
		t.Error("an empty distribution draws NaN")
	}
}

// blocksFrom builds interval blocks of both runs over one value index.
func blocksFrom(intervals ...[]map[float64]int) (*valueIndex, [][]block) {
	sinks := make([][]*metrics.Sink, len(intervals))
	sets := make([][][]metrics.Bucket, len(intervals))
	for i, ivs := range intervals {
		for _, iv := range ivs {
			sinks[i] = append(sinks[i], sinkOf(iv))
		}
		sets[i] = bucketsOf(sinks[i])
	}
	ix := newValueIndex(sets...)
	out := make([][]block, len(sets))
	for i := range sets {
		out[i] = blocksOf(ix, sinks[i], sets[i])
	}
	return ix, out
}

func TestBlockBootstrapOfPercentiles(t *testing.T) {
	t.Parallel()
	// Twelve intervals; the second run is the first 20 % slower, interval
	// by interval, so every paired resample is 20 % slower.
	var base, slower, same []map[float64]int
	for i := range 12 {
		lat := 10 + float64(i%4)
		base = append(base, map[float64]int{lat: 20, 2 * lat: 5, 4 * lat: 1})
		slower = append(slower, map[float64]int{1.2 * lat: 20, 2.4 * lat: 5, 4.8 * lat: 1})
		same = append(same, map[float64]int{lat: 20, 2 * lat: 5, 4 * lat: 1})
	}
	cases := []struct {
		name   string
		new    []map[float64]int
		paired bool
		lo, hi float64
	}{
		{"paired, 20 % slower", slower, true, 0.19, 0.21},
		{"paired, the same", same, true, -0.001, 0.001},
		{"unpaired, the same", same, false, -0.3, 0.3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ix, bl := blocksFrom(base, c.new)
			bd, nd := blockDraws(ix, bl[0], bl[1], c.paired, 2000, rand.New(rand.NewPCG(1, 1)))
			for i, pc := range percentiles {
				lo, hi, ok := relativeInterval(bd[i], nd[i], 0.95)
				if !ok || lo < c.lo || hi > c.hi || lo > hi {
					t.Errorf("%s: [%+.4f, %+.4f] %v, want inside [%+.3f, %+.3f]", pc.name, lo, hi, ok, c.lo, c.hi)
				}
			}
		})
	}
}

func TestAlignBlocksMergesTheLongerRunsTail(t *testing.T) {
	t.Parallel()
	a := []block{{count: 1, requests: 1, seconds: 1}, {count: 2, requests: 2, seconds: 1}, {count: 3, requests: 3, seconds: 0.5}}
	b := []block{{count: 5, requests: 5, seconds: 1}, {count: 6, requests: 6, seconds: 1}}
	ga, gb := alignBlocks(a, b)
	if len(ga) != 2 || len(gb) != 2 || ga[1].count != 5 || ga[1].requests != 5 || ga[1].seconds != 1.5 || gb[1].count != 6 {
		t.Errorf("aligned: %+v %+v", ga, gb)
	}
	for _, c := range []struct {
		k1, k2 int
		want   bool
	}{{10, 10, true}, {10, 11, true}, {10, 12, false}, {100, 105, true}, {100, 106, false}} {
		if got := pairable(c.k1, c.k2); got != c.want {
			t.Errorf("pairable(%d, %d) = %v", c.k1, c.k2, got)
		}
	}
}

func TestRateDrawsOfPairedIntervals(t *testing.T) {
	t.Parallel()
	var base, fewer []block
	for i := range 20 {
		n := int64(40 + 10*(i%3)) // a profile that varies over time
		base = append(base, block{requests: n, seconds: 1})
		fewer = append(fewer, block{requests: n * 9 / 10, seconds: 1})
	}
	bd, nd := rateDraws(base, fewer, true, 2000, rand.New(rand.NewPCG(3, 3)))
	lo, hi, ok := relativeInterval(bd, nd, 0.95)
	if !ok || lo < -0.11 || hi > -0.09 {
		t.Errorf("10 %% fewer requests: [%+.4f, %+.4f] %v, want about −10 %%", lo, hi, ok)
	}
}

// A resample's percentiles are those of the drawn intervals' merged
// histogram, as Sink.Percentile reads it.
func TestMergedPercentilesAreThoseOfTheMergedHistogram(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	var sinks []*metrics.Sink
	for i := range 15 {
		s := metrics.NewSink(metrics.Trend)
		for range 1 + rng.IntN(40) + i {
			s.Add(math.Exp(3 * rng.Float64())) // 1 ms to 20 ms
		}
		sinks = append(sinks, s)
	}
	buckets := bucketsOf(sinks)
	ix := newValueIndex(buckets)
	blocks := blocksOf(ix, sinks, buckets)
	acc := make([]int64, len(ix.values))
	out := make([][]float64, len(percentiles))
	for i := range out {
		out[i] = make([]float64, 1)
	}
	for trial := range 200 {
		chosen := make([]int, len(blocks))
		merged := metrics.NewSink(metrics.Trend)
		for i := range chosen {
			chosen[i] = rng.IntN(len(blocks))
			merged.Merge(sinks[chosen[i]])
		}
		mergedPercentiles(ix, blocks, chosen, acc, out, 0)
		for i, pc := range percentiles {
			if want := merged.Percentile(pc.p); out[i][0] != want {
				t.Fatalf("trial %d: %s = %g, the merged histogram says %g", trial, pc.name, out[i][0], want)
			}
		}
	}
}
