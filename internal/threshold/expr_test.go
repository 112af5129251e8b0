package threshold

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/metrics"
)

func TestParseExprValid(t *testing.T) {
	tests := []struct {
		in     string
		stat   Stat
		op     Op
		value  float64
		source string
		canon  string
	}{
		{"p(95)<500", Stat{"p", 95}, OpLT, 500, "p(95)<500", "p(95)<500"},
		{" p(99.9) <= 2000 ", Stat{"p", 99.9}, OpLE, 2000, "p(99.9) <= 2000", "p(99.9)<=2000"},
		{"p( 50 )>1", Stat{"p", 50}, OpGT, 1, "p( 50 )>1", "p(50)>1"},
		{"p(100)<1", Stat{"p", 100}, OpLT, 1, "p(100)<1", "p(100)<1"},
		{"p(0.1)>=0", Stat{"p", 0.1}, OpGE, 0, "p(0.1)>=0", "p(0.1)>=0"},
		{"rate>0.99", Stat{"rate", 0}, OpGT, 0.99, "rate>0.99", "rate>0.99"},
		{"count>10000", Stat{"count", 0}, OpGT, 10000, "count>10000", "count>10000"},
		{"value<0.5", Stat{"value", 0}, OpLT, 0.5, "value<0.5", "value<0.5"},
		{"avg == 3", Stat{"avg", 0}, OpEQ, 3, "avg == 3", "avg==3"},
		{"avg===3", Stat{"avg", 0}, OpEQ, 3, "avg===3", "avg==3"},
		{"med!=0", Stat{"med", 0}, OpNE, 0, "med!=0", "med!=0"},
		{"min>-5", Stat{"min", 0}, OpGT, -5, "min>-5", "min>-5"},
		{"max < -0.25", Stat{"max", 0}, OpLT, -0.25, "max < -0.25", "max<-0.25"},
		{"count>1e4", Stat{"count", 0}, OpGT, 1e4, "count>1e4", "count>10000"},
		{"avg<2.5E-3", Stat{"avg", 0}, OpLT, 2.5e-3, "avg<2.5E-3", "avg<0.0025"},
		{"avg<+7", Stat{"avg", 0}, OpLT, 7, "avg<+7", "avg<7"},
		{"avg<.5", Stat{"avg", 0}, OpLT, 0.5, "avg<.5", "avg<0.5"},
		{"\tvalue\t>=\t1\n", Stat{"value", 0}, OpGE, 1, "value\t>=\t1", "value>=1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := ParseExpr(tt.in)
			if err != nil {
				t.Fatalf("ParseExpr(%q): %v", tt.in, err)
			}
			if e.Stat != tt.stat || e.Op != tt.op || e.Value != tt.value || e.Source != tt.source {
				t.Errorf("ParseExpr(%q) = %+v, want stat %+v op %v value %v source %q", tt.in, e, tt.stat, tt.op, tt.value, tt.source)
			}
			if got := e.String(); got != tt.canon {
				t.Errorf("String() = %q, want %q", got, tt.canon)
			}
			// The canonical form parses back to the same expression.
			again, err := ParseExpr(e.String())
			if err != nil || again.Stat != e.Stat || again.Op != e.Op || again.Value != e.Value {
				t.Errorf("round trip of %q: %+v, %v", e.String(), again, err)
			}
		})
	}
}

func TestParseExprInvalid(t *testing.T) {
	tests := []struct {
		in      string
		wantMsg string
		column  int
	}{
		{"", "empty expression", 1},
		{"   ", "empty expression", 1},
		{"p95<500", `unknown statistic "p95"`, 1},
		{"P(95)<500", `unknown statistic "P"`, 1},
		{"average<5", `unknown statistic "average"`, 1},
		{"<500", "missing statistic", 1},
		{"p(0)<5", "percentile must be in (0,100]", 3},
		{"p(100.5)<5", "percentile must be in (0,100]", 3},
		{"p(-1)<5", "percentile must be in (0,100]", 3},
		{"p()<5", "missing percentile", 3},
		{"p(abc)<5", `invalid number "abc"`, 3},
		{"p(95<5", `unclosed "("`, 2},
		{"p<5", "percentile needs a value: p(N)", 2},
		{"avg(5)<3", "statistic avg takes no argument", 4},
		{"p(95)", "missing operator", 6},
		{"p(95) 500", "missing operator", 7},
		{"rate", "missing operator", 5},
		{"p(95)<<500", `unknown operator "<<"`, 6},
		{"p(95)=500", `unknown operator "="`, 6},
		{"p(95)=>500", `unknown operator "=>"`, 6},
		{"p(95)<", `missing value after "<"`, 7},
		{"p(95)< ", `missing value after "<"`, 7},
		{"p(95)<abc", `invalid number "abc"`, 7},
		{"p(95)<500ms", `invalid number "500ms"`, 7},
		{"p(95)<5 00", `invalid number "5 00"`, 7},
		{"p(95)<Inf", `invalid number "Inf"`, 7},
		{"p(95)<NaN", `invalid number "NaN"`, 7},
		{"p(95)<0x10", `invalid number "0x10"`, 7},
		{"p(95)<1_000", `invalid number "1_000"`, 7},
		{"p(95)<1e999", `number "1e999" is out of range`, 7},
		{"p(95)<--1", `invalid number "--1"`, 7},
		{"p(95)<e", `invalid number "e"`, 7},
		{"rate>0.5 junk", `invalid number "0.5 junk"`, 6},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseExpr(tt.in)
			if err == nil {
				t.Fatalf("ParseExpr(%q): no error, want %q", tt.in, tt.wantMsg)
			}
			var ee *ExprError
			if !errors.As(err, &ee) {
				t.Fatalf("error %T is not *ExprError", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if ee.Column != tt.column {
				t.Errorf("column = %d, want %d (%v)", ee.Column, tt.column, err)
			}
			if !strings.HasPrefix(err.Error(), `"`+strings.TrimSpace(tt.in)+`"`) {
				t.Errorf("error %q does not start with the quoted expression", err)
			}
		})
	}
}

func TestHolds(t *testing.T) {
	tests := []struct {
		op       Op
		measured float64
		want     bool
	}{
		{OpLT, 9, true}, {OpLT, 10, false},
		{OpLE, 10, true}, {OpLE, 11, false},
		{OpGT, 11, true}, {OpGT, 10, false},
		{OpGE, 10, true}, {OpGE, 9, false},
		{OpEQ, 10, true}, {OpEQ, 10.0001, false},
		{OpNE, 9, true}, {OpNE, 10, false},
		{OpNE, math.NaN(), false}, {OpLT, math.NaN(), false},
		{Op(0), 1, false},
	}
	for _, tt := range tests {
		e := Expr{Stat: Stat{Name: "avg"}, Op: tt.op, Value: 10}
		if got := e.Holds(tt.measured); got != tt.want {
			t.Errorf("%v %v 10 = %v, want %v", tt.measured, tt.op, got, tt.want)
		}
	}
}

func TestStatValidFor(t *testing.T) {
	all := []Stat{{Name: "avg"}, {Name: "min"}, {Name: "med"}, {Name: "max"}, {Name: "p", P: 95},
		{Name: "rate"}, {Name: "count"}, {Name: "value"}}
	valid := map[metrics.Type]string{
		metrics.Trend:   "avg min med max p(95)",
		metrics.Rate:    "rate",
		metrics.Counter: "rate count",
		metrics.Gauge:   "min max value",
		metrics.Type(0): "",
	}
	for typ, want := range valid {
		var got []string
		for _, s := range all {
			if s.ValidFor(typ) {
				got = append(got, s.String())
			}
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%v: valid stats %q, want %q", typ, strings.Join(got, " "), want)
		}
	}
}

func TestOpString(t *testing.T) {
	want := map[Op]string{OpLT: "<", OpLE: "<=", OpGT: ">", OpGE: ">=", OpEQ: "==", OpNE: "!=", Op(42): "Op(42)"}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("Op %d String() = %q, want %q", int(op), op.String(), s)
		}
	}
}

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in     string
		metric string
		tags   metrics.Tags
		source string
		err    string
	}{
		{in: "http_req_duration", metric: "http_req_duration", source: "http_req_duration"},
		{in: "  checks  ", metric: "checks", source: "checks"},
		{in: "http_req_duration{endpoint:detect}", metric: "http_req_duration",
			tags: metrics.Tags{{Key: "endpoint", Value: "detect"}}, source: "http_req_duration{endpoint:detect}"},
		{in: "http_req_duration{endpoint:detect,status:200}", metric: "http_req_duration",
			tags:   metrics.Tags{{Key: "endpoint", Value: "detect"}, {Key: "status", Value: "200"}},
			source: "http_req_duration{endpoint:detect,status:200}"},
		{in: " http_req_duration { status : 200 , endpoint : detect } ", metric: "http_req_duration",
			tags:   metrics.Tags{{Key: "status", Value: "200"}, {Key: "endpoint", Value: "detect"}},
			source: "http_req_duration{status:200,endpoint:detect}"},
		{in: "http_reqs{url:http://x:8080/v1}", metric: "http_reqs",
			tags: metrics.Tags{{Key: "url", Value: "http://x:8080/v1"}}, source: "http_reqs{url:http://x:8080/v1}"},
		{in: "", err: "empty metric name"},
		{in: "{a:b}", err: "empty metric name"},
		{in: "m{", err: `missing "}"`},
		{in: "m{a:b", err: `missing "}"`},
		{in: "m}", err: `"}" without "{"`},
		{in: "m{a:b}}", err: `unexpected "}" after "}"`},
		{in: "m{a:b}x", err: `unexpected "x" after "}"`},
		{in: "m{a:{b}}", err: `nested "{"`},
		{in: "m{}", err: "empty tag list"},
		{in: "m{ }", err: "empty tag list"},
		{in: "m{:b}", err: "empty tag key"},
		{in: "m{a:}", err: `empty value for tag "a"`},
		{in: "m{a: }", err: `empty value for tag "a"`},
		{in: "m{a}", err: `tag "a" is not key:value`},
		{in: "m{a:b,}", err: "empty tag at position 2"},
		{in: "m{,a:b}", err: "empty tag at position 1"},
		{in: "m{a:b,a:c}", err: `duplicate tag key "a"`},
		{in: "my metric", err: "invalid metric name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := ParseSelector(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSelector(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSelector(%q): %v", tt.in, err)
			}
			if sel.Metric != tt.metric || sel.Source != tt.source || sel.String() != tt.source {
				t.Errorf("got %+v, want metric %q source %q", sel, tt.metric, tt.source)
			}
			if len(sel.Tags) != len(tt.tags) {
				t.Fatalf("tags = %v, want %v", sel.Tags, tt.tags)
			}
			for i := range tt.tags {
				if sel.Tags[i] != tt.tags[i] {
					t.Errorf("tag %d = %v, want %v", i, sel.Tags[i], tt.tags[i])
				}
			}
		})
	}
}
