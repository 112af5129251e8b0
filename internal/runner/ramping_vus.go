package runner

import (
	"fmt"
	"strings"
	"time"
)

// RampingVUs changes the number of VUs linearly over stages, as k6's
// ramping-vus executor does. VUs removed during a ramp-down finish their
// iteration within GracefulRampDown.
type RampingVUs struct {
	StartVUs         int
	Stages           []Stage
	GracefulRampDown time.Duration
	GracefulStop     time.Duration
}

// NewRampingVUs returns the executor with k6's default graceful periods.
func NewRampingVUs(start int, stages []Stage) RampingVUs {
	return RampingVUs{StartVUs: start, Stages: stages, GracefulRampDown: DefaultGracefulRampDown, GracefulStop: DefaultGracefulStop}
}

// Validate implements Executor.
func (r RampingVUs) Validate() []error {
	var errs []error
	if r.StartVUs < 0 {
		errs = append(errs, fmt.Errorf("start VUs must not be negative, got %d", r.StartVUs))
	}
	if len(r.Stages) == 0 {
		errs = append(errs, fmt.Errorf("at least one stage is needed"))
	}
	var total time.Duration
	peak := r.StartVUs
	for i, s := range r.Stages {
		if s.Duration < 0 {
			errs = append(errs, fmt.Errorf("stage %d: duration must not be negative, got %s", i+1, s.Duration))
		}
		if s.Target < 0 {
			errs = append(errs, fmt.Errorf("stage %d: target must not be negative, got %d", i+1, s.Target))
		}
		total += s.Duration
		peak = max(peak, s.Target)
	}
	if len(r.Stages) > 0 && total <= 0 {
		errs = append(errs, fmt.Errorf("stages must last longer than 0s in total"))
	}
	if len(r.Stages) > 0 && peak < 1 {
		errs = append(errs, fmt.Errorf("at least one stage must target 1 VU or more"))
	}
	if r.GracefulRampDown < 0 {
		errs = append(errs, fmt.Errorf("graceful ramp-down must not be negative, got %s", r.GracefulRampDown))
	}
	if r.GracefulStop < 0 {
		errs = append(errs, fmt.Errorf("graceful stop must not be negative, got %s", r.GracefulStop))
	}
	return errs
}

// Plan implements Executor. During a stage from a to b VUs over d, the count
// moves one VU at a time: it reaches a+k (or a−k) at d·k/|b−a|.
func (r RampingVUs) Plan() Plan {
	steps := []Step{{At: 0, VUs: r.StartVUs}}
	cur := r.StartVUs
	var offset time.Duration
	peak := r.StartVUs
	for _, s := range r.Stages {
		diff := s.Target - cur
		switch {
		case diff == 0:
		case s.Duration == 0:
			steps = append(steps, Step{At: offset, VUs: s.Target})
		default:
			n := diff
			if n < 0 {
				n = -n
			}
			sign := 1
			if diff < 0 {
				sign = -1
			}
			for k := 1; k <= n; k++ {
				at := offset + time.Duration(int64(s.Duration)*int64(k)/int64(n))
				steps = append(steps, Step{At: at, VUs: cur + sign*k})
			}
		}
		cur = s.Target
		offset += s.Duration
		peak = max(peak, s.Target)
	}
	return Plan{
		Steps:            compactSteps(steps),
		End:              offset,
		GracefulStop:     r.GracefulStop,
		GracefulRampDown: r.GracefulRampDown,
		MaxVUs:           peak,
	}
}

// compactSteps keeps the last step of any group at the same instant.
func compactSteps(steps []Step) []Step {
	out := steps[:0:0]
	for _, s := range steps {
		if n := len(out); n > 0 && out[n-1].At == s.At {
			out[n-1] = s
			continue
		}
		out = append(out, s)
	}
	return out
}

// Describe implements Executor.
func (r RampingVUs) Describe() string {
	parts := make([]string, len(r.Stages))
	var total time.Duration
	for i, s := range r.Stages {
		parts[i] = s.String()
		total += s.Duration
	}
	return fmt.Sprintf("ramping-vus: %d VUs → %s (%s, up to %d VUs)", r.StartVUs, strings.Join(parts, ", "), total, r.Plan().MaxVUs)
}
