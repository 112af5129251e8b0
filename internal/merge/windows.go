package merge

import (
	"fmt"
	"strings"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/threshold"
)

// Unjudged is a windowed threshold the merged data cannot judge, and why:
// it stays "no data".
type Unjudged struct {
	Metric     string `json:"metric"`
	Expression string `json:"expression"`
	Reason     string `json:"reason"`
}

// timelineMetrics are the metrics a timeline interval carries, with their
// type: requests, failures and the two latency histograms per `endpoint`
// tag, iterations and dropped iterations in total only.
var timelineMetrics = map[string]metrics.Type{
	"http_req_duration":  metrics.Trend,
	"http_req_latency":   metrics.Trend,
	"http_reqs":          metrics.Counter,
	"http_req_failed":    metrics.Rate,
	"iterations":         metrics.Counter,
	"dropped_iterations": metrics.Counter,
}

// carried says whether the timeline holds sel interval by interval; when
// not, reason says why.
func carried(sel threshold.Selector) (ok bool, reason string) {
	if _, ok := timelineMetrics[sel.Metric]; !ok {
		return false, fmt.Sprintf("the result files keep %s for the whole run only, not interval by interval", sel.Metric)
	}
	perEndpoint := strings.HasPrefix(sel.Metric, "http_")
	for _, t := range sel.Tags {
		switch {
		case !perEndpoint:
			return false, fmt.Sprintf("the timeline keeps %s interval by interval in total only, not by %s", sel.Metric, t.Key)
		case t.Key != "endpoint":
			return false, fmt.Sprintf("the timeline keeps %s interval by interval per endpoint only, not by %s", sel.Metric, t.Key)
		}
	}
	return true, ""
}

// Windows judges the windowed thresholds of sets ("over", "for") on the
// merged timeline with the window code a run uses (threshold.Windows), one
// interval at a time, and returns them finished, with the windowed
// thresholds it cannot judge (a metric or tag the timeline does not carry,
// or no timeline at all).
func Windows(tl *report.Timeline, sets []threshold.Set) (*threshold.Windows, []Unjudged, error) {
	var unjudged []Unjudged
	var judged []threshold.Set
	for _, s := range sets {
		keep := threshold.Set{Selector: s.Selector}
		for _, th := range s.Thresholds {
			if th.Expr.Mode == threshold.WholeRun {
				continue
			}
			ok, why := carried(s.Selector)
			if ok && (tl == nil || tl.StepSeconds <= 0) {
				ok, why = false, "the parts carry no timeline"
			}
			if !ok {
				unjudged = append(unjudged, Unjudged{Metric: s.Selector.Source, Expression: th.Expr.Source, Reason: why})
				continue
			}
			keep.Thresholds = append(keep.Thresholds, th)
		}
		if len(keep.Thresholds) > 0 {
			judged = append(judged, keep)
		}
	}
	if len(judged) == 0 {
		return nil, unjudged, nil
	}
	w := threshold.NewWindows(judged, seconds(tl.StepSeconds))
	for i := range tl.Intervals {
		iv := &tl.Intervals[i]
		sinks, err := intervalSinks(iv)
		if err != nil {
			return nil, nil, fmt.Errorf("timeline interval at %gs: %w", iv.StartSeconds, err)
		}
		w.Observe(seconds(iv.StartSeconds), seconds(iv.EndSeconds), sinks)
	}
	w.Finish()
	return w, unjudged, nil
}

// intervalSinks answers, for one merged interval, the samples of a carried
// selector, as a run's interval snapshot would.
func intervalSinks(iv *report.TimelineInterval) (threshold.IntervalSinks, error) {
	type hists struct{ duration, latency *metrics.Sink }
	decoded := map[string]hists{}
	for name, e := range iv.Endpoints {
		var h hists
		var err error
		if e.Duration != nil {
			if h.duration, err = e.Duration.Sink(); err != nil {
				return nil, err
			}
		}
		if e.Latency != nil {
			if h.latency, err = e.Latency.Sink(); err != nil {
				return nil, err
			}
		}
		decoded[name] = h
	}
	return func(sel threshold.Selector) (*metrics.Sink, bool) {
		typ, ok := timelineMetrics[sel.Metric]
		if !ok {
			return nil, false
		}
		out := metrics.NewSink(typ)
		switch sel.Metric {
		case "iterations":
			out.Count, out.Sum = iv.Iterations, float64(iv.Iterations)
			return out, true
		case "dropped_iterations":
			out.Count, out.Sum = iv.DroppedIterations, float64(iv.DroppedIterations)
			return out, true
		}
		endpoint, only := sel.Tags.Get("endpoint")
		for name, e := range iv.Endpoints {
			if only && name != endpoint {
				continue
			}
			switch sel.Metric {
			case "http_reqs":
				out.Merge(&metrics.Sink{Type: metrics.Counter, Count: e.Requests, Sum: float64(e.Requests)})
			case "http_req_failed":
				out.Merge(&metrics.Sink{Type: metrics.Rate, Count: e.Requests, Trues: e.Failures})
			case "http_req_duration":
				out.Merge(decoded[name].duration)
			case "http_req_latency":
				out.Merge(decoded[name].latency)
			}
		}
		return out, true
	}, nil
}
