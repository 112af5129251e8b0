package harness

import (
	"github.com/driftload/driftload/internal/analysis"
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
	// onClose see every closed interval (windowed thresholds, a max-rate
	// search's levels).
	onClose []func(iv scenario.Interval)
	// planAt is when plan started in the run (a search's level), begun
	// the instant it started (zero in tests that tick by hand).
	planAt time.Duration
	begun  time.Time
	// service is each interval's service time and drops, for telling a
	// saturated target from a generator short of VUs.
	service []intervalService
	// late is the most an interval was closed after its end: how far
	// behind its own clock driftload ran. Samples are placed by the time
	// they were recorded (the registry's clock, see begin), so a late
	// close moves none into a later interval; but it says driftload was
	// short of CPU, and its timings with it.
	late time.Duration
}

// intervalService is one interval's median service time (http_req_duration)
// and dropped iterations.
type intervalService struct {
	p50     float64
	count   int64
	dropped int64
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

// begin starts the registry's interval clock at a run's (or a search
// level's) start, the instant the run's elapsed time counts from: interval k
// of it is the timeline's k-th interval from iv.start.
func (iv *intervals) begin(start time.Time) {
	iv.reg.SetIntervals(start, iv.every)
	iv.begun = start
}

// tick is the run's clock: it closes every interval that ended by elapsed
// and remembers how late the first of them closed, counting the time the
// closing took (it waits for the VUs' samples).
func (iv *intervals) tick(elapsed time.Duration) {
	first := iv.start + iv.every
	iv.overdue(elapsed)
	iv.closeUpTo(elapsed)
	if !iv.begun.IsZero() && iv.start >= first {
		iv.late = max(iv.late, time.Since(iv.begun)+iv.planAt-first)
	}
}

// overdue notes the lateness of the oldest open interval at elapsed: at a
// tick, and when the run ends with a collection still under way (then the
// engine's last tick is when it was due).
func (iv *intervals) overdue(elapsed time.Duration) {
	if end := iv.start + iv.every; elapsed >= end {
		iv.late = max(iv.late, elapsed-end)
	}
}

func (iv *intervals) closeUpTo(elapsed time.Duration) {
	for elapsed-iv.start >= iv.every {
		iv.close(iv.start+iv.every, false)
	}
}

// close ends the interval open from iv.start at end; the last of a run (or
// a search level) also takes whatever was recorded after it.
func (iv *intervals) close(end time.Duration, last bool) {
	closeInterval := iv.reg.CloseInterval
	if last {
		closeInterval = iv.reg.CloseLastInterval
	}
	snap := closeInterval()
	snap.Elapsed = end - iv.start
	si := scenario.Interval{
		Start: iv.start, End: end, VUs: iv.plan.VUsAt(end - 1 - iv.planAt),
		OfferedRate: iv.plan.OfferedRateBetween(iv.start-iv.planAt, end-iv.planAt), Snap: snap,
	}
	row, err := report.TimelineIntervalOf(snap, si.Start, si.End, si.VUs, si.OfferedRate)
	if err != nil && iv.err == nil {
		iv.err = err
	}
	iv.timeline.Intervals = append(iv.timeline.Intervals, row)
	svc := intervalService{dropped: row.DroppedIterations}
	if d, ok := snap.Sink("http_req_duration", nil); ok && d.Count > 0 {
		svc.p50, svc.count = d.Percentile(50), d.Count
	}
	iv.service = append(iv.service, svc)
	for _, f := range iv.onClose {
		f(si)
	}
	if iv.obs != nil {
		iv.obs.Observe(si)
	}
	iv.start = end
}

// retarget makes plan, started at offset at in the run, the one intervals
// report VUs and offered rates from.
func (iv *intervals) retarget(plan runner.Plan, at time.Duration) {
	iv.plan, iv.planAt = plan, at
}

// finish closes the intervals the run's drain (ticks stop while VUs finish
// their iterations) went past, and the last, possibly partial, one.
func (iv *intervals) finish(total time.Duration) {
	for total-iv.start > iv.every {
		iv.close(iv.start+iv.every, false)
	}
	if total > iv.start {
		iv.close(total, true)
	}
}

// snapshot is the timeline so far; closed rows never change, so a shallow
// copy can be written while the run goes on.
func (iv *intervals) snapshot() *report.Timeline {
	t := iv.timeline
	t.Intervals = append([]report.TimelineInterval(nil), iv.timeline.Intervals...)
	return &t
}

// targetSlowed reports whether the target's median service time, in the
// intervals where iterations were dropped, rose well above its own baseline
// (the first intervals with requests and no drops): then the VUs were busy
// because the target was slow — the target saturated, not driftload. It
// returns the two medians for the verdict.
func (iv *intervals) targetSlowed() (slowed bool, baseline, dropping float64) {
	var base, drop []float64
	for _, s := range iv.service {
		switch {
		case s.count == 0:
		case s.dropped == 0 && len(drop) == 0 && len(base) < 3:
			base = append(base, s.p50)
		case s.dropped > 0:
			drop = append(drop, s.p50)
		}
	}
	if len(base) == 0 || len(drop) == 0 {
		return false, 0, 0
	}
	baseline, dropping = analysis.Median(base), analysis.Median(drop)
	return dropping > 2*baseline+5, baseline, dropping
}
