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

	// httpSeries are the series of the HTTP built-ins resolved so far.
	httpSeries *httpSeriesTable
}

// BuiltinMetrics declares every built-in metric, in the order they are
// defined; it is the one list both a run and thresholds validation use.
var BuiltinMetrics = []metrics.Def{
	{Name: "http_reqs", Type: metrics.Counter},
	{Name: "http_req_duration", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "http_req_blocked", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "http_req_connecting", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "http_req_tls_handshaking", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "http_req_sending", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "http_req_waiting", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "http_req_receiving", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "http_req_failed", Type: metrics.Rate},
	{Name: "iterations", Type: metrics.Counter},
	{Name: "iteration_duration", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "vus", Type: metrics.Gauge},
	{Name: "vus_max", Type: metrics.Gauge},
	{Name: "checks", Type: metrics.Rate},
	{Name: "data_sent", Type: metrics.Counter, Contains: metrics.Data},
	{Name: "data_received", Type: metrics.Counter, Contains: metrics.Data},
	{Name: "http_req_latency", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "schedule_lag", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "dropped_iterations", Type: metrics.Counter},
}

// DefineBuiltins defines the built-in metrics on reg.
func DefineBuiltins(reg *metrics.Registry) *Builtins {
	m, err := reg.DefineAll(BuiltinMetrics)
	if err != nil {
		panic(err) // a fresh registry cannot hold a conflicting name
	}
	return &Builtins{
		HTTPReqs:          m["http_reqs"],
		HTTPReqDuration:   m["http_req_duration"],
		HTTPReqBlocked:    m["http_req_blocked"],
		HTTPReqConnecting: m["http_req_connecting"],
		HTTPReqTLS:        m["http_req_tls_handshaking"],
		HTTPReqSending:    m["http_req_sending"],
		HTTPReqWaiting:    m["http_req_waiting"],
		HTTPReqReceiving:  m["http_req_receiving"],
		HTTPReqFailed:     m["http_req_failed"],
		Iterations:        m["iterations"],
		IterationDuration: m["iteration_duration"],
		VUs:               m["vus"],
		VUsMax:            m["vus_max"],
		Checks:            m["checks"],
		DataSent:          m["data_sent"],
		DataReceived:      m["data_received"],
		HTTPReqLatency:    m["http_req_latency"],
		ScheduleLag:       m["schedule_lag"],
		DroppedIterations: m["dropped_iterations"],
		httpSeries:        &httpSeriesTable{},
	}
}
