package report

import (
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

func TestTimelineIntervalOf(t *testing.T) {
	reg := metrics.NewRegistry()
	reqs := reg.MustDefine("http_reqs", metrics.Counter, metrics.Default)
	failed := reg.MustDefine("http_req_failed", metrics.Rate, metrics.Default)
	dur := reg.MustDefine("http_req_duration", metrics.Trend, metrics.Time)
	iters := reg.MustDefine("iterations", metrics.Counter, metrics.Default)
	rec := reg.NewRecorder()
	detect := metrics.Tags{{Key: "endpoint", Value: "detect"}, {Key: "status", Value: "200"}}
	broken := metrics.Tags{{Key: "endpoint", Value: "detect"}, {Key: "status", Value: "0"}, {Key: ReasonTag, Value: "timeout"}}
	health := metrics.Tags{{Key: "endpoint", Value: "healthz"}, {Key: "status", Value: "503"}}
	for i := range 10 {
		rec.Add(reqs, detect, 1)
		rec.AddBool(failed, detect, false)
		rec.Add(dur, detect, float64(10+i))
	}
	rec.Add(reqs, broken, 1)
	rec.AddBool(failed, broken, true)
	rec.Add(reqs, health, 1)
	rec.AddBool(failed, health, true)
	rec.Add(iters, nil, 6)
	rec.Flush()
	reg.CloseInterval() // an earlier interval
	rec.Add(reqs, detect, 1)
	rec.Add(iters, nil, 1)
	rec.Flush()
	snap := reg.CloseInterval()

	iv, err := TimelineIntervalOf(snap, 2*time.Second, 4*time.Second, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Requests != 1 || iv.Failures != 0 || iv.AchievedRate != 0.5 || len(iv.Endpoints) != 1 {
		t.Fatalf("second interval: %+v", iv)
	}
	// Only the interval's own samples count: the detect request has no
	// duration recorded in it.
	if e := iv.Endpoints["detect"]; e.Requests != 1 || e.Duration != nil {
		t.Fatalf("detect: %+v", e)
	}
}

func TestTimelineIntervalCountsFailuresByStatusAndReason(t *testing.T) {
	reg := metrics.NewRegistry()
	reqs := reg.MustDefine("http_reqs", metrics.Counter, metrics.Default)
	failed := reg.MustDefine("http_req_failed", metrics.Rate, metrics.Default)
	dur := reg.MustDefine("http_req_duration", metrics.Trend, metrics.Time)
	rec := reg.NewRecorder()
	ok := metrics.Tags{{Key: "endpoint", Value: "detect"}, {Key: "status", Value: "200"}}
	timeout := metrics.Tags{{Key: "endpoint", Value: "detect"}, {Key: "status", Value: "0"}, {Key: ReasonTag, Value: "timeout"}}
	overloaded := metrics.Tags{{Key: "endpoint", Value: "healthz"}, {Key: "status", Value: "503"}}
	for i := range 10 {
		rec.Add(reqs, ok, 1)
		rec.AddBool(failed, ok, false)
		rec.Add(dur, ok, float64(10+i))
	}
	for range 2 {
		rec.Add(reqs, timeout, 1)
		rec.AddBool(failed, timeout, true)
	}
	rec.Add(reqs, overloaded, 1)
	rec.AddBool(failed, overloaded, true)
	rec.Flush()
	iv, err := TimelineIntervalOf(reg.CloseInterval(), 0, time.Second, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Requests != 13 || iv.Failures != 3 {
		t.Fatalf("requests %d failures %d, want 13 and 3", iv.Requests, iv.Failures)
	}
	if iv.FailuresByStatus["0"] != 2 || iv.FailuresByStatus["503"] != 1 || iv.FailuresByReason["timeout"] != 2 || len(iv.FailuresByReason) != 1 {
		t.Fatalf("by status %v, by reason %v", iv.FailuresByStatus, iv.FailuresByReason)
	}
	d := iv.Endpoints["detect"]
	if d.Requests != 12 || d.Failures != 2 || d.Duration == nil || d.Duration.Count != 10 || d.Duration.Min != 10 || d.Duration.Max != 19 {
		t.Fatalf("detect endpoint: %+v %+v", d, d.Duration)
	}
	if h := iv.Endpoints["healthz"]; h.Requests != 1 || h.Failures != 1 || h.Duration != nil {
		t.Fatalf("healthz endpoint: %+v", h)
	}
}
