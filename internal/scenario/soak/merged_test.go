package soak

import (
	"testing"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario"
)

// soakPart is one segment of a 12-minute soak at one-minute intervals: its
// detect requests in interval i take latency(i) ms each (n of them, plus
// one health check of 1 ms), its rows hold the target's RSS rss(i) and a
// warm share.
func soakPart(t *testing.T, share string, n int, latency, rss func(i int) float64, warm float64) *report.Result {
	t.Helper()
	tl := &report.Timeline{StepSeconds: 60}
	var rows []intervalRow
	for i := range 12 {
		detect, health := metrics.NewSink(metrics.Trend), metrics.NewSink(metrics.Trend)
		addDetects(detect, n, latency(i))
		health.Add(1)
		dh, err := report.HistogramOf(detect)
		if err != nil {
			t.Fatal(err)
		}
		hh, _ := report.HistogramOf(health)
		start, end := float64(i*60), float64((i+1)*60)
		tl.Intervals = append(tl.Intervals, report.TimelineInterval{
			StartSeconds: start, EndSeconds: end, VUs: 5, Iterations: int64(n), Requests: int64(n + 1), Failures: 1,
			Endpoints: map[string]*report.EndpointInterval{
				"detect":  {Requests: int64(n), Failures: 1, Duration: dh},
				"healthz": {Requests: 1, Duration: hh},
			},
		})
		rows = append(rows, intervalRow{Index: i, StartSeconds: start, EndSeconds: end, ServerRSSBytes: ptr(rss(i)), WarmShare: ptr(warm),
			ClientRSSBytes: 50 << 20, Goroutines: 12})
	}
	return &report.Result{
		Test: "soak", Share: share, Config: map[string]any{"endpoint": "detect"}, Timeline: tl,
		Analysis: soakAnalysis{IntervalSeconds: 60, Intervals: rows, Sent: sent{Streams: 10, Bytes: 10 << 20}},
	}
}

// addDetects adds n detect durations about ms apart by 1 %.
func addDetects(s *metrics.Sink, n int, ms float64) {
	for k := range n {
		s.Add(ms * (1 + float64(k)/100))
	}
}

// mergeSoak merges parts as driftload merge does (timelines added
// interval by interval) and runs soak's merged analysis.
func mergeSoak(t *testing.T, parts ...*report.Result) (soakAnalysis, scenario.Findings) {
	t.Helper()
	tl := &report.Timeline{StepSeconds: 60}
	for i := range parts[0].Timeline.Intervals {
		iv := parts[0].Timeline.Intervals[i]
		m := iv
		m.Endpoints = map[string]*report.EndpointInterval{}
		m.Requests, m.Failures = 0, 0
		for _, p := range parts {
			piv := p.Timeline.Intervals[i]
			m.Requests += piv.Requests
			m.Failures += piv.Failures
			for name, e := range piv.Endpoints {
				cur := m.Endpoints[name]
				if cur == nil {
					cur = &report.EndpointInterval{Duration: e.Duration}
					m.Endpoints[name] = cur
				} else {
					a, _ := cur.Duration.Sink()
					b, _ := e.Duration.Sink()
					a.Merge(b)
					cur.Duration, _ = report.HistogramOf(a)
				}
				cur.Requests += e.Requests
				cur.Failures += e.Failures
			}
		}
		tl.Intervals = append(tl.Intervals, m)
	}
	f, err := merged(scenario.MergedRun{Parts: parts, Result: &report.Result{Test: "soak", Config: parts[0].Config, Timeline: tl}})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := f.Data.(soakAnalysis)
	if !ok {
		t.Fatalf("merged data %T, want soakAnalysis", f.Data)
	}
	return a, f
}

// The merged rows come from the merged timeline (the detect endpoint's
// p95 as the judged latency), the target's RSS is the parts' median and
// the warm share the parts' weighted by their detect requests; soak's judge
// then says degraded exactly when the merged p95 rises.
func TestMergedSoakJudgesTheMergedIntervals(t *testing.T) {
	const mib = 1 << 20
	rising := func(i int) float64 { return 50 + 15*float64(i) } // 50 → 215 ms
	steady := func(int) float64 { return 80 }
	rss := func(base float64) func(int) float64 { return func(int) float64 { return base * mib } }
	cases := []struct {
		name          string
		latA, latB    func(int) float64
		wantFailed    bool
		wantRSS, warm float64
	}{
		{"both parts slow down: degraded", rising, rising, true, 101 * mib, 0.75},
		{"steady: stable", steady, steady, false, 101 * mib, 0.75},
		// One part flat at 80 ms with 30 requests, the other rising with 10:
		// the merged p95 is the rising part's once it passes 80 ms.
		{"one part slows down: the merged p95 rises", steady, rising, true, 101 * mib, 0.75},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := soakPart(t, "0:1/2", 30, c.latA, rss(100), 1)
			b := soakPart(t, "1/2:1", 10, c.latB, rss(102), 0)
			got, f := mergeSoak(t, a, b)
			if f.Failed != c.wantFailed || got.LatencyTrend.Degraded != c.wantFailed {
				t.Errorf("failed %v degraded %v (%q), want %v; trend %+v", f.Failed, got.LatencyTrend.Degraded, f.FailReason, c.wantFailed, got.LatencyTrend.Degradation)
			}
			for i, r := range got.Intervals {
				all := metrics.NewSink(metrics.Trend)
				addDetects(all, 30, c.latA(i))
				addDetects(all, 10, c.latB(i))
				if want := all.Percentile(95); r.ResponseP95Ms == nil || *r.ResponseP95Ms != want {
					t.Fatalf("row %d: detect p95 %v, want %g (the p95 of both parts' detects)", i, r.ResponseP95Ms, want)
				}
			}
			r := got.Intervals[0]
			if r.Requests != 42 || r.ErrorRate == nil || *r.ErrorRate != 2.0/42 {
				t.Errorf("first row: %d requests, error rate %v; want 42 and 2/42", r.Requests, r.ErrorRate)
			}
			if r.ServerRSSBytes == nil || *r.ServerRSSBytes != c.wantRSS {
				t.Errorf("server RSS %v, want the parts' median %g", r.ServerRSSBytes, c.wantRSS)
			}
			if r.WarmShare == nil || *r.WarmShare != c.warm {
				t.Errorf("warm share %v, want %g (30 warm of 40 detects)", r.WarmShare, c.warm)
			}
			if got.Sent != (sent{Streams: 20, Bytes: 20 << 20}) {
				t.Errorf("sent %+v, want the parts' sum", got.Sent)
			}
		})
	}
}

// Without a timeline there is nothing to re-judge: a line says so.
func TestMergedSoakWithoutTimeline(t *testing.T) {
	f, err := merged(scenario.MergedRun{Result: &report.Result{Test: "soak"}})
	if err != nil || f.Data != nil || len(f.Lines) != 1 {
		t.Fatalf("findings %+v, err %v: want one line and no data", f, err)
	}
}
