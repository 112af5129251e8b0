package harness

import (
	"time"

	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// Preview is what a run of a Config will do, known before it starts: a
// plan can be shown, and several runs added up, without sending a request.
type Preview struct {
	// Describe is the profile in one line, as the run prints it.
	Describe string
	// Length is when every VU is told to stop (time-scaled); a max-rate
	// search's is its longest: every level held.
	Length time.Duration
	// MaxDuration is Length with the graceful stop: the longest the run can take.
	MaxDuration time.Duration
	// MaxVUs is the most VUs active at once.
	MaxVUs int
}

// Preview validates c as Run would and describes the run; on any problem it
// returns them all, as Validate does. Beyond Validate, it builds the test's
// instance (which never touches the network), so what the test itself
// refuses — a detect test without an API key — is known before any run.
func (c *Config) Preview() (Preview, []error) {
	p, errs := c.resolve()
	if len(errs) > 0 {
		return Preview{}, errs
	}
	if _, err := c.Test.New(p.env(c), metrics.NewRegistry()); err != nil {
		return Preview{}, []error{err}
	}
	plan := p.exec.Plan()
	pv := Preview{Describe: p.describe, Length: plan.End, MaxDuration: plan.MaxDuration(), MaxVUs: plan.MaxVUs}
	if p.search != nil {
		hold := runner.ScaleDuration(p.search.Hold, p.timeScale)
		pv.Length = time.Duration(p.search.MaxLevels) * hold
		pv.MaxDuration = pv.Length + plan.GracefulStop
	}
	return pv, nil
}

// env is what the test instance of a run of c gets.
func (p *plan) env(c *Config) scenario.Env {
	return scenario.Env{
		BaseURL: p.base, APIKey: c.APIKey, Seed: c.Seed, Run: gen.NewRunID(),
		DemoRate: c.DemoRate, Timeout: c.Timeout, Insecure: c.Insecure, Embedded: c.Embedded, Start: time.Now().UTC().Truncate(time.Second),
		TimeScale: p.timeScale, Endpoint: c.Endpoint, MaxEvents: p.maxEvents,
		Stages: p.stages, Interval: c.Interval, Options: c.Options, Thresholds: p.sets,
	}
}
