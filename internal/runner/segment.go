package runner

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// maxStripe bounds the length of a striping pattern: the least common
// multiple of the sequence's denominators.
const maxStripe = 1_000_000

// ExecutionSegment is the part [From, To) of a test that one process runs,
// k6's execution segments: N processes running the N segments of one
// sequence produce exactly the load of one process running it all.
//
// The load's units — VU slots, and the iterations of an arrival schedule —
// are dealt out to the segments of the sequence in a repeating pattern of L
// positions (L the least common multiple of the boundaries' denominators),
// each segment getting exactly its share of every L positions, spread as
// evenly as a smooth weighted round-robin spreads them. So the segments'
// counts always add up to the whole (5 VUs over 1/3 segments are 2+2+1, not
// 1.67 each), an arrival schedule's iterations keep their due instants, and
// every segment's part of a schedule is as even as the whole.
type ExecutionSegment struct {
	from, to *big.Rat
	seq      []*big.Rat
	index    int   // this segment's position in the sequence
	owned    []int // pattern positions that belong to this segment, ascending
	period   int   // L
}

// ParseExecutionSegment reads k6's syntax: segment "1/3:2/3" (or "0.5:1",
// or "1/3" meaning "0:1/3"), and an optional sequence "0,1/3,2/3,1" that
// must hold the segment's bounds as neighbours. Without a sequence the
// segment's own bounds with 0 and 1 form it.
func ParseExecutionSegment(segment, sequence string) (*ExecutionSegment, error) {
	from, to, err := parseSegment(segment)
	if err != nil {
		return nil, err
	}
	var seq []*big.Rat
	if strings.TrimSpace(sequence) == "" {
		seq = []*big.Rat{new(big.Rat)}
		for _, b := range []*big.Rat{from, to} {
			if b.Sign() > 0 && b.Cmp(seq[len(seq)-1]) > 0 {
				seq = append(seq, b)
			}
		}
		if seq[len(seq)-1].Cmp(big.NewRat(1, 1)) < 0 {
			seq = append(seq, big.NewRat(1, 1))
		}
	} else {
		for _, part := range strings.Split(sequence, ",") {
			r, err := parseRat(part)
			if err != nil {
				return nil, fmt.Errorf("--execution-segment-sequence %q: %v", sequence, err)
			}
			if len(seq) > 0 && r.Cmp(seq[len(seq)-1]) <= 0 {
				return nil, fmt.Errorf("--execution-segment-sequence %q: values must increase", sequence)
			}
			seq = append(seq, r)
		}
		if len(seq) < 2 || seq[0].Sign() != 0 || seq[len(seq)-1].Cmp(big.NewRat(1, 1)) != 0 {
			return nil, fmt.Errorf("--execution-segment-sequence %q: want boundaries from 0 to 1, e.g. 0,1/3,2/3,1", sequence)
		}
	}
	index := -1
	for i := 0; i+1 < len(seq); i++ {
		if seq[i].Cmp(from) == 0 && seq[i+1].Cmp(to) == 0 {
			index = i
		}
	}
	if index < 0 {
		return nil, fmt.Errorf("--execution-segment %s is not a segment of the sequence %s", ratString(from)+":"+ratString(to), seqString(seq))
	}
	return newSegment(from, to, seq, index)
}

// SegmentOf is the shorthand "--segment I/N": the I-th (from 0) of N equal
// segments.
func SegmentOf(i, n int) (*ExecutionSegment, error) {
	if n < 1 || i < 0 || i >= n {
		return nil, fmt.Errorf("--segment %d/%d: want I/N with 0 ≤ I < N, e.g. 0/3, 1/3, 2/3", i, n)
	}
	seq := make([]*big.Rat, n+1)
	for k := range seq {
		seq[k] = big.NewRat(int64(k), int64(n))
	}
	return newSegment(seq[i], seq[i+1], seq, i)
}

// ParseSegmentShorthand reads "I/N" (--segment).
func ParseSegmentShorthand(s string) (*ExecutionSegment, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("--segment %q: want I/N, e.g. 0/3", s)
	}
	return SegmentOf(i, n)
}

func newSegment(from, to *big.Rat, seq []*big.Rat, index int) (*ExecutionSegment, error) {
	period := int64(1)
	for _, r := range seq {
		d := r.Denom().Int64()
		period = lcm(period, d)
		if period > maxStripe {
			return nil, fmt.Errorf("execution segment sequence %s: denominators too large (their least common multiple exceeds %d)", seqString(seq), maxStripe)
		}
	}
	// Each segment's share of the period, in positions.
	shares := make([]int64, len(seq)-1)
	for i := range shares {
		w := new(big.Rat).Sub(seq[i+1], seq[i])
		w.Mul(w, new(big.Rat).SetInt64(period))
		shares[i] = w.Num().Int64() // exact: period is a multiple of every denominator
	}
	// Smooth weighted round-robin: each position goes to the segment with
	// the largest running credit; over a period every segment gets exactly
	// its share, spread evenly.
	credit := make([]int64, len(shares))
	var owned []int
	for pos := range int(period) {
		best := 0
		for j := range credit {
			credit[j] += shares[j]
			if credit[j] > credit[best] {
				best = j
			}
		}
		credit[best] -= period
		if best == index {
			owned = append(owned, pos)
		}
	}
	return &ExecutionSegment{from: from, to: to, seq: seq, index: index, owned: owned, period: int(period)}, nil
}

func lcm(a, b int64) int64 {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

func parseSegment(s string) (from, to *big.Rat, err error) {
	t := strings.TrimSpace(s)
	a, b, ok := strings.Cut(t, ":")
	if !ok {
		a, b = "0", t
	}
	if from, err = parseRat(a); err == nil {
		to, err = parseRat(b)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--execution-segment %q: %v", s, err)
	}
	if from.Cmp(to) >= 0 || from.Sign() < 0 || to.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, nil, fmt.Errorf("--execution-segment %q: want FROM:TO with 0 ≤ FROM < TO ≤ 1", s)
	}
	return from, to, nil
}

func parseRat(s string) (*big.Rat, error) {
	t := strings.TrimSpace(s)
	r, ok := new(big.Rat).SetString(t)
	if !ok || t == "" || strings.ContainsAny(t, "eE") {
		return nil, fmt.Errorf("%q is not a fraction or decimal (e.g. 1/3, 0.5)", t)
	}
	return r, nil
}

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return r.String()
}

func seqString(seq []*big.Rat) string {
	parts := make([]string, len(seq))
	for i, r := range seq {
		parts[i] = ratString(r)
	}
	return strings.Join(parts, ",")
}

// String is the segment as k6 writes it: "1/3:2/3"; "0:1" is the whole test.
func (s *ExecutionSegment) String() string {
	if s == nil {
		return "0:1"
	}
	return ratString(s.from) + ":" + ratString(s.to)
}

// Sequence is the sequence the segment belongs to, "0,1/3,2/3,1".
func (s *ExecutionSegment) Sequence() string {
	if s == nil {
		return "0,1"
	}
	return seqString(s.seq)
}

// Bounds are the segment's bounds as floats, for merging and reports.
func (s *ExecutionSegment) Bounds() (from, to float64) {
	if s == nil {
		return 0, 1
	}
	f, _ := s.from.Float64()
	t, _ := s.to.Float64()
	return f, t
}

// Whole reports whether the segment is the whole test.
func (s *ExecutionSegment) Whole() bool {
	return s == nil || (s.from.Sign() == 0 && s.to.Cmp(big.NewRat(1, 1)) == 0)
}

// Count returns how many of the first n units (VU slots, iterations)
// belong to the segment.
func (s *ExecutionSegment) Count(n int64) int64 {
	if s == nil || n <= 0 {
		return max(n, 0)
	}
	full, rest := n/int64(s.period), int(n%int64(s.period))
	c := full * int64(len(s.owned))
	for _, p := range s.owned {
		if p >= rest {
			break
		}
		c++
	}
	return c
}

// Nth returns the global index of the segment's j-th unit (j from 0).
func (s *ExecutionSegment) Nth(j int64) int64 {
	if s == nil {
		return j
	}
	m := int64(len(s.owned))
	return j/m*int64(s.period) + int64(s.owned[j%m])
}

// share is the segment's length, to scale continuous quantities (rates).
func (s *ExecutionSegment) share() float64 {
	f, t := s.Bounds()
	return t - f
}

// Apply returns the part of plan the segment runs: VU targets striped over
// VU slots, an arrival schedule's iterations striped (each keeping its due
// instant), VUs numbered by their global slot so ids and seeds differ
// between segments and match a whole run's.
func (s *ExecutionSegment) Apply(p Plan) Plan {
	if s.Whole() {
		return p
	}
	out := p
	out.Steps = make([]Step, len(p.Steps))
	for i, st := range p.Steps {
		out.Steps[i] = Step{At: st.At, VUs: int(s.Count(int64(st.VUs)))}
	}
	out.MaxVUs = max(1, int(s.Count(int64(p.MaxVUs))))
	if p.Arrival != nil {
		a := *p.Arrival
		a.stripe = s
		a.Total = s.Count(p.Arrival.Total)
		a.PreAllocatedVUs = min(out.MaxVUs, max(1, int(s.Count(int64(p.Arrival.PreAllocatedVUs)))))
		out.Arrival = &a
	}
	out.vuID = func(i int) int { return int(s.Nth(int64(i))) + 1 }
	return out
}
