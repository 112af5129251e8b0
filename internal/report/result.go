// Package report turns a finished run into what people and pipelines read:
// the terminal summary and the versioned JSON result file. It never sends a
// request.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/threshold"
)

// SchemaVersion is the version of the result file's layout. It changes only
// when a field changes meaning or disappears; new fields keep the version.
const SchemaVersion = 1

// Result is the result file: everything a pipeline or a later merge needs.
type Result struct {
	SchemaVersion int    `json:"schema_version"`
	Tool          Tool   `json:"tool"`
	Test          string `json:"test"`
	// Config echoes the resolved configuration (API key redacted).
	Config map[string]any `json:"config"`
	Target Target         `json:"target"`
	// Share is the part of the whole test this run executed, as k6's
	// execution segments: "0:1" is the whole test.
	Share string `json:"share"`
	// ShareSequence is the segment sequence Share belongs to ("0,1/3,2/3,1").
	ShareSequence string `json:"share_sequence,omitempty"`
	// StartAt is the instant the run was to start (--start-at/--start-in),
	// shared by every segment; LateSeconds how late this one began.
	StartAt         *time.Time `json:"start_at,omitempty"`
	LateSeconds     float64    `json:"late_seconds,omitempty"`
	Start           time.Time  `json:"start"`
	End             time.Time  `json:"end"`
	DurationSeconds float64    `json:"duration_seconds"`
	// Metrics, by name, with k6's summary keys in values.
	Metrics    map[string]*MetricResult `json:"metrics"`
	Thresholds []ThresholdResult        `json:"thresholds"`
	Checks     []CheckResult            `json:"checks"`
	Aborted    bool                     `json:"aborted"`
	// AbortReason says why the run stopped early ("interrupted by signal", a threshold).
	AbortReason string `json:"abort_reason,omitempty"`
	Interrupted bool   `json:"interrupted"`
	Passed      bool   `json:"passed"`
	// Verdict is the test's own reason to fail, when it failed beyond its thresholds.
	Verdict  string `json:"verdict,omitempty"`
	ExitCode int    `json:"exit_code"`
	// Run says how the load was generated and whether driftload kept up.
	Run Run `json:"run"`
	// Analysis holds the test's own verdicts (breaking point, trends, ...).
	Analysis any `json:"analysis,omitempty"`
	// Failures counts the failed requests by status and by reason.
	Failures *Failures `json:"failures,omitempty"`
	// Timeline is the run interval by interval.
	Timeline *Timeline `json:"timeline,omitempty"`
	// Complete is false in a checkpoint written during the run (--checkpoint):
	// its metrics are the run so far, without thresholds, analysis or verdict.
	// The final write replaces it with Complete true.
	Complete bool `json:"complete"`
}

// Run describes the load driftload generated and whether its numbers can
// be trusted.
type Run struct {
	// Model is "closed" (a fixed number of VUs) or "open" (an arrival rate).
	Model string `json:"model"`
	// Valid is false when driftload could not generate the load asked for;
	// InvalidReasons say why.
	Valid          bool     `json:"valid"`
	InvalidReasons []string `json:"invalid_reasons,omitempty"`
	// OfferedRate and AchievedRate are iterations per second: scheduled and completed.
	OfferedRate       float64 `json:"offered_rate,omitempty"`
	AchievedRate      float64 `json:"achieved_rate"`
	OfferedIterations int64   `json:"offered_iterations,omitempty"`
	StartedIterations int64   `json:"started_iterations,omitempty"`
	DroppedIterations int64   `json:"dropped_iterations,omitempty"`
	// SchedulerLateP99Ms is how late the scheduler dispatched iterations
	// that found a free VU (p99, ms): the generator's own delay.
	SchedulerLateP99Ms float64 `json:"scheduler_late_p99_ms,omitempty"`
	// IntervalClockLateMs is the most a timeline interval was closed after
	// its end (ms): how long driftload's own collector waited for a CPU.
	// Samples are placed by when they were recorded, so the timeline holds;
	// beyond half an interval the summary warns that driftload's timings
	// may include its VUs' wait for a CPU.
	IntervalClockLateMs float64 `json:"interval_clock_late_ms,omitempty"`
	// CPU is driftload's CPU time over wall time and cores (1 = saturated).
	CPU float64 `json:"cpu"`
	// TargetSaturated (open model): iterations were dropped because the
	// target slowed down (its service time rose well above its start), not
	// because driftload was short of VUs; SaturationReason says by how much.
	TargetSaturated  bool   `json:"target_saturated,omitempty"`
	SaturationReason string `json:"saturation_reason,omitempty"`
}

// Tool names the program that wrote the file.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Target is the system under test.
type Target struct {
	BaseURL string `json:"base_url"`
	// Embedded is true when driftload started its reference server in-process.
	Embedded bool `json:"embedded"`
}

// MetricResult is one metric's totals and its series.
type MetricResult struct {
	Type     string             `json:"type"`
	Contains string             `json:"contains"`
	Values   map[string]float64 `json:"values"`
	// Histogram is a Trend's distribution, exact enough to merge.
	Histogram *Histogram `json:"histogram,omitempty"`
	// Series are the metric's samples split by tag set; merging the same
	// series of several result files reproduces the whole run exactly.
	Series []SeriesResult `json:"series,omitempty"`
}

// SeriesResult is one tag set of a metric.
type SeriesResult struct {
	Tags      map[string]string  `json:"tags"`
	Values    map[string]float64 `json:"values"`
	Sum       float64            `json:"sum,omitempty"`
	Count     int64              `json:"count"`
	Trues     int64              `json:"trues,omitempty"`
	Histogram *Histogram         `json:"histogram,omitempty"`
}

// Histogram is an HDR histogram in the standard V2 compressed, base64 form.
// Recorded values are the metric's values multiplied by Scale (so a Trend in
// milliseconds is recorded in microseconds); Count, Sum, Min and Max are exact.
type Histogram struct {
	Encoding string  `json:"encoding"`
	Scale    float64 `json:"scale"`
	Count    int64   `json:"count"`
	Sum      float64 `json:"sum"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Data     string  `json:"data"`
}

// Sink decodes the histogram into a Trend sink, which merges exactly with
// the sinks of other result files. An encoding or scale other than
// HistogramEncoding and metrics.TrendScale, or data that is not a histogram
// of Count samples, is an error.
func (h *Histogram) Sink() (*metrics.Sink, error) {
	if h.Encoding != HistogramEncoding {
		return nil, fmt.Errorf("histogram encoding %q, want %q", h.Encoding, HistogramEncoding)
	}
	if h.Scale != metrics.TrendScale {
		return nil, fmt.Errorf("histogram scale %g, want %d", h.Scale, metrics.TrendScale)
	}
	if h.Count > 0 && !(h.Min <= h.Max) {
		return nil, fmt.Errorf("histogram min %g above max %g", h.Min, h.Max)
	}
	s, err := metrics.DecodeTrend(h.Data, h.Count, h.Sum, h.Min, h.Max)
	if err != nil {
		return nil, err
	}
	// DecodeTrend takes any HDR range and precision. Another than a Trend's
	// would merge inexactly: every sample re-bucketed at a Trend's precision,
	// those beyond its range dropped. Merged into an empty Trend, a Trend's
	// histogram encodes to the same data.
	probe := metrics.NewSink(metrics.Trend)
	probe.Merge(s)
	got, err := s.EncodeHistogram()
	if err != nil {
		return nil, err
	}
	want, err := probe.EncodeHistogram()
	if err != nil {
		return nil, err
	}
	if got != want {
		return nil, errors.New("histogram has another range or precision than a trend's: it would not merge exactly")
	}
	return s, nil
}

// ThresholdResult is one threshold's verdict.
type ThresholdResult struct {
	Metric      string  `json:"metric"`
	Expression  string  `json:"expression"`
	OK          bool    `json:"ok"`
	Measured    float64 `json:"measured"`
	HasData     bool    `json:"has_data"`
	AbortOnFail bool    `json:"abort_on_fail,omitempty"`
	// Window (windowed thresholds, "over 1m" / "for 30s"): Measured is the
	// worst window's value.
	Window *WindowVerdict `json:"window,omitempty"`
}

// WindowVerdict is how a windowed threshold fared over the run.
type WindowVerdict struct {
	// Mode is "over" (every window must hold) or "for" (fails when breached
	// that long in a row); Seconds the window as written, EffectiveSeconds
	// as judged (a whole number of timeline intervals).
	Mode             string  `json:"mode"`
	Seconds          float64 `json:"seconds"`
	EffectiveSeconds float64 `json:"effective_seconds"`
	// Windows is how many windows (over) or intervals (for) were judged.
	Windows int `json:"windows"`
	// Worst is the worst window (over) or the longest breach (for; the
	// worst interval when it never broke), with its span from the run start.
	Worst             float64 `json:"worst"`
	WorstStartSeconds float64 `json:"worst_start_seconds"`
	WorstEndSeconds   float64 `json:"worst_end_seconds"`
	// BreachedAtSeconds is when it first failed; absent when it held.
	BreachedAtSeconds *float64 `json:"breached_at_seconds,omitempty"`
}

// CheckResult is one check's tally.
type CheckResult struct {
	Name   string `json:"name"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

// HistogramEncoding names the encoding of Histogram.Data.
const HistogramEncoding = "hdr-v2-compressed-base64"

// HistogramOf encodes a Trend sink as the result file stores it (nil for
// other types).
func HistogramOf(s *metrics.Sink) (*Histogram, error) { return encodeHistogram(s) }

func encodeHistogram(s *metrics.Sink) (*Histogram, error) {
	if s.Type != metrics.Trend {
		return nil, nil
	}
	data, err := s.EncodeHistogram()
	if err != nil {
		return nil, err
	}
	return &Histogram{Encoding: HistogramEncoding, Scale: metrics.TrendScale, Count: s.Count, Sum: s.Sum, Min: s.Min, Max: s.Max, Data: data}, nil
}

// MetricsFromSnapshot renders every metric of snap with its series.
func MetricsFromSnapshot(snap *metrics.Snapshot) (map[string]*MetricResult, error) {
	out := make(map[string]*MetricResult)
	for _, m := range snap.Metrics {
		total, _ := snap.Sink(m.Name, nil)
		if total.Count == 0 {
			continue
		}
		mr := &MetricResult{Type: m.Type.String(), Contains: m.Contains.String(), Values: total.Values(snap.Elapsed)}
		h, err := encodeHistogram(total)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", m.Name, err)
		}
		mr.Histogram = h
		for _, ser := range snap.Series {
			if ser.Metric != m || ser.Sink.Count == 0 {
				continue
			}
			sh, err := encodeHistogram(ser.Sink)
			if err != nil {
				return nil, fmt.Errorf("metric %s: %w", m.Name, err)
			}
			tags := make(map[string]string, len(ser.Tags))
			for _, t := range ser.Tags {
				tags[t.Key] = t.Value
			}
			sr := SeriesResult{Tags: tags, Values: ser.Sink.Values(snap.Elapsed), Count: ser.Sink.Count, Histogram: sh}
			switch m.Type {
			case metrics.Counter:
				sr.Sum = ser.Sink.Sum
			case metrics.Rate:
				sr.Trues = ser.Sink.Trues
			}
			mr.Series = append(mr.Series, sr)
		}
		out[m.Name] = mr
	}
	return out, nil
}

// ChecksFromSnapshot tallies the `checks` Rate by check name, in name order.
func ChecksFromSnapshot(snap *metrics.Snapshot) []CheckResult {
	byName := map[string]*CheckResult{}
	for _, ser := range snap.Series {
		if ser.Metric.Name != "checks" {
			continue
		}
		name, _ := ser.Tags.Get("check")
		c := byName[name]
		if c == nil {
			c = &CheckResult{Name: name}
			byName[name] = c
		}
		c.Passes += ser.Sink.Trues
		c.Fails += ser.Sink.Count - ser.Sink.Trues
	}
	out := make([]CheckResult, 0, len(byName))
	for _, c := range byName {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ThresholdsFromResults converts evaluated thresholds.
func ThresholdsFromResults(rs []threshold.Result) []ThresholdResult {
	out := make([]ThresholdResult, len(rs))
	for i, r := range rs {
		out[i] = ThresholdResult{Metric: r.Metric, Expression: r.Expr, OK: r.OK, Measured: r.Measured, HasData: r.HasData, AbortOnFail: r.AbortOnFail}
		if w := r.Window; w != nil {
			v := &WindowVerdict{
				Mode: r.Mode.String(), Seconds: r.WindowLength.Seconds(), EffectiveSeconds: w.Effective.Seconds(), Windows: w.Windows,
				Worst: w.Worst, WorstStartSeconds: w.WorstStart.Seconds(), WorstEndSeconds: w.WorstEnd.Seconds(),
			}
			if w.Breached {
				at := w.BreachedAt.Seconds()
				v.BreachedAtSeconds = &at
			}
			out[i].Window = v
		}
	}
	return out
}

// ReadFile reads a result file.
func ReadFile(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Decode parses the content of a result file, as WriteFile writes it.
// Histograms are kept encoded; Histogram.Sink decodes one.
func Decode(data []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
