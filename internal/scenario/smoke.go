package scenario

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
)

func init() {
	register(&Test{
		Name:            "smoke",
		Short:           "1 min at 5 VUs: every endpoint answers as it should",
		ResultFile:      "smoke_test_results.json",
		DefaultVUs:      5,
		DefaultDuration: time.Minute,
		Metrics:         catalog["smoke"],
		New:             newSmoke,
	})
}

// Smoke think times: a short pause between the calls of an iteration and a
// longer one at its end, so 5 VUs look like 5 people clicking through.
const (
	smokeStepPause = 500 * time.Millisecond
	smokeEndPause  = time.Second
	// smokeDemoMargin keeps demo pacing under the server's rolling-window
	// limit: a token bucket with burst 1 at 95 % of the limit never puts more
	// than the limit into any window.
	smokeDemoMargin = 0.95
)

type smoke struct {
	env          Env
	demo         *rate.Limiter
	health       *metrics.Metric
	demoSuccess  *metrics.Metric
	detectSucces *metrics.Metric
	jsonNoKey    http.Header
	jsonWithKey  http.Header
	getHeader    http.Header
}

type smokeVU struct {
	events []byte
	body   []byte
}

func newSmoke(env Env, reg *metrics.Registry) (Instance, error) {
	ms, err := defineAll(reg, catalog["smoke"])
	if err != nil {
		return nil, err
	}
	s := &smoke{
		env:          env,
		demo:         newDemoPacer(env),
		health:       ms["health_check_success"],
		demoSuccess:  ms["demo_detect_success"],
		detectSucces: ms["detect_success"],
		jsonNoKey:    jsonHeader(""),
		jsonWithKey:  jsonHeader(env.APIKey),
		getHeader:    http.Header{"Accept": {"application/json"}},
	}
	return s, nil
}

func (s *smoke) SetupVU(vu *runner.VU) { vu.Data = &smokeVU{} }

func (s *smoke) get(ctx context.Context, vu *runner.VU, path, endpoint string, expect ...int) *runner.Response {
	return vu.Do(ctx, &runner.Request{
		Method: http.MethodGet, URL: url(s.env.BaseURL, path), Header: s.getHeader,
		Endpoint: endpoint, Scenario: "smoke", Expect: expect, Timeout: s.env.Timeout,
	})
}

// Iteration: health, readiness, a paced demo detect, an authenticated detect
// when a key is given, and an unknown route that must answer 404.
func (s *smoke) Iteration(ctx context.Context, vu *runner.VU) {
	st := vu.Data.(*smokeVU)

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
	if !vu.Think(ctx, smokeStepPause) {
		return
	}

	if s.demo.Allow() {
		st.events, _ = gen.AppendBatch(st.events[:0], vu.Rand, gen.Batch{
			Size: 10, Mix: gen.LogsWithAnomalies, AnomalyRate: 0.2, Start: s.env.Start, Step: time.Second,
		})
		st.body = driftlock.AppendDetectRequest(st.body[:0], "", st.events, nil)
		resp = vu.Do(ctx, &runner.Request{
			Method: http.MethodPost, URL: url(s.env.BaseURL, "/v1/demo/detect"), Header: s.jsonNoKey,
			Body: st.body, Endpoint: "demo_detect", Scenario: "smoke", Timeout: s.env.Timeout,
		})
		if resp.Canceled {
			return
		}
		status := vu.Check("demo detect status 200", resp.OK(200))
		wellFormed := status && validDetect(resp.Body, 10)
		vu.Check("demo detect response well-formed", wellFormed)
		vu.Recorder.AddBool(s.demoSuccess, nil, status && wellFormed)
		if !vu.Think(ctx, smokeStepPause) {
			return
		}
	}

	if s.env.APIKey != "" {
		stream := gen.StreamID("smoke", s.env.Run, vu.ID)
		st.events, _ = gen.AppendBatch(st.events[:0], vu.Rand, gen.Batch{
			Size: 20, Mix: gen.LogsWithAnomalies, AnomalyRate: 0.1, StreamID: stream, Start: s.env.Start, Step: time.Second,
		})
		st.body = driftlock.AppendDetectRequest(st.body[:0], stream, st.events, nil)
		resp = vu.Do(ctx, &runner.Request{
			Method: http.MethodPost, URL: url(s.env.BaseURL, "/v1/detect"), Header: s.jsonWithKey,
			Body: st.body, Endpoint: "detect", Scenario: "smoke", Timeout: s.env.Timeout,
		})
		if resp.Canceled {
			return
		}
		status := vu.Check("detect status 200", resp.OK(200))
		wellFormed := status && validDetect(resp.Body, 20)
		vu.Check("detect response well-formed", wellFormed)
		vu.Recorder.AddBool(s.detectSucces, nil, status && wellFormed)
	}

	resp = s.get(ctx, vu, "/v1/nonexistent", "not_found", http.StatusNotFound)
	if resp.Canceled {
		return
	}
	vu.Check("unknown route status 404", resp.OK(404))
	vu.Think(ctx, smokeEndPause)
}

// validDetect reports whether body is a successful detect response that
// accounts for the events sent (when the server says how many it got).
func validDetect(body []byte, sent int) bool {
	r, err := driftlock.ParseDetectResponse(body)
	if err != nil {
		return false
	}
	if r.EventsKnown && r.Events != sent {
		return false
	}
	return r.Success || r.EventsKnown
}

func (s *smoke) Analyse(*metrics.Snapshot) Findings { return Findings{} }
