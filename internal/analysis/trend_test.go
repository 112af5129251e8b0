package analysis

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTheilSen(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name          string
		xs, ys        []float64
		slope, interc float64
		ok            bool
	}{
		// y = 2x + 1: every pairwise slope is 2, every y - 2x is 1.
		{"perfect line", []float64{0, 1, 2, 3, 4}, []float64{1, 3, 5, 7, 9}, 2, 1, true},
		// y = 3x + 2 with y(5) = 1000 instead of 17. Of the 15 slopes, the
		// 10 among points 0..4 are 3 and the 5 to point 5 are >= 197, so the
		// 8th smallest (the median) is 3. Residuals y - 3x: five 2s and
		// 985; median of six = (2+2)/2 = 2.
		{"one huge outlier", []float64{0, 1, 2, 3, 4, 5}, []float64{2, 5, 8, 11, 14, 1000}, 3, 2, true},
		// Points (0,0) (1,1) (2,1) (3,4). Slopes: (0,0)-(1,1)=1,
		// (0,0)-(2,1)=0.5, (0,0)-(3,4)=4/3, (1,1)-(2,1)=0, (1,1)-(3,4)=1.5,
		// (2,1)-(3,4)=3 → sorted 0 0.5 1 4/3 1.5 3, median (1+4/3)/2 = 7/6.
		// Residuals y - 7x/6: 0, -1/6, 1-14/6=-4/3, 4-21/6=1/2 → sorted
		// -4/3 -1/6 0 1/2, median -1/12.
		{"even number of slopes", []float64{0, 1, 2, 3}, []float64{0, 1, 1, 4}, 7.0 / 6, -1.0 / 12, true},
		// x ties are skipped: (0,0)-(1,1)=1 (0,0)-(2,2)=1 (0,2)-(1,1)=-1
		// (0,2)-(2,2)=0 (1,1)-(2,2)=1 → sorted -1 0 1 1 1, median 1.
		// Residuals y - x: 0 2 0 0 → median (0+0)/2 = 0.
		{"tied x", []float64{0, 0, 1, 2}, []float64{0, 2, 1, 2}, 1, 0, true},
		// The NaN point is dropped: (0,1)-(2,5) has slope 2, intercept 1.
		{"NaN dropped", []float64{0, 1, 2}, []float64{1, nan, 5}, 2, 1, true},
		{"one point", []float64{1}, []float64{1}, 0, 0, false},
		{"no points", nil, nil, 0, 0, false},
		{"all x equal", []float64{3, 3, 3}, []float64{1, 2, 3}, 0, 0, false},
		{"lengths differ: one usable point", []float64{0, 1, 2}, []float64{5}, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			slope, interc, ok := TheilSen(c.xs, c.ys)
			if ok != c.ok || !near(slope, c.slope, 1e-12) || !near(interc, c.interc, 1e-12) {
				t.Errorf("TheilSen = %g, %g, %v; want %g, %g, %v", slope, interc, ok, c.slope, c.interc, c.ok)
			}
		})
	}
}

// The counting search must pick the same slope as listing every slope,
// including with ties in x, in y and in slope.
func TestTheilSenSearchMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + rng.IntN(60)
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range n {
			switch trial % 3 {
			case 0: // continuous
				xs[i], ys[i] = rng.Float64()*100, rng.NormFloat64()*10+0.5*float64(i)
			case 1: // integer grid: many ties
				xs[i], ys[i] = float64(rng.IntN(8)), float64(rng.IntN(5))
			default: // time series with a trend and noise
				xs[i], ys[i] = float64(i*10), 100+0.02*float64(i*10)+rng.NormFloat64()
			}
		}
		pts, total, sameX := preparePoints(xs, ys)
		if total == 0 {
			continue
		}
		want := exactMedianSlope(pts, total)
		got := searchMedianSlope(pts, total, sameX)
		if !near(got, want, 1e-9*math.Max(1, math.Abs(want))) {
			t.Fatalf("trial %d (n=%d): search %v, exact %v", trial, n, got, want)
		}
	}
}

// A series long enough to take the search path inside TheilSen.
func TestTheilSenLongSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 1600 // 1,279,200 pairs > bruteForcePairs
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range n {
		xs[i] = float64(i * 10)
		ys[i] = 50 + 0.01*xs[i] + rng.NormFloat64()
	}
	pts, total, _ := preparePoints(xs, ys)
	if total <= bruteForcePairs {
		t.Fatalf("only %d pairs: test does not reach the search path", total)
	}
	slope, _, ok := TheilSen(xs, ys)
	want := exactMedianSlope(pts, total)
	if !ok || !near(slope, want, 1e-9) {
		t.Fatalf("TheilSen slope %v, exact %v", slope, want)
	}
}

func TestMannKendall(t *testing.T) {
	cases := []struct {
		name      string
		ys        []float64
		s, varS   float64
		z, p      float64
		trend     string
		tolerance float64
	}{
		// n=5, all 10 pairs rise: S=10. VarS = n(n-1)(2n+5)/18 =
		// 5·4·15/18 = 16.667. Z = (S-1)/√VarS = 9/4.0825 = 2.2045;
		// p = 2(1-Φ(2.2045)) = 0.0275 < 0.05 → increasing.
		{"increasing", []float64{1, 2, 3, 4, 5}, 10, 300.0 / 18, 2.2045, 0.0275, TrendIncreasing, 1e-4},
		// Mirror image: S=-10, Z=(S+1)/√VarS = -2.2045.
		{"decreasing", []float64{5, 4, 3, 2, 1}, -10, 300.0 / 18, -2.2045, 0.0275, TrendDecreasing, 1e-4},
		// Pairs of [2,1,4,3,5]: from 2: - + + +; from 1: + + +; from 4:
		// - +; from 3: + → 8 rises, 2 falls, S=6. VarS=16.667,
		// Z=5/4.0825=1.2247, p=0.2207 → none.
		{"mixed", []float64{2, 1, 4, 3, 5}, 6, 300.0 / 18, 1.2247, 0.2207, TrendNone, 1e-4},
		// [1,2,2,3]: (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+ → S=5.
		// VarS = (4·3·13 - 2·1·9)/18 = (156-18)/18 = 7.667 (one tie
		// group of 2). Z = 4/2.7689 = 1.4446, p = 0.1486 → none.
		{"ties", []float64{1, 2, 2, 3}, 5, 138.0 / 18, 1.4446, 0.1486, TrendNone, 1e-4},
		// Every value tied: VarS = (156-156)/18 = 0, S=0 → Z=0, P=1.
		{"constant", []float64{3, 3, 3, 3}, 0, 0, 0, 1, TrendNone, 0},
		{"too short", []float64{1, 2}, 0, 0, 0, 1, TrendNone, 0},
		// NaN is dropped: the same as [1,2,3,4,5].
		{"NaN dropped", []float64{1, 2, math.NaN(), 3, 4, 5}, 10, 300.0 / 18, 2.2045, 0.0275, TrendIncreasing, 1e-4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := MannKendall(c.ys, 0.05)
			if r.S != c.s || !near(r.VarS, c.varS, 1e-9) || !near(r.Z, c.z, c.tolerance) ||
				!near(r.P, c.p, c.tolerance) || r.Trend != c.trend {
				t.Errorf("MannKendall(%v) = %+v; want S=%g VarS=%g Z=%g P=%g %s",
					c.ys, r, c.s, c.varS, c.z, c.p, c.trend)
			}
		})
	}
	// alpha: p = 0.2207 is a trend at 0.25 but not at the default.
	if r := MannKendall([]float64{2, 1, 4, 3, 5}, 0.25); r.Trend != TrendIncreasing {
		t.Errorf("alpha 0.25: trend %q, want increasing", r.Trend)
	}
	if r := MannKendall([]float64{2, 1, 4, 3, 5}, 0); r.Trend != TrendNone {
		t.Errorf("alpha 0 (default 0.05): trend %q, want none", r.Trend)
	}
}

// S from the merge-sort count equals the O(n²) definition.
func TestMannKendallSMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 100 {
		n := 3 + rng.IntN(80)
		ys := make([]float64, n)
		for i := range ys {
			ys[i] = float64(rng.IntN(1 + trial%10)) // small ranges: many ties
		}
		want := 0.0
		for i := range ys {
			for j := i + 1; j < n; j++ {
				switch {
				case ys[j] > ys[i]:
					want++
				case ys[j] < ys[i]:
					want--
				}
			}
		}
		orig := append([]float64(nil), ys...)
		if r := MannKendall(ys, 0.05); r.S != want {
			t.Fatalf("trial %d: S=%g, want %g (%v)", trial, r.S, want, ys)
		}
		for i := range ys {
			if ys[i] != orig[i] {
				t.Fatal("MannKendall modified its input")
			}
		}
	}
}

func TestLeakIndicator(t *testing.T) {
	ramp := make([]float64, 20)
	for i := range ramp {
		ramp[i] = float64(i + 1) // 1..20
	}
	warm := []float64{100, 100}
	for range 10 {
		warm = append(warm, 10)
	}
	for range 10 {
		warm = append(warm, 15)
	}
	cases := []struct {
		name   string
		ys     []float64
		warmup int
		growth float64
		ok     bool
	}{
		{"flat", repeat(10, 20), 0, 0, true},
		// 20 points, tenth = 2: first [1,2] median 1.5, last [19,20]
		// median 19.5 → (19.5-1.5)/1.5 = 12.
		{"growing", ramp, 0, 12, true},
		// The two warm-up 100s are skipped; 20 points remain, tenth = 2:
		// first [10,10] → 10, last [15,15] → 15, growth 0.5.
		{"growing after warmup", warm, 2, 0.5, true},
		// Without skipping: 22 points, tenth = 2: first [100,100] → 100,
		// last 15 → -0.85 (the warm-up hides the growth).
		{"warmup not skipped", warm, 0, -0.85, true},
		{"too short", repeat(10, 9), 0, 0, false},
		{"too short after warmup", repeat(10, 12), 3, 0, false},
		{"warmup covers all", repeat(10, 12), 12, 0, false},
		{"zero baseline", append(repeat(0, 10), repeat(5, 10)...), 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, ok := LeakIndicator(c.ys, c.warmup)
			if ok != c.ok || !near(g, c.growth, 1e-12) {
				t.Errorf("LeakIndicator = %g, %v; want %g, %v", g, ok, c.growth, c.ok)
			}
		})
	}
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestDegrade(t *testing.T) {
	// One hour at 60 s: 61 points, y = 100 + 120·t/3600 (+120 ms/h).
	// Theil–Sen slope 1/30 ms/s = 120 ms/h. Strictly rising, so
	// Mann–Kendall S = 1830, p ≈ 0. Growth: tenth = 6 points; first
	// 100..110 (median 105), last 210..220 (median 215): 110/105 = 105%.
	var xs, grow, fall, flat []float64
	for i := range 61 {
		x := float64(i * 60)
		xs = append(xs, x)
		grow = append(grow, 100+x/30)
		fall = append(fall, 200-x/60)
		flat = append(flat, 100+float64(i%2))
	}
	cases := []struct {
		name        string
		xs, ys      []float64
		warmup      int
		slope       float64
		growth      float64
		significant bool
		verdict     string
	}{
		{"growing", xs, grow, 0, 120, 110.0 / 105, true,
			"p95 latency grew 105% (+120 ms/h, significant, p<0.001)"},
		// y falls 60 ms/h; first tenth 200..195 (median 197.5), last
		// 145..140 (median 142.5): -55/197.5 = -27.8%.
		{"falling", xs, fall, 0, -60, -55 / 197.5, true,
			"p95 latency fell 28% (-60 ms/h, significant, p<0.001)"},
		// Alternating 100,101,...,100 (31 lows at even i, 30 highs):
		// the low at i=2k has 30-k later highs (Σ 465 rises), the high at
		// 2k+1 has 30-k later lows (Σ 465 falls), and the C(31,2)+C(30,2)
		// = 900 same-value pairs are ties. Mann–Kendall S = 0, p = 1.
		// Sorted slopes: 465 negative, 900 zero, 465 positive; the median
		// (915th and 916th of 1830) is 0.
		// Growth: both tenths are 100,101,100,101,100,101 → median
		// 100.5 → 0.
		{"flat", xs, flat, 0, 0, 0, false, "p95 latency stable (+0 ms/h, not significant)"},
		{"too few", xs[:2], grow[:2], 0, 0, 0, false, "p95 latency: too few points to judge a trend"},
		{"warmup leaves too few", xs[:5], grow[:5], 3, 0, 0, false, "p95 latency: too few points to judge a trend"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Degrade("p95 latency", "ms", c.xs, c.ys, c.warmup)
			if !near(d.SlopePerHour, c.slope, 1e-9) || !near(d.Growth, c.growth, 1e-9) ||
				d.Significant != c.significant || d.Verdict != c.verdict {
				t.Errorf("Degrade = %+v; want slope %g/h growth %g significant %v verdict %q",
					d, c.slope, c.growth, c.significant, c.verdict)
			}
		})
	}
	// A plain number has no unit before "/h".
	if d := Degrade("errors", "", xs, grow, 0); !strings.Contains(d.Verdict, "(+120/h,") {
		t.Errorf("unitless verdict %q", d.Verdict)
	}
	// Warm-up points are left out of the trend: a cold start of 500 ms
	// followed by a flat series is stable.
	cold := append([]float64{500, 400, 300}, repeat(100, 58)...)
	if d := Degrade("p95 latency", "ms", xs, cold, 3); d.Significant || d.SlopePerHour != 0 {
		t.Errorf("cold start not skipped: %+v", d)
	}
	if d := Degrade("p95 latency", "ms", xs, cold, 0); !d.Significant {
		t.Errorf("cold start kept should read as a (falling) trend: %+v", d)
	}
}
