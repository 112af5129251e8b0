package suite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/driftload/driftload/internal/report"
)

// SchemaVersion is suite_results.json's version; fields are only added within it.
const SchemaVersion = 1

// Results is suite_results.json: the plan, how every phase ended with its
// key figures against the baseline, and the one verdict. It is rewritten
// after every phase with Complete false, so a killed suite keeps what its
// finished phases measured.
type Results struct {
	SchemaVersion int           `json:"schema_version"`
	Tool          report.Tool   `json:"tool"`
	RunID         string        `json:"run_id"`
	Target        report.Target `json:"target"`
	// Config echoes the suite's flags (secret ones "[redacted]").
	Config map[string]any `json:"config"`
	// TimeScale is --time-scale; Policy says when the suite stops.
	TimeScale       float64   `json:"time_scale"`
	Policy          string    `json:"policy"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
	PlannedSeconds  float64   `json:"planned_seconds"`
	// Baseline is the phase every other is read against ("load"), with its
	// figures; empty when it did not run.
	Baseline        string        `json:"baseline,omitempty"`
	BaselineFigures *Figures      `json:"baseline_figures,omitempty"`
	Phases          []PhaseResult `json:"phases"`
	// Passed is true when every phase passed; ExitCode is the suite's (see ExitCode).
	Passed      bool `json:"passed"`
	ExitCode    int  `json:"exit_code"`
	Interrupted bool `json:"interrupted"`
	// StoppedAfter names the phase after which the suite stopped, with why.
	StoppedAfter string `json:"stopped_after,omitempty"`
	StopReason   string `json:"stop_reason,omitempty"`
	// Files are the suite's own files, beside each phase's result file.
	Files SuiteFiles `json:"files"`
	// Complete is false while the suite runs.
	Complete bool `json:"complete"`
}

// SuiteFiles names the suite's own files, relative to its directory.
type SuiteFiles struct {
	Results string `json:"results"`
	JUnit   string `json:"junit"`
	Summary string `json:"summary"`
	// Page is the suite's HTML page, linking each phase's HTML report.
	Page string `json:"page"`
}

// PhaseResult is one phase in suite_results.json.
type PhaseResult struct {
	Test string `json:"test"`
	// Status is passed, failed, invalid, interrupted, error or not_run.
	Status string `json:"status"`
	// ExitCode is the phase's exit code as a single run of its test gives
	// it; absent for a phase not run.
	ExitCode *int `json:"exit_code,omitempty"`
	// File is the phase's result file, relative to the suite's directory;
	// absent when none was written.
	File string `json:"file,omitempty"`
	// Report is the phase's HTML report (driftload report's page), relative
	// to the suite's directory; absent when none was written.
	Report string `json:"report,omitempty"`
	// Profile is the phase's run as planned, PlannedSeconds its length.
	Profile         string  `json:"profile"`
	PlannedSeconds  float64 `json:"planned_seconds"`
	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	// Figures are the phase's key figures; VsBaseline them against the
	// baseline's (absent for the baseline itself).
	Figures    *Figures    `json:"figures,omitempty"`
	VsBaseline *Comparison `json:"vs_baseline,omitempty"`
	// FailedThresholds are the thresholds that did not hold: "metric
	// expression: measured value".
	FailedThresholds []string `json:"failed_thresholds,omitempty"`
	// Verdict is the test's own reason to fail; Findings its verdict lines
	// as the summary printed them.
	Verdict  string   `json:"verdict,omitempty"`
	Findings []string `json:"findings,omitempty"`
	// Reason says why a phase was not run, was interrupted or ended in an error.
	Reason string `json:"reason,omitempty"`
}

// Figures are a phase's key figures from its result file.
type Figures struct {
	Requests float64 `json:"requests"`
	// RPS is http_reqs per second over the phase.
	RPS float64 `json:"rps"`
	// P50Ms, P95Ms and P99Ms are http_req_duration's percentiles.
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
	P99Ms float64 `json:"p99_ms"`
	// ErrorRate is http_req_failed's rate (0..1).
	ErrorRate float64 `json:"error_rate"`
	// MaxVUs is the most VUs active at once.
	MaxVUs float64 `json:"max_vus"`
}

// Comparison is a phase's figures as ratios of the baseline's: 2 is twice
// load's; absent where the baseline's is 0.
type Comparison struct {
	P95 *float64 `json:"p95_ratio,omitempty"`
	P99 *float64 `json:"p99_ratio,omitempty"`
	RPS *float64 `json:"rps_ratio,omitempty"`
}

// figuresOf reads the key figures of a result.
func figuresOf(r *report.Result) *Figures {
	f := &Figures{}
	v := func(metric, key string) float64 {
		if m := r.Metrics[metric]; m != nil {
			return m.Values[key]
		}
		return 0
	}
	f.Requests, f.RPS = v("http_reqs", "count"), v("http_reqs", "rate")
	f.P50Ms, f.P95Ms, f.P99Ms = v("http_req_duration", "med"), v("http_req_duration", "p(95)"), v("http_req_duration", "p(99)")
	f.ErrorRate = v("http_req_failed", "rate")
	f.MaxVUs = v("vus", "max")
	return f
}

// compare is f against the baseline b.
func compare(f, b *Figures) *Comparison {
	ratio := func(x, y float64) *float64 {
		if y <= 0 {
			return nil
		}
		r := x / y
		return &r
	}
	return &Comparison{P95: ratio(f.P95Ms, b.P95Ms), P99: ratio(f.P99Ms, b.P99Ms), RPS: ratio(f.RPS, b.RPS)}
}

// failedThresholds lists r's thresholds that did not hold.
func failedThresholds(r *report.Result) []string {
	var out []string
	for _, t := range r.Thresholds {
		if !t.OK {
			out = append(out, fmt.Sprintf("%s %s: %s", t.Metric, t.Expression, report.FormatThresholdMeasured(r, t)))
		}
	}
	return out
}

// encode is r as suite_results.json holds it.
func (r *Results) encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadResults reads a suite_results.json.
func ReadResults(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
