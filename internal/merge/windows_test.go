package merge

import (
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/threshold"
)

// windowTimeline is four one-second intervals of a merged run: detect
// requests take detectMs[i] (10 of them, failed[i] failing), one health
// check 1 ms.
func windowTimeline(t *testing.T, detectMs []float64, failed []int64) *report.Timeline {
	t.Helper()
	tl := &report.Timeline{StepSeconds: 1}
	for i, ms := range detectMs {
		d, h := metrics.NewSink(metrics.Trend), metrics.NewSink(metrics.Trend)
		for range 10 {
			d.Add(ms)
		}
		h.Add(1)
		dh, err := report.HistogramOf(d)
		if err != nil {
			t.Fatal(err)
		}
		hh, _ := report.HistogramOf(h)
		tl.Intervals = append(tl.Intervals, report.TimelineInterval{
			StartSeconds: float64(i), EndSeconds: float64(i + 1), Iterations: 10, Requests: 11, Failures: failed[i],
			Endpoints: map[string]*report.EndpointInterval{
				"detect":  {Requests: 10, Failures: failed[i], Duration: dh},
				"healthz": {Requests: 1, Duration: hh},
			},
		})
	}
	return tl
}

// Windowed thresholds are judged on the merged timeline with the run's
// window code; those on a metric or tag it does not carry stay without
// data, saying why.
func TestWindowedThresholdsOnTheMergedTimeline(t *testing.T) {
	f, err := threshold.ParseFile([]byte(`{"load": {
		"http_req_duration{endpoint:detect}": ["p(95)<100 over 1s"],
		"http_req_duration": ["p(95)<1000 over 2s"],
		"http_req_failed": ["rate<0.3 for 2s"],
		"http_req_failed{endpoint:healthz}": ["rate<0.3 for 2s"],
		"iterations": ["count>=10 over 1s"],
		"checks": ["rate>0.9 over 1s"],
		"http_reqs{status:200}": ["count>0 over 1s"],
		"http_reqs": ["count>0"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	sets := f.Tests["load"]
	tl := windowTimeline(t, []float64{50, 50, 300, 50}, []int64{0, 4, 4, 0})
	w, unjudged, err := Windows(tl, sets)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]threshold.Result{}
	for _, r := range threshold.Evaluate(sets, noWholeRun{}, w) {
		got[r.Metric+" "+r.Expr] = r
	}
	cases := []struct {
		key      string
		data, ok bool
		worst    float64
	}{
		{"http_req_duration{endpoint:detect} p(95)<100 over 1s", true, false, 300},
		{"http_req_duration p(95)<1000 over 2s", true, true, 300},
		{"http_req_failed rate<0.3 for 2s", true, false, 4.0 / 11},
		{"http_req_failed{endpoint:healthz} rate<0.3 for 2s", true, true, 0},
		{"iterations count>=10 over 1s", true, true, 10},
		{"checks rate>0.9 over 1s", false, false, 0},
		{"http_reqs{status:200} count>0 over 1s", false, false, 0},
	}
	for _, c := range cases {
		r, found := got[c.key]
		if !found {
			t.Errorf("%s: not evaluated", c.key)
			continue
		}
		if r.HasData != c.data || r.OK != c.ok {
			t.Errorf("%s: data %v ok %v, want %v %v", c.key, r.HasData, r.OK, c.data, c.ok)
		}
		if c.data && (r.Window == nil || !near(r.Window.Worst, c.worst)) {
			t.Errorf("%s: worst %+v, want %g", c.key, r.Window, c.worst)
		}
	}
	reasons := map[string]string{}
	for _, u := range unjudged {
		reasons[u.Metric] = u.Reason
	}
	if len(unjudged) != 2 || !strings.Contains(reasons["checks"], "whole run only") || !strings.Contains(reasons["http_reqs{status:200}"], "per endpoint only, not by status") {
		t.Errorf("unjudged %+v: want checks (whole run only) and http_reqs{status:200} (per endpoint only)", unjudged)
	}
	if _, u, _ := Windows(nil, sets); len(u) != 7 || u[0].Reason == "" {
		t.Errorf("without a timeline every windowed threshold is unjudged with a reason: %+v", u)
	}
}

// noWholeRun measures nothing: these cases judge windowed thresholds only.
type noWholeRun struct{}

func (noWholeRun) Measure(threshold.Selector, threshold.Stat) (float64, bool) { return 0, false }
