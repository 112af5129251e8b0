package scenario

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
)

// detectMetrics are the custom metrics every detect-heavy test records.
type detectMetrics struct {
	latency   *metrics.Metric // detect_latency: server-side time, warm streams only
	events    *metrics.Metric // events_processed: events the server confirmed
	anomalies *metrics.Metric // anomalies_detected
	success   *metrics.Metric // detect_success
	server    *metrics.Metric // server_processing_time: every reported server time
}

// detectClient sends detect requests on /v1/detect (with the API key) or on
// the demo route (paced under its limit), and records what came back.
type detectClient struct {
	env      Env
	url      string
	endpoint string
	header   http.Header
	demo     *rate.Limiter
	m        detectMetrics
}

// errNoAPIKey is returned when /v1/detect is asked for without a key.
var errNoAPIKey = errors.New("this test sends /v1/detect requests: give --api-key (or API_KEY), use --embedded-target, or --endpoint demo")

func newDetectClient(env Env, reg *metrics.Registry) (*detectClient, error) {
	d := &detectClient{env: env}
	switch env.Endpoint {
	case "", "detect":
		if env.APIKey == "" {
			return nil, errNoAPIKey
		}
		d.url, d.endpoint, d.header = url(env.BaseURL, "/v1/detect"), "detect", jsonHeader(env.APIKey)
	case "demo":
		d.url, d.endpoint, d.header = url(env.BaseURL, "/v1/demo/detect"), "demo_detect", jsonHeader("")
		d.demo = newDemoPacer(env)
	default:
		return nil, errors.New(`--endpoint must be "detect" or "demo"`)
	}
	ms, err := defineAll(reg, map[string]metrics.Type{
		"detect_latency":         metrics.Trend,
		"events_processed":       metrics.Counter,
		"anomalies_detected":     metrics.Counter,
		"detect_success":         metrics.Rate,
		"server_processing_time": metrics.Trend,
	}, "detect_latency", "server_processing_time")
	if err != nil {
		return nil, err
	}
	d.m = detectMetrics{
		latency:   ms["detect_latency"],
		events:    ms["events_processed"],
		anomalies: ms["anomalies_detected"],
		success:   ms["detect_success"],
		server:    ms["server_processing_time"],
	}
	return d, nil
}

// newDemoPacer paces demo-route calls across all VUs under the demo limit
// (env.DemoRate per minute, default 10): a token bucket with burst 1 at
// smokeDemoMargin of the limit never puts more than the limit into any
// rolling window.
func newDemoPacer(env Env) *rate.Limiter {
	perMinute := env.DemoRate
	if perMinute <= 0 {
		perMinute = 10
	}
	return rate.NewLimiter(rate.Limit(perMinute*smokeDemoMargin/60), 1)
}

// detectCall is one detect request.
type detectCall struct {
	// Stream is the stream id (ignored on the demo route).
	Stream string
	Batch  gen.Batch
	// Profile is sent as config_override; nil sends none.
	Profile *driftlock.Profile
	// Scenario becomes the `scenario` tag.
	Scenario string
	// Warm says the stream already holds enough events to analyse; only
	// warm responses feed detect_latency, and the requests are tagged warm:true|false.
	Warm bool
	// Tags are extra tags (batch_size, profile, ...).
	Tags    metrics.Tags
	Timeout time.Duration
}

// detectOutcome is what a detect call observed.
type detectOutcome struct {
	Resp   *runner.Response
	Result driftlock.DetectResult
	// OK: status 200 and a well-formed body accounting for every event sent.
	OK bool
	// Sent is the number of events sent.
	Sent int
}

// buffers are a VU's reusable request buffers.
type buffers struct {
	events []byte
	body   []byte
}

func warmTag(warm bool) metrics.Tag {
	if warm {
		return metrics.Tag{Key: "warm", Value: "true"}
	}
	return metrics.Tag{Key: "warm", Value: "false"}
}

// do sends one detect request and records checks and custom metrics.
func (d *detectClient) do(ctx context.Context, vu *runner.VU, buf *buffers, c detectCall) detectOutcome {
	if d.demo != nil {
		if err := d.demo.Wait(ctx); err != nil {
			return detectOutcome{Resp: &runner.Response{Canceled: true, Err: err}}
		}
	}
	stream := c.Stream
	if d.demo != nil {
		stream = ""
	}
	b := c.Batch
	b.StreamID = stream
	if b.Start.IsZero() {
		b.Start = d.env.Start
	}
	if b.Step == 0 {
		b.Step = time.Second
	}
	buf.events, _ = gen.AppendBatch(buf.events[:0], vu.Rand, b)
	buf.body = driftlock.AppendDetectRequest(buf.body[:0], stream, buf.events, c.Profile)
	tags := append(append(metrics.Tags(nil), c.Tags...), warmTag(c.Warm))
	timeout := c.Timeout
	if timeout == 0 {
		timeout = d.env.Timeout
	}
	resp := vu.Do(ctx, &runner.Request{
		Method: http.MethodPost, URL: d.url, Header: d.header, Body: buf.body,
		Endpoint: d.endpoint, Scenario: c.Scenario, Tags: tags, Timeout: timeout,
	})
	out := detectOutcome{Resp: resp, Sent: b.Size}
	if resp.Canceled {
		return out
	}
	ctags := metrics.Tags{{Key: "scenario", Value: c.Scenario}}
	status := vu.Check("detect status 200", resp.OK(200), ctags...)
	valid := false
	if status {
		if r, err := driftlock.ParseDetectResponse(resp.Body); err == nil {
			out.Result = r
			valid = (r.Success || !r.SuccessKnown) && (!r.EventsKnown || r.Events == b.Size)
		}
		vu.Check("detect response valid", valid, ctags...)
	}
	out.OK = status && valid
	rec := vu.Recorder
	rec.AddBool(d.m.success, ctags, out.OK)
	if out.OK {
		r := out.Result
		if r.EventsKnown {
			rec.Add(d.m.events, ctags, float64(r.Events))
		}
		if r.AnomaliesKnown {
			rec.Add(d.m.anomalies, ctags, float64(r.Anomalies))
		}
		ready := r.Ready || !r.ReadyKnown
		if r.ServerTimeKnown {
			serverMs := float64(r.ServerTime) / float64(time.Millisecond)
			rec.Add(d.m.server, ctags, serverMs)
			if c.Warm && ready {
				rec.Add(d.m.latency, ctags, serverMs)
			}
		}
	}
	return out
}
