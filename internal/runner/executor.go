// Package runner decides when and by whom requests are made: executors plan
// the number of virtual users over time, the engine runs VUs as goroutines
// following a plan, and the HTTP client times every request's phases into
// the VU's metrics recorder. It knows nothing about Driftlock.
package runner

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultGracefulStop is how long iterations still running when an executor's
// time is up may take to finish before they are cancelled (k6's default).
const DefaultGracefulStop = 30 * time.Second

// DefaultGracefulRampDown is how long a VU removed during a ramp-down may
// take to finish its iteration (k6's default).
const DefaultGracefulRampDown = 30 * time.Second

// Executor is an executor's configuration. It validates itself and turns
// into a Plan the engine follows.
type Executor interface {
	// Validate returns every problem with the configuration at once.
	Validate() []error
	// Plan returns the VU schedule. Only valid configurations are planned.
	Plan() Plan
	// Describe is one human line, e.g. "5 VUs for 1m0s".
	Describe() string
}

// Step sets the number of active VUs at an offset from the start.
type Step struct {
	At  time.Duration
	VUs int
}

// Plan is what the engine executes: VU targets over time, when the
// executor's time is up, and how stopping VUs may finish.
type Plan struct {
	Steps []Step
	// End is when every VU is told to stop after its current iteration.
	End time.Duration
	// GracefulStop is how long iterations may run past End.
	GracefulStop time.Duration
	// GracefulRampDown is how long a VU removed by a step may finish its iteration.
	GracefulRampDown time.Duration
	// IterationsPerVU, when > 0, stops each VU after that many iterations;
	// the run ends when every VU is done (or at End).
	IterationsPerVU int64
	// MaxVUs is the most VUs active at once.
	MaxVUs int
	// Arrival, when set, makes this an open-model plan: iterations start on
	// its schedule, on whichever VU is free; Steps are unused.
	Arrival *ArrivalPlan
	// vuID numbers the i-th VU (from 0); nil numbers them from 1. An
	// execution segment numbers them by their slot in the whole test.
	vuID func(i int) int
}

// VUID is the id of the plan's i-th VU (from 0).
func (p Plan) VUID(i int) int {
	if p.vuID != nil {
		return p.vuID(i)
	}
	return i + 1
}

// MaxDuration is the longest the plan can run, graceful stop included.
func (p Plan) MaxDuration() time.Duration { return p.End + p.GracefulStop }

// VUsAt returns the planned number of active VUs at offset t.
func (p Plan) VUsAt(t time.Duration) int {
	n := 0
	for _, s := range p.Steps {
		if s.At > t {
			break
		}
		n = s.VUs
	}
	if t >= p.End {
		return 0
	}
	return n
}

// Stage is one stage of a ramping profile: reach Target VUs (or iterations
// per second, for arrival-rate executors) linearly over Duration.
type Stage struct {
	Duration time.Duration
	Target   int
}

// String renders the stage as "30s:25".
func (s Stage) String() string {
	return fmt.Sprintf("%s:%d", s.Duration, s.Target)
}

// ParseStages reads "30s:25,1m:50,2m30s:0". Each problem is reported.
func ParseStages(s string) ([]Stage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("stages: empty (want \"DURATION:TARGET,...\", e.g. \"30s:25,1m:50\")")
	}
	var stages []Stage
	var errs []error
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		d, t, ok := strings.Cut(part, ":")
		if !ok {
			errs = append(errs, fmt.Errorf("stage %d %q: want DURATION:TARGET", i+1, part))
			continue
		}
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			errs = append(errs, fmt.Errorf("stage %d %q: bad duration %q", i+1, part, d))
			continue
		}
		target, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			errs = append(errs, fmt.Errorf("stage %d %q: bad target %q", i+1, part, t))
			continue
		}
		stages = append(stages, Stage{Duration: dur, Target: target})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return stages, nil
}

// ScaleStages multiplies every stage duration by f.
func ScaleStages(stages []Stage, f float64) []Stage {
	out := make([]Stage, len(stages))
	for i, s := range stages {
		out[i] = Stage{Duration: ScaleDuration(s.Duration, f), Target: s.Target}
	}
	return out
}

// ScaleDuration multiplies d by f, rounded to the millisecond (at least 1 ms
// when d > 0), for --time-scale.
func ScaleDuration(d time.Duration, f float64) time.Duration {
	if d <= 0 {
		return d
	}
	out := time.Duration(float64(d) * f).Round(time.Millisecond)
	if out <= 0 {
		out = time.Millisecond
	}
	return out
}

// StagesDuration is the total length of stages.
func StagesDuration(stages []Stage) time.Duration {
	var total time.Duration
	for _, s := range stages {
		total += s.Duration
	}
	return total
}
