// Package soak is driftload's soak test: does the API degrade or leak over
// a long run.
package soak

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// Test declares the soak test.
var Test = &scenario.Test{
	Name:  "soak",
	Short: "30 min at 50 VUs: does latency or memory degrade over time",
	Long: `soak holds 50 VUs for 30 minutes and asks whether the API degrades over time. Each
iteration is a detect of mixed events on the VU's stream (a new one every 20 iterations):
10–60 events (50 %), 100–300 (30 %), both balanced, or 500–1000 with the strict profile
(20 %), tagged batch_size:small|medium|large, then 1.5–2 s of thinking; every 50th
iteration also checks /healthz. Every --interval (1 min, time-scaled) a row records the
request rate, http_req_duration p50/p95/p99, the error rate, detect_latency p95, the
target's process_resident_memory_bytes (when its /metrics is readable) and driftload's own
RSS, goroutines and GC pauses. At the end, robust trends (Theil–Sen with Mann–Kendall) say
whether p95 latency or server memory grew, by how much and whether significantly; a
significant rise beyond the memory_leak_indicator threshold (value<0.5: +50 %) fails the
run. Rows and trends are in analysis.intervals, analysis.latency_trend,
analysis.server_memory_trend and analysis.client_memory of the result file.`,
	ResultFile:      "soak_test_results.json",
	Metrics:         scenario.Join(scenario.DetectMetrics, soakMetrics),
	DefaultVUs:      50,
	DefaultDuration: 30 * time.Minute,
	DefaultInterval: interval,
	SendsDetect:     true,
	New:             newSoak,
	Merged:          merged,
}

// soakMetrics are soak's own metrics beside the detect family.
var soakMetrics = []metrics.Def{
	{Name: "response_time_trend", Type: metrics.Trend, Contains: metrics.Time},
	{Name: "memory_leak_indicator", Type: metrics.Gauge},
}

// The soak instance analyses interval by interval.
var _ scenario.IntervalObserver = (*soak)(nil)

// The soak mix, think time and analysis parameters.
const (
	smallShare  = 0.50 // 10–60 events, balanced
	mediumShare = 0.30 // 100–300 events, balanced; the rest (20 %) 500–1000, strict
	// iterationsPerStream: a stream is reused for this many iterations of its VU.
	iterationsPerStream = 20
	// healthEvery: a VU checks /healthz once every this many iterations.
	healthEvery = 50

	// interval is the analysis interval at real time; --time-scale
	// shrinks it with the run (never below minInterval).
	interval    = time.Minute
	minInterval = 200 * time.Millisecond

	// defaultFailGrowth is the relative rise of p95 latency (or server
	// memory) over the steady part of the run beyond which a significant
	// trend fails the test, when the thresholds give no
	// memory_leak_indicator limit (which then sets it).
	defaultFailGrowth = 0.5
	// minScrapeTimeout bounds a /metrics scrape from below when the
	// interval is very short.
	minScrapeTimeout = 500 * time.Millisecond
)

// Batch-size classes, the `batch_size` tag.
const (
	batchSmall  = "small"
	batchMedium = "medium"
	batchLarge  = "large"
)

type soak struct {
	env      scenario.Env
	detect   *scenario.DetectClient
	balanced driftlock.Profile
	strict   driftlock.Profile
	respTime *metrics.Metric // response_time_trend
	leak     *metrics.Metric // memory_leak_indicator
	scraper  *scenario.MetricsScraper
	// failGrowth is the rise that fails a significant trend (see judge).
	failGrowth float64
	// rec records memory_leak_indicator from Observe (the harness' goroutine).
	rec *metrics.Recorder

	mu     sync.Mutex
	rows   []intervalRow
	client *runner.ProcessSampler

	// streams and sentBytes count the streams started and the detect bytes
	// sent, for what one detector of the target can plausibly hold.
	streams, sentBytes atomic.Int64
}

// sent is what the run sent so far: streams started and detect body bytes.
func (s *soak) sent() sent {
	return sent{Streams: s.streams.Load(), Bytes: s.sentBytes.Load()}
}

// sent counts the streams a soak started and the detect body bytes it sent
// them: what one detector of the target can plausibly hold.
type sent struct {
	Streams int64 `json:"streams_started"`
	Bytes   int64 `json:"detect_bytes_sent"`
}

// perStream is the mean detect bytes sent to one stream (0: no stream).
func (s sent) perStream() float64 {
	if s.Streams == 0 {
		return 0
	}
	return float64(s.Bytes) / float64(s.Streams)
}

// vuState tracks the VU's current stream: which profile created it and how
// many events it has received, to know when it is past calibration.
type vuState struct {
	scenario.Buffers
	streamIndex int64
	sent        int
	// profile is the profile the server created the stream with (the first
	// accepted request's); a stream keeps it, later overrides are ignored.
	profile *driftlock.Profile
}

func newSoak(env scenario.Env, reg *metrics.Registry) (scenario.Instance, error) {
	d, err := scenario.NewDetectClient(env, reg)
	if err != nil {
		return nil, err
	}
	ms, err := reg.DefineAll(soakMetrics)
	if err != nil {
		return nil, err
	}
	s := &soak{
		env: env, detect: d, scraper: scenario.NewMetricsScraper(env),
		respTime: ms["response_time_trend"], leak: ms["memory_leak_indicator"],
		failGrowth: failGrowth(env.Thresholds),
		rec:        reg.NewRecorder(), client: runner.NewProcessSampler(),
	}
	s.balanced, _ = driftlock.ProfileByName("balanced")
	strict, _ := driftlock.ProfileByName("strict")
	s.strict = strict.Clamp(env.EventLimit())
	return s, nil
}

// failGrowth is the memory_leak_indicator threshold's upper limit: the rise
// of a significant trend that fails the run moves with the thresholds file.
func failGrowth(sets []threshold.Set) float64 {
	if g, ok := threshold.UpperLimit(sets, "memory_leak_indicator", threshold.Stat{Name: "value"}); ok {
		return g
	}
	return defaultFailGrowth
}

func (s *soak) SetupVU(vu *runner.VU) { vu.Data = &vuState{streamIndex: -1} }

// Iteration: one detect request of the mix on the VU's current stream, a
// health check every healthEvery iterations, then 1.5–2 s of thinking.
func (s *soak) Iteration(ctx context.Context, vu *runner.VU) {
	st := vu.Data.(*vuState)
	idx := vu.Iteration / iterationsPerStream
	if idx != st.streamIndex {
		st.streamIndex, st.sent, st.profile = idx, 0, nil
		s.streams.Add(1)
	}
	var n int
	var class string
	p := s.balanced
	switch roll := vu.Rand.Float64(); {
	case roll < smallShare:
		n, class = vu.IntBetween(10, 60), batchSmall
	case roll < smallShare+mediumShare:
		n, class = vu.IntBetween(100, 300), batchMedium
	default:
		n, class, p = vu.IntBetween(500, 1000), batchLarge, s.strict
	}
	n = min(n, s.env.EventLimit())
	effective := p
	if st.profile != nil {
		effective = *st.profile
	}
	out := s.detect.Do(ctx, vu, &st.Buffers, scenario.DetectCall{
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
	s.sentBytes.Add(int64(out.Bytes))
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
	if (vu.Iteration+1)%healthEvery == 0 {
		if !scenario.HealthCheck(ctx, vu, s.env) {
			return
		}
	}
	vu.Think(ctx, vu.Between(1500*time.Millisecond, 2*time.Second))
}

// Interval implements scenario.IntervalObserver.
func (s *soak) Interval() time.Duration {
	return s.env.ScaledInterval(interval, minInterval)
}

// intervalRow is one row of the soak's per-interval table. Optional
// statistics are absent (null-free: omitted) when nothing was measured.
type intervalRow struct {
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
	// ServerDetectors is the target's driftlock_detectors_active at the
	// interval's end (the detector cache's size), when it exposes it.
	ServerDetectors *float64 `json:"server_detectors_active,omitempty"`
	// Client* describe driftload itself at the interval's end.
	ClientRSSBytes  uint64  `json:"client_rss_bytes"`
	ClientHeapBytes uint64  `json:"client_heap_bytes"`
	Goroutines      int     `json:"goroutines"`
	GCCount         uint32  `json:"gc_count"`
	GCPauseTotalMs  float64 `json:"gc_pause_total_ms"`
	GCPauseMaxMs    float64 `json:"gc_pause_max_ms"`
}

// Observe implements scenario.IntervalObserver: one row per interval, and the leak
// indicator so far into memory_leak_indicator. The harness closes the final
// partial interval before its final snapshot, so the last value recorded
// here is the one the thresholds see.
func (s *soak) Observe(iv scenario.Interval) {
	row := buildRow(iv, s.Interval())
	row.ServerRSSBytes, row.ServerDetectors = s.scrapeServer()
	s.mu.Lock()
	defer s.mu.Unlock()
	sampleClient(&row, s.client.Sample())
	row.Index = len(s.rows)
	s.rows = append(s.rows, row)
	if g, ok := leakIndicator(s.rows); ok {
		s.rec.Add(s.leak, nil, g)
		s.rec.Flush()
	}
}

// buildRow reads one interval's statistics from its snapshot.
func buildRow(iv scenario.Interval, every time.Duration) intervalRow {
	span := iv.End - iv.Start
	row := intervalRow{
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
		row.HTTPP50Ms, row.HTTPP95Ms, row.HTTPP99Ms = ptr(d.Percentile(50)), ptr(d.Percentile(95)), ptr(d.Percentile(99))
	}
	if f, ok := snap.Sink("http_req_failed", nil); ok && f.Count > 0 {
		row.ErrorRate = ptr(float64(f.Trues) / float64(f.Count))
	}
	if r, ok := snap.Sink("response_time_trend", nil); ok && r.Count > 0 {
		row.ResponseP95Ms = ptr(r.Percentile(95))
	}
	if d, ok := snap.Sink("detect_latency", nil); ok && d.Count > 0 {
		row.DetectP95Ms = ptr(d.Percentile(95))
	}
	warm, _ := snap.Sink("http_req_duration", metrics.Tags{{Key: "warm", Value: "true"}})
	cold, _ := snap.Sink("http_req_duration", metrics.Tags{{Key: "warm", Value: "false"}})
	if warm != nil && cold != nil && warm.Count+cold.Count > 0 {
		row.WarmShare = ptr(float64(warm.Count) / float64(warm.Count+cold.Count))
	}
	return row
}

func ptr(v float64) *float64 { return &v }

// scrapeServer reads the target's process_resident_memory_bytes and
// driftlock_detectors_active (nil when absent), bounded so a slow /metrics
// cannot hold up the interval clock for long.
func (s *soak) scrapeServer() (rss, detectors *float64) {
	timeout := min(scenario.ScrapeTimeout, max(s.Interval()/4, minScrapeTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	samples, err := s.scraper.Scrape(ctx)
	if err != nil {
		return nil, nil
	}
	if v, ok := samples.Sum("process_resident_memory_bytes"); ok {
		rss = &v
	}
	if v, ok := samples.Sum("driftlock_detectors_active"); ok {
		detectors = &v
	}
	return rss, detectors
}

// settledShare: the warm-up lasts at least until an interval's share of
// detect requests to calibrated streams reaches this fraction of the run's
// highest share.
const settledShare = 0.9

// trendRows returns the rows that count for trends (a short final
// interval is left out) and how many of them are warm-up. The warm-up is the
// first interval or the first 10 %, whichever is more, extended until the
// share of detect requests to calibrated streams has settled (reached 90 %
// of its highest level): the calibrating path is cheap, so latency rises
// while streams warm up. At real time that takes about a minute; in a
// time-compressed run it can take much of the run, so the warm-up never
// takes more than a third of it: two thirds are left to judge.
func trendRows(rows []intervalRow) (trend []intervalRow, warm int) {
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
		if top > 0 && r.WarmShare != nil && *r.WarmShare >= settledShare*top {
			warm = max(warm, i)
			break
		}
	}
	return trend, min(warm, max(1, len(trend)/3), len(trend))
}

// series returns the x (interval midpoint, seconds) and y values of
// rows; a row without the value gives NaN, which the analysis functions drop.
func series(rows []intervalRow, value func(intervalRow) *float64) (xs, ys []float64) {
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

func respP95(r intervalRow) *float64 { return r.ResponseP95Ms }

func serverMiB(r intervalRow) *float64 {
	if r.ServerRSSBytes == nil {
		return nil
	}
	return ptr(*r.ServerRSSBytes / (1 << 20))
}

func clientMiB(r intervalRow) *float64 { return ptr(float64(r.ClientRSSBytes) / (1 << 20)) }

// leakIndicator is the growth of p95 latency the steady part of the run
// proves: the 95 % confidence interval of the Theil–Sen line's relative
// rise, its bound nearest 0 (0 when the interval holds 0). It is the same
// fit the latency verdict judges, so the two never disagree: the indicator
// is 0 exactly when the verdict says "stable".
func leakIndicator(rows []intervalRow) (float64, bool) {
	trend, warm := trendRows(rows)
	xs, ys := series(trend, respP95)
	d := analysis.Degrade("p95 latency", "ms", xs, ys, warm)
	if d.Points < 3 || d.First <= 0 {
		return 0, false
	}
	return d.ProvenGrowth, true
}

// trendResult is one series' trend over the steady part of the run:
// Degrade's Theil–Sen slope, fitted line and Mann–Kendall test.
type trendResult struct {
	analysis.Degradation
	// StillGrowing (memory only): the second half of the steady span alone
	// shows a significant rise.
	StillGrowing bool `json:"still_growing,omitempty"`
	// SecondHalfGrowth (memory only) is the relative growth over the second
	// half of the steady span (leak-indicator style).
	SecondHalfGrowth float64 `json:"second_half_growth"`
	// Degraded: the rise fails the run (see judge).
	Degraded bool `json:"degraded"`
	// Plateau (memory only): the series stopped rising at PlateauSeconds
	// into the run and held about PlateauMiB from there.
	Plateau        bool    `json:"plateau,omitempty"`
	PlateauSeconds float64 `json:"plateau_seconds,omitempty"`
	PlateauMiB     float64 `json:"plateau_mib,omitempty"`
	// Cache (server memory only): the growth went with the target's detector
	// cache (driftlock_detectors_active), at MiBPerDetector each, at most
	// the MaxMiBPerDetector the data sent per stream can explain.
	Cache *cacheGrowth `json:"cache,omitempty"`
}

// cacheGrowth is the detector cache's share in a memory rise.
type cacheGrowth struct {
	DetectorsFirst    float64 `json:"detectors_first"`
	DetectorsLast     float64 `json:"detectors_last"`
	MiBPerDetector    float64 `json:"mib_per_detector"`
	MaxMiBPerDetector float64 `json:"max_mib_per_detector"`
	// Explains: the cache's growth accounts for the memory's.
	Explains bool `json:"explains"`
}

// detectorShare bounds what one detector can plausibly hold: this many times
// the bytes the test sent to its stream (a compression detector keeps at most
// its baseline and window, plus its compressor's state), and at least
// minDetectorMiB.
const (
	detectorShare  = 2.0
	minDetectorMiB = 1.0
)

// explainByCache checks whether the target's detector cache grew with its
// memory over the steady span: the memory's Theil–Sen slope against the
// number of detectors, in MiB per detector, is within what a detector can
// hold. A leak grows memory far faster than detectors.
func explainByCache(xs, mem, det []float64, warm int, bytesPerStream float64) *cacheGrowth {
	if warm >= len(det) || bytesPerStream <= 0 {
		return nil
	}
	d, m := det[warm:], mem[warm:]
	if mk := analysis.MannKendall(d, analysis.DegradeAlpha); mk.Trend != analysis.TrendIncreasing {
		return nil
	}
	perDetector, _, ok := analysis.TheilSen(d, m)
	if !ok {
		return nil
	}
	fd := analysis.Finite(d)
	c := &cacheGrowth{
		DetectorsFirst: fd[0], DetectorsLast: fd[len(fd)-1], MiBPerDetector: perDetector,
		MaxMiBPerDetector: max(minDetectorMiB, detectorShare*bytesPerStream/(1<<20)),
	}
	c.Explains = c.DetectorsLast-c.DetectorsFirst >= 10 && perDetector <= c.MaxMiBPerDetector
	return c
}

// plateau finds where a series stopped rising: the earliest point from
// which the rest (at least 4 points) shows no significant upward trend.
func plateau(xs, ys []float64, warm int) (at, level float64, ok bool) {
	n := min(len(xs), len(ys))
	for i := max(warm, 0); i+4 <= n; i++ {
		rest := analysis.Finite(ys[i:n])
		if len(rest) < 4 {
			break
		}
		if analysis.MannKendall(rest, analysis.DegradeAlpha).Trend != analysis.TrendIncreasing {
			return xs[i], analysis.Median(rest), true
		}
	}
	return 0, 0, false
}

// rising reports a proven increase of more than failGrowth: the lower bound
// of the fitted growth's confidence interval is above it.
func (t trendResult) rising(failGrowth float64) bool {
	return t.ProvenGrowth > failGrowth
}

// fitTrend measures one series after warm points.
func fitTrend(metric, unit string, xs, ys []float64, warm int) trendResult {
	return trendResult{Degradation: analysis.Degrade(metric, unit, xs, ys, warm)}
}

// memoryTrend is fitTrend plus whether the series still rises over the
// second half of its steady span.
func memoryTrend(metric string, xs, ys []float64, warm int) trendResult {
	t := fitTrend(metric, "MiB", xs, ys, warm)
	half := warm + (min(len(xs), len(ys))-warm)/2
	late := analysis.Degrade(metric, "MiB", xs, ys, half)
	t.StillGrowing = late.Significant && late.SlopePerHour > 0
	t.SecondHalfGrowth = late.Growth
	return t
}

// clientMemory is driftload's own footprint over the run: proof that the
// generator is not what leaks.
type clientMemory struct {
	RSSTrend       trendResult `json:"rss_trend"`
	StartRSSMiB    float64     `json:"start_rss_mib"`
	EndRSSMiB      float64     `json:"end_rss_mib"`
	MaxGoroutines  int         `json:"max_goroutines"`
	GCCount        uint32      `json:"gc_count"`
	GCPauseTotalMs float64     `json:"gc_pause_total_ms"`
	GCPauseMaxMs   float64     `json:"gc_pause_max_ms"`
}

// soakAnalysis is the `analysis` of soak_test_results.json.
type soakAnalysis struct {
	IntervalSeconds float64 `json:"interval_seconds"`
	// WarmupIntervals are left out of every trend.
	WarmupIntervals int           `json:"warmup_intervals"`
	Intervals       []intervalRow `json:"intervals"`
	// MemoryLeakIndicator is the last value recorded into the Gauge.
	MemoryLeakIndicator *float64    `json:"memory_leak_indicator,omitempty"`
	LatencyTrend        trendResult `json:"latency_trend"`
	// ServerMemoryTrend is absent when the target's /metrics gave no
	// process_resident_memory_bytes.
	ServerMemoryTrend *trendResult `json:"server_memory_trend,omitempty"`
	ClientMemory      clientMemory `json:"client_memory"`
	// Sent bounds what a detector can hold (see explainByCache); a merge
	// adds the parts'.
	Sent sent `json:"sent"`
}

// Analyse implements scenario.Instance: trends over the intervals and the verdict.
func (s *soak) Analyse(*metrics.Snapshot) scenario.Findings {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := judge(s.rows, s.Interval(), s.failGrowth, s.sent())
	if s.env.Embedded {
		f.Lines = append(f.Lines, "note: the embedded target runs in driftload's process, so server and driftload memory are the same numbers; aim at a separate `driftload serve` to tell them apart")
	}
	return f
}

// judge turns the rows into the soak's findings.
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
func judge(rows []intervalRow, every time.Duration, failGrowth float64, sent sent) scenario.Findings {
	a := soakAnalysis{IntervalSeconds: every.Seconds(), Intervals: rows, Sent: sent}
	if a.Intervals == nil {
		a.Intervals = []intervalRow{}
	}
	trend, warm := trendRows(rows)
	xs, lat := series(trend, respP95)
	a.WarmupIntervals = warm
	if g, ok := leakIndicator(rows); ok {
		a.MemoryLeakIndicator = &g
	}
	a.LatencyTrend = fitTrend("p95 latency", "ms", xs, lat, warm)
	a.LatencyTrend.Degraded = a.LatencyTrend.rising(failGrowth)

	var lines, fails []string
	lt := a.LatencyTrend
	line := lt.Verdict
	if lt.Points > 0 {
		line += fmt.Sprintf(": %s → %s", formatMs(lt.First), formatMs(lt.Last))
		if lt.GrowthLow != 0 || lt.GrowthHigh != 0 {
			line += fmt.Sprintf(" (fitted %+.0f%%, 95%% CI %+.0f%%…%+.0f%%)", lt.FittedGrowth*100, lt.GrowthLow*100, lt.GrowthHigh*100)
		}
	}
	if a.MemoryLeakIndicator != nil {
		line += fmt.Sprintf("; memory_leak_indicator %+.2f (the rise proven)", *a.MemoryLeakIndicator)
	}
	lines = append(lines, line)
	if lt.Degraded {
		fails = append(fails, fmt.Sprintf("p95 latency grew %s → %s (+%.0f%%, at least +%.0f%%, %s)", formatMs(lt.First), formatMs(lt.Last), lt.FittedGrowth*100, lt.ProvenGrowth*100, analysis.FormatP(lt.P)))
	}

	if _, srv := series(trend, serverMiB); len(analysis.Finite(srv)) > 0 {
		t := memoryTrend("server memory (RSS)", xs, srv, warm)
		if _, det := series(trend, serverDetectors); len(analysis.Finite(det)) > 0 {
			t.Cache = explainByCache(xs, srv, det, warm, sent.perStream())
		}
		growing := t.rising(failGrowth) && t.StillGrowing
		explained := t.Cache != nil && t.Cache.Explains
		t.Degraded = growing && !explained
		if !t.StillGrowing {
			t.PlateauSeconds, t.PlateauMiB, t.Plateau = plateau(xs, srv, warm)
		}
		a.ServerMemoryTrend = &t
		var line string
		switch {
		case t.Degraded:
			line = fmt.Sprintf("server memory (RSS) still growing at %+.0f MiB/h (%s): %.1f → %.1f MiB, +%.0f%% (at least +%.0f%%)",
				t.SlopePerHour, analysis.FormatP(t.P), t.First, t.Last, t.FittedGrowth*100, t.ProvenGrowth*100)
			if t.Cache != nil {
				line += fmt.Sprintf("; the detector cache grew %.0f → %.0f, but %.2f MiB per detector is more than the %.2f MiB a detector can hold",
					t.Cache.DetectorsFirst, t.Cache.DetectorsLast, t.Cache.MiBPerDetector, t.Cache.MaxMiBPerDetector)
			}
			fails = append(fails, fmt.Sprintf("server memory grew %.1f → %.1f MiB (+%.0f%%, %s) and is still growing", t.First, t.Last, t.FittedGrowth*100, analysis.FormatP(t.P)))
		case explained:
			line = fmt.Sprintf("server memory (RSS) grew %.1f → %.1f MiB with the detector cache (%.0f → %.0f detectors, %.2f MiB each, within the %.2f MiB a detector can hold): a filling cache, not a leak; judge a leak once the cache is full",
				t.First, t.Last, t.Cache.DetectorsFirst, t.Cache.DetectorsLast, t.Cache.MiBPerDetector, t.Cache.MaxMiBPerDetector)
		case t.Plateau && t.ProvenGrowth > 0:
			line = fmt.Sprintf("server memory (RSS) plateaued at %.1f MiB after %s (from %.1f MiB after the warm-up)", t.PlateauMiB, fmtElapsed(t.PlateauSeconds), firstFinite(srv[warm:]))
		case t.Plateau:
			line = fmt.Sprintf("server memory (RSS) stable at about %.1f MiB", t.PlateauMiB)
		default:
			line = t.Verdict
			if t.Points > 0 {
				line += fmt.Sprintf(": %.1f → %.1f MiB", t.First, t.Last)
			}
			if t.ProvenGrowth > 0 {
				line += fmt.Sprintf("; proven rise %+.0f%%, below the %.0f%% that fails a soak", t.ProvenGrowth*100, failGrowth*100)
			}
		}
		lines = append(lines, line)
	} else {
		lines = append(lines, "server memory: the target's /metrics gave no process_resident_memory_bytes, not judged")
	}

	a.ClientMemory = measureClientMemory(rows, trend, xs, warm)
	cm := a.ClientMemory
	lines = append(lines, fmt.Sprintf("driftload itself: %s: %.1f → %.1f MiB; goroutines ≤ %d; %d GCs, pauses max %.2f ms, total %.1f ms",
		cm.RSSTrend.Verdict, cm.StartRSSMiB, cm.EndRSSMiB, cm.MaxGoroutines, cm.GCCount, cm.GCPauseMaxMs, cm.GCPauseTotalMs))

	f := scenario.Findings{Lines: lines, Data: a}
	if len(fails) > 0 {
		f.Failed = true
		f.FailReason = "soak degraded: " + strings.Join(fails, "; ")
	}
	return f
}

// fmtElapsed renders seconds into the run: "45s", "4 min", "1.5 h".
func fmtElapsed(sec float64) string {
	switch {
	case sec < 120:
		return fmt.Sprintf("%.0fs", sec)
	case sec < 2*3600:
		return fmt.Sprintf("%.0f min", sec/60)
	}
	return fmt.Sprintf("%.1f h", sec/3600)
}

func serverDetectors(r intervalRow) *float64 { return r.ServerDetectors }

func firstFinite(vs []float64) float64 {
	if f := analysis.Finite(vs); len(f) > 0 {
		return f[0]
	}
	return math.NaN()
}

func measureClientMemory(rows, trend []intervalRow, xs []float64, warm int) clientMemory {
	_, rss := series(trend, clientMiB)
	cm := clientMemory{RSSTrend: memoryTrend("driftload memory (RSS)", xs, rss, warm)}
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

// formatMs renders a latency for the verdict: "86 ms", "1.23 s".
func formatMs(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// sampleClient fills the row's client fields from a process sample.
func sampleClient(row *intervalRow, p runner.ProcessSample) {
	row.ClientRSSBytes = p.RSSBytes
	row.ClientHeapBytes = p.HeapBytes
	row.Goroutines = p.Goroutines
	row.GCCount = p.GCCount
	row.GCPauseTotalMs = float64(p.GCPauseTotalNs) / 1e6
	row.GCPauseMaxMs = float64(p.GCPauseMaxNs) / 1e6
}
