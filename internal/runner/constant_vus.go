package runner

import (
	"fmt"
	"time"
)

// ConstantVUs keeps a fixed number of VUs looping for a duration.
type ConstantVUs struct {
	VUs          int
	Duration     time.Duration
	GracefulStop time.Duration
}

// NewConstantVUs returns the executor with k6's default graceful stop.
func NewConstantVUs(vus int, d time.Duration) ConstantVUs {
	return ConstantVUs{VUs: vus, Duration: d, GracefulStop: DefaultGracefulStop}
}

// Validate implements Executor.
func (c ConstantVUs) Validate() []error {
	var errs []error
	if c.VUs < 1 {
		errs = append(errs, fmt.Errorf("vus must be at least 1, got %d", c.VUs))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration must be positive, got %s", c.Duration))
	}
	if c.GracefulStop < 0 {
		errs = append(errs, fmt.Errorf("graceful stop must not be negative, got %s", c.GracefulStop))
	}
	return errs
}

// Plan implements Executor.
func (c ConstantVUs) Plan() Plan {
	return Plan{
		Steps:        []Step{{At: 0, VUs: c.VUs}},
		End:          c.Duration,
		GracefulStop: c.GracefulStop,
		MaxVUs:       c.VUs,
	}
}

// Describe implements Executor.
func (c ConstantVUs) Describe() string {
	return fmt.Sprintf("constant-vus: %d VUs for %s", c.VUs, c.Duration)
}
