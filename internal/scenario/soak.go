package scenario

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
)

func init() {
	register(&Test{
		Name:            "soak",
		Short:           "30 min at 50 VUs: does latency or memory degrade over time",
		ResultFile:      "soak_test_results.json",
		Metrics:         catalog["soak"],
		DefaultVUs:      50,
		DefaultDuration: 30 * time.Minute,
		DefaultInterval: soakInterval,
		SendsDetect:     true,
		New:             newSoak,
	})
}

// The soak mix, think time and analysis parameters.
const (
	soakSmallShare  = 0.50 // 10–60 events, balanced
	soakMediumShare = 0.30 // 100–300 events, balanced; the rest (20 %) 500–1000, strict
	// soakIterationsPerStream: a stream is reused for this many iterations of its VU.
	soakIterationsPerStream = 20
	// soakHealthEvery: a VU checks /healthz once every this many iterations.
	soakHealthEvery = 50

	// soakInterval is the analysis interval at real time; --time-scale
	// shrinks it with the run (never below soakMinInterval).
	soakInterval    = time.Minute
	soakMinInterval = 200 * time.Millisecond

	// soakFailGrowth is the relative rise of p95 latency (or server memory)
	// over the steady part of the run beyond which a significant trend
	// fails the test: +50 %, the same bound as memory_leak_indicator's
	// threshold.
	soakFailGrowth = 0.5
	// soakMinScrapeTimeout bounds a /metrics scrape from below when the
	// interval is very short.
	soakMinScrapeTimeout = 500 * time.Millisecond
)

// Batch-size classes, the `batch_size` tag.
const (
	soakBatchSmall  = "small"
	soakBatchMedium = "medium"
	soakBatchLarge  = "large"
)

type soak struct {
	env      Env
	detect   *detectClient
	balanced driftlock.Profile
	strict   driftlock.Profile
	health   http.Header
	respTime *metrics.Metric // response_time_trend
	leak     *metrics.Metric // memory_leak_indicator
	scraper  *metricsScraper
	// rec records memory_leak_indicator from Observe (the harness' goroutine).
	rec *metrics.Recorder

	mu     sync.Mutex
	rows   []soakRow
	client soakSampler
}

// soakVU tracks the VU's current stream: which profile created it and how
// many events it has received, to know when it is past calibration.
type soakVU struct {
	buffers
	streamIndex int64
	sent        int
	// profile is the profile the server created the stream with (the first
	// accepted request's); a stream keeps it, later overrides are ignored.
	profile *driftlock.Profile
}

func newSoak(env Env, reg *metrics.Registry) (Instance, error) {
	d, err := newDetectClient(env, reg)
	if err != nil {
		return nil, err
	}
	s := &soak{env: env, detect: d, health: http.Header{"Accept": {"application/json"}}, scraper: newMetricsScraper(env)}
	s.balanced, _ = driftlock.ProfileByName("balanced")
	strict, _ := driftlock.ProfileByName("strict")
	s.strict = strict.Clamp(env.maxEvents())
	if s.respTime, err = reg.Define("response_time_trend", metrics.Trend, metrics.Time); err != nil {
		return nil, err
	}
	if s.leak, err = reg.Define("memory_leak_indicator", metrics.Gauge, metrics.Default); err != nil {
		return nil, err
	}
	s.rec = reg.NewRecorder()
	s.client.init()
	return s, nil
}

func (s *soak) SetupVU(vu *runner.VU) { vu.Data = &soakVU{streamIndex: -1} }

// Iteration: one detect request of the mix on the VU's current stream, a
// health check every soakHealthEvery iterations, then 1.5–2 s of thinking.
func (s *soak) Iteration(ctx context.Context, vu *runner.VU) {
	st := vu.Data.(*soakVU)
	idx := vu.Iteration / soakIterationsPerStream
	if idx != st.streamIndex {
		st.streamIndex, st.sent, st.profile = idx, 0, nil
	}
	var n int
	var class string
	p := s.balanced
	switch roll := vu.Rand.Float64(); {
	case roll < soakSmallShare:
		n, class = vu.IntBetween(10, 60), soakBatchSmall
	case roll < soakSmallShare+soakMediumShare:
		n, class = vu.IntBetween(100, 300), soakBatchMedium
	default:
		n, class, p = vu.IntBetween(500, 1000), soakBatchLarge, s.strict
	}
	n = min(n, s.env.maxEvents())
	effective := p
	if st.profile != nil {
		effective = *st.profile
	}
	out := s.detect.do(ctx, vu, &st.buffers, detectCall{
		Stream:   gen.StreamID("soak-stream", s.env.Run, vu.ID, int(idx)),
		Batch:    gen.Batch{Size: n, Mix: gen.Mixed},
		Profile:  &p,
		Scenario: "soak",
		Warm:     st.sent >= effective.BaselineSize+effective.WindowSize,
		Tags:     metrics.Tags{{Key: "batch_size", Value: class}, {Key: "profile", Value: effective.Name}},
	})
	if out.Resp.Canceled {
		return
	}
	if out.Resp.Err == nil {
		ms := float64(out.Resp.Timings.Duration) / float64(time.Millisecond)
		vu.Recorder.Add(s.respTime, metrics.Tags{{Key: "batch_size", Value: class}}, ms)
	}
	if out.OK {
		if st.profile == nil {
			st.profile = &effective
		}
		st.sent += n
	}
	if (vu.Iteration+1)%soakHealthEvery == 0 {
		resp := vu.Do(ctx, &runner.Request{
			Method: http.MethodGet, URL: url(s.env.BaseURL, "/healthz"), Header: s.health,
			Endpoint: "healthz", Scenario: "health", Timeout: s.env.Timeout,
		})
		if resp.Canceled {
			return
		}
		vu.Check("health status 200", resp.OK(200), metrics.Tag{Key: "scenario", Value: "health"})
	}
	vu.Think(ctx, vu.Between(1500*time.Millisecond, 2*time.Second))
}

// Interval implements IntervalObserver.
func (s *soak) Interval() time.Duration {
	if s.env.Interval > 0 {
		return s.env.Interval
	}
	return max(soakMinInterval, runner.ScaleDuration(soakInterval, s.env.TimeScale))
}

// soakRow is one row of the soak's per-interval table. Optional
// statistics are absent (null-free: omitted) when nothing was measured.
type soakRow struct {
	Index        int     `json:"index"`
	StartSeconds float64 `json:"start_seconds"`
	EndSeconds   float64 `json:"end_seconds"`
	// Partial marks a final interval shorter than half an interval; it is
	// left out of the trends.
	Partial     bool     `json:"partial,omitempty"`
	VUs         int      `json:"vus"`
	Requests    int64    `json:"requests"`
	RequestRate float64  `json:"request_rate"`
	HTTPP50Ms   *float64 `json:"http_req_duration_p50_ms,omitempty"`
	HTTPP95Ms   *float64 `json:"http_req_duration_p95_ms,omitempty"`
	HTTPP99Ms   *float64 `json:"http_req_duration_p99_ms,omitempty"`
	ErrorRate   *float64 `json:"error_rate,omitempty"`
	// ResponseP95Ms is the p95 of response_time_trend (detect requests'
	// client-side duration): the series the latency trend is judged on.
	ResponseP95Ms *float64 `json:"response_time_p95_ms,omitempty"`
	DetectP95Ms   *float64 `json:"detect_latency_p95_ms,omitempty"`
	// WarmShare is the share of detect requests sent to streams past
	// calibration (absent without detect requests).
	WarmShare *float64 `json:"warm_share,omitempty"`
	// ServerRSSBytes is the target's process_resident_memory_bytes at the
	// interval's end; absent when its /metrics was not readable.
	ServerRSSBytes *float64 `json:"server_rss_bytes,omitempty"`
	// Client* describe driftload itself at the interval's end.
	ClientRSSBytes  uint64  `json:"client_rss_bytes"`
	ClientHeapBytes uint64  `json:"client_heap_bytes"`
	Goroutines      int     `json:"goroutines"`
	GCCount         uint32  `json:"gc_count"`
	GCPauseTotalMs  float64 `json:"gc_pause_total_ms"`
	GCPauseMaxMs    float64 `json:"gc_pause_max_ms"`
}

// Observe implements IntervalObserver: one row per interval, and the leak
// indicator so far into memory_leak_indicator. The harness closes the final
// partial interval before its final snapshot, so the last value recorded
// here is the one the thresholds see.
func (s *soak) Observe(iv Interval) {
	row := buildSoakRow(iv, s.Interval())
	if rss, ok := s.scrapeRSS(); ok {
		row.ServerRSSBytes = &rss
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client.sample(&row)
	row.Index = len(s.rows)
	s.rows = append(s.rows, row)
	if g, ok := soakLeakIndicator(s.rows); ok {
		s.rec.Add(s.leak, nil, g)
		s.rec.Flush()
	}
}

// buildSoakRow reads one interval's statistics from its snapshot.
func buildSoakRow(iv Interval, every time.Duration) soakRow {
	span := iv.End - iv.Start
	row := soakRow{
		StartSeconds: iv.Start.Seconds(), EndSeconds: iv.End.Seconds(), VUs: iv.VUs,
		Partial: span < every/2,
	}
	snap := iv.Snap
	if reqs, ok := snap.Sink("http_reqs", nil); ok {
		row.Requests = int64(reqs.Sum)
		if span > 0 {
			row.RequestRate = reqs.Sum / span.Seconds()
		}
	}
	if d, ok := snap.Sink("http_req_duration", nil); ok && d.Count > 0 {
		row.HTTPP50Ms, row.HTTPP95Ms, row.HTTPP99Ms = soakPtr(d.Percentile(50)), soakPtr(d.Percentile(95)), soakPtr(d.Percentile(99))
	}
	if f, ok := snap.Sink("http_req_failed", nil); ok && f.Count > 0 {
		row.ErrorRate = soakPtr(float64(f.Trues) / float64(f.Count))
	}
	if r, ok := snap.Sink("response_time_trend", nil); ok && r.Count > 0 {
		row.ResponseP95Ms = soakPtr(r.Percentile(95))
	}
	if d, ok := snap.Sink("detect_latency", nil); ok && d.Count > 0 {
		row.DetectP95Ms = soakPtr(d.Percentile(95))
	}
	warm, _ := snap.Sink("http_req_duration", metrics.Tags{{Key: "warm", Value: "true"}})
	cold, _ := snap.Sink("http_req_duration", metrics.Tags{{Key: "warm", Value: "false"}})
	if warm != nil && cold != nil && warm.Count+cold.Count > 0 {
		row.WarmShare = soakPtr(float64(warm.Count) / float64(warm.Count+cold.Count))
	}
	return row
}

func soakPtr(v float64) *float64 { return &v }

// scrapeRSS reads the target's process_resident_memory_bytes, bounded so a
// slow /metrics cannot hold up the interval clock for long.
func (s *soak) scrapeRSS() (float64, bool) {
	timeout := min(scrapeTimeout, max(s.Interval()/4, soakMinScrapeTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	samples, err := s.scraper.Scrape(ctx)
	if err != nil {
		return 0, false
	}
	return samples.Sum("process_resident_memory_bytes")
}

// soakSettledShare: the warm-up lasts at least until an interval's share of
// detect requests to calibrated streams reaches this fraction of the run's
// highest share.
const soakSettledShare = 0.9

// soakTrendRows returns the rows that count for trends (a short final
// interval is left out) and how many of them are warm-up. The warm-up is the
// first interval or the first 10 %, whichever is more, extended until the
// share of detect requests to calibrated streams has settled (reached 90 %
// of its highest level): the calibrating path is cheap, so latency rises
// while streams warm up. At real time that takes about a minute; in a
// time-compressed run it can take much of the run, so the warm-up never
// takes more than a third of it: two thirds are left to judge.
func soakTrendRows(rows []soakRow) (trend []soakRow, warm int) {
	top := 0.0
	for _, r := range rows {
		if !r.Partial {
			trend = append(trend, r)
			if r.WarmShare != nil {
				top = max(top, *r.WarmShare)
			}
		}
	}
	warm = max(1, len(trend)/10)
	for i, r := range trend {
		if top > 0 && r.WarmShare != nil && *r.WarmShare >= soakSettledShare*top {
			warm = max(warm, i)
			break
		}
	}
	return trend, min(warm, max(1, len(trend)/3), len(trend))
}

// soakSeries returns the x (interval midpoint, seconds) and y values of
// rows; a row without the value gives NaN, which the analysis functions drop.
func soakSeries(rows []soakRow, value func(soakRow) *float64) (xs, ys []float64) {
	for _, r := range rows {
		y := math.NaN()
		if v := value(r); v != nil {
			y = *v
		}
		xs = append(xs, (r.StartSeconds+r.EndSeconds)/2)
		ys = append(ys, y)
	}
	return xs, ys
}

func soakRespP95(r soakRow) *float64 { return r.ResponseP95Ms }

func soakServerMiB(r soakRow) *float64 {
	if r.ServerRSSBytes == nil {
		return nil
	}
	return soakPtr(*r.ServerRSSBytes / (1 << 20))
}

func soakClientMiB(r soakRow) *float64 { return soakPtr(float64(r.ClientRSSBytes) / (1 << 20)) }

// soakLeakIndicator is analysis.LeakIndicator on the p95 latency series
// after the warm-up. A run with fewer than ten steady intervals has tenths
// of less than one point; it then compares the first and the last steady
// interval (LeakIndicator with one-point tenths), so a short run still gets
// a value.
func soakLeakIndicator(rows []soakRow) (float64, bool) {
	trend, warm := soakTrendRows(rows)
	_, ys := soakSeries(trend, soakRespP95)
	if g, ok := analysis.LeakIndicator(ys, warm); ok {
		return g, true
	}
	steady := soakFinite(ys[warm:])
	if len(steady) < 2 || steady[0] == 0 {
		return 0, false
	}
	return (steady[len(steady)-1] - steady[0]) / math.Abs(steady[0]), true
}

// soakTrendResult is one series' trend over the steady part of the run.
type soakTrendResult struct {
	analysis.Degradation
	// FittedGrowth is the Theil–Sen line's rise over the steady span
	// relative to its value at the span's start (0.6 = +60 %); 0 when the
	// line starts at or below zero.
	FittedGrowth float64 `json:"fitted_growth"`
	// First and Last are the line's values at the start and the end of the
	// steady span, in Unit.
	First float64 `json:"first"`
	Last  float64 `json:"last"`
	// Points is how many intervals the trend used.
	Points int `json:"points"`
	// StillGrowing (memory only): the second half of the steady span alone
	// shows a significant rise.
	StillGrowing bool `json:"still_growing,omitempty"`
	// SecondHalfGrowth (memory only) is the relative growth over the second
	// half of the steady span (leak-indicator style).
	SecondHalfGrowth float64 `json:"second_half_growth"`
	// Degraded: the rise fails the run (see judgeSoak).
	Degraded bool `json:"degraded"`
}

// rising reports a significant increase of more than soakFailGrowth.
func (t soakTrendResult) rising() bool {
	return t.Significant && t.SlopePerHour > 0 && t.FittedGrowth > soakFailGrowth
}

// soakTrend measures one series after warm points: Degrade's Theil–Sen
// slope and Mann–Kendall test, and the rise of the Theil–Sen line, which
// unlike the leak indicator's one-point tenths of a short run is not moved
// by one outlying interval.
func soakTrend(metric, unit string, xs, ys []float64, warm int) soakTrendResult {
	t := soakTrendResult{Degradation: analysis.Degrade(metric, unit, xs, ys, warm)}
	var fx, fy []float64
	for i := warm; i < len(xs) && i < len(ys); i++ {
		if !math.IsNaN(ys[i]) && !math.IsInf(ys[i], 0) {
			fx, fy = append(fx, xs[i]), append(fy, ys[i])
		}
	}
	t.Points = len(fx)
	slope, icpt, ok := analysis.TheilSen(fx, fy)
	if !ok {
		return t
	}
	t.First, t.Last = icpt+slope*fx[0], icpt+slope*fx[len(fx)-1]
	if t.First > 0 {
		t.FittedGrowth = (t.Last - t.First) / t.First
	}
	return t
}

// soakMemoryTrend is soakTrend plus whether the series still rises over
// the second half of its steady span.
func soakMemoryTrend(metric string, xs, ys []float64, warm int) soakTrendResult {
	t := soakTrend(metric, "MiB", xs, ys, warm)
	half := warm + (min(len(xs), len(ys))-warm)/2
	late := analysis.Degrade(metric, "MiB", xs, ys, half)
	t.StillGrowing = late.Significant && late.SlopePerHour > 0
	t.SecondHalfGrowth = late.Growth
	return t
}

// soakClientMem is driftload's own footprint over the run: proof that the
// generator is not what leaks.
type soakClientMem struct {
	RSSTrend       soakTrendResult `json:"rss_trend"`
	StartRSSMiB    float64         `json:"start_rss_mib"`
	EndRSSMiB      float64         `json:"end_rss_mib"`
	MaxGoroutines  int             `json:"max_goroutines"`
	GCCount        uint32          `json:"gc_count"`
	GCPauseTotalMs float64         `json:"gc_pause_total_ms"`
	GCPauseMaxMs   float64         `json:"gc_pause_max_ms"`
}

// soakAnalysis is the `analysis` of soak_test_results.json.
type soakAnalysis struct {
	IntervalSeconds float64 `json:"interval_seconds"`
	// WarmupIntervals are left out of every trend.
	WarmupIntervals int       `json:"warmup_intervals"`
	Intervals       []soakRow `json:"intervals"`
	// MemoryLeakIndicator is the last value recorded into the Gauge.
	MemoryLeakIndicator *float64        `json:"memory_leak_indicator,omitempty"`
	LatencyTrend        soakTrendResult `json:"latency_trend"`
	// ServerMemoryTrend is absent when the target's /metrics gave no
	// process_resident_memory_bytes.
	ServerMemoryTrend *soakTrendResult `json:"server_memory_trend,omitempty"`
	ClientMemory      soakClientMem    `json:"client_memory"`
}

// Analyse implements Instance: trends over the intervals and the verdict.
func (s *soak) Analyse(*metrics.Snapshot) Findings {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := judgeSoak(s.rows, s.Interval())
	if s.env.Embedded {
		f.Lines = append(f.Lines, "note: the embedded target runs in driftload's process, so server and driftload memory are the same numbers; aim at a separate `driftload serve` to tell them apart")
	}
	return f
}

// judgeSoak turns the rows into the soak's findings.
//
// p95 latency fails the run when its rise is both statistically significant
// (Mann–Kendall, p < 0.05, increasing) and practically large (the Theil–Sen
// line rises by more than 50 % over the steady span). Neither alone is
// enough: a long soak makes a 2 % drift significant, and a short or noisy
// one can show a large rise by chance.
//
// Server memory fails on the same rule only when the second half of the
// steady span also rises significantly: a heap or cache filling to its
// working size levels off, a leak keeps growing. Any other significant rise
// is a verdict line. driftload's own memory is only reported.
func judgeSoak(rows []soakRow, every time.Duration) Findings {
	a := soakAnalysis{IntervalSeconds: every.Seconds(), Intervals: rows}
	if a.Intervals == nil {
		a.Intervals = []soakRow{}
	}
	trend, warm := soakTrendRows(rows)
	xs, lat := soakSeries(trend, soakRespP95)
	a.WarmupIntervals = warm
	if g, ok := soakLeakIndicator(rows); ok {
		a.MemoryLeakIndicator = &g
	}
	a.LatencyTrend = soakTrend("p95 latency", "ms", xs, lat, warm)
	a.LatencyTrend.Degraded = a.LatencyTrend.rising()

	var lines, fails []string
	line := a.LatencyTrend.Verdict
	if a.LatencyTrend.Points > 0 {
		line += fmt.Sprintf(": %s → %s", soakMs(a.LatencyTrend.First), soakMs(a.LatencyTrend.Last))
	}
	if a.MemoryLeakIndicator != nil {
		line += fmt.Sprintf("; memory_leak_indicator %+.2f", *a.MemoryLeakIndicator)
	}
	lines = append(lines, line)
	if t := a.LatencyTrend; t.Degraded {
		fails = append(fails, fmt.Sprintf("p95 latency grew %s → %s (+%.0f%%, %s)", soakMs(t.First), soakMs(t.Last), t.FittedGrowth*100, soakP(t.P)))
	}

	if _, srv := soakSeries(trend, soakServerMiB); len(soakFinite(srv)) > 0 {
		t := soakMemoryTrend("server memory (RSS)", xs, srv, warm)
		t.Degraded = t.rising() && t.StillGrowing
		a.ServerMemoryTrend = &t
		line := t.Verdict
		if t.Points > 0 {
			line += fmt.Sprintf(": %.1f → %.1f MiB", t.First, t.Last)
		}
		switch {
		case t.rising() && !t.StillGrowing:
			line += ", levelling off in the second half (warm-up, not a leak)"
		case t.Significant && t.SlopePerHour > 0 && !t.Degraded:
			line += fmt.Sprintf("; the fitted rise is %+.0f%% and the second half %+.1f%%: below the %.0f%% that fails a soak",
				t.FittedGrowth*100, t.SecondHalfGrowth*100, soakFailGrowth*100)
		}
		lines = append(lines, line)
		if t.Degraded {
			fails = append(fails, fmt.Sprintf("server memory grew %.1f → %.1f MiB (+%.0f%%, %s) and is still growing", t.First, t.Last, t.FittedGrowth*100, soakP(t.P)))
		}
	} else {
		lines = append(lines, "server memory: the target's /metrics gave no process_resident_memory_bytes, not judged")
	}

	a.ClientMemory = soakClientMemory(rows, trend, xs, warm)
	cm := a.ClientMemory
	lines = append(lines, fmt.Sprintf("driftload itself: %s: %.1f → %.1f MiB; goroutines ≤ %d; %d GCs, pauses max %.2f ms, total %.1f ms",
		cm.RSSTrend.Verdict, cm.StartRSSMiB, cm.EndRSSMiB, cm.MaxGoroutines, cm.GCCount, cm.GCPauseMaxMs, cm.GCPauseTotalMs))

	f := Findings{Lines: lines, Data: a}
	if len(fails) > 0 {
		f.Failed = true
		f.FailReason = "soak degraded: " + strings.Join(fails, "; ")
	}
	return f
}

func soakClientMemory(rows, trend []soakRow, xs []float64, warm int) soakClientMem {
	_, rss := soakSeries(trend, soakClientMiB)
	cm := soakClientMem{RSSTrend: soakMemoryTrend("driftload memory (RSS)", xs, rss, warm)}
	for i, r := range rows {
		mib := float64(r.ClientRSSBytes) / (1 << 20)
		if i == 0 {
			cm.StartRSSMiB = mib
		}
		cm.EndRSSMiB = mib
		cm.MaxGoroutines = max(cm.MaxGoroutines, r.Goroutines)
		cm.GCCount += r.GCCount
		cm.GCPauseTotalMs += r.GCPauseTotalMs
		cm.GCPauseMaxMs = max(cm.GCPauseMaxMs, r.GCPauseMaxMs)
	}
	return cm
}

// soakFinite returns the finite values of vs.
func soakFinite(vs []float64) []float64 {
	var out []float64
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

func soakMs(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func soakP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return fmt.Sprintf("p=%.3f", p)
}

// soakSampler measures driftload's own process between intervals.
type soakSampler struct {
	numGC      uint32
	pauseTotal uint64
	ms         runtime.MemStats
	rm         []rtmetrics.Sample
}

func (c *soakSampler) init() {
	runtime.ReadMemStats(&c.ms)
	c.numGC, c.pauseTotal = c.ms.NumGC, c.ms.PauseTotalNs
	c.rm = []rtmetrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
}

// sample fills the row's client fields: RSS, heap, goroutines, and the GC
// count and pauses since the previous sample (the runtime keeps the last
// 256 pauses, so the max covers at most that many GCs per interval).
func (c *soakSampler) sample(row *soakRow) {
	runtime.ReadMemStats(&c.ms)
	row.ClientHeapBytes = c.ms.HeapAlloc
	row.Goroutines = runtime.NumGoroutine()
	row.GCCount = c.ms.NumGC - c.numGC
	row.GCPauseTotalMs = float64(c.ms.PauseTotalNs-c.pauseTotal) / 1e6
	var maxPause uint64
	for i := uint32(0); i < row.GCCount && i < uint32(len(c.ms.PauseNs)); i++ {
		maxPause = max(maxPause, c.ms.PauseNs[(c.ms.NumGC-i+uint32(len(c.ms.PauseNs))-1)%uint32(len(c.ms.PauseNs))])
	}
	row.GCPauseMaxMs = float64(maxPause) / 1e6
	c.numGC, c.pauseTotal = c.ms.NumGC, c.ms.PauseTotalNs
	if rss, ok := soakProcRSS(); ok {
		row.ClientRSSBytes = rss
		return
	}
	rtmetrics.Read(c.rm)
	total, released := c.rm[0].Value, c.rm[1].Value
	if total.Kind() == rtmetrics.KindUint64 && released.Kind() == rtmetrics.KindUint64 {
		row.ClientRSSBytes = total.Uint64() - released.Uint64()
	}
}

// soakProcRSS reads the process' resident set from /proc/self/statm (Linux).
func soakProcRSS() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}
