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

// DetectMetrics declares the custom metrics every detect-heavy test records
// through a DetectClient.
var DetectMetrics = []metrics.Def{
	{Name: "detect_latency", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "events_processed", Type: metrics.Counter},
	{Name: "anomalies_detected", Type: metrics.Counter},
	{Name: "detect_success", Type: metrics.Rate},
	{Name: "server_processing_time", Type: metrics.Trend, Contains: metrics.Time},
}

// detectMetrics are the defined DetectMetrics.
type detectMetrics struct {
	latency   *metrics.Metric // detect_latency: server-side time, warm streams only
	events    *metrics.Metric // events_processed: events the server confirmed
	anomalies *metrics.Metric // anomalies_detected
	success   *metrics.Metric // detect_success
	server    *metrics.Metric // server_processing_time: every reported server time
}

// DetectClient sends detect requests on /v1/detect (with the API key) or on
// the demo route (paced under its limit), and records what came back.
type DetectClient struct {
	env      Env
	url      string
	endpoint string
	header   http.Header
	demo     *rate.Limiter
	m        detectMetrics
}

// ErrNoAPIKey is returned when /v1/detect is asked for without a key.
var ErrNoAPIKey = errors.New("this test sends /v1/detect requests: give --api-key (or API_KEY), use --embedded-target, or --endpoint demo")

// NewDetectClient returns the client for env's --endpoint, defining
// DetectMetrics on reg.
func NewDetectClient(env Env, reg *metrics.Registry) (*DetectClient, error) {
	d := &DetectClient{env: env}
	switch env.Endpoint {
	case "", "detect":
		if env.APIKey == "" {
			return nil, ErrNoAPIKey
		}
		d.url, d.endpoint, d.header = URL(env.BaseURL, "/v1/detect"), "detect", JSONHeader(env.APIKey)
	case "demo":
		d.url, d.endpoint, d.header = URL(env.BaseURL, "/v1/demo/detect"), "demo_detect", JSONHeader("")
		d.demo = NewDemoPacer(env)
	default:
		return nil, errors.New(`--endpoint must be "detect" or "demo"`)
	}
	ms, err := reg.DefineAll(DetectMetrics)
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

// DemoMargin keeps demo pacing under the server's rolling-window limit: a
// token bucket with burst 1 at 95 % of the limit never puts more than the
// limit into any window.
const DemoMargin = 0.95

// NewDemoPacer paces demo-route calls across all VUs under the demo limit
// (env.DemoRate per minute, default 10), at DemoMargin of it.
func NewDemoPacer(env Env) *rate.Limiter {
	perMinute := env.DemoRate
	if perMinute <= 0 {
		perMinute = 10
	}
	return rate.NewLimiter(rate.Limit(perMinute*DemoMargin/60), 1)
}

// DetectCall is one detect request.
type DetectCall struct {
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

// DetectOutcome is what a detect call observed.
type DetectOutcome struct {
	Resp   *runner.Response
	Result driftlock.DetectResult
	// OK: status 200 and a well-formed body accounting for every event sent.
	OK bool
	// Sent is the number of events sent; Bytes the request body's size.
	Sent  int
	Bytes int
}

// Buffers are a VU's reusable request buffers.
type Buffers struct {
	events []byte
	body   []byte
}

// DetectBody encodes a detect request of batch b (on b.StreamID, with
// profile as config_override when not nil) into the buffers, with the VU's
// random source, and returns the body.
func (buf *Buffers) DetectBody(vu *runner.VU, b gen.Batch, profile *driftlock.Profile) []byte {
	buf.events, _ = gen.AppendBatch(buf.events[:0], vu.Rand, b)
	buf.body = driftlock.AppendDetectRequest(buf.body[:0], b.StreamID, buf.events, profile)
	return buf.body
}

// ValidDetect reports whether body is a well-formed detect response
// accounting for sent events (driftlock.DetectResult.Accounts).
func ValidDetect(body []byte, sent int) bool {
	r, err := driftlock.ParseDetectResponse(body)
	return err == nil && r.Accounts(sent)
}

func warmTag(warm bool) metrics.Tag {
	if warm {
		return metrics.Tag{Key: "warm", Value: "true"}
	}
	return metrics.Tag{Key: "warm", Value: "false"}
}

// Do sends one detect request and records checks and custom metrics.
func (d *DetectClient) Do(ctx context.Context, vu *runner.VU, buf *Buffers, c DetectCall) DetectOutcome {
	if d.demo != nil {
		if err := d.demo.Wait(ctx); err != nil {
			return DetectOutcome{Resp: &runner.Response{Canceled: true, Err: err}}
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
	body := buf.DetectBody(vu, b, c.Profile)
	tags := append(append(metrics.Tags(nil), c.Tags...), warmTag(c.Warm))
	timeout := c.Timeout
	if timeout == 0 {
		timeout = d.env.Timeout
	}
	resp := vu.Do(ctx, &runner.Request{
		Method: http.MethodPost, URL: d.url, Header: d.header, Body: body,
		Endpoint: d.endpoint, Scenario: c.Scenario, Tags: tags, Timeout: timeout,
	})
	out := DetectOutcome{Resp: resp, Sent: b.Size, Bytes: len(body)}
	if resp.Canceled {
		return out
	}
	ctags := metrics.Tags{{Key: "scenario", Value: c.Scenario}}
	status := vu.Check("detect status 200", resp.OK(200), ctags...)
	valid := false
	if status {
		if r, err := driftlock.ParseDetectResponse(resp.Body); err == nil {
			out.Result = r
			valid = r.Accounts(b.Size)
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

// Get sends a GET of path on the target (tagged endpoint and scenario) and
// returns the response; expect lists the statuses that count as success
// (empty: 200–399).
func Get(ctx context.Context, vu *runner.VU, env Env, path, endpoint, scenario string, expect ...int) *runner.Response {
	return vu.Do(ctx, &runner.Request{
		Method: http.MethodGet, URL: URL(env.BaseURL, path), Header: getHeader,
		Endpoint: endpoint, Scenario: scenario, Expect: expect, Timeout: env.Timeout,
	})
}

var getHeader = GetHeader()

// HealthCheck is the health iteration of the load and soak mixes: GET
// /healthz tagged scenario:health, checked for 200. It reports false when
// the request was cancelled.
func HealthCheck(ctx context.Context, vu *runner.VU, env Env) bool {
	resp := Get(ctx, vu, env, "/healthz", "healthz", "health")
	if resp.Canceled {
		return false
	}
	vu.Check("health status 200", resp.OK(200), metrics.Tag{Key: "scenario", Value: "health"})
	return true
}
