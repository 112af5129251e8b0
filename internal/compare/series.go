package compare

import (
	"fmt"
	"sort"
	"strings"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// This file reads what a comparison needs out of a result file: a Trend's
// histogram as a whole and interval by interval, and requests and failures.

// endpointTag is the tag that splits a metric into per-endpoint sub-metrics.
const endpointTag = "endpoint"

// subjectName renders a metric or its per-endpoint sub-metric in k6's
// syntax: "http_req_duration", "http_req_duration{endpoint:detect}".
func subjectName(metric, endpoint string) string {
	if endpoint == "" {
		return metric
	}
	return metric + "{" + endpointTag + ":" + endpoint + "}"
}

// trendNames are the Trend metrics of r with a histogram.
func trendNames(r *report.Result) map[string]bool {
	out := map[string]bool{}
	for name, m := range r.Metrics {
		if m.Type == "trend" && m.Histogram != nil && !strings.Contains(name, "{") {
			out[name] = true
		}
	}
	return out
}

// endpoints are the values of the endpoint tag among metric's series.
func endpoints(r *report.Result, metric string) map[string]bool {
	out := map[string]bool{}
	if m := r.Metrics[metric]; m != nil {
		for _, s := range m.Series {
			if e := s.Tags[endpointTag]; e != "" {
				out[e] = true
			}
		}
	}
	return out
}

func sortedUnion(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if !a[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// trendData is one Trend (sub-)metric of one run.
type trendData struct {
	// whole is every sample of the run.
	whole *metrics.Sink
	// intervals are each timeline interval's samples; nil when the
	// timeline does not carry the metric or does not add up to whole.
	intervals []*metrics.Sink
	// withData counts the intervals holding samples.
	withData int
}

// timelineHistogram picks a metric's histogram from an endpoint's interval:
// the timeline carries http_req_duration and http_req_latency only.
func timelineHistogram(metric string, e *report.EndpointInterval) (*report.Histogram, bool) {
	switch metric {
	case "http_req_duration":
		return e.Duration, true
	case "http_req_latency":
		return e.Latency, true
	}
	return nil, false
}

// sinks decodes timeline histograms once: a run's interval histograms
// serve the whole metric and each endpoint.
type sinks map[*report.Histogram]*metrics.Sink

// sink decodes an interval's histogram. Unlike report.Histogram.Sink it
// does not re-encode the histogram to prove that it would merge exactly
// into a result file (by far the dearest part of decoding a timeline):
// interval histograms are only resampled here, and another geometry would
// only make their buckets coarser.
func (c sinks) sink(h *report.Histogram) (*metrics.Sink, error) {
	if s, ok := c[h]; ok {
		return s, nil
	}
	if h.Encoding != report.HistogramEncoding || h.Scale != metrics.TrendScale {
		return nil, fmt.Errorf("histogram encoding %q scale %g, want %q scale %d", h.Encoding, h.Scale, report.HistogramEncoding, metrics.TrendScale)
	}
	if h.Count > 0 && !(h.Min <= h.Max) {
		return nil, fmt.Errorf("histogram min %g above max %g", h.Min, h.Max)
	}
	s, err := metrics.DecodeTrend(h.Data, h.Count, h.Sum, h.Min, h.Max)
	if err != nil {
		return nil, err
	}
	c[h] = s
	return s, nil
}

// trendOf reads metric (restricted to endpoint when not "") from r. The
// whole histogram is nil when r has no such samples.
func trendOf(r *report.Result, cache sinks, metric, endpoint string) (*trendData, error) {
	m := r.Metrics[metric]
	if m == nil || m.Histogram == nil {
		return &trendData{}, nil
	}
	d := &trendData{}
	if endpoint == "" {
		s, err := m.Histogram.Sink()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", metric, err)
		}
		d.whole = s
	} else {
		for _, ser := range m.Series {
			if ser.Tags[endpointTag] != endpoint || ser.Histogram == nil {
				continue
			}
			s, err := ser.Histogram.Sink()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", subjectName(metric, endpoint), err)
			}
			if d.whole == nil {
				d.whole = metrics.NewSink(metrics.Trend)
			}
			d.whole.Merge(s)
		}
	}
	if d.whole == nil || d.whole.Count == 0 {
		return &trendData{}, nil
	}
	if r.Timeline == nil || len(r.Timeline.Intervals) == 0 {
		return d, nil
	}
	if _, ok := timelineHistogram(metric, &report.EndpointInterval{}); !ok {
		return d, nil
	}
	var total int64
	ivs := make([]*metrics.Sink, len(r.Timeline.Intervals))
	for i, iv := range r.Timeline.Intervals {
		sink := metrics.NewSink(metrics.Trend)
		for name, e := range iv.Endpoints {
			if e == nil || (endpoint != "" && name != endpoint) {
				continue
			}
			h, _ := timelineHistogram(metric, e)
			if h == nil {
				continue
			}
			s, err := cache.sink(h)
			if err != nil {
				return nil, fmt.Errorf("timeline interval %d: %s: %w", i+1, subjectName(metric, endpoint), err)
			}
			sink.Merge(s)
		}
		ivs[i] = sink
		total += sink.Count
		if sink.Count > 0 {
			d.withData++
		}
	}
	// A timeline that does not hold every sample (a file written by a
	// version that left some out) would resample another distribution.
	if total == d.whole.Count {
		d.intervals = ivs
	} else {
		d.withData = 0
	}
	return d, nil
}

// requestData is the requests of one run, or of one endpoint.
type requestData struct {
	requests, failures int64
	// checked is the number of requests http_req_failed judged (the
	// error rate's denominator).
	checked int64
	seconds float64
	// intervals are per timeline interval; nil without a timeline or when
	// it does not add up.
	intervals []block
}

// requestsOf reads the requests (http_reqs), failures (http_req_failed)
// and their timeline of r, restricted to endpoint when not "".
func requestsOf(r *report.Result, endpoint string) requestData {
	d := requestData{seconds: r.DurationSeconds}
	if m := r.Metrics["http_reqs"]; m != nil {
		if endpoint == "" {
			d.requests = int64(m.Values["count"])
		}
		for _, s := range m.Series {
			if endpoint != "" && s.Tags[endpointTag] == endpoint {
				d.requests += int64(s.Sum)
			}
		}
	}
	if m := r.Metrics["http_req_failed"]; m != nil {
		if endpoint == "" {
			d.failures = int64(m.Values["passes"])
			d.checked = int64(m.Values["passes"] + m.Values["fails"])
		}
		for _, s := range m.Series {
			if endpoint != "" && s.Tags[endpointTag] == endpoint {
				d.failures += s.Trues
				d.checked += s.Count
			}
		}
	}
	if r.Timeline == nil || len(r.Timeline.Intervals) == 0 {
		return d
	}
	var total int64
	blocks := make([]block, len(r.Timeline.Intervals))
	for i, iv := range r.Timeline.Intervals {
		b := block{seconds: iv.EndSeconds - iv.StartSeconds, requests: iv.Requests}
		if endpoint != "" {
			b.requests = 0
			if e := iv.Endpoints[endpoint]; e != nil {
				b.requests = e.Requests
			}
		}
		total += b.requests
		blocks[i] = b
	}
	if total == d.requests {
		d.intervals = blocks
	}
	return d
}

// withRequests counts the blocks holding requests.
func withRequests(bs []block) int {
	n := 0
	for _, b := range bs {
		if b.requests > 0 {
			n++
		}
	}
	return n
}
