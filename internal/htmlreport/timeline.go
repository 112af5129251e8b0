package htmlreport

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/threshold"
)

// noTimeline is what a chart that needs the timeline says without one.
const noTimeline = "no timeline in this file"

// interval is one timeline interval with its histograms decoded: every
// endpoint's http_req_duration (and http_req_latency) merged.
type interval struct {
	report.TimelineInterval
	Mid      float64
	Duration *metrics.Sink
	Latency  *metrics.Sink
}

// span is the interval's length in seconds.
func (iv *interval) span() float64 { return iv.EndSeconds - iv.StartSeconds }

// perSecond returns n per second of the interval, NaN for an empty span.
func (iv *interval) perSecond(n float64) float64 {
	if s := iv.span(); s > 0 {
		return n / s
	}
	return math.NaN()
}

// decodeTimeline decodes every interval's histograms, coarsened as a chart
// draws them; nil without a timeline.
func decodeTimeline(tl *report.Timeline) ([]*interval, error) {
	ivs, err := decodeIntervals(tl)
	if err != nil {
		return nil, err
	}
	return coarsen(ivs), nil
}

// decodeIntervals decodes every interval's histograms, in time order; nil
// without a timeline.
func decodeIntervals(tl *report.Timeline) ([]*interval, error) {
	if tl == nil || len(tl.Intervals) == 0 {
		return nil, nil
	}
	out := make([]*interval, 0, len(tl.Intervals))
	for i, ti := range tl.Intervals {
		iv := &interval{TimelineInterval: ti, Mid: (ti.StartSeconds + ti.EndSeconds) / 2,
			Duration: metrics.NewSink(metrics.Trend), Latency: metrics.NewSink(metrics.Trend)}
		for name, e := range ti.Endpoints {
			if e == nil {
				continue
			}
			for _, h := range []struct {
				hist *report.Histogram
				into *metrics.Sink
				name string
			}{{e.Duration, iv.Duration, "http_req_duration"}, {e.Latency, iv.Latency, "http_req_latency"}} {
				if h.hist == nil {
					continue
				}
				s, err := h.hist.Sink()
				if err != nil {
					return nil, fmt.Errorf("timeline interval %d, endpoint %s, %s: %w", i, name, h.name, err)
				}
				h.into.Merge(s)
			}
		}
		out = append(out, iv)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Mid < out[j].Mid })
	return out, nil
}

// Sparse timelines (a few requests an interval, as a paced rate-limit run
// has) read as noise: coarsen merges runs of k intervals so that a bucket
// holds minPerBucket requests on average, keeping at least minBuckets.
const (
	minPerBucket = 3
	minBuckets   = 20
)

func coarsen(ivs []*interval) []*interval {
	return coarsenBy(ivs, coarseness(ivs))
}

// coarseness is how many intervals coarsen merges into one bucket (1: none).
func coarseness(ivs []*interval) int {
	var reqs int64
	for _, iv := range ivs {
		reqs += iv.Requests
	}
	n := len(ivs)
	if n < 2*minBuckets || reqs == 0 {
		return 1
	}
	k := int(math.Ceil(minPerBucket * float64(n) / float64(reqs)))
	return max(1, min(k, n/minBuckets))
}

// coarsenBy merges runs of k intervals into one.
func coarsenBy(ivs []*interval, k int) []*interval {
	n := len(ivs)
	if k <= 1 || n == 0 {
		return ivs
	}
	out := make([]*interval, 0, (n+k-1)/k)
	for i := 0; i < n; i += k {
		out = append(out, mergeIntervals(ivs[i:min(i+k, n)]))
	}
	return out
}

// mergeIntervals merges consecutive intervals into one: counts summed,
// histograms merged, rates over the whole span, VUs as at its end.
func mergeIntervals(ivs []*interval) *interval {
	first, last := ivs[0], ivs[len(ivs)-1]
	m := &interval{Duration: metrics.NewSink(metrics.Trend), Latency: metrics.NewSink(metrics.Trend)}
	m.StartSeconds, m.EndSeconds, m.VUs = first.StartSeconds, last.EndSeconds, last.VUs
	m.Mid = (m.StartSeconds + m.EndSeconds) / 2
	offered := 0.0
	for _, iv := range ivs {
		m.Iterations += iv.Iterations
		m.DroppedIterations += iv.DroppedIterations
		m.Requests += iv.Requests
		m.Failures += iv.Failures
		offered += iv.OfferedRate * iv.span()
		for k, v := range iv.FailuresByStatus {
			if m.FailuresByStatus == nil {
				m.FailuresByStatus = map[string]int64{}
			}
			m.FailuresByStatus[k] += v
		}
		for k, v := range iv.FailuresByReason {
			if m.FailuresByReason == nil {
				m.FailuresByReason = map[string]int64{}
			}
			m.FailuresByReason[k] += v
		}
		m.Duration.Merge(iv.Duration)
		m.Latency.Merge(iv.Latency)
	}
	if s := m.span(); s > 0 {
		m.AchievedRate = float64(m.Iterations) / s
		m.OfferedRate = offered / s
	}
	return m
}

// percentileSeries returns the p-th percentile of each interval's sink.
func percentileSeries(ivs []*interval, sink func(*interval) *metrics.Sink, p float64) Values {
	out := make(Values, len(ivs))
	for i, iv := range ivs {
		s := sink(iv)
		if s.Count == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = s.Percentile(p)
	}
	return out
}

func mids(ivs []*interval) Values {
	out := make(Values, len(ivs))
	for i, iv := range ivs {
		out[i] = iv.Mid
	}
	return out
}

// builder assembles a page's sections and charts.
type builder struct {
	r    *report.Result
	tl   []*interval
	page *Page
}

// add puts chart c (nil: only the reference, with ref.Empty as its
// message, noTimeline by default) into the section id.
func (b *builder) add(sectionID, sectionTitle string, ref ChartRef, c *Chart) {
	if c == nil && ref.Empty == "" {
		ref.Empty = noTimeline
	}
	place(&b.page.Sections, &b.page.Data, sectionID, sectionTitle, ref, c)
}

// place puts chart c (nil: only the reference) into the section id of
// secs, creating the section with title on first use, and c into data.
func place(secs *[]Section, data *Data, sectionID, sectionTitle string, ref ChartRef, c *Chart) {
	var sec *Section
	for i := range *secs {
		if (*secs)[i].ID == sectionID {
			sec = &(*secs)[i]
		}
	}
	if sec == nil {
		*secs = append(*secs, Section{ID: sectionID, Title: sectionTitle})
		sec = &(*secs)[len(*secs)-1]
	}
	if c != nil {
		c.ID, c.Title = ref.ID, ref.Title
		data.Charts = append(data.Charts, c)
	}
	sec.Charts = append(sec.Charts, ref)
}

const (
	secRun   = "timeline"
	secRunTi = "The run over time"
)

// runCharts adds the charts every test has: latency, rate and failures over time.
func (b *builder) runCharts() {
	open := b.r.Run.Model == "open"
	b.add(secRun, secRunTi, ChartRef{ID: "latency", Title: "Latency over time (http_req_duration)",
		Caption: "p50, p95 and p99 of every interval, from the timeline's histograms of all endpoints merged; dashed lines are the thresholds on http_req_duration, shaded spans their worst windows."},
		b.latencyChart("http_req_duration", func(iv *interval) *metrics.Sink { return iv.Duration }))
	if open {
		b.add(secRun, secRunTi, ChartRef{ID: "latency-open", Title: "Latency from the intended start (http_req_latency)",
			Caption: "Open model: what a user arriving on schedule waited, queueing in driftload's backlog included (coordinated omission corrected)."},
			b.latencyChart("http_req_latency", func(iv *interval) *metrics.Sink { return iv.Latency }))
	}
	caption := "Requests and completed iterations per second; VUs (right axis) as planned at each interval's end."
	if open {
		caption = "Requests per second, and iterations per second offered by the schedule against those achieved; dropped iterations were due but never started."
	}
	b.add(secRun, secRunTi, ChartRef{ID: "rate", Title: "Request rate and load", Caption: caption}, b.rateChart(open))
	fref := ChartRef{ID: "failures", Title: "Failures by status and reason",
		Caption: "Failed requests per second of each interval, by HTTP status (0: no response) and by transport reason."}
	fc, failed := b.failuresChart()
	if fc != nil && failed == 0 {
		fref.Empty, fref.Caption, fc = "no request failed in this run", "", nil
	}
	b.add(secRun, secRunTi, fref, fc)
}

// latencyStats are the statistics a latency chart draws a threshold of.
var latencyStats = map[string]bool{"p": true, "med": true, "avg": true, "max": true}

// thresholdLines returns the upper-bound thresholds of metric (no
// sub-metric) on a latency statistic as lines, and their worst windows as
// bands.
func (b *builder) thresholdLines(metric string, only func(threshold.Stat) bool) ([]Line, []Band) {
	var lines []Line
	var bands []Band
	for _, t := range b.r.Thresholds {
		if t.Metric != metric {
			continue
		}
		e, err := threshold.ParseExpr(t.Expression)
		if err != nil || (e.Op != threshold.OpLT && e.Op != threshold.OpLE) {
			continue
		}
		if !latencyStats[e.Stat.Name] || (only != nil && !only(e.Stat)) {
			continue
		}
		color := grey
		if !t.OK {
			color = red
		}
		lines = append(lines, Line{Value: e.Value, Label: t.Expression, Color: color})
		if w := t.Window; w != nil && w.WorstEndSeconds > w.WorstStartSeconds {
			bands = append(bands, Band{From: w.WorstStartSeconds, To: w.WorstEndSeconds,
				Label: "worst window of " + t.Expression + ": " + formatMs(w.Worst), Color: color})
		}
	}
	return lines, bands
}

func (b *builder) latencyChart(metric string, sink func(*interval) *metrics.Sink) *Chart {
	if b.tl == nil {
		return nil
	}
	p50 := percentileSeries(b.tl, sink, 50)
	p95 := percentileSeries(b.tl, sink, 95)
	p99 := percentileSeries(b.tl, sink, 99)
	c := &Chart{X: mids(b.tl), XTime: true, XLabel: "time", YLabel: "latency", YUnit: "ms"}
	c.Lines, c.Bands = b.thresholdLines(metric, nil)
	c.YLog = wideRange(p50, p95, p99)
	if c.YLog {
		p50, p95, p99 = nonPositiveToNaN(p50), nonPositiveToNaN(p95), nonPositiveToNaN(p99)
	}
	c.Series = []Series{
		{Label: "p50", Color: blue, Values: p50},
		{Label: "p95", Color: orange, Values: p95},
		{Label: "p99", Color: red, Values: p99},
	}
	return c
}

func (b *builder) rateChart(open bool) *Chart {
	if b.tl == nil {
		return nil
	}
	n := len(b.tl)
	reqs, iters := make(Values, n), make(Values, n)
	offered, dropped, vus := make(Values, n), make(Values, n), make(Values, n)
	anyDropped := false
	for i, iv := range b.tl {
		reqs[i] = iv.perSecond(float64(iv.Requests))
		iters[i] = iv.AchievedRate
		offered[i] = iv.OfferedRate
		dropped[i] = iv.perSecond(float64(iv.DroppedIterations))
		anyDropped = anyDropped || iv.DroppedIterations > 0
		vus[i] = float64(iv.VUs)
	}
	c := &Chart{X: mids(b.tl), XTime: true, XLabel: "time", YLabel: "per second", YUnit: "/s"}
	c.Series = []Series{
		{Label: "requests/s", Color: blue, Values: reqs},
		{Label: "iterations/s", Color: teal, Values: iters},
	}
	if open {
		c.Series = append(c.Series, Series{Label: "offered iterations/s", Color: purple, Style: "dash", Values: offered})
		if anyDropped {
			c.Series = append(c.Series, Series{Label: "dropped iterations/s", Color: red, Style: "bars", Values: dropped})
		}
		return c
	}
	c.Y2Label, c.Y2Unit = "VUs", ""
	c.Series = append(c.Series, Series{Label: "VUs", Color: grey, Axis: 1, Style: "step", Values: vus})
	return c
}

// failuresChart also returns how many requests failed in all.
func (b *builder) failuresChart() (*Chart, int64) {
	if b.tl == nil {
		return nil, 0
	}
	var failed int64
	n := len(b.tl)
	statuses, reasons := map[string]bool{}, map[string]bool{}
	total := make(Values, n)
	for i, iv := range b.tl {
		total[i] = iv.perSecond(float64(iv.Failures))
		failed += iv.Failures
		for s := range iv.FailuresByStatus {
			statuses[s] = true
		}
		for r := range iv.FailuresByReason {
			reasons[r] = true
		}
	}
	c := &Chart{X: mids(b.tl), XTime: true, XLabel: "time", YLabel: "failed requests/s", YUnit: "/s"}
	c.Series = []Series{{Label: "all failures", Color: red, Values: total}}
	k := 0
	next := func() string {
		col := []string{orange, purple, brown, yellow, pink, blue, teal, green, grey}[k%9]
		k++
		return col
	}
	for _, s := range sortedKeys(statuses) {
		v := make(Values, n)
		for i, iv := range b.tl {
			v[i] = iv.perSecond(float64(iv.FailuresByStatus[s]))
		}
		label := "status " + s
		if s == "0" {
			label = "no response (0)"
		}
		c.Series = append(c.Series, Series{Label: label, Color: next(), Style: "bars", Values: v})
	}
	for _, r := range sortedKeys(reasons) {
		v := make(Values, n)
		for i, iv := range b.tl {
			v[i] = iv.perSecond(float64(iv.FailuresByReason[r]))
		}
		c.Series = append(c.Series, Series{Label: "reason " + r, Color: next(), Style: "dash", Values: v})
	}
	return c, failed
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
