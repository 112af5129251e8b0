package compare

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
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

// The JUnit layout is the run reports' (internal/ciout): one <testsuites>
// holding one <testsuite>, test cases with at most one <failure>, <error>
// or <skipped>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  *junitText      `xml:"system-out"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitText struct {
	Text string `xml:",cdata"`
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
	suite := junitSuite{Name: "driftload compare " + test, Time: "0.000", Properties: junitProperties(c)}
	if !c.New.Start.IsZero() {
		suite.Timestamp = c.New.Start.UTC().Format("2006-01-02T15:04:05")
	}
	base := "driftload.compare." + test
	comp := junitCase{Classname: base, Name: "comparability", Time: "0.000"}
	if len(c.Differences) > 0 && !c.Forced {
		comp.Error = &junitProblem{Message: "not comparable: " + strings.Join(c.Differences, "; "), Type: "not comparable",
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
				tc := junitCase{Classname: base + "." + s.Metric, Name: s.Name + " " + statLabel(ch.Stat), Time: "0.000"}
				switch ch.Verdict {
				case VerdictRegression:
					tc.Failure = &junitProblem{Message: RegressionLine(s, ch, c.Confidence), Type: "regression", Text: changeText(s, ch, c)}
				case VerdictInsufficient:
					tc.Skipped = &junitSkipped{Message: "insufficient data: " + ch.Note}
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
	suite.SystemOut = &junitText{Text: sys.String()}
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
	doc := junitSuites{Name: "driftload", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []junitSuite{suite}}
	sanitize(&doc)
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err = io.WriteString(w, xml.Header+string(data)+"\n")
	return err
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

func junitProperties(c *Comparison) []junitProperty {
	ps := []junitProperty{
		{"test", c.New.Test},
		{"base_file", c.Base.File},
		{"new_file", c.New.File},
		{"base_config_hash", c.Base.ConfigHash},
		{"new_config_hash", c.New.ConfigHash},
		{"comparable", strconv.FormatBool(c.Comparable)},
		{"confidence", strconv.FormatFloat(c.Confidence, 'g', -1, 64)},
		{"resamples", strconv.Itoa(c.Resamples)},
		{"seed", strconv.FormatUint(c.Seed, 10)},
		{"verdict", c.Verdict},
		{"exit_code", strconv.Itoa(c.ExitCode)},
	}
	if c.Base.RunID != "" {
		ps = append(ps, junitProperty{"base_run_id", c.Base.RunID})
	}
	if c.New.RunID != "" {
		ps = append(ps, junitProperty{"new_run_id", c.New.RunID})
	}
	return ps
}

// sanitize replaces what XML 1.0 cannot hold in every text of doc, as the
// run reports do: encoding/xml escapes attributes but writes CDATA as is.
func sanitize(doc *junitSuites) {
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Name = xmlChars(s.Name)
		for j := range s.Properties {
			s.Properties[j].Value = xmlChars(s.Properties[j].Value)
		}
		for j := range s.Cases {
			tc := &s.Cases[j]
			tc.Classname, tc.Name = xmlChars(tc.Classname), xmlChars(tc.Name)
			for _, p := range []*junitProblem{tc.Failure, tc.Error} {
				if p != nil {
					p.Message, p.Text = xmlChars(p.Message), xmlChars(p.Text)
				}
			}
			if tc.Skipped != nil {
				tc.Skipped.Message = xmlChars(tc.Skipped.Message)
			}
		}
		if s.SystemOut != nil {
			s.SystemOut.Text = xmlChars(s.SystemOut.Text)
		}
	}
}

// xmlChars replaces every rune outside XML 1.0's Char production (and
// every byte that is not UTF-8) with U+FFFD.
func xmlChars(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
