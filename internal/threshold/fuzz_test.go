package threshold

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/metrics"
)

// exprSeeds are the expressions of the package's tests and of the
// repository's thresholds.json, valid and invalid.
var exprSeeds = []string{
	"p(95)<500", " p(99.9) <= 2000 ", "p( 50 )>1", "p(100)<1", "p(0.1)>=0", "rate>0.99",
	"count>10000", "value<0.5", "avg == 3", "avg===3", "med!=0", "min>-5", "max < -0.25",
	"count>1e4", "avg<2.5E-3", "avg<+7", "avg<.5", "\tvalue\t>=\t1\n", "count>-1e3",
	"", "   ", "p95<500", "P(95)<500", "average<5", "<500", "p(0)<5", "p(100.5)<5", "p(-1)<5",
	"p()<5", "p(abc)<5", "p(95<5", "p<5", "avg(5)<3", "p(95)", "p(95) 500", "rate",
	"p(95)<<500", "p(95)=500", "p(95)=>500", "p(95)<", "p(95)< ", "p(95)<abc", "p(95)<500ms",
	"p(95)<5 00", "p(95)<Inf", "p(95)<NaN", "p(95)<0x10", "p(95)<1_000", "p(95)<1e999",
	"p(95)<--1", "p(95)<e", "rate>0.5 junk", "p(1e-400)<1", "count>1e-400", "avg<-0",
}

// selectorSeeds are the selectors of the package's tests.
var selectorSeeds = []string{
	"http_req_duration", "  checks  ", "http_req_duration{endpoint:detect}",
	"http_req_duration{endpoint:detect,status:200}",
	" http_req_duration { status : 200 , endpoint : detect } ", "http_reqs{url:http://x:8080/v1}",
	"", "{a:b}", "m{", "m{a:b", "m}", "m{a:b}}", "m{a:b}x", "m{a:{b}}", "m{}", "m{ }", "m{:b}",
	"m{a:}", "m{a: }", "m{a}", "m{a:b,}", "m{,a:b}", "m{a:b,a:c}", "my metric",
}

// fileSeeds are the thresholds files of the package's tests.
var fileSeeds = []string{
	goodFile,
	`{"smoke": {"http_req_duration": ["p(95)<<500"]}}`,
	`{"load": {"checks": [{"threshold": "rate>>0.9", "abortOnFail": true}]}}`,
	`{"smoke": {"a": ["p95<1", "avg<1"], "b{x:1}": ["rate>abc"]}, "load": {"c": ["count"]}}`,
	`{"smoke": {"a{x:}": ["avg<1"]}}`,
	`{"smoke": {"a{x:1,y:2}": ["avg<1"], "a{y:2,x:1}": ["avg<2"]}}`,
	`{"smoke": {"a": [{"threshold": "avg<1", "abortOnfail": true}]}}`,
	`{"smoke": {"a": [{"threshold": "avg<1", "abortOnFail": true, "delayAbortEval": "10 seconds"}]}}`,
	`{"smoke": {"a": [{"threshold": "avg<1", "delayAbortEval": 10}]}}`,
	`{"smoke": {"a": [{"threshold": "avg<1", "delayAbortEval": "-1s"}]}}`,
	`{"smoke": {"a": [{"threshold": "avg<1", "abortOnFail": "yes"}]}}`,
	`{"smoke": {"a": ["avg<1", {"abortOnFail": true}]}}`,
	`{"smoke": {"a": [{"threshold": 5}]}}`,
	`{"smoke": {"a": [5]}}`,
	`{"smoke": {"a": "avg<1"}}`,
	`{"smoke": ["avg<1"]}`,
	`["smoke"]`,
	`{"$comment": 5}`,
	"{\"smoke\": {},\n \"smoke\": {}}",
	`{"": {}}`,
	"{\n  \"smoke\": {\n    \"a\": [\"avg<1\",]\n  }\n}",
	"{\"smoke\": {\"a\": [\"avg<1\"] \"b\": []}}",
	`{"smoke": {"a": [`,
	`{} {}`,
	"  ",
	`{"soak": {"x": ["avg<1"]}, "smoke": {"http_req_failed": ["rate<0.1", "count>1"], "zzz": ["avg<1"]}}`,
	compareFile,
	`{"compare": {}}`,
	`{"compare": {"max_p95_regression": "10", "min_throughput_ratio": "0.95", "nope": 1}}`,
	`{"compare": {"max_error_rate_increase": "0.5%", "metrics": "x", "min_latency_change": "-1ms"}}`,
	"{\"compare\": {},\n \"compare\": {}}",
	`{"compare": []}`,
}

// fuzzKnown is Validate's vocabulary in the fuzz targets: every metric type
// appears, under the names the seeds use.
var fuzzKnown = map[string]map[string]metrics.Type{
	"smoke": {"http_req_duration": metrics.Trend, "http_req_failed": metrics.Rate, "a": metrics.Counter, "vus": metrics.Gauge},
	"load":  {"http_req_duration": metrics.Trend, "events_processed": metrics.Counter, "detectors_active": metrics.Gauge},
}

// sameExpr reports whether two expressions compare the same statistic the
// same way with the same bound (Source, the text as written, may differ).
func sameExpr(a, b Expr) bool {
	return a.Stat == b.Stat && a.Op == b.Op && a.Value == b.Value &&
		math.Signbit(a.Value) == math.Signbit(b.Value)
}

// sameSelector reports whether two selectors are identical, tags in order.
func sameSelector(a, b Selector) bool {
	if a.Metric != b.Metric || a.Source != b.Source || len(a.Tags) != len(b.Tags) {
		return false
	}
	for i := range a.Tags {
		if a.Tags[i] != b.Tags[i] {
			return false
		}
	}
	return true
}

// checkExpr is every property of an accepted expression: finite numbers,
// a percentile in (0,100] only for p, and a canonical form that parses back
// to the same expression and is a fixed point.
func checkExpr(t *testing.T, e Expr) {
	t.Helper()
	if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
		t.Fatalf("%q: accepted value %v", e.Source, e.Value)
	}
	if e.Stat.Name == "p" {
		if !(e.Stat.P > 0 && e.Stat.P <= 100) {
			t.Fatalf("%q: accepted percentile %v", e.Source, e.Stat.P)
		}
	} else if e.Stat.P != 0 {
		t.Fatalf("%q: statistic %s has P %v", e.Source, e.Stat.Name, e.Stat.P)
	}
	if e.Op < OpLT || e.Op > OpNE {
		t.Fatalf("%q: accepted operator %v", e.Source, e.Op)
	}
	canon := e.String()
	again, err := ParseExpr(canon)
	if err != nil {
		t.Fatalf("%q: canonical form %q does not parse: %v", e.Source, canon, err)
	}
	if !sameExpr(again, e) {
		t.Fatalf("%q: canonical form %q parses to %+v, want %+v", e.Source, canon, again, e)
	}
	if again.Source != canon || again.String() != canon {
		t.Fatalf("%q: canonical form %q is not a fixed point: source %q, string %q", e.Source, canon, again.Source, again.String())
	}
}

// FuzzParseExpr: parsing never panics; an accepted expression has finite
// numbers and round-trips through String; a rejected one is a one-line
// *ExprError pointing into the expression.
func FuzzParseExpr(f *testing.F) {
	for _, s := range exprSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpr(s)
		if err != nil {
			var ee *ExprError
			if !errors.As(err, &ee) {
				t.Fatalf("ParseExpr(%q): error %T is not *ExprError", s, err)
			}
			if ee.Source != strings.TrimSpace(s) || ee.Column < 1 || ee.Column > len(ee.Source)+1 {
				t.Fatalf("ParseExpr(%q): error %+v does not point into the expression", s, ee)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("ParseExpr(%q): error %q is not one line", s, err)
			}
			return
		}
		if e.Source != strings.TrimSpace(s) {
			t.Fatalf("ParseExpr(%q): source %q", s, e.Source)
		}
		checkExpr(t, e)
	})
}

// checkSelector is every property of an accepted selector: it re-parses
// from its Source to itself, and Source is the metric with its tags as
// written, trimmed.
func checkSelector(t *testing.T, sel Selector) {
	t.Helper()
	again, err := ParseSelector(sel.Source)
	if err != nil {
		t.Fatalf("selector %+v: Source %q does not parse: %v", sel, sel.Source, err)
	}
	if !sameSelector(again, sel) {
		t.Fatalf("Source %q parses to %+v, want %+v", sel.Source, again, sel)
	}
	if sel.String() != sel.Source {
		t.Fatalf("String() %q, Source %q", sel.String(), sel.Source)
	}
	want := sel.Metric
	if len(sel.Tags) > 0 {
		pairs := make([]string, len(sel.Tags))
		for i, tag := range sel.Tags {
			if tag.Key == "" || tag.Value == "" || tag.Key != strings.TrimSpace(tag.Key) || tag.Value != strings.TrimSpace(tag.Value) {
				t.Fatalf("Source %q: tag %+v", sel.Source, tag)
			}
			if _, dup := sel.Tags[:i].Get(tag.Key); dup {
				t.Fatalf("Source %q: duplicate key %q", sel.Source, tag.Key)
			}
			pairs[i] = tag.Key + ":" + tag.Value
		}
		want += "{" + strings.Join(pairs, ",") + "}"
	}
	if sel.Metric == "" || sel.Source != want {
		t.Fatalf("selector %+v: Source %q, want %q", sel, sel.Source, want)
	}
}

// FuzzParseSelector: parsing never panics and an accepted selector
// round-trips through its Source.
func FuzzParseSelector(f *testing.F) {
	for _, s := range selectorSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseSelector(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("ParseSelector(%q): error %q is not one line", s, err)
			}
			return
		}
		checkSelector(t, sel)
	})
}

// encodeFile writes f back as a thresholds file, every threshold in the
// object form with its canonical expression.
func encodeFile(t *testing.T, f *File) []byte {
	t.Helper()
	tests := make(map[string]map[string][]any, len(f.Tests))
	for name, sets := range f.Tests {
		m := make(map[string][]any, len(sets))
		for _, set := range sets {
			ths := make([]any, 0, len(set.Thresholds))
			for _, th := range set.Thresholds {
				ths = append(ths, map[string]any{
					"threshold": th.Expr.String(), "abortOnFail": th.AbortOnFail, "delayAbortEval": th.DelayAbortEval.String(),
				})
			}
			m[set.Selector.Source] = ths
		}
		tests[name] = m
	}
	data, err := json.Marshal(tests)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	return data
}

// FuzzParseFile: parsing never panics; in an accepted file every selector
// and expression round-trips, the sets are sorted, Validate never panics,
// and the file written back canonically parses to the same file.
func FuzzParseFile(f *testing.F) {
	for _, s := range fileSeeds {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile(filepath.Join("..", "..", "thresholds.json")); err == nil {
		f.Add(data)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile(data)
		if (file == nil) == (err == nil) {
			t.Fatalf("want exactly one of file and error, got %v, %v", file, err)
		}
		if err != nil {
			return
		}
		for _, name := range file.TestNames() {
			sets := file.Tests[name]
			for i, set := range sets {
				if i > 0 && sets[i-1].Selector.Source >= set.Selector.Source {
					t.Fatalf("test %q: sets not sorted: %q then %q", name, sets[i-1].Selector.Source, set.Selector.Source)
				}
				checkSelector(t, set.Selector)
				for _, th := range set.Thresholds {
					checkExpr(t, th.Expr)
					again, err := ParseExpr(th.Expr.Source)
					if err != nil || !sameExpr(again, th.Expr) || again.Source != th.Expr.Source {
						t.Fatalf("expression %q does not re-parse from its Source: %+v, %v", th.Expr.Source, again, err)
					}
					if th.DelayAbortEval < 0 {
						t.Fatalf("%q: negative delayAbortEval %s", th.Expr.Source, th.DelayAbortEval)
					}
				}
			}
		}
		if c := file.Compare; c != nil {
			for _, b := range []*float64{c.MaxP50Regression, c.MaxP95Regression, c.MaxP99Regression, c.MaxErrorRateIncrease} {
				if b != nil && !(*b >= 0 && !math.IsInf(*b, 0)) {
					t.Fatalf("compare budget %g accepted", *b)
				}
			}
			if r := c.MinThroughputRatio; r != nil && !(*r > 0 && *r <= 1) {
				t.Fatalf("throughput ratio %g accepted", *r)
			}
			if d := c.MinLatencyChange; d != nil && *d < 0 {
				t.Fatalf("negative min latency change %s accepted", *d)
			}
		}
		_ = file.Validate(fuzzKnown)
		_ = file.Validate(nil)

		back, err := ParseFile(encodeFile(t, file))
		if err != nil {
			t.Fatalf("the file written back does not parse: %v\n%s", err, encodeFile(t, file))
		}
		if len(back.Tests) != len(file.Tests) {
			t.Fatalf("written back: tests %v, want %v", back.TestNames(), file.TestNames())
		}
		for name, sets := range file.Tests {
			got := back.Tests[name]
			if len(got) != len(sets) {
				t.Fatalf("written back: test %q has %d sets, want %d", name, len(got), len(sets))
			}
			for i := range sets {
				if !sameSelector(got[i].Selector, sets[i].Selector) || len(got[i].Thresholds) != len(sets[i].Thresholds) {
					t.Fatalf("written back: test %q set %d = %+v, want %+v", name, i, got[i], sets[i])
				}
				for j, th := range sets[i].Thresholds {
					g := got[i].Thresholds[j]
					if !sameExpr(g.Expr, th.Expr) || g.AbortOnFail != th.AbortOnFail || g.DelayAbortEval != th.DelayAbortEval {
						t.Fatalf("written back: test %q %s threshold %d = %+v, want %+v", name, sets[i].Selector.Source, j, g, th)
					}
				}
			}
		}
	})
}
