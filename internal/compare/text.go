package compare

import (
	"fmt"
	"io"
	"strings"

	"github.com/driftload/driftload/internal/report"
)

// TextOptions tune the terminal table.
type TextOptions struct {
	// Color turns on ANSI colours (off for files, pipes and NO_COLOR).
	Color bool
	// Compact leaves out the other Trends and the per-endpoint rows that
	// hold no news (--quiet): what was judged and failed stays.
	Compact bool
}

type palette = report.Palette

func newPalette(on bool) palette { return report.NewPalette(on) }

// row is one line of the table before alignment.
type row struct {
	mark, label, base, new, change, ci, budget, verdict string
	regression, dim                                     bool
}

// WriteText prints the comparison as a table, coloured like the run
// summary: the judged percentiles of every judged metric and endpoint,
// the error rate and throughput, the other Trends' p95, then the verdict
// and every regression.
func WriteText(w io.Writer, c *Comparison, opts TextOptions) error {
	p := newPalette(opts.Color)
	var b strings.Builder
	fmt.Fprintf(&b, "\n  %s  ·  %s  ·  %s → %s\n", p.Bold("driftload compare"), c.Base.Test, c.Base.File, c.New.File)
	for _, ri := range []struct {
		which string
		r     RunInfo
	}{{"base", c.Base}, {"new ", c.New}} {
		fmt.Fprintf(&b, "  %s  %s\n", ri.which, runLine(ri.r))
	}
	fmt.Fprintf(&b, "  %s confidence intervals from %d resamples (seed %d); a change is a regression when its whole interval lies beyond its budget\n",
		formatPercent(c.Confidence), c.Resamples, c.Seed)
	for _, d := range c.Differences {
		fmt.Fprintf(&b, "  %s %s\n", p.Bad("! not comparable:"), d)
	}
	for _, wline := range c.Warnings {
		fmt.Fprintf(&b, "  %s %s\n", p.Bad("! warning:"), wline)
	}

	var latency, other, requests []row
	for _, s := range c.Latency {
		switch {
		case s.Judged:
			for _, ch := range s.Changes {
				latency = append(latency, changeRow(s, ch, s.Judged))
			}
		case s.Endpoint == "" && !opts.Compact:
			for _, ch := range s.Changes {
				if ch.Stat == "p95" {
					other = append(other, changeRow(s, ch, false))
				}
			}
		}
	}
	for _, stat := range []string{StatErrorRate, StatThroughput} {
		for _, s := range c.Requests {
			for _, ch := range s.Changes {
				if ch.Stat == stat {
					requests = append(requests, changeRow(s, ch, true))
				}
			}
		}
	}
	if opts.Compact {
		latency, requests = newsOnly(latency), newsOnly(requests)
	}
	all := append(append(append([]row{}, latency...), requests...), other...)
	widths := columnWidths(all)
	section := func(title string, rows []row) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n  %s\n", p.Bold(title))
		fmt.Fprintf(&b, "      %s\n", p.Dim(strings.TrimRight(formatRow(row{label: "", base: "base", new: "new", change: "change",
			ci: formatPercent(c.Confidence) + " CI", budget: "budget"}, widths), " ")))
		for _, r := range rows {
			line := formatRow(r, widths)
			mark := r.mark
			switch {
			case r.regression:
				mark, line = p.Bad(mark), p.Bad(line)
			case r.dim:
				mark, line = p.Dim(mark), p.Dim(line)
			case mark == "✓":
				mark = p.OK(mark)
			}
			fmt.Fprintf(&b, "    %s %s\n", mark, strings.TrimRight(line, " "))
		}
	}
	section("LATENCY", latency)
	section("REQUESTS", requests)
	section("OTHER TRENDS (p95, not judged)", other)

	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "  %s (exit %d)\n", statusLine(c, p), c.ExitCode)
	for _, r := range c.Regressions {
		fmt.Fprintf(&b, "    %s %s\n", p.Bad("✗"), r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// statusLine is the verdict line without its exit code.
func statusLine(c *Comparison, p palette) string {
	switch c.Verdict {
	case OutcomeNotComparable:
		return p.Bad("✗ NOT COMPARABLE") + " — " + strings.Join(c.Differences, "; ")
	case OutcomeRegression:
		return p.Bad("✗ REGRESSION") + fmt.Sprintf(" — %d of %d judged changes beyond their budget", len(c.Regressions), c.Judged)
	}
	if c.Judged == 0 {
		return p.OK("✓ NO REGRESSION") + " — no change was judged (no budget, or too few samples)"
	}
	return p.OK("✓ NO REGRESSION") + fmt.Sprintf(" — all %d judged changes within their budget", c.Judged)
}

// runLine describes one run: "2026-12-01 10:24:12 UTC · 887 requests in 18.6s · run 5b74vcrp".
func runLine(r RunInfo) string {
	var parts []string
	if !r.Start.IsZero() {
		parts = append(parts, r.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	parts = append(parts, fmt.Sprintf("%d requests in %s", r.Requests, report.FormatDuration(r.DurationSeconds*1000)))
	if r.RunID != "" {
		parts = append(parts, "run "+r.RunID)
	}
	if r.Version != "" {
		parts = append(parts, "driftload "+r.Version)
	}
	return strings.Join(parts, " · ")
}

// newsOnly keeps the whole-run rows and the rows that changed.
func newsOnly(rows []row) []row {
	var out []row
	for _, r := range rows {
		if !strings.HasPrefix(r.label, "  ") || r.regression || strings.HasPrefix(r.verdict, VerdictWorse) {
			out = append(out, r)
		}
	}
	return out
}

func changeRow(s Subject, ch Change, judged bool) row {
	label := s.Metric
	if s.Endpoint != "" {
		label = "  {" + endpointTag + ":" + s.Endpoint + "}"
	}
	r := row{label: label + " " + statLabel(ch.Stat), base: formatStat(ch, ch.Base), new: formatStat(ch, ch.New)}
	if ch.Verdict == VerdictInsufficient && ch.Base == 0 && ch.New == 0 {
		r.base, r.new = "-", "-"
	}
	if ch.Verdict != VerdictInsufficient || ch.CI != nil {
		r.change = formatChange(ch, ch.Change)
	}
	if ch.CI != nil {
		r.ci = formatChange(ch, ch.CI[0]) + " … " + formatChange(ch, ch.CI[1])
	}
	if judged && ch.Limit != nil {
		r.budget = formatLimit(ch)
	}
	r.verdict = ch.Verdict
	if ch.Note != "" {
		r.verdict += " (" + ch.Note + ")"
	}
	switch {
	case ch.Verdict == VerdictRegression:
		r.mark, r.regression = "✗", true
	case ch.Verdict == VerdictInsufficient || !judged || ch.Limit == nil:
		r.mark, r.dim = "·", true
	default:
		r.mark = "✓"
	}
	if ch.Verdict == VerdictUnchanged {
		r.verdict = ""
	}
	if ch.Verdict == VerdictWorse && judged && ch.Limit != nil && ch.Note == "" {
		r.verdict = "worse, within budget"
	}
	return r
}

// formatStat renders a statistic in its unit.
func formatStat(ch Change, x float64) string {
	switch ch.Stat {
	case StatErrorRate:
		return fmt.Sprintf("%.2f%%", 100*x)
	case StatThroughput:
		return trimNum(x, 2) + "/s"
	}
	return report.FormatDuration(x)
}

type widths struct{ label, base, new, change, ci, budget int }

func columnWidths(rows []row) widths {
	w := widths{base: len("base"), new: len("new"), change: len("change"), ci: len("95% CI"), budget: len("budget")}
	for _, r := range rows {
		w.label = max(w.label, runeLen(r.label))
		w.base = max(w.base, runeLen(r.base))
		w.new = max(w.new, runeLen(r.new))
		w.change = max(w.change, runeLen(r.change))
		w.ci = max(w.ci, runeLen(r.ci))
		w.budget = max(w.budget, runeLen(r.budget))
	}
	return w
}

func formatRow(r row, w widths) string {
	return pad(r.label, w.label, false) + "  " + pad(r.base, w.base, true) + "  " + pad(r.new, w.new, true) + "  " +
		pad(r.change, w.change, true) + "  " + pad(r.ci, w.ci, false) + "  " + pad(r.budget, w.budget, false) + "  " + r.verdict
}

func pad(s string, n int, right bool) string {
	gap := n - runeLen(s)
	if gap <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", gap) + s
	}
	return s + strings.Repeat(" ", gap)
}

func runeLen(s string) int { return len([]rune(s)) }
