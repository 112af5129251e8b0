package compare

import (
	"encoding/json"
	"fmt"
	"github.com/driftload/driftload/internal/ciout"
	"io"
	"strconv"
	"strings"
)

// WriteJSON writes the comparison document: c as indented JSON.
func WriteJSON(w io.Writer, c *Comparison) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("comparison document: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// JUnit writes c as a JUnit XML report: one suite, "driftload compare
// <test>", with a "comparability" case (an error when the runs are not
// comparable, which then is the only case) and a case for every judged
// change (classname driftload.compare.<test>.<metric>, name
// "<sub-metric> <stat>"), failing when it regressed beyond its budget and
// skipped when there were too few samples to judge it. Every judged case is
// always present, so a CI system's history follows each from build to
// build.
func JUnit(w io.Writer, c *Comparison) error {
	test := c.New.Test
	suite := ciout.JUnitSuite{Name: "driftload compare " + test, Time: "0.000", Properties: junitProperties(c)}
	if !c.New.Start.IsZero() {
		suite.Timestamp = c.New.Start.UTC().Format("2006-01-02T15:04:05")
	}
	base := "driftload.compare." + test
	comp := ciout.JUnitCase{Classname: base, Name: "comparability", Time: "0.000"}
	if len(c.Differences) > 0 && !c.Forced {
		comp.Error = &ciout.JUnitProblem{Message: "not comparable: " + strings.Join(c.Differences, "; "), Type: "not comparable",
			Text: "the runs differ in what defines their load; --force compares them anyway\n- " + strings.Join(c.Differences, "\n- ") + "\n"}
	}
	suite.Cases = append(suite.Cases, comp)
	for _, group := range [][]Subject{c.Latency, c.Requests} {
		for _, s := range group {
			if !s.Judged {
				continue
			}
			for _, ch := range s.Changes {
				if ch.Limit == nil {
					continue
				}
				tc := ciout.JUnitCase{Classname: base + "." + s.Metric, Name: s.Name + " " + statLabel(ch.Stat), Time: "0.000"}
				switch ch.Verdict {
				case VerdictRegression:
					tc.Failure = &ciout.JUnitProblem{Message: RegressionLine(s, ch, c.Confidence), Type: "regression", Text: changeText(s, ch, c)}
				case VerdictInsufficient:
					tc.Skipped = &ciout.JUnitSkipped{Message: "insufficient data: " + ch.Note}
				}
				suite.Cases = append(suite.Cases, tc)
			}
		}
	}
	var sys strings.Builder
	fmt.Fprintf(&sys, "%s (exit %d)\n", plainStatus(c), c.ExitCode)
	fmt.Fprintf(&sys, "base %s: %s\nnew %s: %s\n", c.Base.File, runLine(c.Base), c.New.File, runLine(c.New))
	for _, wline := range c.Warnings {
		fmt.Fprintf(&sys, "warning: %s\n", wline)
	}
	suite.SystemOut = &ciout.JUnitText{Text: sys.String()}
	for _, tc := range suite.Cases {
		suite.Tests++
		switch {
		case tc.Failure != nil:
			suite.Failures++
		case tc.Error != nil:
			suite.Errors++
		case tc.Skipped != nil:
			suite.Skipped++
		}
	}
	doc := ciout.JUnitSuites{Name: "driftload", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []ciout.JUnitSuite{suite}}
	return ciout.EncodeJUnit(w, &doc)
}

// changeText is a failed case's body: both values, the change and how it
// was judged.
func changeText(s Subject, ch Change, c *Comparison) string {
	return fmt.Sprintf("%s %s: base %s, new %s, change %s (%s CI %s … %s by %s), budget %s\nsamples: base %d, new %d\n",
		s.Name, statLabel(ch.Stat), formatStat(ch, ch.Base), formatStat(ch, ch.New), formatChange(ch, ch.Change),
		formatPercent(c.Confidence), formatChange(ch, ch.CI[0]), formatChange(ch, ch.CI[1]), ch.Method, formatLimit(ch), s.BaseCount, s.NewCount)
}

// plainStatus is the verdict line without colours.
func plainStatus(c *Comparison) string {
	return statusLine(c, newPalette(false))
}

func junitProperties(c *Comparison) []ciout.JUnitProperty {
	ps := []ciout.JUnitProperty{
		{Name: "test", Value: c.New.Test},
		{Name: "base_file", Value: c.Base.File},
		{Name: "new_file", Value: c.New.File},
		{Name: "base_config_hash", Value: c.Base.ConfigHash},
		{Name: "new_config_hash", Value: c.New.ConfigHash},
		{Name: "comparable", Value: strconv.FormatBool(c.Comparable)},
		{Name: "confidence", Value: strconv.FormatFloat(c.Confidence, 'g', -1, 64)},
		{Name: "resamples", Value: strconv.Itoa(c.Resamples)},
		{Name: "seed", Value: strconv.FormatUint(c.Seed, 10)},
		{Name: "verdict", Value: c.Verdict},
		{Name: "exit_code", Value: strconv.Itoa(c.ExitCode)},
	}
	if c.Base.RunID != "" {
		ps = append(ps, ciout.JUnitProperty{Name: "base_run_id", Value: c.Base.RunID})
	}
	if c.New.RunID != "" {
		ps = append(ps, ciout.JUnitProperty{Name: "new_run_id", Value: c.New.RunID})
	}
	return ps
}
