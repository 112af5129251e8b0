package runner

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func segmentsOf(t *testing.T, n int) []*ExecutionSegment {
	t.Helper()
	var out []*ExecutionSegment
	for i := range n {
		s, err := SegmentOf(i, n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// The segments of a sequence share every count out exactly.
func TestSegmentsPartitionEveryCount(t *testing.T) {
	seqs := map[string][]*ExecutionSegment{"thirds": segmentsOf(t, 3), "sevenths": segmentsOf(t, 7)}
	var uneven []*ExecutionSegment
	for _, seg := range []string{"0:1/4", "1/4:1/2", "1/2:0.9", "0.9:1"} {
		s, err := ParseExecutionSegment(seg, "0,1/4,1/2,0.9,1")
		if err != nil {
			t.Fatal(err)
		}
		uneven = append(uneven, s)
	}
	seqs["uneven"] = uneven
	for name, segs := range seqs {
		for n := int64(0); n <= 500; n++ {
			var sum int64
			for _, s := range segs {
				sum += s.Count(n)
			}
			if sum != n {
				t.Fatalf("%s: counts of %d add up to %d", name, n, sum)
			}
		}
		// Every global index belongs to exactly one segment, Nth inverts Count.
		seen := map[int64]bool{}
		for _, s := range segs {
			for j := int64(0); j < s.Count(300); j++ {
				k := s.Nth(j)
				if seen[k] || k >= 300 {
					t.Fatalf("%s: index %d given twice or out of range", name, k)
				}
				seen[k] = true
			}
		}
		if len(seen) != 300 {
			t.Fatalf("%s: %d of 300 indexes given out", name, len(seen))
		}
	}
	// 5 VUs over thirds: 2+2+1 in some order, never 0 for the first.
	if c := segmentsOf(t, 3)[0].Count(5); c != 2 {
		t.Errorf("first third of 5 VUs: %d, want 2", c)
	}
}

// An arrival schedule split in three: the parts' due instants together are
// the whole schedule's, and each part is spread evenly.
func TestSegmentsStripeAnArrivalSchedule(t *testing.T) {
	s := time.Second
	whole := NewRampingArrivalRate(0, []Stage{{Duration: 10 * s, Target: 90}, {Duration: 10 * s, Target: 90}}, 3, 30).Plan()
	var all []time.Duration
	for k := int64(0); k < whole.Arrival.Total; k++ {
		at, _ := whole.Arrival.At(k)
		all = append(all, at)
	}
	var parts []time.Duration
	for _, seg := range segmentsOf(t, 3) {
		p := seg.Apply(whole)
		if p.Arrival.PreAllocatedVUs != 1 || p.MaxVUs != 10 {
			t.Errorf("%s: pre %d max %d, want 1 and 10", seg, p.Arrival.PreAllocatedVUs, p.MaxVUs)
		}
		prev := time.Duration(-1)
		for k := int64(0); k < p.Arrival.Total; k++ {
			at, ok := p.Arrival.At(k)
			if !ok || at < prev {
				t.Fatalf("%s: iteration %d at %s after %s", seg, k, at, prev)
			}
			prev = at
			parts = append(parts, at)
		}
		if r := p.Arrival.RateAt(15 * s); r < 29.9 || r > 30.1 {
			t.Errorf("%s: rate at 15 s %g, want a third of 90", seg, r)
		}
	}
	slices.Sort(parts)
	if !slices.Equal(parts, all) {
		t.Fatalf("the parts' %d due instants differ from the whole's %d", len(parts), len(all))
	}
}

func TestSegmentsOfAVUPlan(t *testing.T) {
	whole := NewRampingVUs(0, []Stage{{Duration: time.Second, Target: 10}, {Duration: time.Second, Target: 4}}).Plan()
	ids := map[int]bool{}
	for _, seg := range segmentsOf(t, 3) {
		p := seg.Apply(whole)
		for i := range p.MaxVUs {
			id := p.VUID(i)
			if ids[id] {
				t.Fatalf("VU id %d in two segments", id)
			}
			ids[id] = true
		}
	}
	for id := 1; id <= whole.MaxVUs; id++ {
		if !ids[id] {
			t.Errorf("VU %d of the whole run is in no segment", id)
		}
	}
}

func TestParseExecutionSegment(t *testing.T) {
	for _, c := range []struct{ seg, seq, want, err string }{
		{"1/3:2/3", "0,1/3,2/3,1", "1/3:2/3", ""},
		{"0.5:1", "", "1/2:1", ""},
		{"1/3", "", "0:1/3", ""},
		{"0:1", "", "0:1", ""},
		{"2/3:1/3", "", "", "0 ≤ FROM < TO ≤ 1"},
		{"1/3:2/3", "0,1/2,1", "", "not a segment of the sequence"},
		{"x:1", "", "", "not a fraction"},
		{"1/3:2/3", "0,2/3,1/3,1", "", "must increase"},
		{"0:1/1000003", "0,1/1000003,1", "", "too large"},
	} {
		s, err := ParseExecutionSegment(c.seg, c.seq)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s %s: %v, want %q", c.seg, c.seq, err, c.err)
		case c.err == "" && (err != nil || s.String() != c.want):
			t.Errorf("%s %s: %v %v, want %s", c.seg, c.seq, s, err, c.want)
		}
	}
	if _, err := ParseSegmentShorthand("3/3"); err == nil {
		t.Error("3/3 accepted")
	}
	if s, err := ParseSegmentShorthand("1/4"); err != nil || s.String() != "1/4:1/2" || s.Sequence() != "0,1/4,1/2,3/4,1" {
		t.Errorf("1/4: %v %v", s, err)
	}
}
