package ratelimit

import (
	"testing"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario"
)

// rlPart is one segment's ratelimit analysis against a limit of 3 per 6 s:
// the send offsets of its 200s and 429s, late seconds behind the shared start.
func rlPart(share string, late float64, allowed, limited []float64) *report.Result {
	a := rateLimitAnalysis{
		Allowed: len(allowed), Limited: len(limited), Other: 1, Requests: len(allowed) + len(limited) + 1,
		ExpectedLimit: 3, ExpectedWindowSeconds: 6, IntervalSeconds: 1, ToleranceMS: 5,
		AllowedAtSeconds: allowed, LimitedAtSeconds: limited,
		RetryAfter: retryAfterReport{Sources: map[string]int{"both": len(limited)}, Probes: []probeJSON{}},
	}
	return &report.Result{Test: "ratelimit", Share: share, LateSeconds: late, Analysis: a}
}

// Enforcement is judged on the union of the parts' requests on the shared
// clock; counts add.
func TestMergedRateLimitJudgesTheUnion(t *testing.T) {
	cases := []struct {
		name       string
		a, b       *report.Result
		wantOK     bool
		wantOver   bool
		wantEarly  bool
		wantObserv int
		partsOK    bool // what each part judged alone
	}{
		{
			// Each part got 2 through in one window, within the limit of 3;
			// together 4 got through in 6 s.
			"each within the limit, together over it",
			rlPart("0:1/2", 0, []float64{0, 1}, nil), rlPart("1/2:1", 0, []float64{0.5, 1.5}, nil),
			false, true, false, 4, true,
		},
		{
			// Each part alone saw a 429 with fewer than 3 successes in its
			// window ("limited early"); together 3 were in it: enforced.
			"each limited early alone, enforced together",
			rlPart("0:1/2", 0, []float64{0, 1, 10.5}, []float64{1.5, 11.5}), rlPart("1/2:1", 0, []float64{0.5, 10, 11}, []float64{2.5}),
			true, false, false, 3, false,
		},
		{
			// The second part joined 6 s late: its offsets count from its own
			// start, so its successes fall in the next window (unshifted,
			// 4 would be in one).
			"a late part's offsets shift onto the shared clock",
			rlPart("0:1/2", 0, []float64{0, 1}, nil), rlPart("1/2:1", 6, []float64{0.5, 1.5}, nil),
			true, false, false, 2, true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range []*report.Result{c.a, c.b} {
				own := p.Analysis.(rateLimitAnalysis)
				v := analysis.JudgeLimitWithin(durations(own.AllowedAtSeconds), durations(own.LimitedAtSeconds), 3, 6*time.Second, 5*time.Millisecond)
				if v.OK != c.partsOK {
					t.Fatalf("part %s alone: %s; the case wants ok %v", p.Share, v.Reason, c.partsOK)
				}
			}
			f, err := merged(scenario.MergedRun{Parts: []*report.Result{c.a, c.b}, Result: &report.Result{Test: "ratelimit"}})
			if err != nil {
				t.Fatal(err)
			}
			got := f.Data.(rateLimitAnalysis)
			e := got.Enforcement
			if e.OK != c.wantOK || e.OverLimit != c.wantOver || e.EarlyLimited != c.wantEarly || e.Observed != c.wantObserv {
				t.Errorf("enforcement %+v, want ok %v over %v early %v observed %d", e, c.wantOK, c.wantOver, c.wantEarly, c.wantObserv)
			}
			if f.Failed == c.wantOK {
				t.Errorf("failed %v (%s) with enforcement ok %v", f.Failed, f.FailReason, e.OK)
			}
			pa, pb := c.a.Analysis.(rateLimitAnalysis), c.b.Analysis.(rateLimitAnalysis)
			if got.Allowed != pa.Allowed+pb.Allowed || got.Limited != pa.Limited+pb.Limited || got.Other != 2 || got.Requests != pa.Requests+pb.Requests {
				t.Errorf("counts %d/%d/%d of %d, want the parts' sums", got.Allowed, got.Limited, got.Other, got.Requests)
			}
			if got.RetryAfter.Sources["both"] != pa.Limited+pb.Limited {
				t.Errorf("Retry-After sources %v, want the sum", got.RetryAfter.Sources)
			}
		})
	}
}

func durations(ss []float64) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = seconds(s)
	}
	return out
}
