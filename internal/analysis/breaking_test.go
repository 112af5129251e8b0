package analysis

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// step is one 10-second bucket of a synthetic run: vus active, 10 req/s per
// VU (vus·100 requests), the share of them that failed (each failure is also
// a 5xx) and every latency sample equal to ms, so every percentile is
// exactly ms (the sink clamps its percentiles into [min, max]).
type step struct {
	vus  int
	fail float64
	ms   float64
}

const bucketLen = 10 * time.Second

func run(steps ...step) []Bucket {
	out := make([]Bucket, len(steps))
	for i, s := range steps {
		reqs := int64(s.vus * 100)
		failed := int64(math.Round(s.fail * float64(reqs)))
		lat := metrics.NewSink(metrics.Trend)
		for range reqs {
			lat.Add(s.ms)
		}
		out[i] = Bucket{
			Start: time.Duration(i) * bucketLen, End: time.Duration(i+1) * bucketLen,
			VUs: s.vus, Requests: reqs, Failed: failed, ServerErrors: failed,
			Latency: lat,
		}
	}
	return out
}

// times repeats a step n times.
func times(n int, s step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func concat(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// A staged stress profile: 3 buckets each at 50, 100, 150, 200 VUs, then a
// ramp-down of one bucket at 100 and two at 50. Every level is healthy at
// 12 ms unless a test overrides it.
func staged(at50, at100, at150, at200, down100, down50 step) []Bucket {
	return run(concat(times(3, at50), times(3, at100), times(3, at150), times(3, at200),
		[]step{down100}, times(2, down50))...)
}

var (
	ok50  = step{50, 0, 12}
	ok100 = step{100, 0, 12}
	ok150 = step{150, 0, 12}
	ok200 = step{200, 0, 12}
)

func TestLevels(t *testing.T) {
	bs := staged(ok50, ok100, ok150, ok200, ok100, step{50, 0.02, 30})
	// A trailing idle bucket at 0 VUs is skipped.
	bs = append(bs, Bucket{Start: 150 * time.Second, End: 160 * time.Second})
	got := Levels(bs)
	if len(got) != 4 {
		t.Fatalf("%d levels, want 4: %+v", len(got), got)
	}
	// 50 VUs: 3 ramp-up buckets (5000 req, 12 ms) and 2 ramp-down buckets
	// (5000 req, 100 failed, 30 ms) merged: 25000 requests over 50 s = 500
	// req/s, 200/25000 = 0.8% failed. Latency: 15000 samples at 12, 10000
	// at 30 → p50 = 12 (the 12500th sample), p95 and p99 = 30.
	l := got[0]
	want := Level{VUs: 50, Duration: 50 * time.Second, Requests: 25000, Failed: 200, ServerErrors: 200,
		RPS: 500, ErrorRate: 0.008, P50: 12, P95: 30, P99: 30}
	if !near(l.P50, 12, 0.02) || !near(l.P95, 30, 0.03) || !near(l.P99, 30, 0.03) {
		t.Errorf("50-VU percentiles %g/%g/%g, want 12/30/30 (±0.1%%)", l.P50, l.P95, l.P99)
	}
	l.P50, l.P95, l.P99 = want.P50, want.P95, want.P99
	if l != want {
		t.Errorf("level 50 = %+v\nwant       %+v", l, want)
	}
	// 100 VUs: 3 + 1 buckets of 10000 requests over 40 s = 1000 req/s.
	if l := got[1]; l.VUs != 100 || l.Requests != 40000 || l.RPS != 1000 || l.P95 != 12 {
		t.Errorf("level 100 = %+v", l)
	}
	if got[2].VUs != 150 || got[3].VUs != 200 {
		t.Errorf("order of first appearance broken: %d, %d", got[2].VUs, got[3].VUs)
	}
	// Nil and empty latency sinks are fine.
	nilLat := []Bucket{{End: bucketLen, VUs: 5, Requests: 30, Failed: 30}}
	if l := Levels(nilLat); len(l) != 1 || l[0].P95 != 0 || l[0].ErrorRate != 1 || l[0].RPS != 3 {
		t.Errorf("nil latency: %+v", l)
	}
}

func TestAnalyseBreakingPoint(t *testing.T) {
	cases := []struct {
		name    string
		buckets []Bucket
		opts    BreakingPointOptions
		errors  int // ErrorsStartAtVUs
		knee    int
		peakRPS float64
		peakAt  int
		found   bool
		verdict string
		lines   []string
	}{
		{
			// Flat 12 ms and no errors all the way: peak throughput is the
			// top level, 200 VUs·10 = 2000 req/s. First stage: 50 VUs
			// (3 buckets, plateau at 50); final stage: the two 50-VU
			// buckets after the 100-VU one.
			name:    "healthy ramp",
			buckets: staged(ok50, ok100, ok150, ok200, ok100, ok50),
			peakRPS: 2000, peakAt: 200, verdict: VerdictRecovered,
			lines: []string{
				"no breaking point up to 200 VUs",
				"peak sustained throughput 2000 req/s at 200 VUs",
				"recovered: final p95 12ms, 0.0% errors (first stage 12ms, 0.0%)",
			},
		},
		{
			// 150 VUs: 480 of 15000 failed per bucket = 3.2% > 1%; 200
			// VUs: 2000 of 20000 = 10%. Peak sustained: 100 VUs at 1000
			// req/s. 5xx: 3·480 + 3·2000 = 7440, first in the 7th bucket
			// (60 s). The two-bucket 50-VU ramp-down is back to 12 ms, 0%.
			name:    "errors start at a level",
			buckets: staged(ok50, ok100, step{150, 0.032, 12}, step{200, 0.10, 12}, ok100, ok50),
			errors:  150, peakRPS: 1000, peakAt: 100, found: true, verdict: VerdictRecovered,
			lines: []string{
				"errors start at 150 VUs (3.2% failed)",
				"no latency knee up to 200 VUs",
				"peak sustained throughput 1000 req/s at 100 VUs",
				"5xx: 7440, first at 1m0s",
				"recovered: final p95 12ms, 0.0% errors (first stage 12ms, 0.0%)",
			},
		},
		{
			// p95 12 → 20 (< 2·12 = 24, no knee) → 48 (> 24: knee at 150)
			// → 200. No errors, so peak throughput is still 200 VUs.
			name:    "latency knee",
			buckets: staged(ok50, step{100, 0, 20}, step{150, 0, 48}, step{200, 0, 200}, ok100, ok50),
			knee:    150, peakRPS: 2000, peakAt: 200, found: true, verdict: VerdictRecovered,
			lines: []string{
				"errors stay at or below 1.0% up to 200 VUs",
				"latency knee at 150 VUs (p95 48ms vs 12ms at 50 VUs)",
				"peak sustained throughput 2000 req/s at 200 VUs",
				"recovered: final p95 12ms, 0.0% errors (first stage 12ms, 0.0%)",
			},
		},
		{
			// The same run with a 15 ms p95 threshold: 100 VUs (20 ms)
			// already exceeds it.
			name:    "knee from the p95 limit",
			buckets: staged(ok50, step{100, 0, 20}, step{150, 0, 48}, step{200, 0, 200}, ok100, ok50),
			opts:    BreakingPointOptions{P95Limit: 15},
			knee:    100, peakRPS: 2000, peakAt: 200, found: true, verdict: VerdictRecovered,
			lines: []string{
				"errors stay at or below 1.0% up to 200 VUs",
				"latency knee at 100 VUs (p95 20ms, over the 15ms limit; 12ms at 50 VUs)",
				"peak sustained throughput 2000 req/s at 200 VUs",
				"recovered: final p95 12ms, 0.0% errors (first stage 12ms, 0.0%)",
			},
		},
		{
			name:    "first level over the p95 limit",
			buckets: staged(ok50, ok100, ok150, ok200, ok100, ok50),
			opts:    BreakingPointOptions{P95Limit: 10},
			knee:    50, peakRPS: 2000, peakAt: 200, found: true, verdict: VerdictRecovered,
			lines: []string{
				"errors stay at or below 1.0% up to 200 VUs",
				"latency knee at 50 VUs (p95 12ms, over the 10ms limit)",
				"peak sustained throughput 2000 req/s at 200 VUs",
				"recovered: final p95 12ms, 0.0% errors (first stage 12ms, 0.0%)",
			},
		},
		{
			// Breaks at 150 (20% failed, 100 ms) and never recovers: after
			// ramping down to 50 VUs, 40% fail at 300 ms. Recovery needs
			// errors <= max(1%, 2·0%) = 1% and p95 <= max(2·12, 12+5) =
			// 24 ms. Errors still start at 150 VUs: the ramp-down is not
			// folded into the 50-VU level (it would be 4000/25000 = 16%
			// there). 5xx: 3·3000 + 3·10000 + 5000 + 2·2000 = 48000.
			name: "never recovers",
			buckets: staged(ok50, ok100, step{150, 0.2, 100}, step{200, 0.5, 300},
				step{100, 0.5, 300}, step{50, 0.4, 300}),
			errors: 150, knee: 150, peakRPS: 1000, peakAt: 100, found: true, verdict: VerdictNotRecovered,
			lines: []string{
				"errors start at 150 VUs (20.0% failed)",
				"latency knee at 150 VUs (p95 100ms vs 12ms at 50 VUs)",
				"peak sustained throughput 1000 req/s at 100 VUs",
				"5xx: 48000, first at 1m0s",
				"not recovered: final p95 300ms, 40.0% errors (first stage 12ms, 0.0%)",
			},
		},
		{
			// The same break, but the ramp-down is back to 20 ms (<= 24)
			// and 10 of 5000 failed (0.2% <= 1%): recovered. 5xx: 9000 +
			// 30000 + 5000 + 2·10 = 44020.
			name: "recovers",
			buckets: staged(ok50, ok100, step{150, 0.2, 100}, step{200, 0.5, 300},
				step{100, 0.5, 300}, step{50, 0.002, 20}),
			errors: 150, knee: 150, peakRPS: 1000, peakAt: 100, found: true, verdict: VerdictRecovered,
			lines: []string{
				"errors start at 150 VUs (20.0% failed)",
				"latency knee at 150 VUs (p95 100ms vs 12ms at 50 VUs)",
				"peak sustained throughput 1000 req/s at 100 VUs",
				"5xx: 44020, first at 1m0s",
				"recovered: final p95 20ms, 0.2% errors (first stage 12ms, 0.0%)",
			},
		},
		{
			// Constant 50 VUs: no ramp-down to compare with.
			name:    "no ramp-down",
			buckets: run(times(5, ok50)...),
			peakRPS: 500, peakAt: 50, verdict: VerdictUnknown, // 50 VUs · 10 req/s
			lines: []string{
				"no breaking point up to 50 VUs",
				"peak sustained throughput 500 req/s at 50 VUs",
				"recovery unknown: the run did not ramp down to 50 VUs or fewer after rising above it",
			},
		},
		{
			// Every level errs (5% > 1%): errors start at the first, and no
			// level sustained throughput. 5xx: 5% of 3·(5000 + 10000 +
			// 15000 + 20000) + 2·250 = 8000. The ramp-down is as bad as the
			// first stage, which counts as recovered (5% <= 2·5%).
			name: "failing from the start",
			buckets: staged(step{50, 0.05, 12}, step{100, 0.05, 12}, step{150, 0.05, 12}, step{200, 0.05, 12},
				ok100, step{50, 0.05, 12}),
			errors: 50, found: true, verdict: VerdictRecovered,
			lines: []string{
				"errors start at 50 VUs (5.0% failed)",
				"no latency knee up to 200 VUs",
				"no level kept errors at or below 1.0%",
				"5xx: 8000, first at 0s",
				"recovered: final p95 12ms, 5.0% errors (first stage 12ms, 5.0%)",
			},
		},
		{
			name:    "no requests",
			buckets: []Bucket{{End: bucketLen}, {Start: bucketLen, End: 2 * bucketLen}},
			verdict: VerdictUnknown,
			lines:   []string{"no breaking point: no requests were made"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bp := AnalyseBreakingPoint(c.buckets, c.opts)
			if bp.ErrorsStartAtVUs != c.errors || bp.LatencyKneeAtVUs != c.knee || !near(bp.PeakRPS, c.peakRPS, 1e-9) ||
				bp.PeakRPSAtVUs != c.peakAt || bp.Found != c.found || bp.Recovery.Verdict != c.verdict {
				t.Errorf("got errors@%d knee@%d peak %g@%d found %v recovery %q (%s)\nwant errors@%d knee@%d peak %g@%d found %v recovery %q",
					bp.ErrorsStartAtVUs, bp.LatencyKneeAtVUs, bp.PeakRPS, bp.PeakRPSAtVUs, bp.Found, bp.Recovery.Verdict, bp.Recovery.Reason,
					c.errors, c.knee, c.peakRPS, c.peakAt, c.found, c.verdict)
			}
			if got := bp.Lines(); !reflect.DeepEqual(got, c.lines) {
				t.Errorf("Lines:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.lines, "\n  "))
			}
			if _, err := json.Marshal(bp); err != nil {
				t.Errorf("json: %v", err)
			}
		})
	}
}

func TestBreakingPointDetails(t *testing.T) {
	bs := staged(ok50, ok100, step{150, 0.2, 100}, step{200, 0.5, 300}, step{100, 0.5, 300}, step{50, 0.4, 300})
	// A timeout in the 10th bucket (90 s) and another later.
	bs[9].Timeouts, bs[11].Timeouts = 2, 3
	bp := AnalyseBreakingPoint(bs, BreakingPointOptions{})
	// The rising phase ends with the last 200-VU bucket: 4 levels.
	if len(bp.Levels) != 4 || bp.Levels[3].VUs != 200 {
		t.Fatalf("levels %+v", bp.Levels)
	}
	if bp.ServerErrors != 48000 || bp.FirstServerErrorAt != 60*time.Second ||
		bp.Timeouts != 5 || bp.FirstTimeoutAt != 90*time.Second {
		t.Errorf("5xx %d at %v, timeouts %d at %v", bp.ServerErrors, bp.FirstServerErrorAt, bp.Timeouts, bp.FirstTimeoutAt)
	}
	if !strings.Contains(strings.Join(bp.Lines(), "\n"), "timeouts: 5, first at 1m30s") {
		t.Errorf("no timeout line in %q", bp.Lines())
	}
	r := bp.Recovery
	if r.StageVUs != 50 || r.FirstP95 != 12 || r.LastP95 != 300 || r.FirstErrorRate != 0 || r.LastErrorRate != 0.4 {
		t.Errorf("recovery %+v", r)
	}
	for _, want := range []string{"error rate 40.0% is above 1.0%", "p95 300ms is above 24ms"} {
		if !strings.Contains(r.Reason, want) {
			t.Errorf("reason %q lacks %q", r.Reason, want)
		}
	}
	// Defaults applied and reported.
	if bp.ErrorRateLimit != 0.01 || bp.KneeFactor != 2 || bp.P95Limit != 0 {
		t.Errorf("options %g %g %g", bp.ErrorRateLimit, bp.KneeFactor, bp.P95Limit)
	}
	// No server errors or timeouts: -1.
	clean := AnalyseBreakingPoint(staged(ok50, ok100, ok150, ok200, ok100, ok50), BreakingPointOptions{})
	if clean.FirstServerErrorAt != -1 || clean.FirstTimeoutAt != -1 {
		t.Errorf("first at %v / %v, want -1", clean.FirstServerErrorAt, clean.FirstTimeoutAt)
	}
	// Buckets given out of order are judged in time order.
	rev := append([]Bucket(nil), bs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if got := AnalyseBreakingPoint(rev, BreakingPointOptions{}); !reflect.DeepEqual(got.Lines(), bp.Lines()) {
		t.Errorf("reversed input: %q", got.Lines())
	}
}

// Levels below MinRequests are not judged: a 1-VU warm-up bucket with 10
// requests at 500 ms neither becomes the knee's baseline nor a knee itself.
func TestMinRequests(t *testing.T) {
	warm := Bucket{End: bucketLen, VUs: 1, Requests: 10, Failed: 5, Latency: metrics.NewSink(metrics.Trend)}
	for range 10 {
		warm.Latency.Add(500)
	}
	bs := staged(ok50, step{100, 0, 30}, ok150, ok200, ok100, ok50)
	for i := range bs {
		bs[i].Start += bucketLen
		bs[i].End += bucketLen
	}
	bp := AnalyseBreakingPoint(append([]Bucket{warm}, bs...), BreakingPointOptions{})
	if bp.BaselineVUs != 50 || bp.LatencyKneeAtVUs != 100 || bp.ErrorsStartAtVUs != 0 {
		t.Errorf("baseline %d, knee %d, errors %d; want 50, 100, 0", bp.BaselineVUs, bp.LatencyKneeAtVUs, bp.ErrorsStartAtVUs)
	}
	// With MinRequests 5 the warm-up is judged: 50% errors at 1 VU and the
	// 500 ms baseline hides the knee.
	bp = AnalyseBreakingPoint(append([]Bucket{warm}, bs...), BreakingPointOptions{MinRequests: 5})
	if bp.BaselineVUs != 1 || bp.LatencyKneeAtVUs != 0 || bp.ErrorsStartAtVUs != 1 {
		t.Errorf("baseline %d, knee %d, errors %d; want 1, 0, 1", bp.BaselineVUs, bp.LatencyKneeAtVUs, bp.ErrorsStartAtVUs)
	}
}

// The first stage of a linear ramp is the ramp to its first plateau: 10, 20,
// 30, 30, 30 VUs. The final stage is the trailing buckets at <= 30 VUs.
func TestRecoveryStages(t *testing.T) {
	bs := run(step{10, 0, 10}, step{20, 0, 10}, step{30, 0, 10}, step{30, 0, 10}, step{30, 0, 10},
		step{40, 0, 40}, step{60, 0, 90}, step{40, 0, 40}, step{30, 0, 16}, step{20, 0, 16}, step{10, 0, 16})
	r := AnalyseBreakingPoint(bs, BreakingPointOptions{}).Recovery
	// First p95 10 ms → limit max(20, 15) = 20; final 16 ms → recovered.
	if r.StageVUs != 30 || r.Verdict != VerdictRecovered || r.FirstP95 != 10 || r.LastP95 != 16 {
		t.Errorf("recovery %+v", r)
	}
	// No plateau at all: the first stage is the first bucket (10 VUs, 1000
	// requests) and the final stage the trailing 10-VU bucket.
	bs = run(step{10, 0, 10}, step{20, 0, 10}, step{40, 0, 50}, step{20, 0, 30}, step{10, 0, 15})
	r = AnalyseBreakingPoint(bs, BreakingPointOptions{}).Recovery
	if r.StageVUs != 10 || r.Verdict != VerdictRecovered || r.LastP95 != 15 {
		t.Errorf("no plateau: %+v", r)
	}
	// A final stage with too few requests is unknown.
	bs[4].Requests = 5
	r = AnalyseBreakingPoint(bs, BreakingPointOptions{}).Recovery
	if r.Verdict != VerdictUnknown || !strings.Contains(r.Reason, "fewer than 20") {
		t.Errorf("short final stage: %+v", r)
	}
}

func TestRecoveryUsesGivenStageBoundaries(t *testing.T) {
	// First stage 0–10 s at 10 VUs: p95 ≈ 10 ms, no errors. Then a peak that
	// breaks, then a final stage from 30 s with latency back to 11 ms.
	mk := func(start, vus int, lat float64, failed int64) Bucket {
		s := metrics.NewSink(metrics.Trend)
		for i := 0; i < 50; i++ {
			s.Add(lat)
		}
		return Bucket{Start: time.Duration(start) * time.Second, End: time.Duration(start+5) * time.Second,
			VUs: vus, Requests: 50, Failed: failed, Latency: s}
	}
	buckets := []Bucket{mk(0, 3, 10, 0), mk(5, 10, 10, 0), mk(10, 50, 200, 20), mk(15, 100, 400, 40), mk(20, 100, 400, 40), mk(25, 8, 300, 10), mk(30, 20, 11, 0), mk(35, 5, 11, 0)}
	opts := BreakingPointOptions{FirstStageEnd: 10 * time.Second, FinalStageStart: 30 * time.Second}
	bp := AnalyseBreakingPoint(buckets, opts)
	if bp.Recovery.Verdict != VerdictRecovered || bp.Recovery.StageVUs != 10 {
		t.Fatalf("recovery = %+v, want recovered against the 10-VU first stage", bp.Recovery)
	}
	opts.FinalStageStart = 25 * time.Second // the final stage now includes the 300 ms bucket
	if got := AnalyseBreakingPoint(buckets, opts).Recovery.Verdict; got != VerdictNotRecovered {
		t.Fatalf("verdict = %s, want not_recovered when the final stage is still slow", got)
	}
}
