package threshold

import "testing"

func TestUpperLimit(t *testing.T) {
	f, err := ParseFile([]byte(`{"stress": {
		"http_req_duration": ["p(95)<1000", "p(95)<=800", "p(99)<2000", "p(95)>10"],
		"http_req_duration{endpoint:detect}": ["p(95)<100"],
		"memory_leak_indicator": ["value<0.5"]
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	sets := f.Tests["stress"]
	for _, tc := range []struct {
		metric string
		stat   Stat
		want   float64
		ok     bool
	}{
		{"http_req_duration", Stat{Name: "p", P: 95}, 800, true},
		{"http_req_duration", Stat{Name: "p", P: 99}, 2000, true},
		{"http_req_duration", Stat{Name: "p", P: 90}, 0, false},
		{"memory_leak_indicator", Stat{Name: "value"}, 0.5, true},
		{"detect_latency", Stat{Name: "p", P: 95}, 0, false},
	} {
		got, ok := UpperLimit(sets, tc.metric, tc.stat)
		if got != tc.want || ok != tc.ok {
			t.Errorf("UpperLimit(%s, %s) = %g, %v; want %g, %v", tc.metric, tc.stat, got, ok, tc.want, tc.ok)
		}
	}
}
