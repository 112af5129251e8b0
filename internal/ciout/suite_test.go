package ciout

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

func TestSuiteJUnitHasATestSuiteAPhase(t *testing.T) {
	t.Parallel()
	smoke, soak, stress := load(t, "smoke"), load(t, "soak"), load(t, "stress-open")
	phases := []SuitePhase{
		{Test: "smoke", Result: smoke},
		{Test: "load", Error: "target not ready: pre-flight GET http://127.0.0.1:1/healthz: connection refused", ExitCode: 108, DurationSeconds: 0.004},
		{Test: "stress", Result: stress},
		{Test: "soak", Result: soak},
		{Test: "capacity", NotRun: "smoke failed: fix it before going on <&>"},
	}
	var b bytes.Buffer
	if err := SuiteJUnit(&b, "driftload suite", phases); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, b.Bytes())
	golden(t, "suite.xml", b.Bytes())

	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name    string       `xml:"name,attr"`
				Error   *readProblem `xml:"error"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != len(phases) {
		t.Fatalf("%d suites, want one a phase (%d)", len(doc.Suites), len(phases))
	}
	// A phase with a result is exactly the suite JUnit writes for it alone.
	for i, r := range map[int]*SuitePhase{0: &phases[0], 2: &phases[2], 3: &phases[3]} {
		var one bytes.Buffer
		if err := JUnit(&one, r.Result); err != nil {
			t.Fatal(err)
		}
		var alone readSuites
		if err := xml.Unmarshal(one.Bytes(), &alone); err != nil {
			t.Fatal(err)
		}
		s := doc.Suites[i]
		if s.Name != alone.Suites[0].Name || s.Tests != alone.Suites[0].Tests || s.Failures != alone.Suites[0].Failures || s.Errors != alone.Suites[0].Errors {
			t.Errorf("phase %s: suite %s %d/%d/%d, alone %s %d/%d/%d", r.Test, s.Name, s.Tests, s.Failures, s.Errors,
				alone.Suites[0].Name, alone.Suites[0].Tests, alone.Suites[0].Failures, alone.Suites[0].Errors)
		}
	}
	if s := doc.Suites[1]; s.Name != "driftload load" || s.Errors != 1 || len(s.Cases) != 1 || s.Cases[0].Name != "run completion" ||
		s.Cases[0].Error == nil || !strings.Contains(s.Cases[0].Error.Message, "target not ready") {
		t.Errorf("a phase that ended before measuring must be one errored run completion: %+v", s)
	}
	if s := doc.Suites[4]; s.Skipped != 1 || s.Cases[0].Skipped == nil || s.Cases[0].Skipped.Message != "smoke failed: fix it before going on <&>" {
		t.Errorf("a phase not run must be one skipped run completion: %+v", s)
	}
	tests, failures, errors := 0, 0, 0
	for _, s := range doc.Suites {
		tests, failures, errors = tests+s.Tests, failures+s.Failures, errors+s.Errors
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Errors != errors {
		t.Errorf("document counts %d/%d/%d, the suites' sums %d/%d/%d", doc.Tests, doc.Failures, doc.Errors, tests, failures, errors)
	}
}

func TestMarkdownHelpersEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, text, code string }{
		{"a_b", `a\_b`, "`a_b`"},
		{"x|y<z>", `x\|y\<z\>`, "`x\\|y<z>`"},
		{"`tick`", "\\`tick\\`", "`` `tick` ``"},
	} {
		if got := MarkdownText(tc.in); got != tc.text {
			t.Errorf("MarkdownText(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := MarkdownCode(tc.in, true); got != tc.code {
			t.Errorf("MarkdownCode(%q, cell) = %q, want %q", tc.in, got, tc.code)
		}
	}
}
