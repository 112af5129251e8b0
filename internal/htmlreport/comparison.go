package htmlreport

import (
	"errors"
	"fmt"
	"strings"

	"github.com/driftload/driftload/internal/compare"
	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/report"
)

// ComparisonPage is everything the comparison's page shows: both runs, the
// verdict, every change of the comparison and the timelines of both runs
// overlaid. The template renders it; Data is the part the page's script
// draws.
type ComparisonPage struct {
	Title string
	Test  string
	Tool  string
	// Runs are the base run, then the new one.
	Runs    [2]RunFacts
	Verdict Verdict
	// Method says how the intervals were found and what a regression is.
	Method string
	// Judged names the Trends the percentile budgets apply to.
	Judged string
	// CILabel heads the intervals' column: "95% CI".
	CILabel string
	// Tables are the changes: the judged latency, the requests, the other
	// Trends; a table without rows is left out.
	Tables []ChangeTable
	// Sections are the charts: both runs over time.
	Sections []Section
	Data     Data
}

// RunFacts are one run's header.
type RunFacts struct {
	// Which is "base" or "new"; Color the colour of its series.
	Which, Color string
	File, Test   string
	Target       string
	Embedded     bool
	Start        string
	Duration     string
	Model        string
	Profile      string
	ConfigHash   string
	RunID        string
	Tool         string
	Requests     int64
	// Timeline is "21 intervals of 1 s", or that the file has none.
	Timeline string
}

// ChangeTable is one group of changes.
type ChangeTable struct {
	ID, Title string
	// Collapsed tables (the Trends not judged) open on a click.
	Collapsed bool
	Rows      []ChangeRow
}

// ChangeRow is one change, formatted as the terminal table formats it.
type ChangeRow struct {
	compare.Row
	// Name is the (sub-)metric, Endpoint set for a per-endpoint one.
	Name     string
	Endpoint bool
	// Class is the row's look: "fail" (a regression), "pass" (judged and
	// within its budget) or "dim" (not judged).
	Class string
}

// BuildComparison computes the page of c, the comparison of new against
// base. Either run missing, or of a schema version this driftload does not
// know, is an error wrapping ErrNotResult.
func BuildComparison(base, new *report.Result, c *compare.Comparison) (*ComparisonPage, error) {
	if c == nil {
		return nil, errors.New("no comparison to render")
	}
	for _, r := range []*report.Result{base, new} {
		if r == nil {
			return nil, ErrNotResult
		}
		if r.SchemaVersion < 1 || r.SchemaVersion > report.SchemaVersion {
			return nil, fmt.Errorf("%w: schema_version %d (this driftload reads %d)", ErrNotResult, r.SchemaVersion, report.SchemaVersion)
		}
	}
	p := &ComparisonPage{
		Test: c.New.Test,
		Tool: strings.TrimSpace(c.Tool.Name + " " + c.Tool.Version),
		Runs: [2]RunFacts{runFacts("base", baseColor, base, c.Base), runFacts("new", newColor, new, c.New)},
	}
	p.Title = "driftload compare " + orDash(p.Test) + " — " + orDash(c.Base.File) + " → " + orDash(c.New.File)
	p.Verdict = comparisonVerdict(c)
	if c.Verdict != compare.OutcomeNotComparable {
		p.Method = fmt.Sprintf("%s confidence intervals from %d resamples (seed %d); a change is a regression only when its whole interval lies beyond its budget.",
			confidenceLevel(c.Confidence), c.Resamples, c.Seed)
		p.Judged = strings.Join(c.JudgedMetrics, ", ")
	}
	p.CILabel = confidenceLevel(c.Confidence) + " CI"
	p.Tables = changeTables(c)
	o, err := newOverlay(base, new, c)
	if err != nil {
		return nil, err
	}
	o.charts(p)
	return p, nil
}

func runFacts(which, color string, r *report.Result, ri compare.RunInfo) RunFacts {
	f := RunFacts{
		Which: which, Color: color, File: ri.File, Test: ri.Test, Target: ri.Target, Embedded: ri.Embedded,
		Start: formatTime(ri.Start), Duration: formatSeconds(ri.DurationSeconds), Model: r.Run.Model,
		Profile: ri.Profile, ConfigHash: ri.ConfigHash, RunID: ri.RunID,
		Tool: strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version), Requests: ri.Requests,
		Timeline: "no timeline in this file",
	}
	if tl := r.Timeline; tl != nil && len(tl.Intervals) > 0 {
		f.Timeline = fmt.Sprintf("%d intervals of %s s", len(tl.Intervals), formatNumber(tl.StepSeconds))
	}
	return f
}

// comparisonMeanings explain compare's exit codes, as its help does.
var comparisonMeanings = map[int]string{
	exitcode.OK:               "no judged change beyond its budget",
	exitcode.ThresholdsFailed: "a regression: a change whose whole interval lies beyond its budget",
	exitcode.InvalidConfig:    "the runs are not comparable",
}

func comparisonVerdict(c *compare.Comparison) Verdict {
	v := Verdict{Passed: c.ExitCode == exitcode.OK, Headline: compare.Status(c), ExitCode: c.ExitCode,
		ExitMeaning: comparisonMeanings[c.ExitCode]}
	if v.ExitMeaning == "" {
		v.ExitMeaning = "exit code " + fmt.Sprint(c.ExitCode)
	}
	// The banner draws its own mark.
	v.Headline = strings.TrimSpace(strings.TrimLeft(v.Headline, "✓✗"))
	v.Reasons = append(v.Reasons, c.Regressions...)
	if c.Forced {
		v.Reasons = append(v.Reasons, "not comparable, compared anyway (--force): "+strings.Join(c.Differences, "; "))
	}
	for _, w := range c.Warnings {
		v.Reasons = append(v.Reasons, "warning: "+w)
	}
	return v
}

// changeTables groups every change as the terminal table does: the judged
// latency, the requests (error rate, then throughput), the other Trends —
// here with all their percentiles and endpoints.
func changeTables(c *compare.Comparison) []ChangeTable {
	judged := ChangeTable{ID: "latency", Title: "Latency"}
	requests := ChangeTable{ID: "requests", Title: "Requests"}
	other := ChangeTable{ID: "other-trends", Title: "Other Trends (compared, not judged)", Collapsed: true}
	for _, s := range c.Latency {
		t := &other
		if s.Judged {
			t = &judged
		}
		for _, ch := range s.Changes {
			t.Rows = append(t.Rows, changeRow(s, ch))
		}
	}
	for _, stat := range []string{compare.StatErrorRate, compare.StatThroughput} {
		for _, s := range c.Requests {
			for _, ch := range s.Changes {
				if ch.Stat == stat {
					requests.Rows = append(requests.Rows, changeRow(s, ch))
				}
			}
		}
	}
	var out []ChangeTable
	for _, t := range []ChangeTable{judged, requests, other} {
		if len(t.Rows) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// confidenceLevel renders a confidence level as the terminal table does: "95%".
func confidenceLevel(c float64) string { return formatNumber(100*c) + "%" }

func changeRow(s compare.Subject, ch compare.Change) ChangeRow {
	r := ChangeRow{Row: compare.TableRow(s, ch), Name: s.Name, Endpoint: s.Endpoint != "", Class: "pass"}
	switch {
	case r.Regression:
		r.Class = "fail"
	case r.Dim:
		r.Class = "dim"
	}
	return r
}
