package suite

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/driftload/driftload/internal/report"
)

var (
	//go:embed assets/suite.html.tmpl
	pageTemplate string
	//go:embed assets/suite.css
	pageCSS string
)

var pageTmpl = template.Must(template.New("suite").Parse(pageTemplate))

// pageView is what the suite's page shows: the summary's content, with a
// link to each phase's own HTML report (internal/htmlreport) and result file.
type pageView struct {
	CSS                    template.CSS
	Target, Word, Why      string
	Passed                 bool
	ExitCode               int
	Facts                  []pageFact
	BaselineName, Baseline string
	Rows                   []pageRow
	Findings               []pageFindings
	Footer                 string
}

type pageFact struct{ Label, Value string }

type pageRow struct {
	Class, Test, Status, Exit, Ran, P95, P99, RPS, Errors, Vs string
	// Report and File are the phase's HTML report and result file, relative
	// to the page ("" when not written).
	Report, File string
}

type pageFindings struct {
	Test, Report string
	Lines        []string
}

// WritePage writes the suite's HTML page: the verdict, the phases with
// their figures against the baseline, each linking its own HTML report
// and result file, and the findings. It is self-contained (its style is
// inline) and requests nothing.
func WritePage(w io.Writer, res *Results) error {
	word, why := verdictOf(res)
	v := pageView{
		CSS: template.CSS(pageCSS), Target: res.Target.BaseURL, Word: word, Why: why, Passed: res.Passed, ExitCode: res.ExitCode,
		BaselineName: orDefault(res.Baseline, "baseline"), Baseline: baselineLine(res),
		Footer: fmt.Sprintf("driftload %s · suite_results.json, suite_junit.xml, suite_summary.md beside this page", res.Tool.Version),
	}
	if res.Target.Embedded {
		v.Facts = append(v.Facts, pageFact{"target", "embedded reference server"})
	}
	v.Facts = append(v.Facts,
		pageFact{"phases", strconv.Itoa(len(res.Phases))},
		pageFact{"time scale", strconv.FormatFloat(res.TimeScale, 'g', -1, 64)},
		pageFact{"ran", report.FormatDuration(res.DurationSeconds*1000) + " of " + report.FormatDuration(res.PlannedSeconds*1000) + " planned"},
	)
	if !res.Start.IsZero() {
		v.Facts = append(v.Facts, pageFact{"started", res.Start.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	v.Facts = append(v.Facts, pageFact{"run", res.RunID}, pageFact{"policy", res.Policy})
	for _, pr := range res.Phases {
		row := pageRow{Test: pr.Test, Status: statusWord(pr.Status), Report: pr.Report, File: pr.File}
		switch pr.Status {
		case StatusPassed:
			row.Class = "pass"
		case StatusNotRun:
			row.Class = "notrun"
		default:
			row.Class = "fail"
		}
		if pr.ExitCode != nil {
			row.Exit = strconv.Itoa(*pr.ExitCode)
		}
		if pr.Status != StatusNotRun {
			row.Ran = report.FormatDuration(pr.DurationSeconds * 1000)
		}
		if f := pr.Figures; f != nil {
			row.P95, row.P99, row.RPS, row.Errors = report.FormatDuration(f.P95Ms), report.FormatDuration(f.P99Ms), num(f.RPS), pct(f.ErrorRate)
			row.Vs = vsCell(res, pr)
		}
		v.Rows = append(v.Rows, row)
		lines := phaseFindings(pr)
		if pr.Status != StatusPassed && pr.Status != StatusNotRun && pr.Reason != "" {
			lines = append([]string{pr.Reason}, lines...)
		}
		if len(lines) > 0 {
			v.Findings = append(v.Findings, pageFindings{Test: pr.Test, Report: pr.Report, Lines: lines})
		}
	}
	if err := pageTmpl.Execute(w, v); err != nil {
		return fmt.Errorf("render the suite's page: %w", err)
	}
	return nil
}

// htmlName is the HTML report beside a result file: smoke_test_results.html.
func htmlName(resultFile string) string {
	return strings.TrimSuffix(resultFile, ".json") + ".html"
}
