package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// bruteForcePairs is the largest number of pairwise slopes TheilSen
// materialises (8 MiB); longer series use the counting search.
const bruteForcePairs = 1 << 20

// TheilSen returns the median of pairwise slopes (y per x unit) and the
// intercept (median of y - slope*x). Pairs with equal x are skipped, and
// points with a NaN or infinite coordinate are ignored. It needs >= 2 points
// with distinct x; ok is false otherwise.
//
// Up to about 1,450 points every slope is computed and the median is exact.
// Longer series (a day of 10-second intervals is 8,640 points, 37 million
// slopes) use an O(n log n) count of the slopes at or below a candidate,
// searched over the float64 values, which agrees with the exact median to
// within the rounding of y - t·x.
func TheilSen(xs, ys []float64) (slope, intercept float64, ok bool) {
	pts, total, sameX := preparePoints(xs, ys)
	if total == 0 {
		return 0, 0, false
	}
	if total <= bruteForcePairs {
		slope = exactMedianSlope(pts, total)
	} else {
		slope = searchMedianSlope(pts, total, sameX)
	}
	res := make([]float64, len(pts))
	for i, p := range pts {
		res[i] = p.y - slope*p.x
	}
	return slope, median(res), true
}

type point struct{ x, y float64 }

// preparePoints returns the finite points sorted by x ascending and, within
// equal x, y descending (what the counting search relies on), with the
// number of pairs of distinct x and of equal x.
func preparePoints(xs, ys []float64) (pts []point, total, sameX int64) {
	pts = points(xs, ys)
	slices.SortFunc(pts, func(a, b point) int {
		if c := cmp.Compare(a.x, b.x); c != 0 {
			return c
		}
		return cmp.Compare(b.y, a.y)
	})
	for i := 0; i < len(pts); {
		j := i + 1
		for j < len(pts) && pts[j].x == pts[i].x {
			j++
		}
		sameX += pairs(int64(j - i))
		i = j
	}
	return pts, pairs(int64(len(pts))) - sameX, sameX
}

// points pairs xs with ys (up to the shorter length), dropping non-finite
// coordinates.
func points(xs, ys []float64) []point {
	n := min(len(xs), len(ys))
	pts := make([]point, 0, n)
	for i := range n {
		x, y := xs[i], ys[i]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		pts = append(pts, point{x, y})
	}
	return pts
}

// exactMedianSlope computes every slope between points of distinct x.
func exactMedianSlope(pts []point, total int64) float64 {
	slopes := make([]float64, 0, total)
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			if dx := pts[j].x - pts[i].x; dx != 0 {
				slopes = append(slopes, (pts[j].y-pts[i].y)/dx)
			}
		}
	}
	return median(slopes)
}

// searchMedianSlope finds the median slope without listing the slopes. For
// points i before j in x order with x_i < x_j, slope(i,j) <= t exactly when
// r_j <= r_i with r = y - t·x, so the slopes at or below t are the pairs that
// are out of order (or tied) in r: a merge-sort count. Pairs of equal x are
// all counted, because they are sorted by y descending and so by r
// descending, and subtracted. The k-th smallest slope is then the least t
// whose count reaches k, found by bisection over the ordered float64 values
// between the smallest and largest slope.
func searchMedianSlope(pts []point, total, sameX int64) float64 {
	lo, hi := slopeBounds(pts)
	r := make([]float64, len(pts))
	buf := make([]float64, len(pts))
	atOrBelow := func(t float64) int64 {
		for i, p := range pts {
			r[i] = p.y - t*p.x
		}
		var n int64
		// inversions counts strict pairs; add the pairs tied in r.
		n = inversions(r, buf)
		tieGroups(r, func(g int64) { n += pairs(g) })
		return n - sameX
	}
	kth := func(k int64) float64 {
		a, b := orderedBits(lo), orderedBits(hi)
		for a < b {
			m := a + (b-a)/2
			if atOrBelow(fromOrderedBits(m)) >= k {
				b = m
			} else {
				a = m + 1
			}
		}
		return fromOrderedBits(a)
	}
	if total%2 == 1 {
		return kth(total/2 + 1)
	}
	return (kth(total/2) + kth(total/2+1)) / 2
}

// slopeBounds returns the smallest and largest slope between points of
// distinct x (pts sorted by x). Both are reached between neighbouring x
// values: a slope spanning a middle point is a weighted mean of the slopes to
// and from it, so one of those is at least as steep.
func slopeBounds(pts []point) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	prevMin, prevMax, prevX, have := 0.0, 0.0, 0.0, false
	for i := 0; i < len(pts); {
		j := i + 1
		gMin, gMax := pts[i].y, pts[i].y
		for j < len(pts) && pts[j].x == pts[i].x {
			gMin, gMax = min(gMin, pts[j].y), max(gMax, pts[j].y)
			j++
		}
		if have {
			dx := pts[i].x - prevX
			lo = min(lo, (gMin-prevMax)/dx)
			hi = max(hi, (gMax-prevMin)/dx)
		}
		prevMin, prevMax, prevX, have = gMin, gMax, pts[i].x, true
		i = j
	}
	return lo, hi
}

// orderedBits maps a float64 to a uint64 with the same order (for finite
// values and infinities), so bisection can run over representable values.
func orderedBits(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// fromOrderedBits inverts orderedBits.
func fromOrderedBits(u uint64) float64 {
	if u>>63 == 1 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// MannKendallResult is the outcome of a Mann–Kendall trend test.
type MannKendallResult struct {
	// S is the sum over all pairs i < j of sign(y_j - y_i).
	S float64 `json:"s"`
	// VarS is the variance of S under no trend, corrected for ties.
	VarS float64 `json:"var_s"`
	// Z is the continuity-corrected normal score: (S-1)/√VarS for S > 0,
	// (S+1)/√VarS for S < 0, 0 otherwise.
	Z float64 `json:"z"`
	// P is the two-sided p-value of Z under the standard normal.
	P float64 `json:"p"`
	// Trend is "increasing", "decreasing" or "none" at the requested alpha.
	Trend string `json:"trend"`
}

// The Trend values of MannKendallResult.
const (
	TrendIncreasing = "increasing"
	TrendDecreasing = "decreasing"
	TrendNone       = "none"
)

// MannKendall tests for a monotonic trend, with the tie correction of the
// variance and continuity correction; n < 3 gives P=1, Trend "none". A trend
// is reported when P < alpha (alpha outside (0, 1) means 0.05). NaN and
// infinite values are ignored. S is counted in O(n log n) as
// (pairs) - 2·(descending pairs) - (tied pairs).
func MannKendall(ys []float64, alpha float64) MannKendallResult {
	if !(alpha > 0 && alpha < 1) {
		alpha = 0.05
	}
	vs := Finite(ys)
	res := MannKendallResult{P: 1, Trend: TrendNone}
	n := int64(len(vs))
	if n < 3 {
		return res
	}
	inv := inversions(vs, make([]float64, len(vs))) // vs is now sorted
	var tied int64
	tieTerm := 0.0 // Σ t(t-1)(2t+5) over tie groups
	tieGroups(vs, func(t int64) {
		tied += pairs(t)
		tf := float64(t)
		tieTerm += tf * (tf - 1) * (2*tf + 5)
	})
	nf := float64(n)
	res.S = float64(pairs(n) - 2*inv - tied)
	res.VarS = (nf*(nf-1)*(2*nf+5) - tieTerm) / 18
	if res.VarS <= 0 {
		return res // every value tied
	}
	sd := math.Sqrt(res.VarS)
	switch {
	case res.S > 0:
		res.Z = (res.S - 1) / sd
	case res.S < 0:
		res.Z = (res.S + 1) / sd
	}
	// Two-sided: P(|N| >= |z|) = 2(1 - Φ(|z|)) = erfc(|z|/√2).
	res.P = math.Erfc(math.Abs(res.Z) / math.Sqrt2)
	if res.P < alpha {
		if res.Z > 0 {
			res.Trend = TrendIncreasing
		} else if res.Z < 0 {
			res.Trend = TrendDecreasing
		}
	}
	return res
}

// LeakIndicator returns the relative growth of the series from its first
// steady tenth to its last tenth: (median(last tenth) - median(first steady
// tenth)) / median(first steady tenth). warmup is the number of leading points
// skipped before the first tenth; a tenth is ⌊(len(ys)-warmup)/10⌋ points
// (NaN and infinite values are dropped after the warmup is skipped). At least
// 1 point per tenth; ok is false when the series is too short or the baseline
// is 0. A negative baseline divides by its magnitude, so a positive growth
// always means the values rose.
func LeakIndicator(ys []float64, warmup int) (growth float64, ok bool) {
	warmup = max(warmup, 0)
	if warmup >= len(ys) {
		return 0, false
	}
	vs := Finite(ys[warmup:])
	tenth := len(vs) / 10
	if tenth < 1 {
		return 0, false
	}
	first := median(slices.Clone(vs[:tenth]))
	last := median(slices.Clone(vs[len(vs)-tenth:]))
	if first == 0 {
		return 0, false
	}
	return (last - first) / math.Abs(first), true
}

// Degradation summarises how one metric moved over a soak test.
type Degradation struct {
	// Metric names the series in the verdict ("p95 latency").
	Metric string `json:"metric"`
	// SlopePerHour is the Theil–Sen slope in Unit per hour.
	SlopePerHour float64 `json:"slope_per_hour"`
	// Unit is the series' unit ("ms"), "" for a plain number.
	Unit string `json:"unit"`
	// Growth is LeakIndicator's relative growth (0.42 = +42%), 0 when it
	// could not be computed.
	Growth float64 `json:"growth"`
	// P is the Mann–Kendall two-sided p-value.
	P float64 `json:"p"`
	// Significant is true when Mann–Kendall finds a trend at alpha 0.05.
	Significant bool `json:"significant"`
	// Verdict is one sentence for a person.
	Verdict string `json:"verdict"`
	// FittedGrowth is the Theil–Sen line's rise over the judged span
	// relative to its value at the span's start (0.6 = +60 %); 0 when the
	// line starts at or below zero. Unlike Growth's tenths of a short run, one
	// outlying interval does not move it.
	FittedGrowth float64 `json:"fitted_growth"`
	// First and Last are the line's values at the first and the last judged
	// point, in Unit.
	First float64 `json:"first"`
	Last  float64 `json:"last"`
	// Points is how many (finite) points were judged.
	Points int `json:"points"`
	// GrowthLow and GrowthHigh are the 95 % confidence interval of
	// FittedGrowth (from TheilSenCI); ProvenGrowth is the bound nearest 0,
	// or 0 when the interval holds 0: the growth the data proves. It is what
	// a verdict should judge, since it is 0 exactly when the rise is not
	// significant.
	GrowthLow    float64 `json:"growth_low"`
	GrowthHigh   float64 `json:"growth_high"`
	ProvenGrowth float64 `json:"proven_growth"`
}

// DegradeAlpha is the significance level of Degrade's trend test.
const DegradeAlpha = 0.05

// Degrade summarises one per-interval series (xs in seconds since start):
// Theil–Sen slope scaled to per hour, Mann–Kendall at alpha 0.05,
// LeakIndicator; Verdict is one sentence: "p95 latency grew 42% (+120 ms/h,
// significant, p=0.001)" or "p95 latency stable (+0.3 ms/h, not
// significant)". The first warmup points are left out of all three, so a cold
// start does not read as a trend.
func Degrade(metric, unit string, xs, ys []float64, warmup int) Degradation {
	d := Degradation{Metric: metric, Unit: unit, P: 1}
	warmup = max(warmup, 0)
	n := min(len(xs), len(ys))
	if warmup >= n {
		d.Verdict = metric + ": too few points to judge a trend"
		return d
	}
	xs, ys = xs[warmup:n], ys[warmup:n]
	slope, intercept, okSlope := TheilSen(xs, ys)
	// Mann–Kendall takes the series in x order.
	pts := points(xs, ys)
	slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
	d.Points = len(pts)
	if okSlope && len(pts) > 0 {
		d.First, d.Last = intercept+slope*pts[0].x, intercept+slope*pts[len(pts)-1].x
		if d.First > 0 {
			d.FittedGrowth = (d.Last - d.First) / d.First
			if lo, hi, ok := TheilSenCI(xs, ys, DegradeAlpha); ok {
				span := pts[len(pts)-1].x - pts[0].x
				// A quantity cannot fall by more than all of it.
				d.GrowthLow, d.GrowthHigh = max(-1, lo*span/d.First), max(-1, hi*span/d.First)
				switch {
				case d.GrowthLow > 0:
					d.ProvenGrowth = d.GrowthLow
				case d.GrowthHigh < 0:
					d.ProvenGrowth = d.GrowthHigh
				}
			}
		}
	}
	ordered := make([]float64, len(pts))
	for i, p := range pts {
		ordered[i] = p.y
	}
	mk := MannKendall(ordered, DegradeAlpha)
	growth, okGrowth := LeakIndicator(ordered, 0)
	if !okSlope || len(ordered) < 3 {
		d.Verdict = metric + ": too few points to judge a trend"
		return d
	}
	d.SlopePerHour = slope * 3600
	if okGrowth {
		d.Growth = growth
	}
	d.P = mk.P
	d.Significant = mk.Trend != TrendNone
	rate := fmtSigned(d.SlopePerHour) + " " + unit + "/h"
	if unit == "" {
		rate = fmtSigned(d.SlopePerHour) + "/h"
	}
	if !d.Significant {
		d.Verdict = fmt.Sprintf("%s stable (%s, not significant)", metric, rate)
		return d
	}
	verb := "grew"
	if mk.Trend == TrendDecreasing {
		verb = "fell"
	}
	by := ""
	if okGrowth {
		by = " " + fmtGrowth(growth)
	}
	d.Verdict = fmt.Sprintf("%s %s%s (%s, significant, %s)", metric, verb, by, rate, FormatP(mk.P))
	return d
}

// fmtGrowth renders a relative change without its sign: "42%", "3.5%".
func fmtGrowth(g float64) string {
	g = math.Abs(g) * 100
	if g >= 10 {
		return fmt.Sprintf("%.0f%%", g)
	}
	return fmt.Sprintf("%.1f%%", g)
}

// FormatP renders a p-value: "p=0.036", "p<0.001".
func FormatP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return fmt.Sprintf("p=%.3f", p)
}
