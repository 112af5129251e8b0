package suite

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/driftload/driftload/internal/ciout"
	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/redact"
	"github.com/driftload/driftload/internal/report"
)

// PrintPlan writes the plan: every phase with its length and profile, the
// total at the suite's time scale, the policy and where the files go.
func (p *Plan) PrintPlan(w io.Writer) {
	var b strings.Builder
	target := redact.URL(p.Base.BaseURL)
	if p.Base.Embedded {
		target += " (embedded reference server)"
	}
	fmt.Fprintf(&b, "driftload suite: %s against %s\n", count(len(p.Phases), "phase"), target)
	for i, ph := range p.Phases {
		line := ph.Preview.Describe
		for _, n := range ph.Notes {
			line += " · " + n
		}
		fmt.Fprintf(&b, "  %d. %-10s %7s  %s\n", i+1, ph.Test.Name, Dur(ph.Preview.Length), line)
		if ph.Wait > 0 {
			fmt.Fprintf(&b, "     %-10s %7s  first waits up to %s for smoke's demo calls to leave its window\n", "", "", Dur(ph.Wait))
		}
	}
	fmt.Fprintf(&b, "     %-10s %7s  at time scale %s; a phase may run its graceful stop longer\n", "total", Dur(p.Total()), strconv.FormatFloat(p.timeScale(), 'g', -1, 64))
	fmt.Fprintf(&b, "  policy: %s\n", Policy(p.ContinueOnFail))
	fmt.Fprintf(&b, "  results: %s\n", dirName(p.Dir))
	_, _ = io.WriteString(w, b.String())
}

// SummaryOptions tune the suite's terminal summary.
type SummaryOptions struct {
	// Color turns on ANSI colours.
	Color bool
	// Dir is the suite's directory, named at the end.
	Dir string
	// Notes are extra lines at the end (a file not written).
	Notes []string
}

type palette = report.Palette

func newPalette(on bool) palette { return report.NewPalette(on) }

// WriteSummary prints the suite's end: a row a phase with its status, exit
// code, time and key figures against the baseline's, the baseline itself,
// each phase's findings and failed thresholds, and the one verdict.
func WriteSummary(w io.Writer, res *Results, opts SummaryOptions) error {
	p := newPalette(opts.Color)
	var b strings.Builder
	target := res.Target.BaseURL
	if res.Target.Embedded {
		target += " (embedded reference server)"
	}
	fmt.Fprintf(&b, "\n  %s  ·  target %s\n", p.Bold("driftload suite"), target)
	fmt.Fprintf(&b, "  %s at time scale %s  ·  ran %s of %s planned  ·  run %s\n", count(len(res.Phases), "phase"),
		strconv.FormatFloat(res.TimeScale, 'g', -1, 64), report.FormatDuration(res.DurationSeconds*1000),
		report.FormatDuration(res.PlannedSeconds*1000), res.RunID)

	fmt.Fprintf(&b, "\n  %s\n", p.Bold("PHASES"))
	fmt.Fprintf(&b, "    %s\n", p.Dim(fmt.Sprintf("  %-10s %-11s %4s %8s %9s %9s %9s %7s   %s", "", "status", "exit", "ran", "p95", "p99", "req/s", "errors", "vs "+orDefault(res.Baseline, "baseline")+": p95, req/s")))
	for _, pr := range res.Phases {
		mark := p.Bad("✗")
		switch pr.Status {
		case StatusPassed:
			mark = p.OK("✓")
		case StatusNotRun:
			mark = p.Dim("-")
		}
		code := ""
		if pr.ExitCode != nil {
			code = strconv.Itoa(*pr.ExitCode)
		}
		row := fmt.Sprintf("%-10s %-11s %4s", pr.Test, statusWord(pr.Status), code)
		if f := pr.Figures; f != nil {
			row += fmt.Sprintf(" %8s %9s %9s %9s %7s   %s", report.FormatDuration(pr.DurationSeconds*1000),
				report.FormatDuration(f.P95Ms), report.FormatDuration(f.P99Ms), num(f.RPS), pct(f.ErrorRate), vsCell(res, pr))
		} else if pr.Status != StatusNotRun {
			row += fmt.Sprintf(" %8s", report.FormatDuration(pr.DurationSeconds*1000))
		}
		fmt.Fprintf(&b, "    %s %s\n", mark, strings.TrimRight(row, " "))
		// A phase not run says why in the verdict (stopped after …).
		if pr.Status != StatusPassed && pr.Status != StatusNotRun && pr.Reason != "" {
			fmt.Fprintf(&b, "      %s\n", p.Dim(pr.Reason))
		}
	}

	fmt.Fprintf(&b, "\n  %s  %s\n", p.Bold("BASELINE"), baselineLine(res))

	var findings []string
	for _, pr := range res.Phases {
		lines := phaseFindings(pr)
		for i, l := range lines {
			name := ""
			if i == 0 {
				name = pr.Test
			}
			findings = append(findings, fmt.Sprintf("    %-10s %s", name, l))
		}
	}
	if len(findings) > 0 {
		fmt.Fprintf(&b, "\n  %s\n%s\n", p.Bold("FINDINGS"), strings.Join(findings, "\n"))
	}

	word, why := verdictOf(res)
	mark := p.Bad("✗ " + word)
	if res.Passed {
		mark = p.OK("✓ " + word)
	}
	fmt.Fprintf(&b, "\n  %s — %s (exit %d)\n", mark, why, res.ExitCode)
	names := []string{res.Files.Results, res.Files.JUnit, res.Files.Summary, res.Files.Page}
	files, reports := resultFiles(res)
	if files > 0 {
		names = append(names, count(files, "result file"))
	}
	if reports > 0 {
		names = append(names, count(reports, "HTML report"))
	}
	fmt.Fprintf(&b, "  results in %s: %s\n", dirName(opts.Dir), strings.Join(names, ", "))
	for _, n := range opts.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the suite's markdown summary: the verdict, a table
// of the phases with their key figures against the baseline and links to
// their result files, the baseline, the findings, then each phase's own
// summary (ciout.Markdown) as a section.
func WriteMarkdown(w io.Writer, res *Results, results []*report.Result) error {
	var b strings.Builder
	mark := "❌"
	if res.Passed {
		mark = "✅"
	}
	fmt.Fprintf(&b, "# %s driftload suite against %s\n\n", mark, ciout.MarkdownCode(res.Target.BaseURL, false))
	word, why := verdictOf(res)
	fmt.Fprintf(&b, "**%s** — %s · exit %d\n\n", word, ciout.MarkdownText(why), res.ExitCode)
	var when []string
	if res.Target.Embedded {
		when = append(when, "embedded reference server")
	}
	when = append(when, "time scale "+strconv.FormatFloat(res.TimeScale, 'g', -1, 64),
		fmt.Sprintf("ran %s of %s planned", report.FormatDuration(res.DurationSeconds*1000), report.FormatDuration(res.PlannedSeconds*1000)))
	if !res.Start.IsZero() {
		when = append(when, "started "+res.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if res.Tool.Version != "" {
		when = append(when, "driftload "+ciout.MarkdownText(res.Tool.Version))
	}
	when = append(when, "run "+ciout.MarkdownCode(res.RunID, false))
	fmt.Fprintf(&b, "%s\n\n", strings.Join(when, " · "))

	base := orDefault(res.Baseline, "baseline")
	fmt.Fprintf(&b, "| phase | status | exit | ran | p95 | p99 | req/s | errors | vs %s: p95, req/s | files |\n", base)
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, pr := range res.Phases {
		code := ""
		if pr.ExitCode != nil {
			code = strconv.Itoa(*pr.ExitCode)
		}
		cells := []string{ciout.MarkdownText(pr.Test), statusEmoji(pr.Status) + " " + statusWord(pr.Status), code, "", "", "", "", "", "", ""}
		if pr.Status != StatusNotRun {
			cells[3] = report.FormatDuration(pr.DurationSeconds * 1000)
		}
		if f := pr.Figures; f != nil {
			cells[4], cells[5], cells[6], cells[7] = report.FormatDuration(f.P95Ms), report.FormatDuration(f.P99Ms), num(f.RPS), pct(f.ErrorRate)
			cells[8] = vsCell(res, pr)
		}
		var links []string
		if pr.File != "" {
			links = append(links, fmt.Sprintf("[%s](%s)", ciout.MarkdownText(pr.File), pr.File))
		}
		if pr.Report != "" {
			links = append(links, fmt.Sprintf("[report](%s)", pr.Report))
		}
		cells[9] = strings.Join(links, " · ")
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintf(&b, "\n**Baseline** %s\n\n", ciout.MarkdownText(baselineLine(res)))

	var findings []string
	for _, pr := range res.Phases {
		lines := phaseFindings(pr)
		if pr.Status != StatusPassed && pr.Status != StatusNotRun && pr.Reason != "" {
			lines = append([]string{pr.Reason}, lines...)
		}
		if len(lines) == 0 {
			continue
		}
		esc := make([]string, len(lines))
		for i, l := range lines {
			esc[i] = ciout.MarkdownText(l)
		}
		findings = append(findings, fmt.Sprintf("- **%s** — %s", ciout.MarkdownText(pr.Test), strings.Join(esc, " · ")))
	}
	if len(findings) > 0 {
		fmt.Fprintf(&b, "**Findings**\n\n%s\n\n", strings.Join(findings, "\n"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, r := range results {
		if r == nil {
			continue
		}
		if _, err := io.WriteString(w, "---\n\n"); err != nil {
			return err
		}
		if err := ciout.Markdown(w, r); err != nil {
			return err
		}
	}
	return nil
}

// verdictOf is the suite's status word and its reason: how many phases
// ended how, and why the suite stopped.
func verdictOf(res *Results) (string, string) {
	var word string
	switch res.ExitCode {
	case exitcode.OK:
		word = "PASSED"
	case exitcode.ThresholdsFailed:
		word = "FAILED"
	case exitcode.InvalidRun:
		word = "INVALID RUN"
	case exitcode.Interrupted:
		word = "INTERRUPTED"
	case exitcode.PreflightFailed:
		word = "TARGET NOT READY"
	case exitcode.InvalidConfig:
		word = "INVALID CONFIGURATION"
	default:
		word = "ERROR"
	}
	if !res.Complete {
		word = "INCOMPLETE"
	}
	if res.Passed {
		return word, fmt.Sprintf("all %s passed", count(len(res.Phases), "phase"))
	}
	n := map[string]int{}
	for _, pr := range res.Phases {
		n[pr.Status]++
	}
	var parts []string
	for _, s := range []string{StatusPassed, StatusFailed, StatusInvalid, StatusInterrupted, StatusError, StatusNotRun} {
		if n[s] > 0 {
			word := statusWord(s)
			if s == StatusError && n[s] > 1 {
				word = "errors"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n[s], word))
		}
	}
	why := strings.Join(parts, ", ")
	if res.StoppedAfter != "" {
		why += fmt.Sprintf("; stopped after %s: %s", res.StoppedAfter, res.StopReason)
	}
	return word, why
}

// baselineLine is the baseline's figures: "load: p95 21.31ms · p99 64.03ms
// · 48.17 req/s · 0.00% errors · up to 100 VUs".
func baselineLine(res *Results) string {
	f := res.BaselineFigures
	if f == nil {
		for _, pr := range res.Phases {
			if pr.Test == Baseline.Name && pr.Status != StatusNotRun {
				return fmt.Sprintf("%s %s before measuring a baseline: the phases are not compared", pr.Test, verbOf(pr.Status))
			}
		}
		return Baseline.Name + " did not run: the phases are not compared"
	}
	return fmt.Sprintf("%s: p95 %s · p99 %s · %s req/s · %s errors · up to %s VUs", res.Baseline,
		report.FormatDuration(f.P95Ms), report.FormatDuration(f.P99Ms), num(f.RPS), pct(f.ErrorRate), num(f.MaxVUs))
}

// phaseFindings are what a phase found: its failed thresholds (✗ …), then
// its test's verdict lines.
func phaseFindings(pr PhaseResult) []string {
	var out []string
	for _, t := range pr.FailedThresholds {
		out = append(out, "✗ "+t)
	}
	return append(out, pr.Findings...)
}

// vsCell is a phase's p95 and throughput as multiples of the baseline's:
// "×21.4, ×3.3"; "baseline" for the baseline itself, "" without one.
func vsCell(res *Results, pr PhaseResult) string {
	if pr.Test == res.Baseline && res.Baseline != "" {
		return "baseline"
	}
	c := pr.VsBaseline
	if c == nil {
		return ""
	}
	return ratio(c.P95) + ", " + ratio(c.RPS)
}

// ratio renders a multiple: "×0.0016", "×0.03", "×2.50", "×21.4", "×180";
// "—" when unknown.
func ratio(r *float64) string {
	switch {
	case r == nil:
		return "—"
	case *r < 0.01:
		return "×" + strconv.FormatFloat(*r, 'g', 2, 64)
	case *r < 10:
		return "×" + strconv.FormatFloat(*r, 'f', 2, 64)
	case *r < 100:
		return "×" + strconv.FormatFloat(*r, 'f', 1, 64)
	}
	return "×" + strconv.FormatFloat(*r, 'f', 0, 64)
}

// verbOf is how a phase without a baseline's figures ended: "was interrupted".
func verbOf(status string) string {
	if status == StatusInterrupted {
		return "was interrupted"
	}
	return "ended"
}

func statusWord(s string) string {
	if s == StatusNotRun {
		return "not run"
	}
	return s
}

func statusEmoji(s string) string {
	switch s {
	case StatusPassed:
		return "✅"
	case StatusNotRun:
		return "⏭️"
	case StatusInterrupted:
		return "⏹️"
	case StatusInvalid:
		return "⚠️"
	}
	return "❌"
}

// resultFiles counts the phases' result files and HTML reports written.
func resultFiles(res *Results) (files, reports int) {
	for _, pr := range res.Phases {
		if pr.File != "" {
			files++
		}
		if pr.Report != "" {
			reports++
		}
	}
	return files, reports
}

// num renders a figure with at most two decimals: "48.17", "3", "157.5".
func num(x float64) string {
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(x, 'f', 2, 64), "0"), ".")
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

// count is "1 phase", "5 phases".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// dirName is dir as typed, ending in a slash.
func dirName(dir string) string {
	if dir == "" {
		return "./"
	}
	return strings.TrimSuffix(dir, "/") + "/"
}
