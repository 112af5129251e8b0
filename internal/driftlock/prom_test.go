package driftlock

import (
	"strings"
	"testing"
)

func TestParsePrometheus(t *testing.T) {
	page := `# HELP driftlock_http_requests_total Requests.
# TYPE driftlock_http_requests_total counter
driftlock_http_requests_total{route="/v1/detect",status="200"} 12
driftlock_http_requests_total{route="/v1/detect",status="503"} 3
driftlock_http_requests_total{route="/healthz",status="200"} 5
driftlock_detectors_active 42
process_resident_memory_bytes 1.2345e+07
weird{msg="a \"quoted\", value"} 1 1700000000000
`
	ss, err := ParsePrometheus(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		match []string
		want  float64
		ok    bool
	}{
		{"driftlock_http_requests_total", nil, 20, true},
		{"driftlock_http_requests_total", []string{"route", "/v1/detect"}, 15, true},
		{"driftlock_http_requests_total", []string{"route", "/v1/detect", "status", "503"}, 3, true},
		{"driftlock_detectors_active", nil, 42, true},
		{"process_resident_memory_bytes", nil, 12345000, true},
		{"weird", []string{"msg", `a "quoted", value`}, 1, true},
		{"missing", nil, 0, false},
	}
	for _, c := range cases {
		got, ok := ss.Sum(c.name, c.match...)
		if got != c.want || ok != c.ok {
			t.Errorf("Sum(%s, %v) = %g, %v; want %g, %v", c.name, c.match, got, ok, c.want, c.ok)
		}
	}
	for _, bad := range []string{"novalue", `x{a="1" 2`, "x abc", `x{a=1} 2`} {
		if _, err := ParsePrometheus(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
