package analysis

import (
	"cmp"
	"math"
	"slices"
)

// maxCIPoints bounds the series TheilSenCI sorts every pairwise slope of
// (2,000 points: 2 million slopes); longer series are thinned evenly first.
const maxCIPoints = 2000

// TheilSenCI returns the two-sided (1−alpha) confidence interval of the
// Theil–Sen slope (Sen 1968): the pairwise slopes ranked (N − C)/2 and
// (N + C)/2 + 1, where N is their number and C = z·√Var(S), Var(S) the
// Mann–Kendall variance of the same points. An interval that excludes 0
// goes with a significant Mann–Kendall trend. ok is false with fewer than
// 3 points of distinct x.
func TheilSenCI(xs, ys []float64, alpha float64) (lo, hi float64, ok bool) {
	if !(alpha > 0 && alpha < 1) {
		alpha = DegradeAlpha
	}
	pts := points(xs, ys)
	if len(pts) > maxCIPoints {
		step := float64(len(pts)) / maxCIPoints
		thin := make([]point, 0, maxCIPoints)
		for i := 0.0; int(i) < len(pts); i += step {
			thin = append(thin, pts[int(i)])
		}
		pts = thin
	}
	if len(pts) < 3 {
		return 0, 0, false
	}
	var slopes []float64
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			if dx := pts[j].x - pts[i].x; dx != 0 {
				slopes = append(slopes, (pts[j].y-pts[i].y)/dx)
			}
		}
	}
	if len(slopes) < 3 {
		return 0, 0, false
	}
	slices.Sort(slopes)
	ysOrdered := make([]float64, len(pts))
	slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
	for i, p := range pts {
		ysOrdered[i] = p.y
	}
	mk := MannKendall(ysOrdered, alpha)
	z := normalQuantile(1 - alpha/2)
	c := z * math.Sqrt(math.Max(mk.VarS, 0))
	n := float64(len(slopes))
	loRank := int(math.Floor((n - c) / 2)) // 1-based rank of the lower bound
	hiRank := int(math.Ceil((n+c)/2)) + 1
	loRank = min(max(loRank, 1), len(slopes))
	hiRank = min(max(hiRank, 1), len(slopes))
	return slopes[loRank-1], slopes[hiRank-1], true
}

// normalQuantile is the standard normal quantile (Acklam's rational
// approximation, relative error below 1.2e-9).
func normalQuantile(p float64) float64 {
	a := [...]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	b := [...]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01}
	c := [...]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	d := [...]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}
	const low = 0.02425
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p < low:
		q := math.Sqrt(-2 * math.Log(p))
		return (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	case p > 1-low:
		q := math.Sqrt(-2 * math.Log(1-p))
		return -(((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	}
	q := p - 0.5
	r := q * q
	return (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r + a[5]) * q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r + 1)
}
