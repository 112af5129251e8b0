package compare

import (
	"fmt"
	"github.com/driftload/driftload/internal/ciout"
	"io"
	"strings"
)

// Markdown writes a GitHub-flavoured markdown summary of c, for a job's
// step summary or a pull-request comment: a heading with ✅ or ❌, the
// verdict with its exit code, both runs, a table of the whole run's judged
// changes (and of every endpoint's change that got worse), the
// regressions, and how the intervals were found. Text from the files is
// escaped, as in a run's summary.
func Markdown(w io.Writer, c *Comparison) error {
	var b strings.Builder
	mark := "✅"
	if c.ExitCode != 0 {
		mark = "❌"
	}
	fmt.Fprintf(&b, "## %s driftload compare %s: %s\n\n", mark, ciout.MarkdownText(c.New.Test), ciout.MarkdownText(c.Verdict))
	fmt.Fprintf(&b, "**%s** · exit %d\n\n", ciout.MarkdownText(plainStatus(c)), c.ExitCode)
	fmt.Fprintf(&b, "- base %s: %s\n- new %s: %s\n\n", ciout.MarkdownCode(c.Base.File, false), ciout.MarkdownText(runLine(c.Base)), ciout.MarkdownCode(c.New.File, false), ciout.MarkdownText(runLine(c.New)))
	for _, d := range c.Differences {
		fmt.Fprintf(&b, "- ⚠️ not comparable: %s\n", ciout.MarkdownText(d))
	}
	for _, wline := range c.Warnings {
		fmt.Fprintf(&b, "- ⚠️ %s\n", ciout.MarkdownText(wline))
	}
	if len(c.Differences)+len(c.Warnings) > 0 {
		b.WriteString("\n")
	}

	var rows []string
	for _, group := range [][]Subject{c.Latency, c.Requests} {
		for _, s := range group {
			if !s.Judged {
				continue
			}
			for _, ch := range s.Changes {
				if s.Endpoint != "" && ch.Verdict != VerdictRegression && ch.Verdict != VerdictWorse {
					continue
				}
				rows = append(rows, mdRow(s, ch))
			}
		}
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "| metric | stat | base | new | change | %s CI | budget | |\n|---|---|--:|--:|--:|---|---|:-:|\n", formatPercent(c.Confidence))
		b.WriteString(strings.Join(rows, ""))
		b.WriteString("\n")
	}
	if len(c.Regressions) > 0 {
		b.WriteString("**Regressions**\n\n")
		for _, r := range c.Regressions {
			fmt.Fprintf(&b, "- %s\n", ciout.MarkdownText(r))
		}
		b.WriteString("\n")
	}
	if c.Verdict != OutcomeNotComparable {
		fmt.Fprintf(&b, "%s confidence intervals from %d resamples (seed %d); a change is a regression only when its whole interval lies beyond its budget.\n\n",
			formatPercent(c.Confidence), c.Resamples, c.Seed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdRow(s Subject, ch Change) string {
	r := changeRow(s, ch, s.Judged)
	ok := "✓"
	switch {
	case r.regression:
		ok = "✗"
	case r.dim:
		ok = "·"
	}
	cells := []string{ciout.MarkdownCode(s.Name, true), ciout.MarkdownText(statLabel(ch.Stat)), ciout.MarkdownText(r.base), ciout.MarkdownText(r.new), ciout.MarkdownText(r.change), ciout.MarkdownText(r.ci), ciout.MarkdownText(r.budget), ok}
	return "| " + strings.Join(cells, " | ") + " |\n"
}
