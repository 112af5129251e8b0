package threshold

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

func TestParseBudgetValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		parse func(string) (float64, error)
		in    string
		want  float64
		err   string
	}{
		{"percent", ParseRegression, "10%", 0.10, ""},
		{"percent with spaces", ParseRegression, " 2.5 % ", 0.025, ""},
		{"zero percent", ParseRegression, "0%", 0, ""},
		{"percent over 100", ParseRegression, "150%", 1.5, ""},
		{"bare number", ParseRegression, "10", 0, `"10": want a percentage such as "10%"`},
		{"fraction", ParseRegression, "0.1", 0, `want a percentage`},
		{"negative percent", ParseRegression, "-5%", 0, `"-5%": a regression budget must not be negative`},
		{"not a number", ParseRegression, "ten%", 0, `want a percentage`},
		{"NaN percent", ParseRegression, "NaN%", 0, `want a percentage`},
		{"Inf percent", ParseRegression, "Inf%", 0, `want a percentage`},
		{"hex percent", ParseRegression, "0x10%", 0, `want a percentage`},
		{"points", ParsePoints, "0.5pp", 0.005, ""},
		{"whole points", ParsePoints, "2pp", 0.02, ""},
		{"points as percent", ParsePoints, "0.5%", 0, `"0.5%": want percentage points such as "0.5pp"`},
		{"points over 100", ParsePoints, "101pp", 0, `percentage points must be in [0, 100]`},
		{"negative points", ParsePoints, "-1pp", 0, `percentage points must be in [0, 100]`},
		{"ratio", ParseRatio, "0.95", 0.95, ""},
		{"ratio one", ParseRatio, "1", 1, ""},
		{"ratio zero", ParseRatio, "0", 0, `"0": a throughput ratio must be in (0, 1]`},
		{"ratio above one", ParseRatio, "1.2", 0, `a throughput ratio must be in (0, 1]`},
		{"ratio as percent", ParseRatio, "95%", 0, `"95%": want a ratio such as 0.95`},
	}
	for _, c := range cases {
		got, err := c.parse(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %q: %v", c.name, c.in, err)
		case c.err == "" && !(got > c.want-1e-12 && got < c.want+1e-12):
			t.Errorf("%s: %q = %g, want %g", c.name, c.in, got, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %q: error %v, want %q", c.name, c.in, err, c.err)
		}
	}
}

func TestParseMinChange(t *testing.T) {
	t.Parallel()
	if d, err := ParseMinChange("1ms"); err != nil || d != time.Millisecond {
		t.Errorf("1ms: %v %v", d, err)
	}
	for _, in := range []string{"1", "soon", "-1ms"} {
		if _, err := ParseMinChange(in); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}

const compareFile = `{
  "smoke": {"http_req_duration": ["p(95)<500"]},
  "compare": {
    "$comment": "release gate",
    "max_p50_regression": "5%",
    "max_p95_regression": "10%",
    "max_p99_regression": "25%",
    "max_error_rate_increase": "0.5pp",
    "min_throughput_ratio": 0.95,
    "min_latency_change": "2ms",
    "metrics": ["http_req_duration"]
  }
}`

func TestParseFileReadsTheCompareSection(t *testing.T) {
	t.Parallel()
	f, err := ParseFile([]byte(compareFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, isTest := f.Tests[CompareSectionName]; isTest || len(f.Tests) != 1 {
		t.Fatalf("tests %v: the compare section is not a test", f.TestNames())
	}
	c := f.Compare
	if c == nil {
		t.Fatal("no compare section")
	}
	for _, b := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"p50", c.MaxP50Regression, 0.05}, {"p95", c.MaxP95Regression, 0.10}, {"p99", c.MaxP99Regression, 0.25},
		{"error rate", c.MaxErrorRateIncrease, 0.005}, {"throughput", c.MinThroughputRatio, 0.95},
	} {
		if b.got == nil || *b.got < b.want-1e-12 || *b.got > b.want+1e-12 {
			t.Errorf("%s budget %v, want %g", b.name, b.got, b.want)
		}
	}
	if c.MinLatencyChange == nil || *c.MinLatencyChange != 2*time.Millisecond {
		t.Errorf("min latency change %v", c.MinLatencyChange)
	}
	if len(c.Metrics) != 1 || c.Metrics[0] != "http_req_duration" {
		t.Errorf("metrics %v", c.Metrics)
	}
	known := map[string]map[string]metrics.Type{"smoke": {"http_req_duration": metrics.Trend}}
	if errs := f.Validate(known); len(errs) != 0 {
		t.Errorf("valid file: %v", errs)
	}

	// A section with nothing set is valid and sets nothing.
	f, err = ParseFile([]byte(`{"compare": {}}`))
	if err != nil || f.Compare == nil || f.Compare.MaxP95Regression != nil || len(f.Tests) != 0 {
		t.Errorf("empty section: %+v, %v", f, err)
	}
	// No section: nil.
	if f, err := ParseFile([]byte(`{"smoke": {}}`)); err != nil || f.Compare != nil {
		t.Errorf("no section: %+v, %v", f.Compare, err)
	}
}

func TestCompareSectionErrorsHavePositions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want []string // each must appear, in this order, one error each
	}{
		{"bare number for a percentage", `{"compare": {"max_p95_regression": "10"}}`,
			[]string{`1:36: compare: max_p95_regression: "10": want a percentage such as "10%"`}},
		{"number for a percentage", `{"compare": {"max_p95_regression": 10}}`,
			[]string{`1:36: compare: max_p95_regression: must be a string such as "10%", found number 10`}},
		{"percent for points", `{"compare": {"max_error_rate_increase": "0.5%"}}`,
			[]string{`1:41: compare: max_error_rate_increase: "0.5%": want percentage points such as "0.5pp"`}},
		{"string ratio", `{"compare": {"min_throughput_ratio": "0.95"}}`,
			[]string{`1:38: compare: min_throughput_ratio: must be a number such as 0.95, found string "0.95"`}},
		{"ratio out of range", `{"compare": {"min_throughput_ratio": 1.5}}`,
			[]string{`1:38: compare: min_throughput_ratio: a throughput ratio must be in (0, 1], got 1.5`}},
		{"bad duration", `{"compare": {"min_latency_change": "1 ms"}}`,
			[]string{`1:36: compare: min_latency_change: "1 ms": want a duration such as "1ms"`}},
		{"metrics not a list", `{"compare": {"metrics": "http_req_duration"}}`,
			[]string{`1:25: compare: metrics: must be an array of metric names, found string "http_req_duration"`}},
		{"unknown key", `{"compare": {"max_p95": "10%"}}`,
			[]string{`1:14: compare: unknown key "max_p95" (use max_p50_regression, max_p95_regression, max_p99_regression, max_error_rate_increase, min_throughput_ratio, min_latency_change, metrics)`}},
		{"duplicate key", `{"compare": {"max_p95_regression": "10%", "max_p95_regression": "5%"}}`,
			[]string{`1:43: compare: max_p95_regression appears twice`}},
		{"section twice", "{\"compare\": {},\n \"compare\": {}}", []string{`2:2: section "compare" appears twice`}},
		{"section not an object", `{"compare": ["10%"]}`, []string{`1:13: section "compare" must be an object, found an array`}},
		{"every problem at once, with the tests'", "{\"smoke\": {\"a\": [\"avg<<1\"]},\n \"compare\": {\"max_p50_regression\": \"x\",\n  \"min_throughput_ratio\": 0}}",
			[]string{`smoke: a: "avg<<1": unknown operator`, `2:36: compare: max_p50_regression: "x": want a percentage`,
				`3:27: compare: min_throughput_ratio: a throughput ratio must be in (0, 1], got 0`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFile([]byte(c.in))
			if err == nil {
				t.Fatal("no error")
			}
			var errs []error
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			} else {
				errs = []error{err}
			}
			if len(errs) != len(c.want) {
				t.Fatalf("%d errors %q, want %d", len(errs), err, len(c.want))
			}
			for i, want := range c.want {
				if errs[i].Error() != want && !strings.Contains(errs[i].Error(), want) {
					t.Errorf("error %d = %q, want %q", i, errs[i], want)
				}
			}
			var pe *PosError
			if !errors.As(errs[len(errs)-1], &pe) {
				t.Errorf("%q has no position", errs[len(errs)-1])
			}
		})
	}
}

func TestValidateCompareMetrics(t *testing.T) {
	t.Parallel()
	known := map[string]map[string]metrics.Type{
		"smoke": {"http_req_duration": metrics.Trend, "http_reqs": metrics.Counter},
		"load":  {"detect_latency": metrics.Trend},
	}
	cases := []struct {
		metrics string
		want    []string
	}{
		{`["http_req_duration", "detect_latency"]`, nil},
		{`["http_reqs"]`, []string{`compare: metrics: "http_reqs" is a counter; percentiles are judged on trends`}},
		{`["nope", "http_req_duration"]`, []string{`compare: metrics: unknown trend "nope" (known: detect_latency, http_req_duration)`}},
	}
	for _, c := range cases {
		f, err := ParseFile([]byte(`{"compare": {"metrics": ` + c.metrics + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		errs := f.Validate(known)
		if len(errs) != len(c.want) {
			t.Fatalf("%s: %v, want %q", c.metrics, errs, c.want)
		}
		for i, want := range c.want {
			if errs[i].Error() != want {
				t.Errorf("%s: %q, want %q", c.metrics, errs[i], want)
			}
		}
	}
}
