package harness

import (
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// timelineSteps are the interval lengths a run without its own analysis
// interval may use: the shortest that keeps the run within maxTimelineSteps
// intervals, so a result file stays small however long the run.
var timelineSteps = []time.Duration{
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
	10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
}

const maxTimelineSteps = 120

// timelineStep is the interval of a run planned to last d.
func timelineStep(d time.Duration) time.Duration {
	for _, s := range timelineSteps {
		if d <= s*maxTimelineSteps {
			return s
		}
	}
	return timelineSteps[len(timelineSteps)-1]
}

// intervals closes the registry's intervals every step: each becomes a row
// of the result file's timeline and, for a test that analyses intervals, is
// handed to it. The step is the test's own interval when it has one.
type intervals struct {
	obs      scenario.IntervalObserver
	reg      *metrics.Registry
	plan     runner.Plan
	every    time.Duration
	start    time.Duration
	timeline report.Timeline
	err      error
	// onClose, when set, sees every closed interval (windowed thresholds).
	onClose func(iv scenario.Interval)
}

func newIntervals(inst scenario.Instance, reg *metrics.Registry, plan runner.Plan) *intervals {
	iv := &intervals{reg: reg, plan: plan, every: timelineStep(plan.End)}
	if obs, ok := inst.(scenario.IntervalObserver); ok && obs.Interval() > 0 {
		iv.obs, iv.every = obs, obs.Interval()
	}
	iv.timeline.StepSeconds = iv.every.Seconds()
	iv.timeline.Intervals = []report.TimelineInterval{}
	reg.CloseInterval() // drop anything recorded before the run
	return iv
}

func (iv *intervals) tick(elapsed time.Duration) {
	for elapsed-iv.start >= iv.every {
		iv.close(iv.start + iv.every)
	}
}

func (iv *intervals) close(end time.Duration) {
	snap := iv.reg.CloseInterval()
	snap.Elapsed = end - iv.start
	si := scenario.Interval{
		Start: iv.start, End: end, VUs: iv.plan.VUsAt(end - 1),
		OfferedRate: iv.plan.OfferedRateBetween(iv.start, end), Snap: snap,
	}
	row, err := report.TimelineIntervalOf(snap, si.Start, si.End, si.VUs, si.OfferedRate)
	if err != nil && iv.err == nil {
		iv.err = err
	}
	iv.timeline.Intervals = append(iv.timeline.Intervals, row)
	if iv.onClose != nil {
		iv.onClose(si)
	}
	if iv.obs != nil {
		iv.obs.Observe(si)
	}
	iv.start = end
}

// finish closes the last, possibly partial, interval.
func (iv *intervals) finish(total time.Duration) {
	iv.tick(total)
	if total > iv.start {
		iv.close(total)
	}
}

// snapshot is the timeline so far; closed rows never change, so a shallow
// copy can be written while the run goes on.
func (iv *intervals) snapshot() *report.Timeline {
	t := iv.timeline
	t.Intervals = append([]report.TimelineInterval(nil), iv.timeline.Intervals...)
	return &t
}
