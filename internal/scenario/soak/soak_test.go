package soak

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// soakTestRows builds n full one-minute rows: latency(i) ms p95, server RSS
// mem(i) MiB (nil: no /metrics), every row past calibration.
func soakTestRows(n int, latency, mem func(i int) float64) []intervalRow {
	rows := make([]intervalRow, n)
	for i := range rows {
		r := intervalRow{Index: i, StartSeconds: float64(i * 60), EndSeconds: float64((i + 1) * 60), VUs: 50}
		r.ResponseP95Ms = ptr(latency(i))
		r.WarmShare = ptr(0.85)
		if mem != nil {
			r.ServerRSSBytes = ptr(mem(i) * (1 << 20))
		}
		r.ClientRSSBytes = 40 << 20
		r.Goroutines = 60
		rows[i] = r
	}
	return rows
}

// soakWobble is a deterministic ±10 % pattern without a trend.
func soakWobble(i int) float64 {
	return []float64{1, 1.08, 0.93, 1.02, 0.9, 1.1, 0.97, 1.05, 0.95, 1}[i%10]
}

func TestJudgeSoak(t *testing.T) {
	flat := func(i int) float64 { return 200 * soakWobble(i) }
	cases := []struct {
		name        string
		rows        []intervalRow
		fail        bool
		reason      string // substring of FailReason when failing
		line        string // substring of some verdict line
		latencySig  bool
		noServerMem bool
	}{
		{
			name: "healthy: flat latency and memory",
			rows: soakTestRows(30, flat, func(i int) float64 { return 80 * soakWobble(i+3) }),
			line: "p95 latency stable",
		},
		{
			name:       "latency doubles over the run",
			rows:       soakTestRows(30, func(i int) float64 { return (200 + 15*float64(i)) * soakWobble(i) }, func(int) float64 { return 80 }),
			fail:       true,
			reason:     "p95 latency grew",
			line:       "p95 latency grew",
			latencySig: true,
		},
		{
			// +10 % over 30 minutes is significant but not large: reported only.
			name:       "small significant latency drift",
			rows:       soakTestRows(30, func(i int) float64 { return 200 + 0.7*float64(i) }, func(int) float64 { return 80 }),
			line:       "p95 latency grew",
			latencySig: true,
		},
		{
			// One slow interval at the very end is not a trend.
			name: "one spike in the last interval",
			rows: soakTestRows(30, func(i int) float64 {
				if i == 29 {
					return 900
				}
				return flat(i)
			}, func(int) float64 { return 80 }),
			line: "p95 latency stable",
		},
		{
			name:   "server leaks: memory grows linearly",
			rows:   soakTestRows(30, flat, func(i int) float64 { return 60 + 5*float64(i) }),
			fail:   true,
			reason: "server memory grew",
			line:   "server memory (RSS) still growing",
		},
		{
			// A cache filling up over the first half, then flat: warm-up.
			name: "server memory fills a cache and levels off",
			rows: soakTestRows(30, flat, func(i int) float64 { return 20 + 10*float64(min(i, 16)) + soakWobble(i) }),
			line: "server memory (RSS) plateaued at",
		},
		{
			// Memory rises with the detector cache at 0.5 MiB per detector,
			// within what a detector can hold: a filling cache.
			name: "server memory rises with the detector cache",
			rows: withDetectors(soakTestRows(30, flat, func(i int) float64 { return 60 + 5*float64(i) + soakWobble(i) }), func(i int) float64 { return 10 * float64(i) }),
			line: "a filling cache, not a leak",
		},
		{
			// The cache grows too, but 5 MiB per detector is a leak.
			name:   "a leak while the cache fills",
			rows:   withDetectors(soakTestRows(30, flat, func(i int) float64 { return 60 + 50*float64(i) }), func(i int) float64 { return 10 * float64(i) }),
			fail:   true,
			reason: "server memory grew",
			line:   "more than the",
		},
		{
			name:        "no server memory",
			rows:        soakTestRows(30, flat, nil),
			line:        "not judged",
			noServerMem: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := judge(c.rows, time.Minute, defaultFailGrowth, sent{Streams: 1, Bytes: 1 << 20})
			if f.Failed != c.fail {
				t.Fatalf("failed = %v (%s), want %v\n%s", f.Failed, f.FailReason, c.fail, strings.Join(f.Lines, "\n"))
			}
			if c.fail && !strings.Contains(f.FailReason, c.reason) {
				t.Errorf("fail reason %q does not name %q", f.FailReason, c.reason)
			}
			all := strings.Join(f.Lines, "\n")
			if !strings.Contains(all, c.line) {
				t.Errorf("verdict lacks %q:\n%s", c.line, all)
			}
			a := f.Data.(soakAnalysis)
			if a.LatencyTrend.Significant != c.latencySig {
				t.Errorf("latency significant = %v, want %v (p=%g)", a.LatencyTrend.Significant, c.latencySig, a.LatencyTrend.P)
			}
			if (a.ServerMemoryTrend == nil) != c.noServerMem {
				t.Errorf("server memory trend present = %v, want %v", a.ServerMemoryTrend != nil, !c.noServerMem)
			}
			if a.WarmupIntervals != 3 {
				t.Errorf("warm-up %d intervals, want 3 (10 %% of 30)", a.WarmupIntervals)
			}
			if len(a.Intervals) != len(c.rows) || a.MemoryLeakIndicator == nil {
				t.Errorf("analysis must keep every row and the leak indicator")
			}
			if !strings.Contains(all, "driftload itself") {
				t.Errorf("verdict lacks driftload's own memory:\n%s", all)
			}
		})
	}
}

func TestSoakTrendRowsWarmup(t *testing.T) {
	withShares := func(shares ...float64) []intervalRow {
		rows := soakTestRows(len(shares), func(int) float64 { return 100 }, nil)
		for i, s := range shares {
			if s < 0 {
				rows[i].WarmShare = nil
			} else {
				rows[i].WarmShare = ptr(s)
			}
		}
		return rows
	}
	rep := func(v float64, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	cases := []struct {
		name  string
		rows  []intervalRow
		trend int
		warm  int
	}{
		{"settled at once: first interval", withShares(rep(0.85, 8)...), 8, 1},
		{"settled at once, 30 intervals: 10 %", withShares(rep(0.85, 30)...), 30, 3},
		{"calibrating for 4 intervals", withShares(append([]float64{0, 0.2, 0.5, 0.7}, rep(0.9, 16)...)...), 20, 4},
		{"never settles: at most a third", withShares(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1), 12, 4},
		{"no detect requests (no shares)", withShares(rep(-1, 12)...), 12, 1},
		{"empty", nil, 0, 0},
	}
	for _, c := range cases {
		trend, warm := trendRows(c.rows)
		if len(trend) != c.trend || warm != c.warm {
			t.Errorf("%s: %d trend rows, warm-up %d; want %d, %d", c.name, len(trend), warm, c.trend, c.warm)
		}
	}
	// A short final interval is left out of the trends.
	rows := soakTestRows(5, func(int) float64 { return 100 }, nil)
	rows[4].Partial = true
	if trend, _ := trendRows(rows); len(trend) != 4 {
		t.Errorf("partial final row kept: %d trend rows, want 4", len(trend))
	}
}

// withDetectors sets each row's driftlock_detectors_active.
func withDetectors(rows []intervalRow, det func(i int) float64) []intervalRow {
	for i := range rows {
		rows[i].ServerDetectors = ptr(det(i))
	}
	return rows
}

// The indicator is the rise the fitted line proves: 0 for a steady series
// (however it wobbles, including one spike), the confidence interval's lower
// bound for a rising one, so it agrees with the latency verdict.
func TestSoakLeakIndicator(t *testing.T) {
	cases := []struct {
		name   string
		p95    func(i int) float64
		n      int
		lo, hi float64
		ok     bool
	}{
		{"steady with a wobble", func(i int) float64 { return 200 * soakWobble(i) }, 30, 0, 0, true},
		{"steady with one spike", func(i int) float64 {
			if i == 20 {
				return 2000
			}
			return 200 * soakWobble(i)
		}, 30, 0, 0, true},
		{"doubling", func(i int) float64 { return (100 + 100*float64(i)/29) * soakWobble(i) }, 30, 0.5, 1.0, true},
		{"falling", func(i int) float64 { return (300 - 5*float64(i)) * soakWobble(i) }, 30, -0.6, -0.2, true},
		{"two rows", func(int) float64 { return 100 }, 2, 0, 0, false},
	}
	for _, c := range cases {
		rows := soakTestRows(c.n, c.p95, nil)
		got, ok := leakIndicator(rows)
		if ok != c.ok || (ok && (got < c.lo || got > c.hi)) {
			t.Errorf("%s: indicator %g, %v; want within [%g, %g], %v", c.name, got, ok, c.lo, c.hi, c.ok)
		}
		if !ok {
			continue
		}
		f := judge(rows, time.Minute, defaultFailGrowth, sent{Streams: 1, Bytes: 1 << 20})
		stable := strings.Contains(f.Lines[0], "p95 latency stable")
		if stable != (got == 0) {
			t.Errorf("%s: indicator %g but the verdict says %q", c.name, got, f.Lines[0])
		}
	}
}

// soakRecordInterval records one interval's worth of samples and closes it.
func soakRecordInterval(reg *metrics.Registry, rec *metrics.Recorder, latencies []float64, failed, cold int) *metrics.Snapshot {
	reqs, _ := reg.Lookup("http_reqs")
	dur, _ := reg.Lookup("http_req_duration")
	fail, _ := reg.Lookup("http_req_failed")
	rt, _ := reg.Lookup("response_time_trend")
	for i, l := range latencies {
		warm := metrics.Tag{Key: "warm", Value: "true"}
		if i < cold {
			warm.Value = "false"
		}
		tags := metrics.Tags{{Key: "endpoint", Value: "detect"}, warm}
		rec.Add(reqs, tags, 1)
		rec.Add(dur, tags, l)
		rec.AddBool(fail, tags, i < failed)
		rec.Add(rt, metrics.Tags{{Key: "batch_size", Value: "small"}}, l)
	}
	return reg.CloseInterval()
}

func TestBuildSoakRow(t *testing.T) {
	reg := metrics.NewRegistry()
	runner.DefineBuiltins(reg)
	reg.MustDefine("response_time_trend", metrics.Trend, metrics.Time)
	reg.MustDefine("detect_latency", metrics.Trend, metrics.Time)
	rec := reg.NewRecorder()
	lat := make([]float64, 100)
	for i := range lat {
		lat[i] = float64(i + 1) // 1..100 ms
	}
	snap := soakRecordInterval(reg, rec, lat, 2, 25)
	row := buildRow(scenario.Interval{Start: 10 * time.Second, End: 20 * time.Second, VUs: 7, Snap: snap}, 10*time.Second)
	if row.Requests != 100 || row.RequestRate != 10 || row.VUs != 7 || row.Partial {
		t.Errorf("requests %d rate %g vus %d partial %v; want 100, 10/s, 7, false", row.Requests, row.RequestRate, row.VUs, row.Partial)
	}
	near := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > want*0.01 {
			t.Errorf("%s = %v, want %g", name, got, want)
		}
	}
	near("p50", row.HTTPP50Ms, 50)
	near("p95", row.HTTPP95Ms, 95)
	near("p99", row.HTTPP99Ms, 99)
	near("response p95", row.ResponseP95Ms, 95)
	near("error rate", row.ErrorRate, 0.02)
	near("warm share", row.WarmShare, 0.75)
	if row.DetectP95Ms != nil {
		t.Errorf("detect_latency p95 = %g with no samples, want absent", *row.DetectP95Ms)
	}

	// The next interval holds only its own samples; a short one is partial.
	snap = soakRecordInterval(reg, rec, []float64{500}, 0, 0)
	row = buildRow(scenario.Interval{Start: 20 * time.Second, End: 23 * time.Second, Snap: snap}, 10*time.Second)
	if row.Requests != 1 || !row.Partial {
		t.Errorf("second interval: %d requests, partial %v; want 1, true", row.Requests, row.Partial)
	}
	near("second p95", row.ResponseP95Ms, 500)
}

func TestSoakObserveRecordsTheIndicatorAndServerMemory(t *testing.T) {
	rss := 100 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %d\n", rss)
		rss += 10 << 20
	}))
	defer srv.Close()

	reg := metrics.NewRegistry()
	runner.DefineBuiltins(reg)
	inst, err := newSoak(scenario.Env{BaseURL: srv.URL, APIKey: "k", Interval: time.Second}, reg)
	if err != nil {
		t.Fatal(err)
	}
	s := inst.(*soak)
	if s.Interval() != time.Second {
		t.Fatalf("interval %s, want the --interval given", s.Interval())
	}
	rec := reg.NewRecorder()
	// Latency rising 100 ms per interval from 100 ms: the fitted line
	// triples over the steady part, and the proven rise is what the
	// indicator holds.
	for i := range 6 {
		l := 100 + 100*float64(i)
		snap := soakRecordInterval(reg, rec, []float64{l, l, l}, 0, 0)
		s.Observe(scenario.Interval{Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second, VUs: 3, Snap: snap})
	}
	g, ok := reg.Snapshot().Sink("memory_leak_indicator", nil)
	want, _ := leakIndicator(s.rows)
	if !ok || g.Count == 0 || g.Value != want || want < 1 {
		t.Fatalf("memory_leak_indicator = %+v, want the proven rise %g (> 1)", g, want)
	}
	f := inst.Analyse(reg.Snapshot())
	a := f.Data.(soakAnalysis)
	if len(a.Intervals) != 6 {
		t.Fatalf("%d rows, want 6", len(a.Intervals))
	}
	for i, r := range a.Intervals {
		if r.ServerRSSBytes == nil || *r.ServerRSSBytes != float64((100+10*i)<<20) {
			t.Errorf("row %d server RSS %v, want %d MiB", i, r.ServerRSSBytes, 100+10*i)
		}
		if r.ClientRSSBytes == 0 || r.Goroutines == 0 || r.Index != i {
			t.Errorf("row %d: client RSS %d goroutines %d index %d", i, r.ClientRSSBytes, r.Goroutines, r.Index)
		}
	}
	if a.ServerMemoryTrend == nil || !a.ServerMemoryTrend.Significant {
		t.Errorf("server memory growing 10 MiB per interval must be a significant trend: %+v", a.ServerMemoryTrend)
	}
}

func TestSoakObserveWithoutServerMetrics(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	reg := metrics.NewRegistry()
	runner.DefineBuiltins(reg)
	inst, err := newSoak(scenario.Env{BaseURL: srv.URL, APIKey: "k", TimeScale: 0.001}, reg)
	if err != nil {
		t.Fatal(err)
	}
	s := inst.(*soak)
	if s.Interval() != minInterval {
		t.Errorf("time-scaled interval %s, want the floor %s", s.Interval(), minInterval)
	}
	rec := reg.NewRecorder()
	for i := range 3 {
		snap := soakRecordInterval(reg, rec, []float64{100}, 0, 0)
		s.Observe(scenario.Interval{Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second, Snap: snap})
	}
	f := inst.Analyse(reg.Snapshot())
	a := f.Data.(soakAnalysis)
	if a.ServerMemoryTrend != nil || a.Intervals[0].ServerRSSBytes != nil {
		t.Errorf("a target without /metrics must leave server memory absent")
	}
	if f.Failed {
		t.Errorf("flat run failed: %s", f.FailReason)
	}
}
