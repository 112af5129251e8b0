// Package load is driftload's load test: the release baseline under a
// realistic mix.
package load

import (
	"context"
	"time"

	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// Test declares the load test.
var Test = &scenario.Test{
	Name:  "load",
	Short: "15 min ramp 0→25→50→100→50→0 with a realistic mix: the release baseline",
	Long: `load is the baseline to document before each release: 15 minutes ramping
0→25→50→100 VUs, 5 minutes at 100, then down to 0. Each iteration is a normal detect of
10–110 log events (70 %), a large batch of 500–1000 mixed events with the strict profile
(20 %) or a health check (10 %). Metrics are tagged scenario:normal|large_batch|health.
Use --time-scale 0.02 to run the same shape in 18 seconds.`,
	ResultFile: "load_test_results.json",
	Metrics:    scenario.DetectMetrics,
	DefaultStages: []runner.Stage{
		{Duration: time.Minute, Target: 25},
		{Duration: 2 * time.Minute, Target: 50},
		{Duration: 2 * time.Minute, Target: 100},
		{Duration: 5 * time.Minute, Target: 100},
		{Duration: 3 * time.Minute, Target: 50},
		{Duration: 2 * time.Minute, Target: 0},
	},
	DefaultVUs:      25,
	DefaultDuration: 15 * time.Minute,
	SendsDetect:     true,
	New:             newLoad,
}

// The load mix and its think times.
const (
	normalShare = 0.70
	largeShare  = 0.20 // the rest (10 %) are health checks
	// iterationsPerStream: a normal stream is reused for this many iterations of its VU.
	iterationsPerStream = 10
	// sensitiveShare of normal streams use the sensitive profile, the rest balanced.
	sensitiveShare = 0.2
)

type load struct {
	env      scenario.Env
	detect   *scenario.DetectClient
	balanced driftlock.Profile
	sens     driftlock.Profile
	strict   driftlock.Profile
}

// loadVU tracks how many events each of a VU's streams has received, to
// know when a stream is past calibration.
type loadVU struct {
	scenario.Buffers
	normalIndex int64
	normalSent  int
	largeSent   int
}

func newLoad(env scenario.Env, reg *metrics.Registry) (scenario.Instance, error) {
	d, err := scenario.NewDetectClient(env, reg)
	if err != nil {
		return nil, err
	}
	l := &load{env: env, detect: d}
	l.balanced, _ = driftlock.ProfileByName("balanced")
	l.sens, _ = driftlock.ProfileByName("sensitive")
	strict, _ := driftlock.ProfileByName("strict")
	l.strict = strict.Clamp(env.EventLimit())
	return l, nil
}

func (l *load) SetupVU(vu *runner.VU) { vu.Data = &loadVU{normalIndex: -1} }

func (l *load) Iteration(ctx context.Context, vu *runner.VU) {
	st := vu.Data.(*loadVU)
	roll := vu.Rand.Float64()
	switch {
	case roll < normalShare:
		l.normal(ctx, vu, st)
		vu.Think(ctx, vu.Between(time.Second, 1500*time.Millisecond))
	case roll < normalShare+largeShare:
		l.large(ctx, vu, st)
		vu.Think(ctx, vu.Between(2*time.Second, 3*time.Second))
	default:
		scenario.HealthCheck(ctx, vu, l.env)
		vu.Think(ctx, 500*time.Millisecond)
	}
}

// normal: 10–110 log events on stream-<vu>-<iter/10>.
func (l *load) normal(ctx context.Context, vu *runner.VU, st *loadVU) {
	idx := vu.Iteration / iterationsPerStream
	if idx != st.normalIndex {
		st.normalIndex, st.normalSent = idx, 0
	}
	profile := l.balanced
	// The profile is a property of the stream: the same for all its requests.
	if float64(uint64(idx*2654435761+int64(vu.ID))%100)/100 < sensitiveShare {
		profile = l.sens
	}
	n := vu.IntBetween(10, 110)
	out := l.detect.Do(ctx, vu, &st.Buffers, scenario.DetectCall{
		Stream:   gen.StreamID("stream", l.env.Run, vu.ID, int(idx)),
		Batch:    gen.Batch{Size: n, Mix: gen.LogsWithAnomalies, AnomalyRate: 0.02},
		Profile:  &profile,
		Scenario: "normal",
		Warm:     st.normalSent >= profile.BaselineSize+profile.WindowSize,
		Tags:     metrics.Tags{{Key: "profile", Value: profile.Name}},
	})
	if out.OK {
		st.normalSent += n
	}
}

// large: 500–1000 mixed events on the VU's own stream, strict profile.
func (l *load) large(ctx context.Context, vu *runner.VU, st *loadVU) {
	n := vu.IntBetween(500, min(1000, l.env.EventLimit()))
	p := l.strict
	out := l.detect.Do(ctx, vu, &st.Buffers, scenario.DetectCall{
		Stream:   gen.StreamID("large", l.env.Run, vu.ID),
		Batch:    gen.Batch{Size: n, Mix: gen.Mixed},
		Profile:  &p,
		Scenario: "large_batch",
		Warm:     st.largeSent >= p.BaselineSize+p.WindowSize,
		Tags:     metrics.Tags{{Key: "profile", Value: p.Name}},
	})
	if out.Resp.Canceled {
		return
	}
	all := out.OK && out.Result.EventsKnown && out.Result.Events == n
	vu.Check("large batch processed all events", all, metrics.Tag{Key: "scenario", Value: "large_batch"})
	if out.OK {
		st.largeSent += n
	}
}

func (l *load) Analyse(*metrics.Snapshot) scenario.Findings { return scenario.Findings{} }
