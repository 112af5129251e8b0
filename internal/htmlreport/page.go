package htmlreport

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/threshold"
)

// Page is everything the report shows, computed from a result file. The
// template renders it; Data is the part the page's script draws.
type Page struct {
	Title    string
	Test     string
	Target   string
	Embedded bool
	// Start and End are the run's wall-clock span (UTC), Duration its length.
	Start, End, Duration string
	Tool                 string
	Model                string
	Share                string
	// Config is the echoed configuration, by key.
	Config []KV

	Verdict Verdict

	Thresholds []ThresholdRow
	Checks     []CheckRow
	Endpoints  []EndpointRow
	// Findings are the test's own conclusions, one sentence each.
	Findings []string
	// Sections group the charts: the run over time, then the test's own.
	Sections []Section
	// Data is the JSON the page's script draws (charts by id).
	Data Data
}

// KV is one configuration entry.
type KV struct{ Key, Value string }

// Verdict is how the run ended.
type Verdict struct {
	Passed bool
	// Headline is the banner's one line ("PASSED", "FAILED — 2 of 10 thresholds").
	Headline string
	ExitCode int
	// ExitMeaning explains ExitCode.
	ExitMeaning string
	// Reasons are the lines under the headline: the test's verdict, the
	// abort reason, why the run is invalid, that the file is a checkpoint.
	Reasons []string
}

// ThresholdRow is one threshold: measured against its limit.
type ThresholdRow struct {
	Metric, Expression string
	OK, HasData        bool
	Measured, Limit    string
	// Window describes a windowed threshold's worst window; empty otherwise.
	Window      string
	AbortOnFail bool
}

// CheckRow is one check's tally.
type CheckRow struct {
	Name          string
	Passes, Fails int64
	Rate          string
	OK            bool
}

// EndpointRow is one endpoint's requests over the whole run.
type EndpointRow struct {
	Name               string
	Requests, Failures int64
	ErrorRate          string
	Avg, P50, P95, P99 string
	Max                string
}

// Section is a titled group of charts.
type Section struct {
	ID, Title string
	Charts    []ChartRef
}

// ChartRef places a chart in the page; its data is Data.Charts[ID].
type ChartRef struct {
	ID, Title, Caption string
	// Empty, when set, is shown instead of the chart.
	Empty string
}

// Data is what the page's script reads.
type Data struct {
	Charts []*Chart `json:"charts"`
}

// ErrNotResult is returned for a document that is not a driftload result file.
var ErrNotResult = errors.New("not a driftload result file")

// Build computes the page of r. A result with a schema version this
// driftload does not know is an error wrapping ErrNotResult.
func Build(r *report.Result) (*Page, error) {
	if r == nil {
		return nil, ErrNotResult
	}
	if r.SchemaVersion < 1 || r.SchemaVersion > report.SchemaVersion {
		return nil, fmt.Errorf("%w: schema_version %d (this driftload reads %d)", ErrNotResult, r.SchemaVersion, report.SchemaVersion)
	}
	p := &Page{
		Test:     r.Test,
		Target:   r.Target.BaseURL,
		Embedded: r.Target.Embedded,
		Start:    formatTime(r.Start),
		End:      formatTime(r.End),
		Duration: formatSeconds(r.DurationSeconds),
		Tool:     strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version),
		Model:    r.Run.Model,
		Share:    r.Share,
	}
	p.Title = "driftload " + orDash(r.Test) + " — " + p.Start
	p.Config = configRows(r.Config)
	p.Thresholds = thresholdRows(r)
	p.Verdict = verdictOf(r)
	p.Checks = checkRows(r.Checks)
	eps, err := endpointRows(r)
	if err != nil {
		return nil, err
	}
	p.Endpoints = eps
	tl, err := decodeTimeline(r.Timeline)
	if err != nil {
		return nil, err
	}
	b := &builder{r: r, tl: tl, page: p}
	b.runCharts()
	b.testCharts()
	return p, nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// exitMeanings explain the exit codes, as the README's table does.
var exitMeanings = map[int]string{
	exitcode.OK:               "the test ran and every threshold passed",
	exitcode.Failure:          "unexpected failure",
	exitcode.ThresholdsFailed: "a threshold or the test's verdict failed",
	exitcode.InvalidConfig:    "invalid configuration",
	exitcode.Interrupted:      "interrupted by SIGINT/SIGTERM",
	exitcode.PreflightFailed:  "pre-flight failed",
	exitcode.InvalidRun:       "invalid run: driftload could not generate the load asked for",
}

func verdictOf(r *report.Result) Verdict {
	v := Verdict{Passed: r.Passed && r.ExitCode == exitcode.OK, ExitCode: r.ExitCode, ExitMeaning: exitMeanings[r.ExitCode]}
	if v.ExitMeaning == "" {
		v.ExitMeaning = "exit code " + fmt.Sprint(r.ExitCode)
	}
	failed := 0
	for _, t := range r.Thresholds {
		if !t.OK {
			failed++
		}
	}
	switch {
	case !r.Complete:
		v.Headline = "INCOMPLETE — a checkpoint written during the run"
	case v.Passed:
		v.Headline = fmt.Sprintf("PASSED — all %d thresholds passed", len(r.Thresholds))
	case r.Interrupted:
		v.Headline = "INTERRUPTED"
	case r.ExitCode == exitcode.InvalidRun:
		v.Headline = "INVALID RUN"
	case failed > 0:
		v.Headline = fmt.Sprintf("FAILED — %d of %d thresholds failed", failed, len(r.Thresholds))
	default:
		v.Headline = "FAILED"
	}
	if !r.Complete {
		v.Passed = false
		v.Reasons = append(v.Reasons, "the run had not ended when this file was written: metrics so far, no thresholds, analysis or verdict")
	}
	if r.Verdict != "" {
		v.Reasons = append(v.Reasons, r.Verdict)
	}
	if r.AbortReason != "" {
		v.Reasons = append(v.Reasons, "aborted: "+r.AbortReason)
	}
	v.Reasons = append(v.Reasons, r.Run.InvalidReasons...)
	if r.Run.SaturationReason != "" {
		v.Reasons = append(v.Reasons, r.Run.SaturationReason)
	}
	return v
}

func configRows(cfg map[string]any) []KV {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]KV, 0, len(keys))
	for _, k := range keys {
		out = append(out, KV{Key: k, Value: configValue(cfg[k])})
	}
	return out
}

func configValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return `""`
		}
		return x
	case float64:
		return formatNumber(x)
	case map[string]any, []any:
		return compactJSON(x)
	}
	return fmt.Sprint(v)
}

// unitOf says how a metric's values read: "ms" for time Trends, "B" for
// data, "%" for Rates, "" otherwise.
func unitOf(r *report.Result, metric string, stat threshold.Stat) string {
	m := r.Metrics[metric]
	if m == nil {
		if i := strings.IndexByte(metric, '{'); i > 0 {
			m = r.Metrics[metric[:i]]
		}
	}
	if m == nil {
		return ""
	}
	switch {
	case m.Type == metrics.Rate.String() && stat.Name == "rate":
		return "%"
	case m.Type == metrics.Counter.String() && stat.Name == "rate":
		return "/s"
	case m.Contains == metrics.Time.String():
		return "ms"
	case m.Contains == metrics.Data.String():
		return "B"
	}
	return ""
}

func thresholdRows(r *report.Result) []ThresholdRow {
	out := make([]ThresholdRow, 0, len(r.Thresholds))
	for _, t := range r.Thresholds {
		row := ThresholdRow{Metric: t.Metric, Expression: t.Expression, OK: t.OK, HasData: t.HasData, AbortOnFail: t.AbortOnFail}
		e, err := threshold.ParseExpr(t.Expression)
		unit := ""
		if err == nil {
			unit = unitOf(r, t.Metric, e.Stat)
			row.Limit = e.Op.String() + " " + formatValue(e.Value, unit)
		}
		if t.HasData {
			row.Measured = formatValue(t.Measured, unit)
		} else {
			row.Measured = "no data"
		}
		if w := t.Window; w != nil {
			row.Window = windowText(w, unit)
		}
		out = append(out, row)
	}
	return out
}

func windowText(w *report.WindowVerdict, unit string) string {
	span := fmt.Sprintf("%s–%s", formatClock(w.WorstStartSeconds), formatClock(w.WorstEndSeconds))
	var s string
	if w.Mode == "for" {
		s = fmt.Sprintf("for %s: longest breach %s (%s) of %d intervals", formatSeconds(w.Seconds), span, formatValue(w.Worst, unit), w.Windows)
	} else {
		s = fmt.Sprintf("over %s: worst window %s at %s of %d windows", formatSeconds(w.Seconds), formatValue(w.Worst, unit), span, w.Windows)
	}
	if w.EffectiveSeconds > 0 && w.EffectiveSeconds != w.Seconds {
		s += fmt.Sprintf(" (judged as %s)", formatSeconds(w.EffectiveSeconds))
	}
	if w.BreachedAtSeconds != nil {
		s += "; first breached at " + formatClock(*w.BreachedAtSeconds)
	}
	return s
}

func checkRows(cs []report.CheckResult) []CheckRow {
	out := make([]CheckRow, 0, len(cs))
	for _, c := range cs {
		row := CheckRow{Name: c.Name, Passes: c.Passes, Fails: c.Fails, OK: c.Fails == 0}
		if n := c.Passes + c.Fails; n > 0 {
			row.Rate = formatPercent(float64(c.Passes) / float64(n))
		} else {
			row.Rate = "—"
		}
		out = append(out, row)
	}
	return out
}

// endpointRows totals each `endpoint` tag of http_reqs, http_req_failed and
// http_req_duration (percentiles from the merged series histograms).
func endpointRows(r *report.Result) ([]EndpointRow, error) {
	type acc struct {
		requests, failures int64
		dur                *metrics.Sink
	}
	by := map[string]*acc{}
	get := func(name string) *acc {
		a := by[name]
		if a == nil {
			a = &acc{dur: metrics.NewSink(metrics.Trend)}
			by[name] = a
		}
		return a
	}
	if m := r.Metrics["http_reqs"]; m != nil {
		for _, s := range m.Series {
			if ep, ok := s.Tags["endpoint"]; ok {
				get(ep).requests += int64(math.Round(s.Sum))
			}
		}
	}
	if m := r.Metrics["http_req_failed"]; m != nil {
		for _, s := range m.Series {
			if ep, ok := s.Tags["endpoint"]; ok {
				get(ep).failures += s.Trues
			}
		}
	}
	if m := r.Metrics["http_req_duration"]; m != nil {
		for _, s := range m.Series {
			ep, ok := s.Tags["endpoint"]
			if !ok || s.Histogram == nil {
				continue
			}
			sink, err := s.Histogram.Sink()
			if err != nil {
				return nil, fmt.Errorf("http_req_duration{endpoint:%s}: %w", ep, err)
			}
			get(ep).dur.Merge(sink)
		}
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]EndpointRow, 0, len(names))
	for _, n := range names {
		a := by[n]
		if a.requests == 0 && a.dur.Count == 0 {
			continue
		}
		row := EndpointRow{Name: n, Requests: a.requests, Failures: a.failures, ErrorRate: "—",
			Avg: "—", P50: "—", P95: "—", P99: "—", Max: "—"}
		if a.requests > 0 {
			row.ErrorRate = formatPercent(float64(a.failures) / float64(a.requests))
		}
		if d := a.dur; d.Count > 0 {
			row.Avg = formatMs(d.Sum / float64(d.Count))
			row.P50, row.P95, row.P99 = formatMs(d.Percentile(50)), formatMs(d.Percentile(95)), formatMs(d.Percentile(99))
			row.Max = formatMs(d.Max)
		}
		out = append(out, row)
	}
	return out, nil
}
