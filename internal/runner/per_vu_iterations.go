package runner

import (
	"fmt"
	"time"
)

// PerVUIterations runs a fixed number of iterations on each VU, with an
// upper bound on the time it may take.
type PerVUIterations struct {
	VUs          int
	Iterations   int64
	MaxDuration  time.Duration
	GracefulStop time.Duration
}

// NewPerVUIterations returns the executor with k6's defaults (10 min max).
func NewPerVUIterations(vus int, iterations int64) PerVUIterations {
	return PerVUIterations{VUs: vus, Iterations: iterations, MaxDuration: 10 * time.Minute, GracefulStop: DefaultGracefulStop}
}

// Validate implements Executor.
func (p PerVUIterations) Validate() []error {
	var errs []error
	if p.VUs < 1 {
		errs = append(errs, fmt.Errorf("vus must be at least 1, got %d", p.VUs))
	}
	if p.Iterations < 1 {
		errs = append(errs, fmt.Errorf("iterations must be at least 1, got %d", p.Iterations))
	}
	if p.MaxDuration <= 0 {
		errs = append(errs, fmt.Errorf("max duration must be positive, got %s", p.MaxDuration))
	}
	if p.GracefulStop < 0 {
		errs = append(errs, fmt.Errorf("graceful stop must not be negative, got %s", p.GracefulStop))
	}
	return errs
}

// Plan implements Executor.
func (p PerVUIterations) Plan() Plan {
	return Plan{
		Steps:           []Step{{At: 0, VUs: p.VUs}},
		End:             p.MaxDuration,
		GracefulStop:    p.GracefulStop,
		IterationsPerVU: p.Iterations,
		MaxVUs:          p.VUs,
	}
}

// Describe implements Executor.
func (p PerVUIterations) Describe() string {
	return fmt.Sprintf("per-vu-iterations: %d VUs × %d iterations (max %s)", p.VUs, p.Iterations, p.MaxDuration)
}
