package stress

import (
	"testing"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario"
)

// The breaking point is judged on the merged timeline: one bucket per
// interval, the 5xx failures its server errors.
func TestMergedStressFindsTheBreakingPointOnTheMergedTimeline(t *testing.T) {
	tl := &report.Timeline{StepSeconds: 5}
	for i, vus := range []int{2, 2, 4, 4, 6, 6} {
		d := metrics.NewSink(metrics.Trend)
		for range 100 {
			d.Add(20)
		}
		h, err := report.HistogramOf(d)
		if err != nil {
			t.Fatal(err)
		}
		var failed int64
		if vus == 6 {
			failed = 30 // 30 % fail from 6 VUs on
		}
		iv := report.TimelineInterval{StartSeconds: float64(5 * i), EndSeconds: float64(5 * (i + 1)), VUs: vus, Iterations: 100, Requests: 100, Failures: failed,
			Endpoints: map[string]*report.EndpointInterval{"detect": {Requests: 100, Failures: failed, Duration: h}}}
		if failed > 0 {
			iv.FailuresByStatus = map[string]int64{"503": failed}
		}
		tl.Intervals = append(tl.Intervals, iv)
	}
	f, err := merged(scenario.MergedRun{Result: &report.Result{Test: "stress", Timeline: tl}, Snapshot: &metrics.Snapshot{}})
	if err != nil {
		t.Fatal(err)
	}
	bp := f.Data.(stressAnalysis).BreakingPoint
	if bp.ErrorsStartAtVUs != 6 || bp.ServerErrors != 60 || len(bp.Levels) != 3 {
		t.Errorf("errors start at %d VUs, %d server errors, %d levels; want 6, 60, 3", bp.ErrorsStartAtVUs, bp.ServerErrors, len(bp.Levels))
	}
	if f, _ := merged(scenario.MergedRun{Result: &report.Result{Test: "stress"}}); f.Data != nil || len(f.Lines) != 1 {
		t.Errorf("without a timeline: %+v, want one line and no data", f)
	}
}
