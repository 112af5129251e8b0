package runner

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultMaxBacklog is how many due iterations may wait for a free VU when
// every VU is busy and MaxVUs is reached. They keep their intended start, so
// the wait shows in http_req_latency; beyond the backlog they are dropped.
const DefaultMaxBacklog = 1000

// ArrivalPlan is the schedule of an arrival-rate executor: iteration k
// (k = 0, 1, ...) is due at At(k) after the start.
type ArrivalPlan struct {
	segments []rateSegment
	// Total is the number of iterations the schedule offers.
	Total int64
	// PreAllocatedVUs are started before the first iteration.
	PreAllocatedVUs int
	// MaxBacklog bounds due iterations waiting for a VU.
	MaxBacklog int
	// stripe, when set, keeps only an execution segment's iterations: the
	// k-th of the plan is the stripe's k-th of the whole schedule.
	stripe *ExecutionSegment
}

// rateSegment is a stretch of linearly changing rate: from r0 to r1
// iterations per nanosecond over dur, starting at start with count0
// iterations already due.
type rateSegment struct {
	start, dur time.Duration
	r0, r1     float64
	count0     float64
}

// newArrivalPlan builds the schedule of rate stages starting at startRate
// (rates in iterations per timeUnit).
func newArrivalPlan(startRate float64, timeUnit time.Duration, stages []Stage) *ArrivalPlan {
	p := &ArrivalPlan{}
	perNs := func(r float64) float64 { return r / float64(timeUnit) }
	var offset time.Duration
	count := 0.0
	cur := perNs(startRate)
	for _, s := range stages {
		next := perNs(float64(s.Target))
		if s.Duration > 0 {
			p.segments = append(p.segments, rateSegment{start: offset, dur: s.Duration, r0: cur, r1: next, count0: count})
			count += (cur + next) / 2 * float64(s.Duration)
		}
		cur = next
		offset += s.Duration
	}
	// Iteration k exists when k < count; a hair of tolerance keeps exact
	// products like 10/s × 1 s at 10 despite rounding.
	p.Total = int64(math.Ceil(count - 1e-9))
	if p.Total < 0 {
		p.Total = 0
	}
	return p
}

// At returns when iteration k is due: the instant at which the number of
// iterations the rate has offered since the start reaches k. Computing each
// start from the closed form, not by adding intervals, keeps a long schedule
// from drifting.
func (p *ArrivalPlan) At(k int64) (time.Duration, bool) {
	if k < 0 || k >= p.Total {
		return 0, false
	}
	if p.stripe != nil {
		k = p.stripe.Nth(k)
	}
	target := float64(k)
	for i, seg := range p.segments {
		end := seg.count0 + (seg.r0+seg.r1)/2*float64(seg.dur)
		if target >= end && i < len(p.segments)-1 {
			continue
		}
		need := target - seg.count0
		var t float64
		a := (seg.r1 - seg.r0) / float64(seg.dur) // rate change per ns²
		switch {
		case need <= 0:
			t = 0
		case a == 0:
			t = need / seg.r0
		default:
			// N(t) = r0·t + a·t²/2 = need
			disc := seg.r0*seg.r0 + 2*a*need
			t = (-seg.r0 + math.Sqrt(math.Max(disc, 0))) / a
		}
		t = math.Min(math.Max(t, 0), float64(seg.dur))
		return seg.start + time.Duration(t), true
	}
	return 0, false
}

// ConstantArrivalRate starts Rate iterations per TimeUnit for Duration,
// whatever the target's latency (an open model, k6's constant-arrival-rate).
type ConstantArrivalRate struct {
	Rate            int
	TimeUnit        time.Duration
	Duration        time.Duration
	PreAllocatedVUs int
	MaxVUs          int
	MaxBacklog      int
	GracefulStop    time.Duration
}

// NewConstantArrivalRate returns the executor with k6's defaults (rate per
// second, 30 s graceful stop) and DefaultMaxBacklog.
func NewConstantArrivalRate(rate int, d time.Duration, preAllocated, maxVUs int) ConstantArrivalRate {
	return ConstantArrivalRate{Rate: rate, TimeUnit: time.Second, Duration: d, PreAllocatedVUs: preAllocated,
		MaxVUs: maxVUs, MaxBacklog: DefaultMaxBacklog, GracefulStop: DefaultGracefulStop}
}

func validateArrival(timeUnit time.Duration, pre, maxVUs, backlog int, grace time.Duration) []error {
	var errs []error
	if timeUnit <= 0 {
		errs = append(errs, fmt.Errorf("time unit must be positive, got %s", timeUnit))
	}
	if pre < 0 {
		errs = append(errs, fmt.Errorf("pre-allocated VUs must not be negative, got %d", pre))
	}
	if maxVUs < 1 {
		errs = append(errs, fmt.Errorf("max VUs must be at least 1, got %d", maxVUs))
	} else if pre > maxVUs {
		errs = append(errs, fmt.Errorf("pre-allocated VUs (%d) must not exceed max VUs (%d)", pre, maxVUs))
	}
	if backlog < 0 {
		errs = append(errs, fmt.Errorf("max backlog must not be negative, got %d", backlog))
	}
	if grace < 0 {
		errs = append(errs, fmt.Errorf("graceful stop must not be negative, got %s", grace))
	}
	return errs
}

// Validate implements Executor.
func (c ConstantArrivalRate) Validate() []error {
	var errs []error
	if c.Rate < 1 {
		errs = append(errs, fmt.Errorf("rate must be at least 1 per %s, got %d", c.TimeUnit, c.Rate))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration must be positive, got %s", c.Duration))
	}
	return append(errs, validateArrival(c.TimeUnit, c.PreAllocatedVUs, c.MaxVUs, c.MaxBacklog, c.GracefulStop)...)
}

// Plan implements Executor.
func (c ConstantArrivalRate) Plan() Plan {
	a := newArrivalPlan(float64(c.Rate), c.TimeUnit, []Stage{{Duration: c.Duration, Target: c.Rate}})
	a.PreAllocatedVUs, a.MaxBacklog = c.PreAllocatedVUs, c.MaxBacklog
	return Plan{End: c.Duration, GracefulStop: c.GracefulStop, MaxVUs: c.MaxVUs, Arrival: a}
}

// Describe implements Executor.
func (c ConstantArrivalRate) Describe() string {
	return fmt.Sprintf("constant-arrival-rate: %d iterations per %s for %s (%d–%d VUs)", c.Rate, c.TimeUnit, c.Duration, c.PreAllocatedVUs, c.MaxVUs)
}

// RampingArrivalRate changes the arrival rate linearly over stages whose
// Target is a rate per TimeUnit (k6's ramping-arrival-rate).
type RampingArrivalRate struct {
	StartRate       int
	TimeUnit        time.Duration
	Stages          []Stage
	PreAllocatedVUs int
	MaxVUs          int
	MaxBacklog      int
	GracefulStop    time.Duration
}

// NewRampingArrivalRate returns the executor with k6's defaults and DefaultMaxBacklog.
func NewRampingArrivalRate(start int, stages []Stage, preAllocated, maxVUs int) RampingArrivalRate {
	return RampingArrivalRate{StartRate: start, TimeUnit: time.Second, Stages: stages, PreAllocatedVUs: preAllocated,
		MaxVUs: maxVUs, MaxBacklog: DefaultMaxBacklog, GracefulStop: DefaultGracefulStop}
}

// Validate implements Executor.
func (r RampingArrivalRate) Validate() []error {
	var errs []error
	if r.StartRate < 0 {
		errs = append(errs, fmt.Errorf("start rate must not be negative, got %d", r.StartRate))
	}
	if len(r.Stages) == 0 {
		errs = append(errs, fmt.Errorf("at least one stage is needed"))
	}
	var total time.Duration
	for i, s := range r.Stages {
		if s.Duration < 0 {
			errs = append(errs, fmt.Errorf("stage %d: duration must not be negative, got %s", i+1, s.Duration))
		}
		if s.Target < 0 {
			errs = append(errs, fmt.Errorf("stage %d: target rate must not be negative, got %d", i+1, s.Target))
		}
		total += s.Duration
	}
	if len(r.Stages) > 0 && total <= 0 {
		errs = append(errs, fmt.Errorf("stages must last longer than 0s in total"))
	}
	return append(errs, validateArrival(r.TimeUnit, r.PreAllocatedVUs, r.MaxVUs, r.MaxBacklog, r.GracefulStop)...)
}

// Plan implements Executor.
func (r RampingArrivalRate) Plan() Plan {
	a := newArrivalPlan(float64(r.StartRate), r.TimeUnit, r.Stages)
	a.PreAllocatedVUs, a.MaxBacklog = r.PreAllocatedVUs, r.MaxBacklog
	var end time.Duration
	for _, s := range r.Stages {
		end += s.Duration
	}
	return Plan{End: end, GracefulStop: r.GracefulStop, MaxVUs: r.MaxVUs, Arrival: a}
}

// Describe implements Executor.
func (r RampingArrivalRate) Describe() string {
	parts := make([]string, len(r.Stages))
	var total time.Duration
	for i, s := range r.Stages {
		parts[i] = s.String()
		total += s.Duration
	}
	return fmt.Sprintf("ramping-arrival-rate: %d/%s → %s (%s, %d–%d VUs)", r.StartRate, r.TimeUnit, strings.Join(parts, ", "), total, r.PreAllocatedVUs, r.MaxVUs)
}
