package scenario

import (
	"context"
	"net/http"
	"time"

	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
)

func init() {
	register(&Test{
		Name:       "load",
		Short:      "15 min ramp 0→25→50→100→50→0 with a realistic mix: the release baseline",
		ResultFile: "load_test_results.json",
		Metrics:    catalog["load"],
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
	})
}

// The load mix and its think times.
const (
	loadNormalShare = 0.70
	loadLargeShare  = 0.20 // the rest (10 %) are health checks
	// loadIterationsPerStream: a normal stream is reused for this many iterations of its VU.
	loadIterationsPerStream = 10
	// loadSensitiveShare of normal streams use the sensitive profile, the rest balanced.
	loadSensitiveShare = 0.2
)

type load struct {
	env      Env
	detect   *detectClient
	balanced driftlock.Profile
	sens     driftlock.Profile
	strict   driftlock.Profile
	health   http.Header
}

// loadVU tracks how many events each of a VU's streams has received, to
// know when a stream is past calibration.
type loadVU struct {
	buffers
	normalIndex int64
	normalSent  int
	largeSent   int
}

func newLoad(env Env, reg *metrics.Registry) (Instance, error) {
	d, err := newDetectClient(env, reg)
	if err != nil {
		return nil, err
	}
	l := &load{env: env, detect: d, health: http.Header{"Accept": {"application/json"}}}
	l.balanced, _ = driftlock.ProfileByName("balanced")
	l.sens, _ = driftlock.ProfileByName("sensitive")
	strict, _ := driftlock.ProfileByName("strict")
	l.strict = strict.Clamp(env.maxEvents())
	return l, nil
}

func (l *load) SetupVU(vu *runner.VU) { vu.Data = &loadVU{normalIndex: -1} }

func (l *load) Iteration(ctx context.Context, vu *runner.VU) {
	st := vu.Data.(*loadVU)
	roll := vu.Rand.Float64()
	switch {
	case roll < loadNormalShare:
		l.normal(ctx, vu, st)
		vu.Think(ctx, vu.Between(time.Second, 1500*time.Millisecond))
	case roll < loadNormalShare+loadLargeShare:
		l.large(ctx, vu, st)
		vu.Think(ctx, vu.Between(2*time.Second, 3*time.Second))
	default:
		resp := vu.Do(ctx, &runner.Request{
			Method: http.MethodGet, URL: url(l.env.BaseURL, "/healthz"), Header: l.health,
			Endpoint: "healthz", Scenario: "health", Timeout: l.env.Timeout,
		})
		if !resp.Canceled {
			vu.Check("health status 200", resp.OK(200), metrics.Tag{Key: "scenario", Value: "health"})
		}
		vu.Think(ctx, 500*time.Millisecond)
	}
}

// normal: 10–110 log events on stream-<vu>-<iter/10>.
func (l *load) normal(ctx context.Context, vu *runner.VU, st *loadVU) {
	idx := vu.Iteration / loadIterationsPerStream
	if idx != st.normalIndex {
		st.normalIndex, st.normalSent = idx, 0
	}
	profile := l.balanced
	// The profile is a property of the stream: the same for all its requests.
	if float64(uint64(idx*2654435761+int64(vu.ID))%100)/100 < loadSensitiveShare {
		profile = l.sens
	}
	n := vu.IntBetween(10, 110)
	out := l.detect.do(ctx, vu, &st.buffers, detectCall{
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
	n := vu.IntBetween(500, min(1000, l.env.maxEvents()))
	p := l.strict
	out := l.detect.do(ctx, vu, &st.buffers, detectCall{
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

func (l *load) Analyse(*metrics.Snapshot) Findings { return Findings{} }
