package livemetrics

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/driftload/driftload/internal/metrics"
)

// run is a registry holding what a short run recorded: three requests to
// /healthz (one failed with 503), one to detect that timed out, 4 VUs of 5
// allocated, 7 iterations and 2 dropped.
func run(t *testing.T) *metrics.Registry {
	t.Helper()
	reg := metrics.NewRegistry()
	reqs := reg.MustDefine("http_reqs", metrics.Counter, metrics.Default)
	failed := reg.MustDefine("http_req_failed", metrics.Rate, metrics.Default)
	dur := reg.MustDefine("http_req_duration", metrics.Trend, metrics.Time)
	vus := reg.MustDefine("vus", metrics.Gauge, metrics.Default)
	vusMax := reg.MustDefine("vus_max", metrics.Gauge, metrics.Default)
	iters := reg.MustDefine("iterations", metrics.Counter, metrics.Default)
	dropped := reg.MustDefine("dropped_iterations", metrics.Counter, metrics.Default)
	rec := reg.NewRecorder()
	request := func(endpoint, status, reason string, ms float64, warm string) {
		tags := metrics.NewTags("endpoint", endpoint, "method", "GET", "scenario", "smoke", "status", status, "warm", warm)
		if reason != "" {
			tags = append(tags, metrics.Tag{Key: "reason", Value: reason})
		}
		rec.Add(reqs, tags, 1)
		rec.AddBool(failed, tags, status != "200")
		rec.Add(dur, tags, ms)
	}
	request("health", "200", "", 0.8, "true")
	request("health", "200", "", 4, "false") // another series, the same labels
	request("health", "503", "", 40, "true")
	request("detect", "0", "timeout", 5000, "true")
	rec.Add(vus, nil, 4)
	rec.Add(vusMax, nil, 5)
	rec.Add(iters, nil, 7)
	rec.Add(dropped, nil, 2)
	rec.Flush()
	return reg
}

// gather collects c the way a scrape does, by metric name.
func gather(t *testing.T, c *Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// flat renders a family's samples "label=value,... value", sorted.
func flat(f *dto.MetricFamily) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, m := range f.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		var v float64
		switch {
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		case m.Histogram != nil:
			v = float64(m.GetHistogram().GetSampleCount())
		}
		out = append(out, fmt.Sprintf("%s %g", strings.Join(ls, ","), v))
	}
	sort.Strings(out)
	return out
}

func TestCollectorConvertsTheRegistry(t *testing.T) {
	c := NewCollector(run(t).Snapshot)
	c.SetStatus(Status{Open: true, OfferedRate: 10, AchievedRate: 9.5, ThresholdsFailing: 2})
	fams := gather(t, c)
	cases := []struct {
		name string
		want []string
	}{
		{"driftload_http_requests_total", []string{
			"endpoint=detect,method=GET,reason=timeout,scenario=smoke,status=0 1",
			"endpoint=health,method=GET,reason=,scenario=smoke,status=200 2",
			"endpoint=health,method=GET,reason=,scenario=smoke,status=503 1",
		}},
		{"driftload_http_request_failures_total", []string{
			"endpoint=detect,method=GET,reason=timeout,scenario=smoke,status=0 1",
			"endpoint=health,method=GET,reason=,scenario=smoke,status=200 0",
			"endpoint=health,method=GET,reason=,scenario=smoke,status=503 1",
		}},
		{"driftload_http_request_duration_seconds", []string{"endpoint=detect 1", "endpoint=health 3"}},
		{"driftload_vus", []string{" 4"}},
		{"driftload_vus_max", []string{" 5"}},
		{"driftload_iterations_total", []string{" 7"}},
		{"driftload_dropped_iterations_total", []string{" 2"}},
		{"driftload_offered_iterations_per_second", []string{" 10"}},
		{"driftload_achieved_iterations_per_second", []string{" 9.5"}},
		{"driftload_thresholds_failing", []string{" 2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := flat(fams[tc.name]); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCollectorOmitsTheOfferedRateOfAClosedModelRun(t *testing.T) {
	c := NewCollector(run(t).Snapshot)
	c.SetStatus(Status{AchievedRate: 3})
	if f, ok := gather(t, c)["driftload_offered_iterations_per_second"]; ok {
		t.Errorf("a closed-model run offers no rate, got %v", flat(f))
	}
}

func TestLatencyHistogramBucketsAreCumulativeSeconds(t *testing.T) {
	h := gather(t, NewCollector(run(t).Snapshot))["driftload_http_request_duration_seconds"]
	var health *dto.Histogram
	for _, m := range h.GetMetric() {
		if m.GetLabel()[0].GetValue() == "health" {
			health = m.GetHistogram()
		}
	}
	if health == nil {
		t.Fatal("no histogram for endpoint health")
	}
	// 0.8 ms, 4 ms and 40 ms.
	want := map[float64]uint64{0.0005: 0, 0.001: 1, 0.003: 1, 0.005: 2, 0.03: 2, 0.05: 3, 60: 3}
	for _, b := range health.GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("bucket le=%g: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if got := health.GetSampleSum(); got < 0.0447 || got > 0.0449 {
		t.Errorf("sum = %g s, want 0.0448", got)
	}
}

func TestCheckAddr(t *testing.T) {
	cases := []struct {
		addr   string
		remote bool
		want   string // "" = accepted, else part of the error
	}{
		{"127.0.0.1:9464", false, ""},
		{"127.1.2.3:0", false, ""},
		{"localhost:9464", false, ""},
		{"[::1]:9464", false, ""},
		{"0.0.0.0:9464", false, "0.0.0.0 is not a loopback address; add --metrics-allow-remote"},
		{":9464", false, "--metrics-addr :9464: no host means every interface; add --metrics-allow-remote"},
		{"192.0.2.1:9464", false, "add --metrics-allow-remote"},
		{"metrics.example:9464", false, "add --metrics-allow-remote"},
		{"0.0.0.0:9464", true, ""},
		{"9464", false, `--metrics-addr "9464": want HOST:PORT, e.g. 127.0.0.1:9464`},
		{"127.0.0.1:http", false, "want HOST:PORT"},
		{"127.0.0.1:70000", false, "want HOST:PORT"},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			err := CheckAddr(c.addr, c.remote)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("CheckAddr(%q, %v) = %v, want it accepted", c.addr, c.remote, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("CheckAddr(%q, %v) = %v, want an error containing %q", c.addr, c.remote, err, c.want)
			}
		})
	}
}

func TestServerServesTheExpositionFormat(t *testing.T) {
	reg := run(t)
	srv, err := Listen("127.0.0.1:0", NewCollector(reg.Snapshot))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, err := http.Get(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%s", srv.URL(), resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not the text exposition format: %v\n%s", err, body)
	}
	if got := flat(fams["driftload_iterations_total"]); fmt.Sprint(got) != "[ 7]" {
		t.Errorf("driftload_iterations_total = %v, want 7", got)
	}
}

func TestListenReportsAnAddressInUse(t *testing.T) {
	first, err := Listen("127.0.0.1:0", NewCollector(run(t).Snapshot))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	addr := strings.TrimSuffix(strings.TrimPrefix(first.URL(), "http://"), "/metrics")
	_, err = Listen(addr, NewCollector(run(t).Snapshot))
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr "+addr+": bind: address already in use") {
		t.Fatalf("second Listen on %s: %v, want the address in use named once", addr, err)
	}
}
