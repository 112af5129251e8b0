package runner

import "github.com/driftload/driftload/internal/metrics"

// Builtins are k6's built-in metrics, recorded by the runner itself.
type Builtins struct {
	HTTPReqs          *metrics.Metric // Counter
	HTTPReqDuration   *metrics.Metric // Trend: sending + waiting + receiving
	HTTPReqBlocked    *metrics.Metric // Trend: waiting for a connection
	HTTPReqConnecting *metrics.Metric // Trend: TCP connect
	HTTPReqTLS        *metrics.Metric // Trend: TLS handshake
	HTTPReqSending    *metrics.Metric // Trend: writing the request
	HTTPReqWaiting    *metrics.Metric // Trend: time to first byte
	HTTPReqReceiving  *metrics.Metric // Trend: reading the body
	HTTPReqFailed     *metrics.Metric // Rate: unexpected status or transport error
	Iterations        *metrics.Metric // Counter
	IterationDuration *metrics.Metric // Trend
	VUs               *metrics.Metric // Gauge
	VUsMax            *metrics.Metric // Gauge
	Checks            *metrics.Metric // Rate, tagged check:<name>
	DataSent          *metrics.Metric // Counter, bytes on the wire
	DataReceived      *metrics.Metric // Counter, bytes on the wire
	// Open-model (arrival-rate) runs only:
	HTTPReqLatency    *metrics.Metric // Trend: completion minus the iteration's intended start
	ScheduleLag       *metrics.Metric // Trend: how late iterations started
	DroppedIterations *metrics.Metric // Counter: due iterations never run
}

// BuiltinNames maps every built-in metric name to its type, for validating
// thresholds files without a run.
var BuiltinNames = map[string]metrics.Type{
	"http_reqs":                metrics.Counter,
	"http_req_duration":        metrics.Trend,
	"http_req_blocked":         metrics.Trend,
	"http_req_connecting":      metrics.Trend,
	"http_req_tls_handshaking": metrics.Trend,
	"http_req_sending":         metrics.Trend,
	"http_req_waiting":         metrics.Trend,
	"http_req_receiving":       metrics.Trend,
	"http_req_failed":          metrics.Rate,
	"iterations":               metrics.Counter,
	"iteration_duration":       metrics.Trend,
	"vus":                      metrics.Gauge,
	"vus_max":                  metrics.Gauge,
	"checks":                   metrics.Rate,
	"data_sent":                metrics.Counter,
	"data_received":            metrics.Counter,
	"http_req_latency":         metrics.Trend,
	"schedule_lag":             metrics.Trend,
	"dropped_iterations":       metrics.Counter,
}

// DefineBuiltins defines the built-in metrics on reg.
func DefineBuiltins(reg *metrics.Registry) *Builtins {
	t := func(name string) *metrics.Metric { return reg.MustDefine(name, metrics.Trend, metrics.Time) }
	return &Builtins{
		HTTPReqs:          reg.MustDefine("http_reqs", metrics.Counter, metrics.Default),
		HTTPReqDuration:   t("http_req_duration"),
		HTTPReqBlocked:    t("http_req_blocked"),
		HTTPReqConnecting: t("http_req_connecting"),
		HTTPReqTLS:        t("http_req_tls_handshaking"),
		HTTPReqSending:    t("http_req_sending"),
		HTTPReqWaiting:    t("http_req_waiting"),
		HTTPReqReceiving:  t("http_req_receiving"),
		HTTPReqFailed:     reg.MustDefine("http_req_failed", metrics.Rate, metrics.Default),
		Iterations:        reg.MustDefine("iterations", metrics.Counter, metrics.Default),
		IterationDuration: t("iteration_duration"),
		VUs:               reg.MustDefine("vus", metrics.Gauge, metrics.Default),
		VUsMax:            reg.MustDefine("vus_max", metrics.Gauge, metrics.Default),
		Checks:            reg.MustDefine("checks", metrics.Rate, metrics.Default),
		DataSent:          reg.MustDefine("data_sent", metrics.Counter, metrics.Data),
		DataReceived:      reg.MustDefine("data_received", metrics.Counter, metrics.Data),
		HTTPReqLatency:    t("http_req_latency"),
		ScheduleLag:       t("schedule_lag"),
		DroppedIterations: reg.MustDefine("dropped_iterations", metrics.Counter, metrics.Default),
	}
}
