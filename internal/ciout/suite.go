package ciout

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"

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

// SuiteJUnit writes the phases as one JUnit XML report named name: a
// <testsuite> a phase, in order. A phase with a result is the suite JUnit
// writes for that result alone (the same test cases, so a CI system's
// history of a test is the same whether it ran alone or in a suite); a phase
// without one is a suite "driftload <test>" with one test case, "run
// completion": skipped when the phase was not run, an error when it ended
// before measuring. The document's counts and time are the phases' sums.
func SuiteJUnit(w io.Writer, name string, phases []SuitePhase) error {
	doc := JUnitSuites{Name: xmlChars(name)}
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
	return EncodeJUnit(w, &doc)
}

// phaseSuite is one phase's <testsuite> and its duration in seconds.
func phaseSuite(ph SuitePhase) (JUnitSuite, float64, error) {
	if ph.Result != nil {
		var b bytes.Buffer
		if err := JUnit(&b, ph.Result); err != nil {
			return JUnitSuite{}, 0, err
		}
		// JUnit's own document, read back: one suite, already sanitized.
		var one JUnitSuites
		if err := xml.Unmarshal(b.Bytes(), &one); err != nil || len(one.Suites) != 1 {
			return JUnitSuite{}, 0, fmt.Errorf("junit: reading back the %s suite: %v", ph.Test, err)
		}
		return one.Suites[0], ph.Result.DurationSeconds, nil
	}
	test := xmlChars(ph.Test)
	s := JUnitSuite{
		Name:       "driftload " + test,
		Time:       seconds(ph.DurationSeconds),
		Properties: []JUnitProperty{{"test", test}, {"passed", "false"}},
	}
	c := JUnitCase{Classname: "driftload." + test, Name: "run completion", Time: seconds(ph.DurationSeconds)}
	switch {
	case ph.Error != "":
		msg := xmlChars(ph.Error)
		c.Error = &JUnitProblem{Message: msg, Type: "not measured", Text: "the phase ended before measuring: " + msg + "\n"}
		s.Errors = 1
		s.Properties = append(s.Properties, JUnitProperty{"exit_code", fmt.Sprint(ph.ExitCode)})
	default:
		c.Skipped = &JUnitSkipped{Message: xmlChars(orDefault(ph.NotRun, "not run"))}
		s.Skipped = 1
	}
	s.Cases, s.Tests = []JUnitCase{c}, 1
	return s, ph.DurationSeconds, nil
}
