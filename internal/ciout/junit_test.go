package ciout

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/report"
)

// The shapes a JUnit reader sees, declared apart from the writer's so a
// test reads what a reader would.
type readSuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Suites   []readSuite `xml:"testsuite"`
}

type readSuite struct {
	Name       string     `xml:"name,attr"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Time       string     `xml:"time,attr"`
	Timestamp  string     `xml:"timestamp,attr"`
	Properties []struct{} `xml:"properties>property"`
	Cases      []readCase `xml:"testcase"`
	SystemOut  string     `xml:"system-out"`
}

type readCase struct {
	Classname string       `xml:"classname,attr"`
	Name      string       `xml:"name,attr"`
	Time      string       `xml:"time,attr"`
	Failure   *readProblem `xml:"failure"`
	Error     *readProblem `xml:"error"`
}

type readProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// wellFormed reads every token of doc, as a strict XML parser does.
func wellFormed(t *testing.T, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("JUnit is not well-formed XML: %v\n%s", err, doc)
		}
	}
}

func parseJUnit(t *testing.T, doc []byte) readSuites {
	t.Helper()
	wellFormed(t, doc)
	var s readSuites
	if err := xml.Unmarshal(doc, &s); err != nil {
		t.Fatalf("parse JUnit: %v\n%s", err, doc)
	}
	if len(s.Suites) != 1 {
		t.Fatalf("%d test suites, want 1", len(s.Suites))
	}
	return s
}

// counted is what a reader counts in the suite's test cases.
func counted(s readSuite) (tests, failures, errs int) {
	for _, c := range s.Cases {
		tests++
		if c.Failure != nil {
			failures++
		}
		if c.Error != nil {
			errs++
		}
	}
	return
}

func renderJUnit(t *testing.T, r *report.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := JUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestJUnitGolden(t *testing.T) {
	for _, tc := range resultCases {
		t.Run(tc.name, func(t *testing.T) {
			doc := renderJUnit(t, tc.result(t))
			golden(t, tc.name+".xml", doc)
		})
	}
}

// The counts a reader shows are the counts of the attributes, which are
// the test cases' own, which are the case's.
func TestJUnitCountsWhatItHolds(t *testing.T) {
	for _, tc := range resultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := parseJUnit(t, renderJUnit(t, tc.result(t)))
			suite := s.Suites[0]
			tests, failures, errs := counted(suite)
			if suite.Tests != tests || suite.Failures != failures || suite.Errors != errs {
				t.Errorf("suite says tests=%d failures=%d errors=%d, holds %d, %d, %d", suite.Tests, suite.Failures, suite.Errors, tests, failures, errs)
			}
			if s.Tests != tests || s.Failures != failures || s.Errors != errs || s.Time != suite.Time {
				t.Errorf("testsuites says tests=%d failures=%d errors=%d time=%s, suite %d, %d, %d, %s", s.Tests, s.Failures, s.Errors, s.Time, tests, failures, errs, suite.Time)
			}
			if tests != tc.tests || failures != tc.failures || errs != tc.errors {
				t.Errorf("tests=%d failures=%d errors=%d, want %d, %d, %d", tests, failures, errs, tc.tests, tc.failures, tc.errors)
			}
			for _, c := range suite.Cases {
				if c.Failure != nil && c.Error != nil {
					t.Errorf("%s %q has both a failure and an error", c.Classname, c.Name)
				}
				for _, p := range []*readProblem{c.Failure, c.Error} {
					if p != nil && (p.Message == "" || p.Type == "" || strings.TrimSpace(p.Text) == "") {
						t.Errorf("%s %q: a failure or error wants a message, a type and details: %+v", c.Classname, c.Name, p)
					}
				}
				if _, err := strconv.ParseFloat(c.Time, 64); err != nil {
					t.Errorf("%s %q: time %q is not a number", c.Classname, c.Name, c.Time)
				}
			}
		})
	}
}

// Every result file of testdata gives well-formed JUnit whose failures are
// the failed thresholds, the failed checks and the verdict.
func TestJUnitOfEveryResultFile(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("result files in testdata: %v, %v", files, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			r, err := report.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, th := range r.Thresholds {
				if !th.OK {
					want++
				}
			}
			for _, c := range r.Checks {
				if c.Fails > 0 {
					want++
				}
			}
			if r.Verdict != "" {
				want++
			}
			s := parseJUnit(t, renderJUnit(t, r))
			if got := s.Suites[0].Failures; got != want {
				t.Errorf("failures=%d, want %d (failed thresholds + failed checks + verdict)", got, want)
			}
			if _, failures, _ := counted(s.Suites[0]); failures != want {
				t.Errorf("%d test cases hold a failure, want %d", failures, want)
			}
		})
	}
}

// Test cases name what they judge, and a failure says what was measured
// against what was wanted, in the summary's units.
func TestJUnitCases(t *testing.T) {
	var r resultCase
	for _, tc := range resultCases {
		if tc.name == "windowed-aborted-verdict" {
			r = tc
		}
	}
	s := parseJUnit(t, renderJUnit(t, r.result(t)))
	byName := map[string]readCase{}
	for _, c := range s.Suites[0].Cases {
		byName[c.Classname+" / "+c.Name] = c
	}
	tests := []struct {
		key, kind, typ, message string
	}{
		{"driftload.stress.thresholds / http_req_duration p(99)<1000", "", "", ""},
		{"driftload.stress.thresholds / http_req_duration p(99)<1000 over 10s", "failure", "threshold", "measured 5.12s, wanted p(99)<1000 over 10s"},
		{"driftload.stress.thresholds / http_req_failed rate<0.05 for 30s", "failure", "threshold", "measured 8.10%, wanted rate<0.05 for 30s"},
		{"driftload.stress.thresholds / http_req_duration{endpoint:detect} p(95)<800", "failure", "threshold", "no data, wanted p(95)<800"},
		{"driftload.stress.checks / detect status 200", "failure", "check", "385 of 5185 failed"},
		{`driftload.stress.checks / body has "anomalies" & <score>`, "", "", ""},
		{"driftload.stress / verdict", "failure", "verdict", "breaking point at 120 VUs: errors rose above 5%"},
		{"driftload.stress / run validity", "", "", ""},
		{"driftload.stress / run completion", "error", "aborted", "threshold http_req_failed rate<0.05 for 30s failed (abortOnFail)"},
	}
	for _, tt := range tests {
		c, ok := byName[tt.key]
		if !ok {
			t.Errorf("no test case %s", tt.key)
			continue
		}
		var p *readProblem
		switch tt.kind {
		case "failure":
			p = c.Failure
		case "error":
			p = c.Error
		}
		if tt.kind == "" {
			if c.Failure != nil || c.Error != nil {
				t.Errorf("%s: want it passing, got failure %+v error %+v", tt.key, c.Failure, c.Error)
			}
			continue
		}
		if p == nil || p.Type != tt.typ || p.Message != tt.message {
			t.Errorf("%s: want %s type=%q message=%q, got failure %+v error %+v", tt.key, tt.kind, tt.typ, tt.message, c.Failure, c.Error)
		}
	}
	if w := byName["driftload.stress.thresholds / http_req_duration p(99)<1000 over 10s"]; w.Failure == nil || !strings.Contains(w.Failure.Text, "worst 10s window 5.12s (8s–18s), 51 windows") {
		t.Errorf("a windowed threshold's details name its worst window: %+v", w.Failure)
	}
}

// Whatever a name holds — markup, quotes, CDATA's end, control characters,
// bytes that are not UTF-8 — the document stays well-formed and reads back
// as the name, with what XML cannot hold replaced by U+FFFD.
func TestJUnitEscapes(t *testing.T) {
	tests := []struct{ name, want string }{
		{`<b>&amp;"quoted" 'single'`, `<b>&amp;"quoted" 'single'`},
		{"ends ]]> a CDATA section", "ends ]]> a CDATA section"},
		{"bell\a nul\x00 esc\x1b", "bell\uFFFD nul\uFFFD esc\uFFFD"},
		{"not utf-8 \xff\xfe", "not utf-8 \uFFFD\uFFFD"},
		{"line\nbreak\ttab", "line\nbreak\ttab"},
		{"ünïcödé ✓ 😀", "ünïcödé ✓ 😀"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.name), func(t *testing.T) {
			t.Parallel()
			r := &report.Result{
				Test: "smoke", Complete: true, Run: report.Run{Model: "closed", Valid: true},
				Verdict:    tt.name,
				Thresholds: []report.ThresholdResult{{Metric: tt.name, Expression: "rate<0.01", HasData: true, Measured: 0.5}},
				Checks:     []report.CheckResult{{Name: tt.name, Fails: 1}},
			}
			s := parseJUnit(t, renderJUnit(t, r))
			cases := s.Suites[0].Cases
			if got := cases[0].Name; got != tt.want+" rate<0.01" {
				t.Errorf("threshold case name %q, want %q", got, tt.want+" rate<0.01")
			}
			if got := cases[1].Name; got != tt.want {
				t.Errorf("check case name %q, want %q", got, tt.want)
			}
			if f := cases[2].Failure; f == nil || f.Message != tt.want || !strings.Contains(f.Text, tt.want) {
				t.Errorf("verdict failure %+v, want message and details %q", f, tt.want)
			}
		})
	}
}
