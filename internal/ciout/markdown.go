package ciout

import (
	"fmt"
	"io"
	"strings"

	"github.com/driftload/driftload/internal/report"
)

// Markdown writes a GitHub-flavoured markdown summary of r, for a job's
// step summary or a pull-request comment: a heading with ✅ or ❌, the test
// and its target; the status with the exit code and its meaning; a table of
// the thresholds (✓/✗, what each measured, the worst window of a windowed
// one); how the load was generated and whether the run is valid; the checks;
// and the key figures (requests, their rate, p95 of http_req_duration,
// error rate).
//
// Text from the result (names, reasons, verdicts) is escaped, so a check
// called "a|b" or "<script>" stays text.
func Markdown(w io.Writer, r *report.Result) error {
	var b strings.Builder
	mark := "❌"
	if r.Passed {
		mark = "✅"
	}
	fmt.Fprintf(&b, "## %s driftload %s against %s\n\n", mark, MarkdownText(r.Test), MarkdownCode(r.Target.BaseURL, false))

	out := outcomeOf(r)
	fmt.Fprintf(&b, "**%s** — %s", out.Word, MarkdownText(out.Why))
	if l := exitLine(r); l != "" {
		fmt.Fprintf(&b, " · %s", MarkdownText(l))
	}
	b.WriteString("\n\n")

	var when []string
	if r.Target.Embedded {
		when = append(when, "embedded reference server")
	}
	if r.DurationSeconds > 0 {
		when = append(when, "ran "+report.FormatDuration(r.DurationSeconds*1000))
	}
	if !r.Start.IsZero() {
		when = append(when, "started "+r.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if r.Tool.Version != "" {
		when = append(when, "driftload "+MarkdownText(r.Tool.Version))
	}
	if len(when) > 0 {
		fmt.Fprintf(&b, "%s\n\n", strings.Join(when, " · "))
	}

	if len(r.Thresholds) > 0 {
		b.WriteString("| metric | threshold | measured | |\n|---|---|---|:-:|\n")
		for _, t := range r.Thresholds {
			ok := "✓"
			if !t.OK {
				ok = "✗"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", MarkdownCode(t.Metric, true), MarkdownCode(t.Expression, true), MarkdownText(measuredCell(r, t)), ok)
		}
		b.WriteString("\n")
	}

	if l := loadLine(r); l != "" {
		status := "valid"
		if invalid(r) {
			status = "**invalid**: driftload could not generate the load asked for"
		}
		fmt.Fprintf(&b, "**Run** %s · %s\n", MarkdownText(l), status)
		for _, reason := range r.Run.InvalidReasons {
			fmt.Fprintf(&b, "- ✗ %s\n", MarkdownText(reason))
		}
		if r.Run.TargetSaturated {
			fmt.Fprintf(&b, "- %s\n", MarkdownText(r.Run.SaturationReason))
		}
		b.WriteString("\n")
	}

	if len(r.Checks) > 0 {
		var failed []string
		for _, c := range r.Checks {
			if c.Fails > 0 {
				failed = append(failed, fmt.Sprintf("%s %s", MarkdownCode(c.Name, false), checkLine(c)))
			}
		}
		if len(failed) == 0 {
			fmt.Fprintf(&b, "**Checks** all %d passed\n\n", len(r.Checks))
		} else {
			fmt.Fprintf(&b, "**Checks** %d of %d failed: %s\n\n", len(failed), len(r.Checks), strings.Join(failed, " · "))
		}
	}

	if figs := keyFigures(r); len(figs) > 0 {
		fmt.Fprintf(&b, "**Key figures** %s\n\n", strings.Join(figs, " · "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// measuredCell is a threshold's measured value, or "no data", with the
// worst window of a windowed threshold.
func measuredCell(r *report.Result, t report.ThresholdResult) string {
	switch {
	case !t.HasData:
		return "no data"
	case t.Window != nil:
		return report.FormatWindow(r, t)
	}
	return report.FormatMeasured(r, t)
}

// MarkdownText escapes s as inline markdown text: every character GitHub would
// read as emphasis, a link, HTML, a table cell's end, math or an entity is
// backslash-escaped, and line breaks become spaces.
func MarkdownText(s string) string {
	var b strings.Builder
	for _, c := range OneLine(s) {
		if strings.ContainsRune("\\`*_[]<>|~&$", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// MarkdownCode renders s as a code span, with a fence longer than any run of
// backticks inside it. In a table cell (cell true) a pipe is escaped, as
// GitHub splits cells before it reads code spans.
func MarkdownCode(s string, cell bool) string {
	s = OneLine(s)
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return fence + s + fence
}

// OneLine replaces line breaks and other control characters with spaces.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
