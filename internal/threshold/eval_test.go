package threshold

import (
	"testing"
	"time"
)

// fakeMeasurer answers from a map keyed by "selector source|stat"; a missing key means no data.
type fakeMeasurer map[string]float64

func (f fakeMeasurer) Measure(sel Selector, stat Stat) (float64, bool) {
	v, ok := f[sel.Source+"|"+stat.String()]
	return v, ok
}

func mustSets(t *testing.T, js string) []Set {
	t.Helper()
	f, err := ParseFile([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return f.Tests["t"]
}

func TestEvaluate(t *testing.T) {
	sets := mustSets(t, `{"t": {
		"http_req_duration": ["p(95)<500", {"threshold": "p(99)<1000", "abortOnFail": true}],
		"http_req_duration{endpoint:detect}": ["avg<100"],
		"http_req_failed": ["rate<0.01"],
		"events": ["count>0"]
	}}`)
	m := fakeMeasurer{
		"http_req_duration|p(95)":                  420,
		"http_req_duration|p(99)":                  1500,
		"http_req_duration{endpoint:detect}|avg":   80,
		"http_req_failed|rate":                     0.01,
		"events|count":                             0, // measured zero is data
		"http_req_duration{endpoint:other}|avg":    1, // unrelated
		"http_req_duration{endpoint:detect}|p(95)": 1, // unrelated stat
	}
	want := []Result{
		{Metric: "events", Expr: "count>0", Stat: "count", Measured: 0, HasData: true, OK: false},
		{Metric: "http_req_duration", Expr: "p(95)<500", Stat: "p(95)", Measured: 420, HasData: true, OK: true},
		{Metric: "http_req_duration", Expr: "p(99)<1000", Stat: "p(99)", Measured: 1500, HasData: true, OK: false, AbortOnFail: true},
		{Metric: "http_req_duration{endpoint:detect}", Expr: "avg<100", Stat: "avg", Measured: 80, HasData: true, OK: true},
		{Metric: "http_req_failed", Expr: "rate<0.01", Stat: "rate", Measured: 0.01, HasData: true, OK: false},
	}
	got := Evaluate(sets, m, nil)
	if len(got) != len(want) {
		t.Fatalf("got %d results %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if !Failed(got) {
		t.Error("Failed = false")
	}
	if Failed(got[1:2]) {
		t.Error("Failed(passing) = true")
	}
}

func TestEvaluateNoData(t *testing.T) {
	sets := mustSets(t, `{"t": {"http_req_duration{endpoint:detect}": ["p(95)<500"], "errors": ["count<1"]}}`)
	got := Evaluate(sets, fakeMeasurer{}, nil)
	if len(got) != 2 {
		t.Fatalf("results = %+v", got)
	}
	for _, r := range got {
		if r.HasData || r.OK {
			t.Errorf("no-data result %+v: want HasData=false OK=false", r)
		}
	}
	if !Failed(got) {
		t.Error("no-data results must count as failed")
	}
}

func TestAbortCheck(t *testing.T) {
	sets := mustSets(t, `{"t": {
		"lat": [
			{"threshold": "avg<100", "abortOnFail": true},
			{"threshold": "max<100", "abortOnFail": true, "delayAbortEval": "30s"},
			{"threshold": "med<100", "abortOnFail": false},
			{"threshold": "min<100", "abortOnFail": true, "delayAbortEval": "10s"},
			{"threshold": "p(90)<100", "abortOnFail": true}
		],
		"nodata": [{"threshold": "rate<0.1", "abortOnFail": true}]
	}}`)
	m := fakeMeasurer{
		"lat|avg":   500, // fails, no delay
		"lat|max":   500, // fails, delay 30s
		"lat|med":   500, // fails, but no abortOnFail
		"lat|min":   50,  // passes
		"lat|p(90)": 50,  // passes
	}
	tests := []struct {
		elapsed time.Duration
		want    []string
	}{
		{0, []string{"avg<100"}},
		{29 * time.Second, []string{"avg<100"}},
		{30 * time.Second, []string{"avg<100", "max<100"}},
		{time.Hour, []string{"avg<100", "max<100"}},
	}
	for _, tt := range tests {
		got := AbortCheck(sets, m, tt.elapsed)
		var exprs []string
		for _, r := range got {
			if r.OK || !r.HasData || !r.AbortOnFail {
				t.Errorf("at %v: unexpected result %+v", tt.elapsed, r)
			}
			exprs = append(exprs, r.Expr)
		}
		if len(exprs) != len(tt.want) {
			t.Errorf("at %v: aborting on %v, want %v", tt.elapsed, exprs, tt.want)
			continue
		}
		for i := range exprs {
			if exprs[i] != tt.want[i] {
				t.Errorf("at %v: aborting on %v, want %v", tt.elapsed, exprs, tt.want)
				break
			}
		}
	}
}
