package compare

import (
	"fmt"
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
	fmt.Fprintf(&b, "## %s driftload compare %s: %s\n\n", mark, mdText(c.New.Test), mdText(c.Verdict))
	fmt.Fprintf(&b, "**%s** · exit %d\n\n", mdText(plainStatus(c)), c.ExitCode)
	fmt.Fprintf(&b, "- base %s: %s\n- new %s: %s\n\n", mdCode(c.Base.File, false), mdText(runLine(c.Base)), mdCode(c.New.File, false), mdText(runLine(c.New)))
	for _, d := range c.Differences {
		fmt.Fprintf(&b, "- ⚠️ not comparable: %s\n", mdText(d))
	}
	for _, wline := range c.Warnings {
		fmt.Fprintf(&b, "- ⚠️ %s\n", mdText(wline))
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
			fmt.Fprintf(&b, "- %s\n", mdText(r))
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
	cells := []string{mdCode(s.Name, true), mdText(statLabel(ch.Stat)), mdText(r.base), mdText(r.new), mdText(r.change), mdText(r.ci), mdText(r.budget), ok}
	return "| " + strings.Join(cells, " | ") + " |\n"
}

// mdText escapes s as inline markdown text, as a run's summary does: every
// character GitHub would read as markup is backslash-escaped, line breaks
// become spaces.
func mdText(s string) string {
	var b strings.Builder
	for _, c := range oneLine(s) {
		if strings.ContainsRune("\\`*_[]<>|~&$", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mdCode renders s as a code span with a fence longer than any run of
// backticks inside it; in a table cell a pipe is escaped.
func mdCode(s string, cell bool) string {
	s = oneLine(s)
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

// oneLine replaces line breaks and other control characters with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
