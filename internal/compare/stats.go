package compare

import (
	"math"
	"sort"
)

// This file holds the interval maths that need no result file: the rank of
// a percentile, binomial tails, Wilson and Newcombe intervals for shares,
// a Poisson rate ratio, and quantiles of bootstrap draws.

// rank is the 1-based rank of the p-th percentile among n samples, as HDR
// histograms (and so metrics.Sink.Percentile) take it: ⌊p/100·n + ½⌋,
// kept in [1, n].
func rank(p float64, n int64) int64 {
	r := p/100*float64(n) + 0.5
	if !(r >= 1) {
		return 1
	}
	if r >= float64(n) {
		return n
	}
	return int64(r)
}

// zFor is the two-sided normal quantile of a confidence level: 1.96 for 0.95.
func zFor(confidence float64) float64 {
	return math.Sqrt2 * math.Erfinv(confidence)
}

// binomialTail is P(X ≥ k) for X ~ Binomial(n, p), through the regularized
// incomplete beta function: P(X ≥ k) = I_p(k, n−k+1).
func binomialTail(n, k int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	return regIncBeta(float64(k), float64(n-k+1), p)
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by the
// continued fraction of Numerical Recipes (§6.4), evaluated on the side of
// its symmetry where it converges fast.
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	lab, _ := math.Lgamma(a + b)
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaFraction(a, b, x) / a
	}
	return 1 - front*betaFraction(b, a, 1-x)/b
}

// betaFraction evaluates the incomplete beta's continued fraction by the
// modified Lentz method. It converges in O(√max(a, b)) steps.
func betaFraction(a, b, x float64) float64 {
	const tiny, eps = 1e-300, 1e-15
	clamp := func(v float64) float64 {
		if math.Abs(v) < tiny {
			return tiny
		}
		return v
	}
	limit := 300 + 20*int(math.Sqrt(max(a, b)))
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1/clamp(1-qab*x/qap)
	h := d
	for m := 1; m <= limit; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 / clamp(1+aa*d)
		c = clamp(1 + aa/c)
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 / clamp(1+aa*d)
		c = clamp(1 + aa/c)
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// wilson is the Wilson score interval of a share: k successes in n trials.
// n must be positive.
func wilson(k, n int64, z float64) (lo, hi float64) {
	p := float64(k) / float64(n)
	nf := float64(n)
	z2 := z * z
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return max(0, center-half), min(1, center+half)
}

// newcombe is the difference of two shares, k2/n2 − k1/n1, with Newcombe's
// hybrid score interval (1998, method 10), built from each share's Wilson
// interval: it keeps its coverage for shares near 0, where a failure rate
// usually is. n1 and n2 must be positive.
func newcombe(k1, n1, k2, n2 int64, z float64) (diff, lo, hi float64) {
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	l1, u1 := wilson(k1, n1, z)
	l2, u2 := wilson(k2, n2, z)
	diff = p2 - p1
	lo = diff - math.Sqrt((p2-l2)*(p2-l2)+(u1-p1)*(u1-p1))
	hi = diff + math.Sqrt((u2-p2)*(u2-p2)+(p1-l1)*(p1-l1))
	return diff, lo, hi
}

// poissonRatio is the ratio of two Poisson rates, (n2/t2)/(n1/t1), with an
// interval from the conditional binomial: given n1+n2 events, n2 is
// Binomial(n1+n2, π) with π/(1−π) = ratio·t2/t1; π's Wilson interval maps
// to the ratio's. n1 must be positive, t1 and t2 too.
func poissonRatio(n1 int64, t1 float64, n2 int64, t2 float64, z float64) (ratio, lo, hi float64) {
	ratio = (float64(n2) / t2) / (float64(n1) / t1)
	pl, pu := wilson(n2, n1+n2, z)
	odds := func(p float64) float64 {
		if p >= 1 {
			return math.Inf(1)
		}
		return p / (1 - p) * t1 / t2
	}
	return ratio, odds(pl), odds(pu)
}

// quantile is the q-quantile of sorted draws, interpolated linearly
// between order statistics (Hyndman and Fan's type 7).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := q * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// minValidShare is the share of bootstrap draws that must give a defined
// change (both runs resampled to at least one sample, the base's value
// positive) for its interval to be reported.
const minValidShare = 0.95

// relativeInterval is the percentile-bootstrap interval of new/base − 1 over
// paired draws: base[r] and new[r] come from resample r. ok is false when
// too few draws define the change.
func relativeInterval(base, new []float64, confidence float64) (lo, hi float64, ok bool) {
	ratios := make([]float64, 0, len(base))
	for r := range base {
		b, n := base[r], new[r]
		if !(b > 0) || math.IsNaN(n) || math.IsInf(n, 0) || math.IsInf(b, 0) {
			continue
		}
		ratios = append(ratios, n/b-1)
	}
	if len(ratios) == 0 || float64(len(ratios)) < minValidShare*float64(len(base)) {
		return 0, 0, false
	}
	sort.Float64s(ratios)
	alpha := 1 - confidence
	return quantile(ratios, alpha/2), quantile(ratios, 1-alpha/2), true
}
