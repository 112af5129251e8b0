package report

import (
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// Timeline is the run interval by interval: what every result file carries
// so that a report can draw it and intervals of several files can be merged
// (histograms per interval are exact).
type Timeline struct {
	// StepSeconds is the length of one interval (the last may be shorter).
	StepSeconds float64            `json:"step_seconds"`
	Intervals   []TimelineInterval `json:"intervals"`
}

// TimelineInterval is one interval of the run.
type TimelineInterval struct {
	// StartSeconds and EndSeconds are offsets from the run's start.
	StartSeconds float64 `json:"start_seconds"`
	EndSeconds   float64 `json:"end_seconds"`
	// VUs is the planned number of active VUs at the interval's end (closed
	// model); OfferedRate the arrival rate the schedule offered over the
	// interval, iterations/s (open model).
	VUs         int     `json:"vus"`
	OfferedRate float64 `json:"offered_rate,omitempty"`
	// AchievedRate is the iterations completed per second.
	AchievedRate float64 `json:"achieved_rate"`
	Iterations   int64   `json:"iterations"`
	// DroppedIterations were due but never started (open model).
	DroppedIterations int64 `json:"dropped_iterations,omitempty"`
	Requests          int64 `json:"requests"`
	Failures          int64 `json:"failures"`
	// FailuresByStatus counts failed requests by status ("0": no response);
	// FailuresByReason the transport failures by reason ("timeout", ...).
	FailuresByStatus map[string]int64 `json:"failures_by_status,omitempty"`
	FailuresByReason map[string]int64 `json:"failures_by_reason,omitempty"`
	// Endpoints are the requests of each `endpoint` tag.
	Endpoints map[string]*EndpointInterval `json:"endpoints"`
}

// EndpointInterval is one endpoint's requests during an interval.
type EndpointInterval struct {
	Requests int64 `json:"requests"`
	Failures int64 `json:"failures"`
	// Duration is http_req_duration; Latency http_req_latency (open model:
	// from the iteration's intended start).
	Duration *Histogram `json:"http_req_duration,omitempty"`
	Latency  *Histogram `json:"http_req_latency,omitempty"`
}

// ReasonTag is the tag a failed request's transport failure reason is
// recorded under.
const ReasonTag = "reason"

// TimelineIntervalOf renders one closed interval's snapshot (holding only
// the interval's samples) between start and end.
func TimelineIntervalOf(snap *metrics.Snapshot, start, end time.Duration, vus int, offeredRate float64) (TimelineInterval, error) {
	iv := TimelineInterval{
		StartSeconds: start.Seconds(), EndSeconds: end.Seconds(), VUs: vus, OfferedRate: offeredRate,
		Endpoints: map[string]*EndpointInterval{},
	}
	span := (end - start).Seconds()
	if s, ok := snap.Sink("iterations", nil); ok {
		iv.Iterations = int64(s.Sum)
		if span > 0 {
			iv.AchievedRate = s.Sum / span
		}
	}
	if s, ok := snap.Sink("dropped_iterations", nil); ok {
		iv.DroppedIterations = int64(s.Sum)
	}
	if s, ok := snap.Sink("http_reqs", nil); ok {
		iv.Requests = int64(s.Sum)
	}
	if s, ok := snap.Sink("http_req_failed", nil); ok {
		iv.Failures = s.Trues
	}
	if f := FailuresOf(snap); f != nil {
		iv.FailuresByStatus, iv.FailuresByReason = f.ByStatus, f.ByReason
	}
	for _, ep := range snap.TagValues("http_reqs", "endpoint") {
		tag := metrics.Tags{{Key: "endpoint", Value: ep}}
		e := &EndpointInterval{}
		if s, ok := snap.Sink("http_reqs", tag); ok {
			e.Requests = int64(s.Sum)
		}
		if e.Requests == 0 {
			continue
		}
		if s, ok := snap.Sink("http_req_failed", tag); ok {
			e.Failures = s.Trues
		}
		var err error
		if s, ok := snap.Sink("http_req_duration", tag); ok && s.Count > 0 {
			if e.Duration, err = encodeHistogram(s); err != nil {
				return iv, err
			}
		}
		if s, ok := snap.Sink("http_req_latency", tag); ok && s.Count > 0 {
			if e.Latency, err = encodeHistogram(s); err != nil {
				return iv, err
			}
		}
		iv.Endpoints[ep] = e
	}
	return iv, nil
}

// Failures counts failed requests (http_req_failed) by status ("0": no
// response) and transport failures by reason, as k6's error_code does.
type Failures struct {
	ByStatus map[string]int64 `json:"by_status,omitempty"`
	ByReason map[string]int64 `json:"by_reason,omitempty"`
}

// FailuresOf counts the failures of snap; nil when there are none.
func FailuresOf(snap *metrics.Snapshot) *Failures {
	var f *Failures
	for _, ser := range snap.Series {
		if ser.Metric.Name != "http_req_failed" || ser.Sink.Trues == 0 {
			continue
		}
		if f == nil {
			f = &Failures{ByStatus: map[string]int64{}}
		}
		status, _ := ser.Tags.Get("status")
		f.ByStatus[status] += ser.Sink.Trues
		if reason, ok := ser.Tags.Get(ReasonTag); ok && reason != "" {
			if f.ByReason == nil {
				f.ByReason = map[string]int64{}
			}
			f.ByReason[reason] += ser.Sink.Trues
		}
	}
	return f
}
