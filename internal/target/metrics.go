package target

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// latencyBuckets covers 0.5 ms to 30 s finely enough to read 1 ms..10 s
// percentiles without gross bucket error.
var latencyBuckets = []float64{
	0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
	0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30,
}

// serverMetrics are one Server's Prometheus series, on a private registry.
type serverMetrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
	detectionLatency *prometheus.HistogramVec
	eventsProcessed  *prometheus.CounterVec
	anomalies        *prometheus.CounterVec
	inFlight         prometheus.Gauge
	leakedBytes      prometheus.Gauge
	injectedErrors   prometheus.Counter
}

func newServerMetrics(s *Server) *serverMetrics {
	m := &serverMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "driftlock_http_request_duration_seconds",
			Help:    "Server-side request latency (handler start to response written), including injected delays.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		detectionLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "driftlock_detection_latency_seconds",
			Help:    "Time spent in the detector per request.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		eventsProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_events_processed_total",
			Help: "Events ingested by detectors.",
		}, []string{"route"}),
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftlock_anomalies_total",
			Help: "Anomalies reported.",
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftlock_detect_in_flight",
			Help: "Detect requests being served now.",
		}),
		leakedBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "driftlock_injected_leak_bytes",
			Help: "Memory deliberately retained by --leak-bytes-per-request.",
		}),
		injectedErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "driftlock_injected_errors_total",
			Help: "500s answered by --inject-error-rate.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		m.requests, m.requestDuration, m.detectionLatency, m.eventsProcessed, m.anomalies,
		m.inFlight, m.leakedBytes, m.injectedErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "driftlock_detectors_active",
			Help: "Stream detectors held in the LRU cache.",
		}, func() float64 { return float64(s.cache.Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "driftlock_detector_evictions_total",
			Help: "Stream detectors evicted from the LRU cache.",
		}, func() float64 { return float64(s.cache.Evictions()) }),
	)
	return m
}
