package merge

import (
	"strings"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// Part is one segment's own findings, kept in the merged file.
type Part struct {
	Share    string `json:"share"`
	Verdict  string `json:"verdict,omitempty"`
	ExitCode int    `json:"exit_code"`
	Analysis any    `json:"analysis,omitempty"`
}

// Analysis is the merged file's `analysis`: the test's analysis re-run on
// the merged timeline where it can be (stress: the breaking point), and
// every part's own findings.
type Analysis struct {
	BreakingPoint *analysis.BreakingPoint `json:"breaking_point,omitempty"`
	Parts         []Part                  `json:"parts"`
	// Note says what was re-judged on the merged data and what was not.
	Note string `json:"note"`
}

// Analyse builds the merged analysis and its verdict lines. p95Limit is the
// thresholds' p(95) limit of http_req_duration (0: none).
func Analyse(parts []*report.Result, tl *report.Timeline, p95Limit float64) (Analysis, []string, error) {
	a := Analysis{Note: "thresholds and run validity are judged on the merged data; each part's own analysis is kept as it was"}
	for _, p := range parts {
		a.Parts = append(a.Parts, Part{Share: p.Share, Verdict: p.Verdict, ExitCode: p.ExitCode, Analysis: p.Analysis})
	}
	var lines []string
	if parts[0].Test == "stress" && tl != nil {
		buckets, open, err := buckets(tl)
		if err != nil {
			return a, nil, err
		}
		bp := analysis.AnalyseBreakingPoint(buckets, analysis.BreakingPointOptions{P95Limit: p95Limit, OpenModel: open})
		a.BreakingPoint = &bp
		a.Note = "thresholds, run validity and the breaking point are judged on the merged data; each part's own analysis is kept as it was"
		lines = bp.Lines()
	}
	for _, p := range a.Parts {
		if p.Verdict != "" {
			lines = append(lines, "part "+p.Share+": "+p.Verdict)
		}
	}
	return a, lines, nil
}

// buckets turns the merged timeline into breaking-point buckets.
func buckets(tl *report.Timeline) ([]analysis.Bucket, bool, error) {
	var out []analysis.Bucket
	open := false
	for _, iv := range tl.Intervals {
		open = open || iv.OfferedRate > 0
	}
	for _, iv := range tl.Intervals {
		b := analysis.Bucket{
			Start: seconds(iv.StartSeconds), End: seconds(iv.EndSeconds), VUs: iv.VUs, OfferedRate: iv.OfferedRate,
			Iterations: iv.Iterations, Requests: iv.Requests, Failed: iv.Failures,
			Timeouts: iv.FailuresByReason["timeout"], Latency: metrics.NewSink(metrics.Trend),
		}
		for status, n := range iv.FailuresByStatus {
			if strings.HasPrefix(status, "5") && len(status) == 3 {
				b.ServerErrors += n
			}
		}
		for _, e := range iv.Endpoints {
			h := e.Duration
			if open {
				h = e.Latency
			}
			if h == nil {
				continue
			}
			s, err := h.Sink()
			if err != nil {
				return nil, false, err
			}
			b.Latency.Merge(s)
		}
		out = append(out, b)
	}
	return out, open, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
