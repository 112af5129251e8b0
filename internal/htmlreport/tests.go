package htmlreport

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/driftload/driftload/internal/threshold"
)

// The analyses the page reads, as the tests write them (only the fields
// drawn). They are decoded from the result file's JSON, so a file of any
// driftload version decodes: a field it lacks stays zero.

type stressAnalysis struct {
	BreakingPoint *breakingPoint `json:"breaking_point"`
}

type breakingPoint struct {
	Levels            []stressLevel `json:"levels"`
	Model             string        `json:"model"`
	ErrorsStartAtVUs  float64       `json:"errors_start_at_vus"`
	LatencyKneeAtVUs  float64       `json:"latency_knee_at_vus"`
	ErrorsStartAtRate float64       `json:"errors_start_at_rate"`
	LatencyKneeAtRate float64       `json:"latency_knee_at_rate"`
	PeakRPS           float64       `json:"peak_rps"`
	PeakRPSAtVUs      float64       `json:"peak_rps_at_vus"`
	PeakRPSAtRate     float64       `json:"peak_rps_at_rate"`
	ErrorRateLimit    float64       `json:"error_rate_limit"`
	P95Limit          float64       `json:"p95_limit_ms"`
	BaselineP95       float64       `json:"baseline_p95_ms"`
	KneeFactor        float64       `json:"knee_factor"`
	Found             bool          `json:"found"`
	Recovery          struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
	} `json:"recovery"`
}

type stressLevel struct {
	VUs          float64 `json:"vus"`
	OfferedRate  float64 `json:"offered_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	Requests     int64   `json:"requests"`
	RPS          float64 `json:"rps"`
	ErrorRate    float64 `json:"error_rate"`
	P50          float64 `json:"p50_ms"`
	P95          float64 `json:"p95_ms"`
	P99          float64 `json:"p99_ms"`
}

type soakAnalysis struct {
	IntervalSeconds float64   `json:"interval_seconds"`
	WarmupIntervals int       `json:"warmup_intervals"`
	Intervals       []soakRow `json:"intervals"`
	LatencyTrend    *trend    `json:"latency_trend"`
	ServerMemory    *trend    `json:"server_memory_trend"`
	ClientMemory    struct {
		RSSTrend *trend `json:"rss_trend"`
	} `json:"client_memory"`
	MemoryLeakIndicator *float64 `json:"memory_leak_indicator"`
}

type soakRow struct {
	StartSeconds    float64  `json:"start_seconds"`
	EndSeconds      float64  `json:"end_seconds"`
	Partial         bool     `json:"partial"`
	ResponseP95Ms   *float64 `json:"response_time_p95_ms"`
	HTTPP95Ms       *float64 `json:"http_req_duration_p95_ms"`
	ServerRSSBytes  *float64 `json:"server_rss_bytes"`
	ServerDetectors *float64 `json:"server_detectors_active"`
	ClientRSSBytes  *float64 `json:"client_rss_bytes"`
}

type trend struct {
	Verdict string  `json:"verdict"`
	First   float64 `json:"first"`
	Last    float64 `json:"last"`
	Points  int     `json:"points"`
}

type capacityAnalysis struct {
	StreamsCreated   int64 `json:"streams_created"`
	ExpectedCapacity int64 `json:"expected_capacity"`
	Probes           struct {
		Kept           int64         `json:"kept"`
		Evicted        int64         `json:"evicted"`
		RetentionAfter int64         `json:"retention_after"`
		EvictionAfter  int64         `json:"eviction_after"`
		Log            []probeRecord `json:"log"`
	} `json:"probes"`
	Estimate struct {
		AtLeast int64 `json:"at_least"`
		AtMost  int64 `json:"at_most"`
	} `json:"capacity_estimate"`
	DetectorsActivePeak *float64       `json:"detectors_active_peak"`
	Evictions           *float64       `json:"evictions"`
	Scrapes             []capacityScan `json:"scrapes"`
	Verdict             string         `json:"verdict"`
}

type probeRecord struct {
	Kind     string  `json:"kind"`
	Newer    float64 `json:"newer"`
	NewerMin float64 `json:"newer_min"`
	NewerMax float64 `json:"newer_max"`
	Outcome  string  `json:"outcome"`
}

// capacityScan is one read of the target's /metrics during a capacity run.
type capacityScan struct {
	AtSeconds       float64  `json:"at_seconds"`
	StreamsCreated  float64  `json:"streams_created"`
	DetectorsActive *float64 `json:"detectors_active"`
	Evictions       *float64 `json:"evictions"`
}

type rateLimitAnalysis struct {
	Requests              int       `json:"requests"`
	Allowed               int       `json:"allowed"`
	Limited               int       `json:"limited"`
	ExpectedLimit         int       `json:"expected_limit"`
	ExpectedWindowSeconds float64   `json:"expected_window_seconds"`
	AllowedAt             []float64 `json:"allowed_at_seconds"`
	LimitedAt             []float64 `json:"limited_at_seconds"`
	Enforcement           struct {
		Observed int    `json:"observed"`
		OK       bool   `json:"ok"`
		Reason   string `json:"reason"`
	} `json:"enforcement"`
	RetryAfter struct {
		Probes []struct {
			AtSeconds float64 `json:"at_seconds"`
			Verdict   string  `json:"verdict"`
		} `json:"probes"`
	} `json:"retry_after"`
}

// analysisAs decodes the result's analysis into v; false when there is none
// or it does not have v's shape.
func (b *builder) analysisAs(v any) bool {
	if b.r.Analysis == nil {
		return false
	}
	data, err := json.Marshal(b.r.Analysis)
	if err != nil {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

// testCharts adds the test's own charts and findings.
func (b *builder) testCharts() {
	switch b.r.Test {
	case "stress":
		b.stressCharts()
	case "soak":
		b.soakCharts()
	case "capacity":
		b.capacityCharts()
	case "ratelimit":
		b.rateLimitCharts()
	}
}

func (b *builder) finding(s string) {
	if s != "" {
		b.page.Findings = append(b.page.Findings, s)
	}
}

const (
	secStress = "stress"
	secStrTi  = "Breaking point"
)

func (b *builder) stressCharts() {
	var a stressAnalysis
	latRef := ChartRef{ID: "stress-latency", Title: "Latency against load level",
		Caption: "p50, p95 and p99 of each level (all intervals at the same level merged); the knee is where p95 left the baseline, errors start where the error rate passed its limit."}
	errRef := ChartRef{ID: "stress-errors", Title: "Errors and throughput against load level",
		Caption: "Error rate of each level (left) and the requests per second it achieved (right)."}
	if !b.analysisAs(&a) || a.BreakingPoint == nil || len(a.BreakingPoint.Levels) == 0 {
		latRef.Empty, errRef.Empty = "no breaking-point levels in this file", "no breaking-point levels in this file"
		b.add(secStress, secStrTi, latRef, nil)
		b.add(secStress, secStrTi, errRef, nil)
		return
	}
	bp := a.BreakingPoint
	open := bp.Model == "open"
	levels := append([]stressLevel(nil), bp.Levels...)
	level := func(l stressLevel) float64 {
		if open {
			return l.OfferedRate
		}
		return l.VUs
	}
	sort.SliceStable(levels, func(i, j int) bool { return level(levels[i]) < level(levels[j]) })
	// Levels are distinct; should two round to the same x, keep the first.
	var xs Values
	var kept []stressLevel
	for _, l := range levels {
		if len(xs) > 0 && level(l) <= xs[len(xs)-1] {
			continue
		}
		xs = append(xs, level(l))
		kept = append(kept, l)
	}
	xLabel, unit := "VUs", "VUs"
	knee, errStart, peakAt := bp.LatencyKneeAtVUs, bp.ErrorsStartAtVUs, bp.PeakRPSAtVUs
	if open {
		xLabel, unit = "offered rate (iterations/s)", "it/s"
		knee, errStart, peakAt = bp.LatencyKneeAtRate, bp.ErrorsStartAtRate, bp.PeakRPSAtRate
	}
	n := len(kept)
	p50, p95, p99 := make(Values, n), make(Values, n), make(Values, n)
	errs, rps := make(Values, n), make(Values, n)
	for i, l := range kept {
		p50[i], p95[i], p99[i] = l.P50, l.P95, l.P99
		errs[i] = l.ErrorRate * 100
		rps[i] = l.RPS
	}
	var marks []Mark
	if knee > 0 {
		marks = append(marks, Mark{X: knee, Label: fmt.Sprintf("latency knee at %s %s", formatNumber(knee), unit), Color: orange})
	}
	if errStart > 0 {
		marks = append(marks, Mark{X: errStart, Label: fmt.Sprintf("errors start at %s %s", formatNumber(errStart), unit), Color: red})
	}
	lat := &Chart{X: xs, XLabel: xLabel, YLabel: "latency", YUnit: "ms", Marks: marks}
	lat.YLog = wideRange(p50, p95, p99)
	if lat.YLog {
		p50, p95, p99 = nonPositiveToNaN(p50), nonPositiveToNaN(p95), nonPositiveToNaN(p99)
	}
	lat.Series = []Series{
		{Label: "p50", Color: blue, Values: p50},
		{Label: "p95", Color: orange, Values: p95},
		{Label: "p99", Color: red, Values: p99},
	}
	if bp.P95Limit > 0 {
		lat.Lines = append(lat.Lines, Line{Value: bp.P95Limit, Label: "p95 limit " + formatMs(bp.P95Limit), Color: grey})
	}
	if bp.BaselineP95 > 0 && bp.KneeFactor > 0 {
		lat.Lines = append(lat.Lines, Line{Value: bp.BaselineP95 * bp.KneeFactor,
			Label: fmt.Sprintf("knee: %g× baseline p95 %s", bp.KneeFactor, formatMs(bp.BaselineP95)), Color: orange})
	}
	b.add(secStress, secStrTi, latRef, lat)

	errMarks := append([]Mark(nil), marks...)
	if peakAt > 0 {
		errMarks = append(errMarks, Mark{X: peakAt, Label: fmt.Sprintf("peak %s req/s at %s %s", formatNumber(math.Round(bp.PeakRPS*10)/10), formatNumber(peakAt), unit), Color: teal})
	}
	ec := &Chart{X: xs, XLabel: xLabel, YLabel: "error rate", YUnit: "%", Y2Label: "requests/s", Y2Unit: "/s", Marks: errMarks}
	ec.Series = []Series{
		{Label: "error rate", Color: red, Style: "bars", Values: errs},
		{Label: "requests/s", Color: teal, Axis: 1, Values: rps},
	}
	if open {
		ach := make(Values, n)
		for i, l := range kept {
			ach[i] = l.AchievedRate
		}
		ec.Series = append(ec.Series, Series{Label: "achieved iterations/s", Color: purple, Axis: 1, Style: "dash", Values: ach})
	}
	if bp.ErrorRateLimit > 0 {
		ec.Lines = append(ec.Lines, Line{Value: bp.ErrorRateLimit * 100, Label: "error-rate limit " + formatPercent(bp.ErrorRateLimit), Color: grey})
	}
	b.add(secStress, secStrTi, errRef, ec)

	switch {
	case knee > 0 || errStart > 0:
		b.finding(joinNonEmpty("; ",
			ifText(knee > 0, fmt.Sprintf("latency knee at %s %s", formatNumber(knee), unit)),
			ifText(errStart > 0, fmt.Sprintf("errors start at %s %s", formatNumber(errStart), unit))))
	case !bp.Found:
		b.finding("no breaking point within the levels run")
	}
	if bp.PeakRPS > 0 {
		b.finding(fmt.Sprintf("peak sustained throughput %s req/s", formatNumber(math.Round(bp.PeakRPS*10)/10)))
	}
	if bp.Recovery.Reason != "" {
		b.finding("recovery: " + bp.Recovery.Reason)
	} else if bp.Recovery.Verdict != "" {
		b.finding("recovery: " + bp.Recovery.Verdict)
	}
}

func ifText(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

const (
	secSoak   = "soak"
	secSoakTi = "Degradation over the soak"
)

func (b *builder) soakCharts() {
	var a soakAnalysis
	p95Ref := ChartRef{ID: "soak-p95", Title: "Interval p95 and its trend",
		Caption: "p95 of each analysis interval (client-side detect time) and the Theil–Sen line fitted to the steady intervals (warm-up left out)."}
	memRef := ChartRef{ID: "soak-memory", Title: "Server and driftload memory",
		Caption: "Resident memory of the target (from its /metrics) and of driftload, with the target's active detectors (right axis): memory that follows the detectors is a filling cache, not a leak."}
	if !b.analysisAs(&a) || len(a.Intervals) == 0 {
		p95Ref.Empty, memRef.Empty = "no soak intervals in this file", "no soak intervals in this file"
		b.add(secSoak, secSoakTi, p95Ref, nil)
		b.add(secSoak, secSoakTi, memRef, nil)
		return
	}
	rows := append([]soakRow(nil), a.Intervals...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].EndSeconds < rows[j].EndSeconds })
	n := len(rows)
	xs := make(Values, n)
	p95, line := make(Values, n), nanValues(n)
	srv, cli, det := make(Values, n), make(Values, n), make(Values, n)
	val := func(p *float64, scale float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p * scale
	}
	const mib = 1.0 / (1 << 20)
	for i, r := range rows {
		xs[i] = (r.StartSeconds + r.EndSeconds) / 2
		v := r.ResponseP95Ms
		if v == nil {
			v = r.HTTPP95Ms
		}
		p95[i] = val(v, 1)
		srv[i], cli[i], det[i] = val(r.ServerRSSBytes, mib), val(r.ClientRSSBytes, mib), val(r.ServerDetectors, 1)
	}
	pc := &Chart{X: xs, XTime: true, XLabel: "time", YLabel: "p95", YUnit: "ms"}
	pc.Series = []Series{{Label: "interval p95", Color: orange, Style: "points", Values: p95}}
	if lt := a.LatencyTrend; lt != nil && lt.Points >= 2 {
		// The line runs from the first to the last judged point: whole
		// intervals with a value, after the warm-up.
		var judged []int
		seen := 0
		for i, r := range rows {
			if r.Partial {
				continue
			}
			seen++
			if seen > a.WarmupIntervals && !math.IsNaN(p95[i]) {
				judged = append(judged, i)
			}
		}
		if len(judged) >= 2 {
			first, last := judged[0], judged[len(judged)-1]
			x0, x1 := xs[first], xs[last]
			for _, i := range judged {
				line[i] = lt.First + (lt.Last-lt.First)*(xs[i]-x0)/(x1-x0)
			}
			pc.Series = append(pc.Series, Series{Label: "trend (Theil–Sen)", Color: purple, Style: "dash", Values: line})
			if a.WarmupIntervals > 0 && first > 0 {
				pc.Bands = append(pc.Bands, Band{From: rows[0].StartSeconds, To: rows[first].StartSeconds, Label: "warm-up (not judged)", Color: grey})
			}
		}
	}
	pc.Lines, _ = b.thresholdLines("response_time_trend", func(s threshold.Stat) bool { return s.Name == "p" && s.P == 95 })
	b.add(secSoak, secSoakTi, p95Ref, pc)

	mc := &Chart{X: xs, XTime: true, XLabel: "time", YLabel: "resident memory", YUnit: "MiB", Y2Label: "active detectors"}
	mc.Series = []Series{
		{Label: "server RSS", Color: blue, Values: srv},
		{Label: "driftload RSS", Color: green, Values: cli},
	}
	if !allNaN(det) {
		mc.Series = append(mc.Series, Series{Label: "server detectors active", Color: grey, Axis: 1, Style: "step", Values: det})
	} else {
		mc.Y2Label = ""
	}
	if b.r.Target.Embedded {
		memRef.Caption += " The embedded target runs in driftload's process, so its memory and driftload's are the same numbers."
	}
	if allNaN(srv) && allNaN(cli) {
		memRef.Empty = "no memory readings in this file"
		b.add(secSoak, secSoakTi, memRef, nil)
	} else {
		b.add(secSoak, secSoakTi, memRef, mc)
	}
	if lt := a.LatencyTrend; lt != nil {
		b.finding(lt.Verdict)
	}
	if m := a.ServerMemory; m != nil {
		b.finding(m.Verdict)
	}
	if m := a.ClientMemory.RSSTrend; m != nil {
		b.finding(m.Verdict)
	}
	if a.MemoryLeakIndicator != nil {
		b.finding(fmt.Sprintf("memory_leak_indicator %+.2f", *a.MemoryLeakIndicator))
	}
}

func allNaN(v Values) bool {
	for _, f := range v {
		if !math.IsNaN(f) {
			return false
		}
	}
	return true
}

const (
	secCap   = "capacity"
	secCapTi = "Detector cache"
)

func (b *builder) capacityCharts() {
	var a capacityAnalysis
	streamsRef := ChartRef{ID: "capacity-streams", Title: "Streams created against the server's detectors"}
	probesRef := ChartRef{ID: "capacity-probes", Title: "Sentinel probes",
		Caption: "Each probed sentinel stream: how many newer streams the server confirmed before its probe (grey dots: the least and the most it can have been), kept (ready) or evicted (calibrating again), against the expected capacity."}
	if !b.analysisAs(&a) {
		streamsRef.Empty, probesRef.Empty = "no capacity analysis in this file", "no capacity analysis in this file"
		b.add(secCap, secCapTi, streamsRef, nil)
		b.add(secCap, secCapTi, probesRef, nil)
		return
	}
	b.add(secCap, secCapTi, streamsRef, b.capacityStreams(&a, &streamsRef))
	b.add(secCap, secCapTi, probesRef, capacityProbes(&a, &probesRef))

	b.finding(fmt.Sprintf("%d streams created against an expected capacity of %d", a.StreamsCreated, a.ExpectedCapacity))
	switch e := a.Estimate; {
	case e.AtLeast > 0 && e.AtMost > 0:
		b.finding(fmt.Sprintf("the cache holds between %d and %d streams", e.AtLeast, e.AtMost))
	case e.AtLeast > 0:
		b.finding(fmt.Sprintf("the cache holds at least %d streams", e.AtLeast))
	case e.AtMost > 0:
		b.finding(fmt.Sprintf("the cache holds at most %d streams", e.AtMost))
	}
	if a.DetectorsActivePeak != nil {
		b.finding(fmt.Sprintf("driftlock_detectors_active peaked at %s", formatNumber(*a.DetectorsActivePeak)))
	}
	if a.Evictions != nil {
		b.finding(fmt.Sprintf("%s evictions (driftlock_detector_evictions_total)", formatNumber(*a.Evictions)))
	}
	if a.Verdict != "" {
		b.finding("verdict: " + a.Verdict)
	}
}

// capacityStreams draws the streams created over time against the server's
// gauges: per /metrics scrape when the file has them, else the cumulative
// iterations of the timeline (one new stream each) against the peak.
func (b *builder) capacityStreams(a *capacityAnalysis, ref *ChartRef) *Chart {
	lines := []Line{{Value: float64(a.ExpectedCapacity), Label: fmt.Sprintf("expected capacity %d", a.ExpectedCapacity), Color: purple}}
	if len(a.Scrapes) > 0 {
		scans := append([]capacityScan(nil), a.Scrapes...)
		sort.SliceStable(scans, func(i, j int) bool { return scans[i].AtSeconds < scans[j].AtSeconds })
		n := len(scans)
		xs, created, active, evict := make(Values, n), make(Values, n), make(Values, n), make(Values, n)
		for i, s := range scans {
			xs[i], created[i] = s.AtSeconds, s.StreamsCreated
			active[i], evict[i] = math.NaN(), math.NaN()
			if s.DetectorsActive != nil {
				active[i] = *s.DetectorsActive
			}
			if s.Evictions != nil {
				evict[i] = *s.Evictions
			}
		}
		ref.Caption = "At every read of the target's /metrics: streams driftlock created so far, driftlock_detectors_active, and evictions since the run started (right axis)."
		return &Chart{X: xs, XTime: true, XLabel: "time", YLabel: "streams", Y2Label: "evictions", Lines: lines,
			Series: []Series{
				{Label: "streams created", Color: blue, Values: created},
				{Label: "detectors active", Color: orange, Values: active},
				{Label: "evictions", Color: red, Axis: 1, Style: "step", Values: evict},
			}}
	}
	if b.tl == nil {
		ref.Empty = noTimeline
		return nil
	}
	n := len(b.tl)
	xs, created := make(Values, n), make(Values, n)
	sum := 0.0
	for i, iv := range b.tl {
		sum += float64(iv.Iterations)
		xs[i], created[i] = iv.EndSeconds, sum
	}
	if a.DetectorsActivePeak != nil {
		lines = append(lines, Line{Value: *a.DetectorsActivePeak, Label: "driftlock_detectors_active peak " + formatNumber(*a.DetectorsActivePeak), Color: orange})
	}
	ev := "no evictions reading"
	if a.Evictions != nil {
		ev = formatNumber(*a.Evictions) + " evictions over the run"
	}
	ref.Caption = "Streams created so far (one per iteration, from the timeline) against the expected capacity and the peak of driftlock_detectors_active; " + ev + ". This file has no per-scrape series of the server's gauges."
	return &Chart{X: xs, XTime: true, XLabel: "time", YLabel: "streams", Lines: lines,
		Series: []Series{{Label: "streams created", Color: blue, Values: created}}}
}

func capacityProbes(a *capacityAnalysis, ref *ChartRef) *Chart {
	log := a.Probes.Log
	if len(log) == 0 {
		ref.Empty = "no probe was answered in this run"
		return nil
	}
	n := len(log)
	xs := make(Values, n)
	kept, evicted, other := nanValues(n), nanValues(n), nanValues(n)
	lo, hi := nanValues(n), nanValues(n)
	for i, p := range log {
		xs[i] = float64(i + 1)
		switch p.Outcome {
		case "kept":
			kept[i] = p.Newer
		case "evicted":
			evicted[i] = p.Newer
		default:
			other[i] = p.Newer
		}
		lo[i], hi[i] = p.NewerMin, p.NewerMax
	}
	c := &Chart{X: xs, XLabel: "probe (in the order answered)", YLabel: "newer streams before the probe", YFit: true}
	c.Series = []Series{
		{Label: "newer (least)", Color: "#b8c4d2", Style: "dots", Values: lo},
		{Label: "newer (most)", Color: "#b8c4d2", Style: "dots", Values: hi},
		{Label: "kept", Color: green, Style: "points", Values: kept},
		{Label: "evicted", Color: red, Style: "points", Values: evicted},
	}
	if !allNaN(other) {
		c.Series = append(c.Series, Series{Label: "other outcome", Color: grey, Style: "points", Values: other})
	}
	c.Lines = []Line{{Value: float64(a.ExpectedCapacity), Label: fmt.Sprintf("expected capacity %d", a.ExpectedCapacity), Color: purple}}
	if p := a.Probes; p.RetentionAfter > 0 {
		c.Lines = append(c.Lines, Line{Value: float64(p.RetentionAfter), Label: fmt.Sprintf("retention probe after %d", p.RetentionAfter), Color: green})
	}
	if p := a.Probes; p.EvictionAfter > 0 {
		c.Lines = append(c.Lines, Line{Value: float64(p.EvictionAfter), Label: fmt.Sprintf("eviction probe after %d", p.EvictionAfter), Color: red})
	}
	return c
}

const (
	secRL   = "ratelimit"
	secRLTi = "Rate limit"
)

func (b *builder) rateLimitCharts() {
	var a rateLimitAnalysis
	ref := ChartRef{ID: "ratelimit-window", Title: "Allowed and limited requests against the window"}
	if !b.analysisAs(&a) {
		ref.Empty = "no rate-limit analysis in this file"
		b.add(secRL, secRLTi, ref, nil)
		return
	}
	b.add(secRL, secRLTi, ref, b.rateLimitChart(&a, &ref))
	b.finding(fmt.Sprintf("%d requests: %d allowed, %d limited", a.Requests, a.Allowed, a.Limited))
	if a.Enforcement.Reason != "" {
		b.finding(fmt.Sprintf("most allowed in any %s window: %d (expected %d) — %s", formatSeconds(a.ExpectedWindowSeconds), a.Enforcement.Observed, a.ExpectedLimit, a.Enforcement.Reason))
	}
	for _, p := range a.RetryAfter.Probes {
		b.finding(fmt.Sprintf("Retry-After probe of the 429 at %s: %s", formatClock(p.AtSeconds), p.Verdict))
	}
}

// rateLimitChart draws each request at its send instant, at the height of
// the successes in the rolling window ending there, against the limit.
// Without the per-request instants (older files) it falls back to the
// timeline's requests per interval.
func (b *builder) rateLimitChart(a *rateLimitAnalysis, ref *ChartRef) *Chart {
	var marks []Mark
	for _, p := range a.RetryAfter.Probes {
		marks = append(marks, Mark{X: p.AtSeconds, Label: "Retry-After probe: " + p.Verdict, Color: purple})
	}
	limit := Line{Value: float64(a.ExpectedLimit), Label: fmt.Sprintf("limit %d per %s", a.ExpectedLimit, formatSeconds(a.ExpectedWindowSeconds)), Color: grey}
	if len(a.AllowedAt)+len(a.LimitedAt) == 0 {
		if b.tl == nil {
			ref.Empty = "this file has neither the requests' instants nor a timeline"
			return nil
		}
		ref.Caption = "This file has no per-request instants: requests per interval, allowed and limited together."
		n := len(b.tl)
		xs, reqs := make(Values, n), make(Values, n)
		for i, iv := range b.tl {
			xs[i], reqs[i] = iv.Mid, float64(iv.Requests)
		}
		return &Chart{X: xs, XTime: true, XLabel: "time", YLabel: "requests", Marks: marks,
			Series: []Series{{Label: "requests", Color: blue, Style: "bars", Values: reqs}}}
	}
	type event struct {
		at      float64
		allowed bool
	}
	events := make([]event, 0, len(a.AllowedAt)+len(a.LimitedAt))
	for _, t := range a.AllowedAt {
		events = append(events, event{t, true})
	}
	for _, t := range a.LimitedAt {
		events = append(events, event{t, false})
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
	// Successes in (t-w, t], counting those at t: the window a sliding-log
	// limiter judges a request at t by.
	w := a.ExpectedWindowSeconds
	var xs Values
	var inWindow, allowed, limited Values
	var okTimes []float64
	left := 0
	for i := 0; i < len(events); {
		t := events[i].at
		j := i
		nAllowed, nLimited := 0, 0
		for ; j < len(events) && events[j].at == t; j++ {
			if events[j].allowed {
				nAllowed++
				okTimes = append(okTimes, t)
			} else {
				nLimited++
			}
		}
		for left < len(okTimes) && okTimes[left] <= t-w {
			left++
		}
		count := len(okTimes) - left
		xs = append(xs, t)
		inWindow = append(inWindow, float64(count))
		allowed = append(allowed, ifNaN(nAllowed > 0, float64(count)))
		limited = append(limited, ifNaN(nLimited > 0, float64(count)))
		i = j
	}
	ref.Caption = fmt.Sprintf("Every request at its send instant, at the height of the successes in the rolling %s window ending there: allowed (200) green, limited (429) red, against the expected limit; purple lines are the Retry-After probes.", formatSeconds(w))
	return &Chart{X: xs, XTime: true, XLabel: "time", YLabel: "allowed in the window", Lines: []Line{limit}, Marks: marks,
		Series: []Series{
			{Label: "allowed in the window", Color: "#9fb3c8", Style: "step", Values: inWindow},
			{Label: "allowed (200)", Color: green, Style: "points", Values: allowed},
			{Label: "limited (429)", Color: red, Style: "points", Values: limited},
		}}
}

func ifNaN(ok bool, v float64) float64 {
	if ok {
		return v
	}
	return math.NaN()
}
