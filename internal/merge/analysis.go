package merge

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// Part is one segment's own findings, kept in the merged file.
type Part struct {
	Share    string `json:"share"`
	Verdict  string `json:"verdict,omitempty"`
	ExitCode int    `json:"exit_code"`
	Analysis any    `json:"analysis,omitempty"`
}

// Analysis is the merged file's `analysis`: the test's own analysis re-run
// on the merged data (its fields at the top, so a reader of the test's
// analysis reads a merged one alike), every part's own findings, the
// windowed thresholds the merged data cannot judge, and a note saying what
// was judged on the merged data.
type Analysis struct {
	// Merged is the test's analysis of the merged data (scenario.Test.Merged);
	// nil when the test has none or it could not be re-run.
	Merged   any
	Parts    []Part
	Unjudged []Unjudged
	Note     string
}

// MarshalJSON writes Merged's fields beside parts, note and
// windowed_no_data.
func (a Analysis) MarshalJSON() ([]byte, error) {
	out := map[string]json.RawMessage{}
	if a.Merged != nil {
		data, err := json.Marshal(a.Merged)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("the merged analysis is not a JSON object: %w", err)
		}
	}
	own := map[string]any{"parts": a.Parts, "note": a.Note}
	if len(a.Unjudged) > 0 {
		own["windowed_no_data"] = a.Unjudged
	}
	for k, v := range own {
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("the merged analysis has a field %q of its own", k)
		}
		data, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = data
	}
	return json.Marshal(out)
}

// Analyse builds the merged file's findings: f is the test's own analysis
// of the merged data (empty when it has none), unjudged the windowed
// thresholds left without data. The findings returned carry the merged
// Analysis as Data, f's verdict lines, then one line per unjudged threshold
// and per part's own verdict, and f's failure.
func Analyse(parts []*report.Result, f scenario.Findings, unjudged []Unjudged) scenario.Findings {
	a := Analysis{Merged: f.Data, Unjudged: unjudged}
	for _, p := range parts {
		a.Parts = append(a.Parts, Part{Share: p.Share, Verdict: p.Verdict, ExitCode: p.ExitCode, Analysis: p.Analysis})
	}
	judged := "thresholds and run validity are"
	if f.Data != nil {
		judged = "thresholds, run validity and the test's own analysis (the fields beside parts) are"
	}
	a.Note = judged + " judged on the merged data; each part's own analysis and verdict are kept under parts"
	if len(unjudged) > 0 {
		a.Note += "; the windowed thresholds under windowed_no_data cannot be judged from result files"
	}
	out := f
	out.Lines = append([]string(nil), f.Lines...)
	for _, u := range unjudged {
		out.Lines = append(out.Lines, fmt.Sprintf("threshold %s %s: no data on merged files: %s", u.Metric, u.Expression, u.Reason))
	}
	for _, p := range a.Parts {
		if p.Verdict != "" {
			out.Lines = append(out.Lines, "part "+p.Share+": "+p.Verdict)
		}
	}
	out.Data = a
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Judgeable is a merge with the test's analysis re-run on it and its
// windowed thresholds observed: what harness.Judge judges.
type Judgeable struct {
	*Merged
	// Findings are the merged file's findings (Data: its Analysis).
	Findings scenario.Findings
	// Windows are the windowed thresholds observed on the merged timeline.
	Windows *threshold.Windows
}

// Run merges parts (already checked), re-runs test's own analysis on the
// merged data (scenario.Test.Merged) and observes the windowed thresholds
// of sets on the merged timeline. The result's analysis is set; its
// thresholds, verdict and exit code are left to harness.Judge.
func Run(parts []*report.Result, test *scenario.Test, sets []threshold.Set) (*Judgeable, error) {
	m, err := Merge(parts)
	if err != nil {
		return nil, err
	}
	var own scenario.Findings
	if test.Merged != nil {
		own, err = test.Merged(scenario.MergedRun{Parts: parts, Result: m.Result, Snapshot: m.Snapshot, Thresholds: sets})
		if err != nil {
			return nil, fmt.Errorf("%s analysis: %w", test.Name, err)
		}
	}
	windows, unjudged, err := Windows(m.Result.Timeline, sets)
	if err != nil {
		return nil, err
	}
	f := Analyse(parts, own, unjudged)
	m.Result.Analysis = f.Data
	return &Judgeable{Merged: m, Findings: f, Windows: windows}, nil
}
