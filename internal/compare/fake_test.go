package compare

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// endpointSpec is one endpoint of a fake run: requests per interval and
// the latency of each (milliseconds, from rng), and which fail.
type endpointSpec struct {
	name     string
	perStep  int
	latency  func(rng *rand.Rand, step int) float64
	failRate float64
}

// runSpec describes a fake run, as a test would have recorded it.
type runSpec struct {
	seed      uint64
	steps     int // one-second intervals
	endpoints []endpointSpec
	// noTimeline leaves the timeline out, as in a file without one.
	noTimeline bool
	// config overrides the fake run's configuration fields.
	config map[string]any
	start  time.Time
	// key names a spec whose run can be recorded once and shared (specs
	// from standard, unchanged but for noTimeline and start).
	key string
}

// recorded are the fake runs of keyed specs, each recorded once.
var recorded sync.Map // key → *report.Result

// around returns a latency generator: ms plus a lognormal spread of
// spread (0.1: about ±10 %).
func around(ms, spread float64) func(*rand.Rand, int) float64 {
	return func(rng *rand.Rand, _ int) float64 {
		return ms * math.Exp(spread*rng.NormFloat64())
	}
}

// fakeRun records spec through a metrics registry, interval by interval,
// and renders the result file the harness would write. Each call returns
// its own Result (its Config too), so a test may change it.
func fakeRun(t *testing.T, spec runSpec) *report.Result {
	t.Helper()
	key := ""
	if spec.key != "" && spec.config == nil {
		key = fmt.Sprintf("%s/%v/%s", spec.key, spec.noTimeline, spec.start)
		if r, ok := recorded.Load(key); ok {
			c := *r.(*report.Result)
			c.Config = maps.Clone(c.Config)
			return &c
		}
	}
	r := record(t, spec)
	if key != "" {
		recorded.Store(key, r)
		c := *r
		c.Config = maps.Clone(r.Config)
		return &c
	}
	return r
}

func record(t *testing.T, spec runSpec) *report.Result {
	t.Helper()
	reg := metrics.NewRegistry()
	reqs := reg.MustDefine("http_reqs", metrics.Counter, metrics.Default)
	failed := reg.MustDefine("http_req_failed", metrics.Rate, metrics.Default)
	dur := reg.MustDefine("http_req_duration", metrics.Trend, metrics.Time)
	wait := reg.MustDefine("http_req_waiting", metrics.Trend, metrics.Time)
	rec := reg.NewRecorder()
	rng := rand.New(rand.NewPCG(spec.seed, 99))
	tl := &report.Timeline{StepSeconds: 1}
	for step := range spec.steps {
		for _, ep := range spec.endpoints {
			for range ep.perStep {
				fail := rng.Float64() < ep.failRate
				status := "200"
				if fail {
					status = "500"
				}
				tags := metrics.NewTags("endpoint", ep.name, "status", status)
				v := ep.latency(rng, step)
				rec.Add(reqs, tags, 1)
				rec.AddBool(failed, tags, fail)
				rec.Add(dur, tags, v)
				rec.Add(wait, tags, 0.9*v)
			}
		}
		rec.Flush()
		iv, err := report.TimelineIntervalOf(reg.CloseInterval(), time.Duration(step)*time.Second, time.Duration(step+1)*time.Second, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		tl.Intervals = append(tl.Intervals, iv)
	}
	snap := reg.Snapshot()
	snap.Elapsed = time.Duration(spec.steps) * time.Second
	ms, err := report.MetricsFromSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	start := spec.start
	if start.IsZero() {
		start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	}
	r := &report.Result{
		SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "driftload", Version: "1.0.0"}, Test: "load",
		Config: map[string]any{
			"executor": "constant-vus: 10 VUs for 1m", "vus": 10.0, "duration": "1m0s", "time_scale": 1.0,
			"run_id": "run" + string(rune('a'+spec.seed%26)), "seed": float64(spec.seed),
		},
		Target: report.Target{BaseURL: "http://127.0.0.1:8080"}, Share: "0:1",
		Start: start, End: start.Add(time.Duration(spec.steps) * time.Second), DurationSeconds: float64(spec.steps),
		Metrics: ms, Passed: true, Complete: true, Run: report.Run{Model: "closed", Valid: true},
	}
	if !spec.noTimeline {
		r.Timeline = tl
	}
	for k, v := range spec.config {
		if v == nil {
			delete(r.Config, k)
			continue
		}
		r.Config[k] = v
	}
	return r
}

// standard is a fake run of the load test's shape: a detect endpoint at
// 20 ms and a health check at 0.3 ms, 40 s of one-second intervals.
func standard(seed uint64, detectMs float64) runSpec {
	return runSpec{
		key:  fmt.Sprintf("standard/%d/%g", seed, detectMs),
		seed: seed, steps: 40,
		endpoints: []endpointSpec{
			{name: "detect", perStep: 40, latency: around(detectMs, 0.15)},
			{name: "healthz", perStep: 5, latency: around(0.3, 0.2)},
		},
	}
}

// variant is spec changed by change: recorded on its own, not shared.
func variant(spec runSpec, change func(*runSpec)) runSpec {
	spec.key = ""
	spec.endpoints = append([]endpointSpec(nil), spec.endpoints...)
	change(&spec)
	return spec
}

func ptr(v float64) *float64 { return &v }

// gate are the budgets the tests judge with: the shipped file's.
var gate = Budgets{
	MaxP50Regression: ptr(0.10), MaxP95Regression: ptr(0.10), MaxP99Regression: ptr(0.25),
	MaxErrorRateIncrease: ptr(0.005), MinThroughputRatio: ptr(0.95), MinLatencyChangeMs: ptr(1),
}
