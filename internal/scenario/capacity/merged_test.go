package capacity

import (
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario"
)

func fp(v float64) *float64 { return &v }

// capPart is one segment's capacity analysis: created streams, its kept
// and evicted probes' bounds (0: none), the target's gauges it read.
func capPart(share string, created, nKept, nEvicted, atLeast, atMost int64, peak float64) *report.Result {
	a := capacityAnalysis{
		StreamsCreated: created, ExpectedCapacity: 1000,
		Probes: probeStats{
			Kept: nKept, Evicted: nEvicted, RetentionAfter: 900, EvictionAfter: 1100, SentinelEvery: 50, Sentinels: nKept + nEvicted,
			ByKind: map[string]map[string]int64{retention: {kept: nKept}, eviction: {evicted: nEvicted}}, MaxProbed: atLeast,
		},
		Estimate:            estimate{AtLeast: atLeast, AtMost: atMost},
		DetectorsActivePeak: fp(peak), Evictions: fp(float64(nEvicted)), MetricsScrapes: 10,
		ErrorsByStatus: map[string]int64{"503": 2, "0 timeout": 1}, DetectorExhaustion: 1, ExhaustionExample: "503 capacity: no detector",
	}
	evictedMax := int64(-1) // the part's own bound: none without an eviction
	if atMost > 0 {
		evictedMax = atMost
	}
	a.Estimate, a.Verdict = judge(atLeast-1, evictedMax, 1000)
	return &report.Result{Test: "capacity", Share: share, Analysis: a}
}

// Counts add, the gauges are the highest any part read, and an eviction's
// bound adds the other parts' touches before the verdict is judged again.
func TestMergedCapacitySumsCountsAndWidensEvictionBounds(t *testing.T) {
	cases := []struct {
		name        string
		a, b        *report.Result
		wantVerdict string
		wantAtMost  int64
		wantFailed  bool
	}{
		{
			// A part alone saw an eviction after at most 600 of its own
			// newer streams; the other part's 700 streams, 1 kept probe and
			// 3 failures may have been newer too: ≤ 1304, not below 1000.
			"an eviction one part judged early is not, counting the other part",
			capPart("0:1/2", 700, 1, 1, 901, 600, 1000), capPart("1/2:1", 700, 1, 0, 950, 0, 990),
			asExpected, 600 + 704, false,
		},
		{
			"an eviction early even counting every touch of the other part fails",
			capPart("0:1/2", 700, 1, 1, 100, 200, 1000), capPart("1/2:1", 300, 0, 0, 0, 0, 990),
			belowExpected, 200 + 303, true,
		},
		{
			"kept probes only: the best lower bound of any part",
			capPart("0:1/2", 700, 1, 0, 901, 0, 1000), capPart("1/2:1", 700, 1, 0, 950, 0, 990),
			noEviction, 0, false,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := merged(scenario.MergedRun{Parts: []*report.Result{c.a, c.b}, Result: &report.Result{Test: "capacity"}})
			if err != nil {
				t.Fatal(err)
			}
			got := f.Data.(capacityAnalysis)
			pa, pb := c.a.Analysis.(capacityAnalysis), c.b.Analysis.(capacityAnalysis)
			if got.StreamsCreated != pa.StreamsCreated+pb.StreamsCreated {
				t.Errorf("streams created %d, want the sum %d", got.StreamsCreated, pa.StreamsCreated+pb.StreamsCreated)
			}
			if got.Probes.Kept != pa.Probes.Kept+pb.Probes.Kept || got.Probes.Evicted != pa.Probes.Evicted+pb.Probes.Evicted ||
				got.Probes.ByKind[retention][kept] != pa.Probes.Kept+pb.Probes.Kept {
				t.Errorf("probes %+v, want the parts' sums", got.Probes)
			}
			if got.ErrorsByStatus["503"] != 4 || got.ErrorsByStatus["0 timeout"] != 2 || got.DetectorExhaustion != 2 {
				t.Errorf("errors %v, exhaustion %d: want the sums", got.ErrorsByStatus, got.DetectorExhaustion)
			}
			if got.DetectorsActivePeak == nil || *got.DetectorsActivePeak != 1000 || got.MetricsScrapes != 20 {
				t.Errorf("peak %v, scrapes %d: want the highest reading (1000) and 20 scrapes", got.DetectorsActivePeak, got.MetricsScrapes)
			}
			wantAtLeast := max(pa.Estimate.AtLeast, pb.Estimate.AtLeast)
			if got.Verdict != c.wantVerdict || got.Estimate.AtMost != c.wantAtMost || got.Estimate.AtLeast != wantAtLeast {
				t.Errorf("verdict %s, estimate %+v; want %s, at most %d, at least %d", got.Verdict, got.Estimate, c.wantVerdict, c.wantAtMost, wantAtLeast)
			}
			if f.Failed != c.wantFailed {
				t.Errorf("failed %v (%s), want %v", f.Failed, f.FailReason, c.wantFailed)
			}
			if text := strings.Join(f.Lines, "\n"); !strings.Contains(text, "created 1") {
				t.Errorf("lines: %s", text)
			}
		})
	}
}
