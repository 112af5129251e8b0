// Package livemetrics serves a running test in Prometheus's exposition
// format (--metrics-addr). A Collector reads a snapshot of the run's metrics
// registry on every scrape, so the load path records nothing twice: the
// requests, failures and latencies Prometheus sees are the ones the result
// file will hold.
package livemetrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftload/driftload/internal/metrics"
)

// LatencyBuckets are the upper bounds, in seconds, of
// driftload_http_request_duration_seconds: 0.5 ms to 60 s, as fine as the
// reference server's own histogram.
var LatencyBuckets = []float64{
	0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
	0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60,
}

// requestLabels are the labels of the request and failure counters, each
// the sample tag of the same name ("" when a sample has none).
var requestLabels = []string{"endpoint", "method", "status", "reason", "scenario"}

// Status is what a run knows beyond its registry, set by the harness about
// once a second.
type Status struct {
	// Open is true for an arrival-rate run; OfferedRate is then the rate
	// its schedule offers now, in iterations per second.
	Open        bool
	OfferedRate float64
	// AchievedRate is the iterations per second completed lately.
	AchievedRate float64
	// ThresholdsFailing is how many of the test's thresholds fail now.
	ThresholdsFailing int
}

// Collector is a prometheus.Collector over a run's metrics registry.
type Collector struct {
	snapshot func() *metrics.Snapshot

	mu     sync.Mutex
	status Status

	requests, failures, duration         *prometheus.Desc
	vus, vusMax, iterations, dropped     *prometheus.Desc
	offered, achieved, thresholdsFailing *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector that reads snapshot (a registry's
// Snapshot method) on every scrape.
func NewCollector(snapshot func() *metrics.Snapshot) *Collector {
	return &Collector{
		snapshot: snapshot,
		requests: prometheus.NewDesc("driftload_http_requests_total",
			"HTTP requests completed (http_reqs), by endpoint, method, status, failure reason and scenario.", requestLabels, nil),
		failures: prometheus.NewDesc("driftload_http_request_failures_total",
			"HTTP requests that failed (http_req_failed: unexpected status or transport error).", requestLabels, nil),
		duration: prometheus.NewDesc("driftload_http_request_duration_seconds",
			"Request service time (http_req_duration: sending + waiting + receiving), by endpoint.", []string{"endpoint"}, nil),
		vus:        prometheus.NewDesc("driftload_vus", "Active virtual users.", nil, nil),
		vusMax:     prometheus.NewDesc("driftload_vus_max", "Allocated virtual users.", nil, nil),
		iterations: prometheus.NewDesc("driftload_iterations_total", "Iterations completed.", nil, nil),
		dropped: prometheus.NewDesc("driftload_dropped_iterations_total",
			"Due iterations of an arrival-rate schedule that were never run.", nil, nil),
		offered: prometheus.NewDesc("driftload_offered_iterations_per_second",
			"Iterations per second the arrival-rate schedule offers now (open model only).", nil, nil),
		achieved: prometheus.NewDesc("driftload_achieved_iterations_per_second",
			"Iterations per second completed over the last second.", nil, nil),
		thresholdsFailing: prometheus.NewDesc("driftload_thresholds_failing",
			"Thresholds of the test that fail now.", nil, nil),
	}
}

// SetStatus replaces the run's status; scrapes from now on show it.
func (c *Collector) SetStatus(s Status) {
	c.mu.Lock()
	c.status = s
	c.mu.Unlock()
}

// Describe sends every metric the collector may send.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.requests, c.failures, c.duration, c.vus, c.vusMax, c.iterations, c.dropped,
		c.offered, c.achieved, c.thresholdsFailing,
	} {
		ch <- d
	}
}

// Collect converts a fresh snapshot of the registry and the last status.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.snapshot()
	c.mu.Lock()
	st := c.status
	c.mu.Unlock()

	requests := map[[5]string]float64{}
	failures := map[[5]string]float64{}
	durations := map[string]*metrics.Sink{}
	for _, s := range snap.Series {
		switch s.Metric.Name {
		case "http_reqs":
			requests[labelsOf(s.Tags)] += s.Sink.Sum
		case "http_req_failed":
			failures[labelsOf(s.Tags)] += float64(s.Sink.Trues)
		case "http_req_duration":
			ep, _ := s.Tags.Get("endpoint")
			if durations[ep] == nil {
				durations[ep] = metrics.NewSink(metrics.Trend)
			}
			durations[ep].Merge(s.Sink)
		}
	}
	for k, v := range requests {
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, v, k[:]...)
	}
	for k, v := range failures {
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, v, k[:]...)
	}
	for ep, sink := range durations {
		ch <- histogram(c.duration, sink, ep)
	}

	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	value := func(name string) *metrics.Sink {
		if s, ok := snap.Sink(name, nil); ok {
			return s
		}
		return metrics.NewSink(metrics.Counter)
	}
	gauge(c.vus, value("vus").Value)
	gauge(c.vusMax, value("vus_max").Value)
	counter(c.iterations, value("iterations").Sum)
	counter(c.dropped, value("dropped_iterations").Sum)
	if st.Open {
		gauge(c.offered, st.OfferedRate)
	}
	gauge(c.achieved, st.AchievedRate)
	gauge(c.thresholdsFailing, float64(st.ThresholdsFailing))
}

// labelsOf is a request series' values of requestLabels.
func labelsOf(tags metrics.Tags) [5]string {
	var out [5]string
	for i, k := range requestLabels {
		out[i], _ = tags.Get(k)
	}
	return out
}

// histogram turns a Trend of milliseconds into a Prometheus histogram in
// seconds, its cumulative buckets read from the HDR histogram.
func histogram(d *prometheus.Desc, s *metrics.Sink, labels ...string) prometheus.Metric {
	bounds := make([]float64, len(LatencyBuckets))
	for i, b := range LatencyBuckets {
		bounds[i] = b * 1000
	}
	counts := s.CountsAtOrBelow(bounds)
	buckets := make(map[float64]uint64, len(LatencyBuckets))
	for i, b := range LatencyBuckets {
		buckets[b] = uint64(counts[i])
	}
	return prometheus.MustNewConstHistogram(d, uint64(s.Count), s.Sum/1000, buckets, labels...)
}
