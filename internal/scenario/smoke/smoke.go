// Package smoke is driftload's smoke test: does every endpoint answer as it
// should.
package smoke

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// Test declares the smoke test.
var Test = &scenario.Test{
	Name:  "smoke",
	Short: "1 min at 5 VUs: every endpoint answers as it should",
	Long: `smoke checks that every endpoint answers: 5 VUs for 1 minute, each iteration calling
/healthz, /readyz, a demo detect (paced under the demo limit), an authenticated detect when
an API key is given, and an unknown route that must answer 404.`,
	ResultFile:      "smoke_test_results.json",
	DefaultVUs:      5,
	DefaultDuration: time.Minute,
	Metrics:         smokeMetrics,
	New:             newSmoke,
}

// smokeMetrics are the smoke test's own metrics.
var smokeMetrics = []metrics.Def{
	{Name: "health_check_success", Type: metrics.Rate},
	{Name: "demo_detect_success", Type: metrics.Rate},
	{Name: "detect_success", Type: metrics.Rate},
}

// Smoke think times: a short pause between the calls of an iteration and a
// longer one at its end, so 5 VUs look like 5 people clicking through.
const (
	stepPause = 500 * time.Millisecond
	endPause  = time.Second
)

type smoke struct {
	env           scenario.Env
	demo          *rate.Limiter
	health        *metrics.Metric
	demoSuccess   *metrics.Metric
	detectSuccess *metrics.Metric
	jsonNoKey     http.Header
	jsonWithKey   http.Header
}

func newSmoke(env scenario.Env, reg *metrics.Registry) (scenario.Instance, error) {
	ms, err := reg.DefineAll(smokeMetrics)
	if err != nil {
		return nil, err
	}
	s := &smoke{
		env:           env,
		demo:          scenario.NewDemoPacer(env),
		health:        ms["health_check_success"],
		demoSuccess:   ms["demo_detect_success"],
		detectSuccess: ms["detect_success"],
		jsonNoKey:     scenario.JSONHeader(""),
		jsonWithKey:   scenario.JSONHeader(env.APIKey),
	}
	return s, nil
}

func (s *smoke) SetupVU(vu *runner.VU) { vu.Data = &scenario.Buffers{} }

func (s *smoke) get(ctx context.Context, vu *runner.VU, path, endpoint string, expect ...int) *runner.Response {
	return scenario.Get(ctx, vu, s.env, path, endpoint, "smoke", expect...)
}

// Iteration: health, readiness, a paced demo detect, an authenticated detect
// when a key is given, and an unknown route that must answer 404.
func (s *smoke) Iteration(ctx context.Context, vu *runner.VU) {
	buf := vu.Data.(*scenario.Buffers)

	resp := s.get(ctx, vu, "/healthz", "healthz")
	if resp.Canceled {
		return
	}
	ok := vu.Check("healthz status 200", resp.OK(200))
	vu.Recorder.AddBool(s.health, nil, ok)

	resp = s.get(ctx, vu, "/readyz", "readyz")
	if resp.Canceled {
		return
	}
	vu.Check("readyz status 200", resp.OK(200))
	if !vu.Think(ctx, stepPause) {
		return
	}

	if s.demo.Allow() {
		if !s.detect(ctx, vu, buf, detect{
			path: "/v1/demo/detect", endpoint: "demo_detect", header: s.jsonNoKey, size: 10, anomalyRate: 0.2,
			checkPrefix: "demo detect", success: s.demoSuccess,
		}) {
			return
		}
		if !vu.Think(ctx, stepPause) {
			return
		}
	}

	if s.env.APIKey != "" {
		if !s.detect(ctx, vu, buf, detect{
			path: "/v1/detect", endpoint: "detect", header: s.jsonWithKey, size: 20, anomalyRate: 0.1,
			stream: gen.StreamID("smoke", s.env.Run, vu.ID), checkPrefix: "detect", success: s.detectSuccess,
		}) {
			return
		}
	}

	resp = s.get(ctx, vu, "/v1/nonexistent", "not_found", http.StatusNotFound)
	if resp.Canceled {
		return
	}
	vu.Check("unknown route status 404", resp.OK(404))
	vu.Think(ctx, endPause)
}

// detect is one of smoke's two detect calls (demo or authenticated).
type detect struct {
	path, endpoint string
	header         http.Header
	size           int
	anomalyRate    float64
	// stream is the stream id; "" on the demo route.
	stream string
	// checkPrefix names the checks: "<prefix> status 200", "<prefix> response well-formed".
	checkPrefix string
	success     *metrics.Metric
}

// detect sends d and records its checks; false when the request was cancelled.
func (s *smoke) detect(ctx context.Context, vu *runner.VU, buf *scenario.Buffers, d detect) bool {
	body := buf.DetectBody(vu, gen.Batch{
		Size: d.size, Mix: gen.LogsWithAnomalies, AnomalyRate: d.anomalyRate, StreamID: d.stream, Start: s.env.Start, Step: time.Second,
	}, nil)
	resp := vu.Do(ctx, &runner.Request{
		Method: http.MethodPost, URL: scenario.URL(s.env.BaseURL, d.path), Header: d.header,
		Body: body, Endpoint: d.endpoint, Scenario: "smoke", Timeout: s.env.Timeout,
	})
	if resp.Canceled {
		return false
	}
	status := vu.Check(d.checkPrefix+" status 200", resp.OK(200))
	wellFormed := status && scenario.ValidDetect(resp.Body, d.size)
	vu.Check(d.checkPrefix+" response well-formed", wellFormed)
	vu.Recorder.AddBool(d.success, nil, status && wellFormed)
	return true
}

func (s *smoke) Analyse(*metrics.Snapshot) scenario.Findings { return scenario.Findings{} }
