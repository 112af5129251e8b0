package ciout

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/report"
)

// The JUnit layout: the common subset Jenkins (junit plugin), GitLab and
// GitHub reporters (dorny/test-reporter, mikepenz/action-junit-report,
// EnricoMi/publish-unit-test-result-action) all read — one <testsuites>
// holding one <testsuite> with its counts, <properties> and <testcase>s
// carrying at most one <failure> or <error> with a message attribute and a
// text body.
//
// JUnitSuites is the document; the run reports, the suite's and compare's
// all write it.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr,omitempty"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one <testsuite>.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []JUnitProperty `xml:"properties>property"`
	Cases      []JUnitCase     `xml:"testcase"`
	SystemOut  *JUnitText      `xml:"system-out"`
}

// JUnitProperty is one <property> of a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one <testcase>, with at most one failure, error or skip.
type JUnitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitProblem `xml:"failure"`
	Error     *JUnitProblem `xml:"error"`
	Skipped   *JUnitSkipped `xml:"skipped"`
}

// JUnitSkipped is a <skipped> test case.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnitProblem is a <failure> (what was asserted did not hold) or an
// <error> (the run could not be judged as asked: interrupted, aborted,
// invalid, unfinished).
type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// JUnitText is a CDATA body (<system-out>).
type JUnitText struct {
	Text string `xml:",cdata"`
}

// JUnit writes r as a JUnit XML report: one suite, "driftload <test>",
// with a test case for every threshold (classname driftload.<test>.thresholds,
// failing when it did not hold or had no data), every check
// (driftload.<test>.checks, failing when any iteration failed it), the
// test's own verdict (driftload.<test>, "verdict", failing when the test
// failed beyond its thresholds), and the run itself: "run validity" (an
// error when driftload could not generate the load asked for) and "run
// completion" (an error when the run was interrupted, aborted or is only a
// checkpoint). So failures count what was judged and failed, errors what
// kept the run from being judged as asked.
//
// Every test case is always present, passing or not, so a CI system's
// history follows each one from run to run. Thresholds and checks judge the
// whole run rather than take time of their own: their time is 0 and the
// verdict's is the run's duration, so readers that add up test case times
// get the suite's.
func JUnit(w io.Writer, r *report.Result) error {
	suite := JUnitSuite{
		Name:       "driftload " + r.Test,
		Time:       seconds(r.DurationSeconds),
		Properties: properties(r),
	}
	if !r.Start.IsZero() {
		// The JUnit schema's timestamp has no zone; the result file's is UTC.
		suite.Timestamp = r.Start.UTC().Format("2006-01-02T15:04:05")
	}
	base := "driftload." + r.Test
	for _, t := range r.Thresholds {
		suite.Cases = append(suite.Cases, thresholdCase(base+".thresholds", r, t))
	}
	for _, c := range r.Checks {
		tc := JUnitCase{Classname: base + ".checks", Name: c.Name, Time: seconds(0)}
		if c.Fails > 0 {
			tc.Failure = &JUnitProblem{
				Message: checkLine(c),
				Type:    "check",
				Text:    fmt.Sprintf("check %q: %d passed, %d failed\n", c.Name, c.Passes, c.Fails),
			}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Cases = append(suite.Cases, verdictCase(base, r), validityCase(base, r), completionCase(base, r))

	out := outcomeOf(r)
	var sys strings.Builder
	fmt.Fprintf(&sys, "%s — %s", out.Word, out.Why)
	if l := exitLine(r); l != "" {
		fmt.Fprintf(&sys, " (%s)", l)
	}
	sys.WriteString("\n")
	if figs := keyFigures(r); len(figs) > 0 {
		fmt.Fprintf(&sys, "%s\n", strings.Join(figs, ", "))
	}
	if l := loadLine(r); l != "" {
		fmt.Fprintf(&sys, "%s\n", l)
	}
	if r.Run.TargetSaturated {
		fmt.Fprintf(&sys, "%s\n", r.Run.SaturationReason)
	}
	suite.SystemOut = &JUnitText{Text: sys.String()}

	for _, tc := range suite.Cases {
		suite.Tests++
		if tc.Failure != nil {
			suite.Failures++
		}
		if tc.Error != nil {
			suite.Errors++
		}
	}
	doc := JUnitSuites{Name: "driftload", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Time: suite.Time, Suites: []JUnitSuite{suite}}
	return EncodeJUnit(w, &doc)
}

// EncodeJUnit writes doc as an XML document, every text made XML-safe first.
func EncodeJUnit(w io.Writer, doc *JUnitSuites) error {
	sanitize(doc)
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err = io.WriteString(w, xml.Header+string(data)+"\n")
	return err
}

func thresholdCase(classname string, r *report.Result, t report.ThresholdResult) JUnitCase {
	tc := JUnitCase{Classname: classname, Name: t.Metric + " " + t.Expression, Time: seconds(0)}
	if t.OK {
		return tc
	}
	var text strings.Builder
	fmt.Fprintf(&text, "threshold %s on %s failed: %s", t.Expression, t.Metric, report.FormatThresholdMeasured(r, t))
	if !t.HasData {
		fmt.Fprintf(&text, " (the metric recorded nothing: a threshold that measured nothing proved nothing)")
	}
	text.WriteString("\n")
	if t.AbortOnFail {
		text.WriteString("abortOnFail: this threshold stops the run when it fails\n")
	}
	msg := "no data, wanted " + t.Expression
	if t.HasData {
		msg = "measured " + report.FormatMeasured(r, t) + ", wanted " + t.Expression
	}
	tc.Failure = &JUnitProblem{Message: msg, Type: "threshold", Text: text.String()}
	return tc
}

func verdictCase(classname string, r *report.Result) JUnitCase {
	tc := JUnitCase{Classname: classname, Name: "verdict", Time: seconds(r.DurationSeconds)}
	if r.Verdict != "" {
		tc.Failure = &JUnitProblem{
			Message: r.Verdict,
			Type:    "verdict",
			Text:    fmt.Sprintf("driftload %s failed beyond its thresholds: %s\n", r.Test, r.Verdict),
		}
	}
	return tc
}

func validityCase(classname string, r *report.Result) JUnitCase {
	tc := JUnitCase{Classname: classname, Name: "run validity", Time: seconds(0)}
	if invalid(r) {
		reasons := r.Run.InvalidReasons
		msg := "invalid run"
		if len(reasons) > 0 {
			msg += ": " + strings.Join(reasons, "; ")
		}
		text := "driftload could not generate the load asked for; its numbers understate what users would see\n"
		for _, reason := range reasons {
			text += "- " + reason + "\n"
		}
		if l := loadLine(r); l != "" {
			text += l + "\n"
		}
		tc.Error = &JUnitProblem{Message: msg, Type: "invalid run", Text: text}
	}
	return tc
}

func completionCase(classname string, r *report.Result) JUnitCase {
	tc := JUnitCase{Classname: classname, Name: "run completion", Time: seconds(0)}
	switch {
	case r.Interrupted:
		why := orDefault(r.AbortReason, "interrupted by signal")
		tc.Error = &JUnitProblem{Message: why, Type: "interrupted", Text: "the run was interrupted before its end: " + why + "\n"}
	case r.Aborted:
		why := orDefault(r.AbortReason, "the run stopped early")
		tc.Error = &JUnitProblem{Message: why, Type: "aborted", Text: "the run stopped before its end: " + why + "\n"}
	case !r.Complete:
		why := outcomeOf(r).Why
		tc.Error = &JUnitProblem{Message: "incomplete: " + why, Type: "incomplete", Text: "the result file is " + why + "\n"}
	}
	return tc
}

// properties are the run's identity, for readers that show them (Jenkins).
func properties(r *report.Result) []JUnitProperty {
	ps := []JUnitProperty{
		{"test", r.Test},
		{"target", r.Target.BaseURL},
		{"embedded_target", strconv.FormatBool(r.Target.Embedded)},
		{"exit_code", strconv.Itoa(r.ExitCode)},
		{"passed", strconv.FormatBool(r.Passed)},
	}
	if r.Run.Model != "" {
		ps = append(ps, JUnitProperty{"run_model", r.Run.Model}, JUnitProperty{"run_valid", strconv.FormatBool(r.Run.Valid)})
	}
	if r.Tool.Version != "" {
		ps = append(ps, JUnitProperty{"driftload_version", r.Tool.Version})
	}
	if !r.End.IsZero() {
		ps = append(ps, JUnitProperty{"end", r.End.UTC().Format(time.RFC3339Nano)})
	}
	return ps
}

// seconds renders a JUnit time: seconds with millisecond precision; never
// negative or not a number, which readers refuse.
func seconds(s float64) string {
	if !(s > 0) {
		s = 0
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}

// sanitize replaces what XML 1.0 cannot hold (control characters, invalid
// UTF-8) in every text of doc. encoding/xml escapes attributes itself but
// writes CDATA sections as they are.
func sanitize(doc *JUnitSuites) {
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Name = xmlChars(s.Name)
		for j := range s.Properties {
			s.Properties[j].Value = xmlChars(s.Properties[j].Value)
		}
		for j := range s.Cases {
			c := &s.Cases[j]
			c.Classname, c.Name = xmlChars(c.Classname), xmlChars(c.Name)
			for _, p := range []*JUnitProblem{c.Failure, c.Error} {
				if p != nil {
					p.Message, p.Text = xmlChars(p.Message), xmlChars(p.Text)
				}
			}
			if c.Skipped != nil {
				c.Skipped.Message = xmlChars(c.Skipped.Message)
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
