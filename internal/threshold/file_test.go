package threshold

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

const goodFile = `{
  "$comment": "driftload thresholds",
  "smoke": {
    "http_req_duration": ["p(95)<500", {"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": "10s"}],
    "http_req_failed": ["rate<0.01"],
    "_comment": "per-test comments are ignored too"
  },
  "load": {
    "http_req_duration{endpoint:detect}": [" p(99.9) <= 2000 "],
    "events_processed": ["count>10000", {"threshold": "rate>5"}],
    "detectors_active": ["value<0.5"],
    "empty": []
  }
}`

func TestParseFile(t *testing.T) {
	f, err := ParseFile([]byte(goodFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.TestNames(), ","); got != "load,smoke" {
		t.Fatalf("tests = %s", got)
	}
	// Sets are sorted by selector source.
	var load []string
	for _, s := range f.Tests["load"] {
		load = append(load, s.Selector.Source)
	}
	if got := strings.Join(load, " "); got != "detectors_active empty events_processed http_req_duration{endpoint:detect}" {
		t.Errorf("load sets = %s", got)
	}
	smoke := f.Tests["smoke"]
	if len(smoke) != 2 || smoke[0].Selector.Source != "http_req_duration" {
		t.Fatalf("smoke sets = %+v", smoke)
	}
	ths := smoke[0].Thresholds
	if len(ths) != 2 {
		t.Fatalf("thresholds = %+v", ths)
	}
	if ths[0].Expr.Source != "p(95)<500" || ths[0].AbortOnFail || ths[0].DelayAbortEval != 0 {
		t.Errorf("string form = %+v", ths[0])
	}
	if ths[1].Expr.Source != "p(99)<1000" || !ths[1].AbortOnFail || ths[1].DelayAbortEval != 10*time.Second {
		t.Errorf("object form = %+v", ths[1])
	}
	sub := f.Tests["load"][3]
	if v, _ := sub.Selector.Tags.Get("endpoint"); v != "detect" || sub.Thresholds[0].Expr.Stat != (Stat{Name: "p", P: 99.9}) {
		t.Errorf("sub-metric set = %+v", sub)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // every one must appear in the error
	}{
		{"bad expression", `{"smoke": {"http_req_duration": ["p(95)<<500"]}}`,
			[]string{`smoke: http_req_duration: "p(95)<<500": unknown operator "<<"`}},
		{"bad expression in object", `{"load": {"checks": [{"threshold": "rate>>0.9", "abortOnFail": true}]}}`,
			[]string{`load: checks: "rate>>0.9": unknown operator ">>"`}},
		{"all problems reported", `{"smoke": {"a": ["p95<1", "avg<1"], "b{x:1}": ["rate>abc"]}, "load": {"c": ["count"]}}`,
			[]string{`smoke: a: "p95<1": unknown statistic "p95"`, `smoke: b{x:1}: "rate>abc": invalid number "abc"`,
				`load: c: "count": missing operator`}},
		{"bad selector", `{"smoke": {"a{x:}": ["avg<1"]}}`, []string{`smoke: selector "a{x:}": empty value for tag "x"`}},
		{"duplicate sub-metric", `{"smoke": {"a{x:1,y:2}": ["avg<1"], "a{y:2,x:1}": ["avg<2"]}}`,
			[]string{`smoke: a{y:2,x:1}: same metric as a{x:1,y:2}`}},
		{"unknown option", `{"smoke": {"a": [{"threshold": "avg<1", "abortOnfail": true}]}}`,
			[]string{`smoke: a: "avg<1": unknown field "abortOnfail"`}},
		{"bad delay", `{"smoke": {"a": [{"threshold": "avg<1", "abortOnFail": true, "delayAbortEval": "10 seconds"}]}}`,
			[]string{`smoke: a: "avg<1": delayAbortEval: invalid duration "10 seconds"`}},
		{"numeric delay", `{"smoke": {"a": [{"threshold": "avg<1", "delayAbortEval": 10}]}}`,
			[]string{`smoke: a: "avg<1": delayAbortEval must be a duration string`}},
		{"negative delay", `{"smoke": {"a": [{"threshold": "avg<1", "delayAbortEval": "-1s"}]}}`,
			[]string{`negative duration "-1s"`}},
		{"bad abortOnFail", `{"smoke": {"a": [{"threshold": "avg<1", "abortOnFail": "yes"}]}}`,
			[]string{`smoke: a: "avg<1": abortOnFail must be true or false`}},
		{"missing threshold field", `{"smoke": {"a": ["avg<1", {"abortOnFail": true}]}}`,
			[]string{`smoke: a: threshold 2: object has no "threshold" field`}},
		{"non-string threshold field", `{"smoke": {"a": [{"threshold": 5}]}}`,
			[]string{`smoke: a: threshold 1: "threshold" must be a string`}},
		{"number entry", `{"smoke": {"a": [5]}}`, []string{`smoke: a: threshold 1: must be a string or an object, found 5`}},
		{"thresholds not an array", `{"smoke": {"a": "avg<1"}}`, []string{`1:17: smoke: a must be an array, found string "avg<1"`}},
		{"test not an object", `{"smoke": ["avg<1"]}`, []string{`1:11: test "smoke" must be an object, found an array`}},
		{"top level not an object", `["smoke"]`, []string{`1:1: the thresholds file must be an object, found an array`}},
		{"comment not a string", `{"$comment": 5}`, []string{`1:14: "$comment" must be a string, found number 5`}},
		{"duplicate test", "{\"smoke\": {},\n \"smoke\": {}}", []string{`2:2: test "smoke" appears twice`}},
		{"empty test name", `{"": {}}`, []string{`1:2: empty test name`}},
		{"syntax error line:column", "{\n  \"smoke\": {\n    \"a\": [\"avg<1\",]\n  }\n}", []string{"3:19: invalid character ']'"}},
		{"missing comma", "{\"smoke\": {\"a\": [\"avg<1\"] \"b\": []}}", []string{"1:27: invalid character '\"' after object key:value pair"}},
		{"truncated", `{"smoke": {"a": [`, []string{"unexpected end of JSON input"}},
		{"trailing data", `{} {}`, []string{"1:4: invalid character '{' after top-level value"}},
		{"empty", "  ", []string{"1:1: empty thresholds file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile([]byte(tt.in))
			if err == nil {
				t.Fatalf("no error; file %+v", f)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(goodFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(good); err != nil {
		t.Fatal(err)
	}

	syntax := filepath.Join(dir, "syntax.json")
	if err := os.WriteFile(syntax, []byte("{\n  \"smoke\": {\n    \"a\": [\"avg<1\",]\n  }\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(syntax)
	if err == nil || !strings.HasPrefix(err.Error(), syntax+":3:19: ") {
		t.Errorf("syntax error = %v, want prefix %s:3:19:", err, syntax)
	}
	var pe *PosError
	if !errors.As(err, &pe) || pe.Line != 3 || pe.Column != 19 {
		t.Errorf("PosError = %+v", pe)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"smoke": {"a": ["p95<1", "avg<<1"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 error lines, got %q", err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, bad+": smoke: a: ") {
			t.Errorf("line %q lacks the path prefix", l)
		}
	}

	if _, err := LoadFile(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error = %v", err)
	}
}

func TestValidate(t *testing.T) {
	known := map[string]map[string]metrics.Type{
		"smoke": {
			"http_req_duration": metrics.Trend,
			"http_req_failed":   metrics.Rate,
		},
		"load": {
			"http_req_duration": metrics.Trend,
			"events_processed":  metrics.Counter,
			"detectors_active":  metrics.Gauge,
		},
	}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"valid", `{"smoke": {"http_req_duration{endpoint:detect}": ["p(95)<500", "avg<100", "med<1", "min>0", "max<9"],
			"http_req_failed": ["rate<0.01"]},
			"load": {"events_processed": ["count>10000", "rate>5"], "detectors_active": ["value<0.5", "min>0", "max<9"]}}`, nil},
		{"unknown test", `{"soak": {"http_req_duration": ["p(95)<500"]}}`,
			[]string{`unknown test "soak" (known: load, smoke)`}},
		{"unknown metric", `{"smoke": {"events_processed": ["count>1"]}}`,
			[]string{`smoke: events_processed: unknown metric "events_processed" (known: http_req_duration, http_req_failed)`}},
		{"unknown sub-metric base", `{"smoke": {"nope{endpoint:detect}": ["avg<1"]}}`,
			[]string{`smoke: nope{endpoint:detect}: unknown metric "nope"`}},
		{"value on counter", `{"load": {"events_processed": ["value>5"]}}`,
			[]string{`load: events_processed: "value>5": statistic value does not exist for a counter (use count or rate)`}},
		{"p on rate", `{"smoke": {"http_req_failed": ["p(95)<1"]}}`,
			[]string{`smoke: http_req_failed: "p(95)<1": statistic p(95) does not exist for a rate (use rate)`}},
		{"count on trend", `{"smoke": {"http_req_duration": ["count>1"]}}`,
			[]string{`smoke: http_req_duration: "count>1": statistic count does not exist for a trend (use avg, min, med, max or p(N))`}},
		{"avg on gauge", `{"load": {"detectors_active": ["avg<1"]}}`,
			[]string{`load: detectors_active: "avg<1": statistic avg does not exist for a gauge (use value, min or max)`}},
		{"every problem at once, in order", `{"soak": {"x": ["avg<1"]},
			"smoke": {"http_req_failed": ["rate<0.1", "count>1"], "zzz": ["avg<1"]},
			"load": {"events_processed": ["value>5", "avg<3", "count>0"]}}`,
			[]string{
				`load: events_processed: "value>5": statistic value`,
				`load: events_processed: "avg<3": statistic avg`,
				`smoke: http_req_failed: "count>1": statistic count does not exist for a rate`,
				`smoke: zzz: unknown metric "zzz"`,
				`unknown test "soak"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			errs := f.Validate(known)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
		})
	}
}
