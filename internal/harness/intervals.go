package harness

import (
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// intervals closes the registry's intervals on the instance's cadence and
// hands each to the instance. A nil *intervals does nothing.
type intervals struct {
	obs   scenario.IntervalObserver
	reg   *metrics.Registry
	plan  runner.Plan
	every time.Duration
	start time.Duration
}

func newIntervals(inst scenario.Instance, reg *metrics.Registry, plan runner.Plan) *intervals {
	obs, ok := inst.(scenario.IntervalObserver)
	if !ok || obs.Interval() <= 0 {
		return nil
	}
	reg.CloseInterval() // drop anything recorded before the run
	return &intervals{obs: obs, reg: reg, plan: plan, every: obs.Interval()}
}

func (iv *intervals) tick(elapsed time.Duration) {
	if iv == nil {
		return
	}
	for elapsed-iv.start >= iv.every {
		iv.close(iv.start + iv.every)
	}
}

func (iv *intervals) close(end time.Duration) {
	snap := iv.reg.CloseInterval()
	snap.Elapsed = end - iv.start
	iv.obs.Observe(scenario.Interval{Start: iv.start, End: end, VUs: iv.plan.VUsAt(end - 1), Snap: snap})
	iv.start = end
}

// finish closes the last, possibly partial, interval.
func (iv *intervals) finish(total time.Duration) {
	if iv == nil {
		return
	}
	iv.tick(total)
	if total > iv.start {
		iv.close(total)
	}
}
