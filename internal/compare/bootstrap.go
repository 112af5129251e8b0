package compare

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/driftload/driftload/internal/metrics"
)

// This file holds the two bootstraps of a percentile: from a whole
// histogram (every sample redrawn independently), and from a run's
// intervals (whole intervals redrawn, keeping what happened together
// together), and the interval bootstrap of a rate.

// percentiles are the percentiles every comparison reports, with their names.
var percentiles = []struct {
	name string
	p    float64
}{{"p50", 50}, {"p95", 95}, {"p99", 99}}

// exactDist is the bootstrap distribution of one percentile of one
// histogram: the percentile of n samples redrawn with replacement from the
// histogram's n samples is values[j] with probability cdf[j] − cdf[j−1].
type exactDist struct {
	values []float64
	cdf    []float64
}

// exactPercentile computes, with no Monte Carlo error, the bootstrap
// distribution of the p-th percentile of buckets (values clamped into
// [lo, hi], the samples' exact extremes, as Sink.Percentile does): the resampled percentile
// of rank k is at most the value of bucket j exactly when at least k of
// the n draws fall in buckets 0..j, and the number that does is
// Binomial(n, F_j), F_j the share of samples in buckets 0..j. So
// P(percentile* ≤ v_j) = P(Binomial(n, F_j) ≥ k). Drawing from this
// distribution is drawing a percentile from a resample of n values taken
// from the bucket counts, without taking the n values.
func exactPercentile(buckets []metrics.Bucket, lo, hi, p float64) exactDist {
	var n int64
	for _, b := range buckets {
		n += b.Count
	}
	d := exactDist{values: make([]float64, len(buckets)), cdf: make([]float64, len(buckets))}
	if n == 0 {
		return exactDist{}
	}
	k := rank(p, n)
	var cum int64
	prev := 0.0
	for j, b := range buckets {
		cum += b.Count
		d.values[j] = max(lo, min(b.Value, hi))
		f := float64(cum) / float64(n)
		mean, sd := float64(n)*f, math.Sqrt(float64(n)*f*(1-f))
		var g float64
		switch {
		case cum >= n:
			g = 1
		case mean+12*sd+1 < float64(k):
			g = 0 // more than 12 standard deviations short of the rank
		case mean-12*sd-1 > float64(k):
			g = 1
		default:
			g = binomialTail(n, k, f)
		}
		g = max(g, prev) // rounding must not make a CDF fall
		d.cdf[j], prev = g, g
	}
	return d
}

// draw returns the percentile of one resample for a uniform u in [0, 1).
func (d exactDist) draw(u float64) float64 {
	if len(d.values) == 0 {
		return math.NaN()
	}
	j := sort.Search(len(d.cdf), func(j int) bool { return d.cdf[j] > u })
	if j == len(d.cdf) {
		j--
	}
	return d.values[j]
}

// histogramDraws returns r resampled values of every reported percentile of
// s, one row per percentile.
func histogramDraws(s *metrics.Sink, r int, rng *rand.Rand) [][]float64 {
	out := make([][]float64, len(percentiles))
	buckets := s.Buckets()
	for i, pc := range percentiles {
		d := exactPercentile(buckets, s.Min, s.Max, pc.p)
		out[i] = make([]float64, r)
		for j := range out[i] {
			out[i][j] = d.draw(rng.Float64())
		}
	}
	return out
}

// block is one resampling unit of a run: the bucket counts of one interval
// (or of the last intervals, see alignBlocks) over a value index shared by
// both runs and its samples' exact extremes, with its requests and length
// for rates.
type block struct {
	entries  []entry
	count    int64
	min, max float64
	requests int64
	seconds  float64
}

// entry is a bucket of a block: an index into the shared values, a count.
type entry struct {
	idx   int
	count int64
}

// valueIndex maps bucket values to their place among all values of both
// runs, so blocks add up in one dense array.
type valueIndex struct {
	values []float64
	at     map[float64]int
}

func newValueIndex(sets ...[][]metrics.Bucket) *valueIndex {
	seen := map[float64]bool{}
	var values []float64
	for _, set := range sets {
		for _, bs := range set {
			for _, b := range bs {
				if !seen[b.Value] {
					seen[b.Value] = true
					values = append(values, b.Value)
				}
			}
		}
	}
	sort.Float64s(values)
	at := make(map[float64]int, len(values))
	for i, v := range values {
		at[v] = i
	}
	return &valueIndex{values: values, at: at}
}

// block places an interval's buckets on the index; lo and hi are its
// samples' exact extremes.
func (ix *valueIndex) block(bs []metrics.Bucket, lo, hi float64) block {
	b := block{entries: make([]entry, len(bs)), min: lo, max: hi}
	for i, bk := range bs {
		b.entries[i] = entry{idx: ix.at[bk.Value], count: bk.Count}
		b.count += bk.Count
	}
	return b
}

// pairable reports whether two runs' intervals can be resampled in pairs:
// interval i of one run with interval i of the other, which cancels what
// the profile does over time (a ramp, a plateau) from the difference. They
// can when their counts differ by at most one interval or 5 %.
func pairable(k1, k2 int) bool {
	d := k1 - k2
	if d < 0 {
		d = -d
	}
	return d <= max(1, min(k1, k2)/20)
}

// alignBlocks cuts both runs' blocks to the shorter run's count, merging
// the longer run's extra intervals into its last block.
func alignBlocks(a, b []block) ([]block, []block) {
	k := min(len(a), len(b))
	merge := func(bs []block) []block {
		if len(bs) == k || k == 0 {
			return bs
		}
		out := append([]block(nil), bs[:k]...)
		last := out[k-1]
		last.entries = append([]entry(nil), last.entries...)
		for _, x := range bs[k:] {
			if x.count > 0 {
				if last.count == 0 {
					last.min, last.max = x.min, x.max
				}
				last.min, last.max = min(last.min, x.min), max(last.max, x.max)
			}
			last.entries = append(last.entries, x.entries...)
			last.count += x.count
			last.requests += x.requests
			last.seconds += x.seconds
		}
		out[k-1] = last
		return out
	}
	return merge(a), merge(b)
}

// resampler draws block indices: the same ones for both runs when they are
// paired, independent ones otherwise.
type resampler struct {
	rng    *rand.Rand
	paired bool
	a, b   []int
}

func newResampler(rng *rand.Rand, ka, kb int, paired bool) *resampler {
	return &resampler{rng: rng, paired: paired, a: make([]int, ka), b: make([]int, kb)}
}

// next fills the index sets of one resample.
func (s *resampler) next() (a, b []int) {
	for i := range s.a {
		s.a[i] = s.rng.IntN(len(s.a))
	}
	if s.paired {
		return s.a, s.a
	}
	for i := range s.b {
		s.b[i] = s.rng.IntN(len(s.b))
	}
	return s.a, s.b
}

// blockDraws returns r resampled values of every reported percentile for
// both runs (one row per percentile), each resample the merge of as many
// blocks, drawn with replacement, as the run has. A resample with no sample
// gives NaN.
func blockDraws(ix *valueIndex, base, new []block, paired bool, r int, rng *rand.Rand) (bd, nd [][]float64) {
	bd, nd = make([][]float64, len(percentiles)), make([][]float64, len(percentiles))
	for i := range percentiles {
		bd[i], nd[i] = make([]float64, r), make([]float64, r)
	}
	acc := make([]int64, len(ix.values))
	s := newResampler(rng, len(base), len(new), paired)
	for j := 0; j < r; j++ {
		ia, ib := s.next()
		mergedPercentiles(ix, base, ia, acc, bd, j)
		mergedPercentiles(ix, new, ib, acc, nd, j)
	}
	return bd, nd
}

// mergedPercentiles adds up the chosen blocks in acc and stores each
// reported percentile of the sum in out[i][j], clamped into the merged
// samples' extremes as Sink.Percentile clamps. Percentiles up to the
// median are found from the bottom, the others from the top, so that a
// p99 reads only the tail.
func mergedPercentiles(ix *valueIndex, blocks []block, chosen []int, acc []int64, out [][]float64, j int) {
	clear(acc)
	var total int64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range chosen {
		b := &blocks[c]
		for _, e := range b.entries {
			acc[e.idx] += e.count
		}
		if b.count > 0 {
			lo, hi = min(lo, b.min), max(hi, b.max)
		}
		total += b.count
	}
	if total == 0 {
		for i := range percentiles {
			out[i][j] = math.NaN()
		}
		return
	}
	for i, pc := range percentiles {
		k := rank(pc.p, total)
		var run int64
		if pc.p <= 50 {
			for v, c := range acc {
				if run += c; run >= k {
					out[i][j] = max(lo, min(ix.values[v], hi))
					break
				}
			}
			continue
		}
		// The first value from the top with total − k + 1 samples at or
		// above it is the first from the bottom with k at or below it.
		top := total - k + 1
		for v := len(acc) - 1; v >= 0; v-- {
			if run += acc[v]; run >= top {
				out[i][j] = max(lo, min(ix.values[v], hi))
				break
			}
		}
	}
}

// rateDraws returns r resampled request rates (requests per second) of
// both runs from their blocks.
func rateDraws(base, new []block, paired bool, r int, rng *rand.Rand) (bd, nd []float64) {
	bd, nd = make([]float64, r), make([]float64, r)
	s := newResampler(rng, len(base), len(new), paired)
	rate := func(blocks []block, chosen []int) float64 {
		var n int64
		var secs float64
		for _, c := range chosen {
			n += blocks[c].requests
			secs += blocks[c].seconds
		}
		if secs <= 0 {
			return math.NaN()
		}
		return float64(n) / secs
	}
	for j := 0; j < r; j++ {
		ia, ib := s.next()
		bd[j], nd[j] = rate(base, ia), rate(new, ib)
	}
	return bd, nd
}
