package ciout

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/driftload/driftload/internal/report"
)

// SuitePhase is one phase of a suite (driftload suite) for SuiteJUnit: the
// test it ran and its finished result, or, when it has none, why.
type SuitePhase struct {
	// Test is the phase's test ("smoke").
	Test string
	// Result is the phase's finished result; nil when it measured nothing.
	Result *report.Result
	// Without a result, NotRun says why the phase was not run (the suite
	// stopped before it) and Error why it ended before measuring (a failed
	// pre-flight, an interrupt during it, a configuration error).
	NotRun, Error string
	// ExitCode is the phase's exit code when it has no result.
	ExitCode int
	// DurationSeconds is how long a phase without a result took.
	DurationSeconds float64
}

// The suite document: JUnit's <testsuites> with one <testsuite> a phase.
// A phase with a result is exactly the suite JUnit renders for it; one
// without holds a single "run completion" case, skipped or in error.
type suiteDoc struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []suiteSuite `xml:"testsuite"`
}

type suiteSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []suiteCase     `xml:"testcase"`
	SystemOut  *junitText      `xml:"system-out"`
}

type suiteCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// SuiteJUnit writes the phases as one JUnit XML report named name: a
// <testsuite> a phase, in order. A phase with a result is the suite JUnit
// writes for that result alone (the same test cases, so a CI system's
// history of a test is the same whether it ran alone or in a suite); a phase
// without one is a suite "driftload <test>" with one test case, "run
// completion": skipped when the phase was not run, an error when it ended
// before measuring. The document's counts and time are the phases' sums.
func SuiteJUnit(w io.Writer, name string, phases []SuitePhase) error {
	doc := suiteDoc{Name: xmlChars(name)}
	total := 0.0
	for _, ph := range phases {
		s, secs, err := phaseSuite(ph)
		if err != nil {
			return err
		}
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		total += secs
	}
	doc.Time = seconds(total)
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	var b strings.Builder
	b.WriteString(xml.Header)
	b.Write(data)
	b.WriteByte('\n')
	_, err = io.WriteString(w, b.String())
	return err
}

// phaseSuite is one phase's <testsuite> and its duration in seconds.
func phaseSuite(ph SuitePhase) (suiteSuite, float64, error) {
	if ph.Result != nil {
		var b bytes.Buffer
		if err := JUnit(&b, ph.Result); err != nil {
			return suiteSuite{}, 0, err
		}
		// JUnit's own document, read back: one suite, already sanitized.
		var one suiteDoc
		if err := xml.Unmarshal(b.Bytes(), &one); err != nil || len(one.Suites) != 1 {
			return suiteSuite{}, 0, fmt.Errorf("junit: reading back the %s suite: %v", ph.Test, err)
		}
		return one.Suites[0], ph.Result.DurationSeconds, nil
	}
	test := xmlChars(ph.Test)
	s := suiteSuite{
		Name:       "driftload " + test,
		Time:       seconds(ph.DurationSeconds),
		Properties: []junitProperty{{"test", test}, {"passed", "false"}},
	}
	c := suiteCase{Classname: "driftload." + test, Name: "run completion", Time: seconds(ph.DurationSeconds)}
	switch {
	case ph.Error != "":
		msg := xmlChars(ph.Error)
		c.Error = &junitProblem{Message: msg, Type: "not measured", Text: "the phase ended before measuring: " + msg + "\n"}
		s.Errors = 1
		s.Properties = append(s.Properties, junitProperty{"exit_code", fmt.Sprint(ph.ExitCode)})
	default:
		c.Skipped = &junitSkipped{Message: xmlChars(orDefault(ph.NotRun, "not run"))}
		s.Skipped = 1
	}
	s.Cases, s.Tests = []suiteCase{c}, 1
	return s, ph.DurationSeconds, nil
}

// MarkdownText escapes s as inline markdown text, as the markdown summary
// does: emphasis, links, HTML, table pipes, math and entities stay text, and
// line breaks become spaces.
func MarkdownText(s string) string { return mdText(s) }

// MarkdownCode renders s as a markdown code span whatever backticks it
// holds; in a table cell (cell true) its pipes are escaped.
func MarkdownCode(s string, cell bool) string { return mdCode(s, cell) }
