package harness

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/livemetrics"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario/all"
	"github.com/driftload/driftload/internal/threshold"
)

func TestLiveLineFitsTheTerminal(t *testing.T) {
	closed := liveState{
		test: "smoke", elapsed: 12 * time.Second, total: 30 * time.Second, vus: 5,
		reqRate: 42.25, p95: 12.34, hasP95: true, failedRate: 0.0123, failing: 1, thresholds: 6,
	}
	open := liveState{
		test: "load", elapsed: 10*time.Minute + 30*time.Second, total: 15 * time.Minute, open: true,
		offered: 50, achieved: 49.75, reqRate: 99.5, p95: 1234, hasP95: true, thresholds: 4,
	}
	search := liveState{test: "stress", elapsed: 3 * time.Second, vus: 1, thresholds: 0}
	phase := closed
	phase.note = "· suite 1/6, 1m20s left"
	cases := []struct {
		name  string
		state liveState
		width int
		want  string
	}{
		{"wide: the longest bar", closed, 160,
			"smoke [===========>                  ] 12s, 18s left  5 VUs  42.2 req/s  p95 12.3ms  1.23% err  1/6 thresholds failing"},
		{"100 columns: a shorter bar", closed, 100,
			"smoke [===>       ] 12s, 18s left  5 VUs  42.2 req/s  p95 12.3ms  1.23% err  1/6 thresholds failing"},
		{"80 columns: no bar, short fields", closed, 80,
			"smoke 12s, 18s left 5 VUs 42.2 req/s p95 12.3ms 1.23% err thr 1/6 fail"},
		{"60 columns: the last field goes", closed, 60,
			"smoke 12s, 18s left 5 VUs 42.2 req/s p95 12.3ms 1.23% err"},
		{"20 columns: cut", open, 20,
			"load 10m30s, 4m30s "},
		{"open model, wide", open, 160,
			"load [====================>         ] 10m30s, 4m30s left  49.8 of 50.0 it/s  99.5 req/s  p95 1234ms  0.00% err  0/4 thresholds failing"},
		{"open model, 100 columns", open, 100,
			"load 10m30s, 4m30s left 49.8/50.0 it/s 99.5 req/s p95 1234ms 0.00% err thr 0/4 fail"},
		{"a suite's phase: its note last", phase, 160,
			"smoke [===========>                  ] 12s, 18s left  5 VUs  42.2 req/s  p95 12.3ms  1.23% err  1/6 thresholds failing  · suite 1/6, 1m20s left"},
		{"a suite's phase, 100 columns: the bar goes before the note", phase, 100,
			"smoke 12s, 18s left 5 VUs 42.2 req/s p95 12.3ms 1.23% err thr 1/6 fail · suite 1/6, 1m20s left"},
		{"a suite's phase, 80 columns: the note goes first", phase, 80,
			"smoke 12s, 18s left 5 VUs 42.2 req/s p95 12.3ms 1.23% err thr 1/6 fail"},
		{"no length known, no p95 yet, no thresholds", search, 100,
			"stress 3s  1 VUs  0.0 req/s  p95 -  0.00% err"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.state.line(c.width)
			if got != c.want {
				t.Errorf("line(%d) =\n%q\nwant\n%q", c.width, got, c.want)
			}
			if len(got) > c.width-1 {
				t.Errorf("line(%d) is %d columns: the last column must stay free", c.width, len(got))
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	cases := []struct {
		width int
		frac  float64
		want  string
	}{
		{10, 0, "[          ]"},
		{10, 0.04, "[          ]"},
		{10, 0.05, "[>         ]"},
		{10, 0.5, "[====>     ]"},
		{10, 1, "[==========]"},
		{10, 1.7, "[==========]"},
		{4, -1, "[    ]"},
	}
	for _, c := range cases {
		if got := progressBar(c.width, c.frac); got != c.want {
			t.Errorf("progressBar(%d, %g) = %q, want %q", c.width, c.frac, got, c.want)
		}
	}
}

func TestFmtMillis(t *testing.T) {
	cases := map[float64]string{0.4321: "0.43ms", 9.999: "10.00ms", 12.34: "12.3ms", 123.4: "123ms", 9999: "9999ms", 12345: "12.3s"}
	for ms, want := range cases {
		if got := fmtMillis(ms); got != want {
			t.Errorf("fmtMillis(%g) = %q, want %q", ms, got, want)
		}
	}
}

// liveRun is a run's registry, intervals and live status, driven by hand:
// tick moves the run's clock, request records a request.
type liveRun struct {
	reg      *metrics.Registry
	builtins *runner.Builtins
	rec      *metrics.Recorder
	iv       *intervals
	live     *live
	prom     *livemetrics.Collector
	out      *bytes.Buffer
	now      time.Duration
}

// newLiveRun is a 20 s smoke run of 2 VUs at its start, on a terminal 120
// columns wide when tty, with a Prometheus collector when prom.
func newLiveRun(t *testing.T, quiet, tty, prom bool) *liveRun {
	t.Helper()
	test, _ := all.Lookup("smoke")
	sets, err := LoadThresholds([]byte(`{"smoke": {"http_req_failed": ["rate<0.05"], "http_req_duration": ["p(95)<100"]}}`), "test", test)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg := Config{Test: test, Quiet: quiet, Stderr: &out}
	reg := metrics.NewRegistry()
	r := &liveRun{reg: reg, builtins: runner.DefineBuiltins(reg), out: &out}
	if prom {
		r.prom = livemetrics.NewCollector(reg.Snapshot)
	}
	r.rec = reg.NewRecorder()
	r.iv = newIntervals(nil, reg, runner.NewConstantVUs(2, 20*time.Second).Plan())
	windows := threshold.NewWindows(sets, r.iv.every)
	r.live = newLive(cfg, reg, r.iv, sets, windows, false, r.prom)
	if tty {
		r.live.tty, r.live.width = true, func() int { return 120 }
	}
	r.rec.Add(r.builtins.VUs, nil, 2)
	return r
}

func (r *liveRun) request(ms float64, failed bool) {
	tags := metrics.NewTags("endpoint", "health", "method", "GET", "scenario", "smoke", "status", "200")
	r.rec.Add(r.builtins.HTTPReqs, tags, 1)
	r.rec.Add(r.builtins.HTTPReqDuration, tags, ms)
	r.rec.AddBool(r.builtins.HTTPReqFailed, tags, failed)
	r.rec.Add(r.builtins.Iterations, nil, 1)
	r.rec.Flush()
}

// tick advances the run to at, in the run's ticks (250 ms here), as the
// runner's OnTick does.
func (r *liveRun) tick(at time.Duration) {
	for r.now < at {
		r.now += 250 * time.Millisecond
		r.iv.tick(r.now)
		r.live.tick(r.now)
	}
}

// draws are the lines drawn so far, each without its \r and \x1b[K.
func (r *liveRun) draws(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, d := range strings.Split(r.out.String(), "\r")[1:] {
		line, ok := strings.CutSuffix(d, "\x1b[K")
		if !ok {
			t.Fatalf("a redraw must clear to the end of the line: %q", d)
		}
		out = append(out, line)
	}
	return out
}

func TestLiveRedrawsEverySecondWithTheLatestIntervalsP95(t *testing.T) {
	r := newLiveRun(t, false, true, false)
	for range 10 {
		r.request(10, false)
	}
	r.tick(750 * time.Millisecond)
	if r.out.Len() != 0 {
		t.Fatalf("drew before the first second: %q", r.out)
	}
	r.tick(time.Second)
	for i := range 5 {
		r.request(200, i == 0)
	}
	r.tick(2 * time.Second)
	r.tick(3 * time.Second) // nothing recorded in the third second
	draws := r.draws(t)
	if len(draws) != 3 {
		t.Fatalf("%d redraws in 3 s of 250 ms ticks, want 3:\n%q", len(draws), draws)
	}
	wants := [][]string{
		{"1s, 19s left", "2 VUs", "10.0 req/s", "p95 10.0ms", "0.00% err", "0/2 thresholds failing"},
		// The p95 is the second's (200 ms), and so fails the threshold; one
		// failure of 15 requests fails the other.
		{"2s, 18s left", "5.0 req/s", "p95 200ms", "6.67% err", "2/2 thresholds failing"},
		{"3s, 17s left", "0.0 req/s", "p95 -", "2/2 thresholds failing"},
	}
	for i, want := range wants {
		for _, w := range want {
			if !strings.Contains(draws[i], w) {
				t.Errorf("redraw %d %q lacks %q", i+1, draws[i], w)
			}
		}
		if !strings.HasPrefix(draws[i], "smoke [") {
			t.Errorf("redraw %d %q has no bar", i+1, draws[i])
		}
	}
	r.live.finish()
	if !strings.HasSuffix(r.out.String(), "\x1b[K\n") {
		t.Errorf("finish must end the line: %q", r.out.String())
	}
	r.live.finish()
	if strings.HasSuffix(r.out.String(), "\n\n") {
		t.Error("a second finish must not print another newline")
	}
}

func TestLiveOffTerminalPrintsThePlainLineEvery10s(t *testing.T) {
	cases := []struct {
		name  string
		quiet bool
		want  string
	}{
		{"plain", false, "driftload smoke: 10s/20s  2 VUs  15 requests  6.67% failed\n"},
		{"quiet", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newLiveRun(t, c.quiet, false, false)
			for i := range 15 {
				r.request(10, i == 0)
			}
			r.tick(19 * time.Second)
			r.live.finish()
			if got := r.out.String(); got != c.want {
				t.Errorf("stderr = %q, want %q", got, c.want)
			}
		})
	}
}

func TestLiveFeedsThePrometheusStatus(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		r := newLiveRun(t, quiet, false, true)
		r.request(10, true)
		r.tick(time.Second)
		preg := prometheus.NewRegistry()
		preg.MustRegister(r.prom)
		fams, err := preg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range fams {
			if m := f.GetMetric(); len(m) == 1 && m[0].Gauge != nil {
				got[f.GetName()] = m[0].GetGauge().GetValue()
			}
		}
		if got["driftload_thresholds_failing"] != 1 || got["driftload_achieved_iterations_per_second"] != 1 {
			t.Errorf("quiet %v: gauges %v, want 1 threshold failing and 1 it/s achieved", quiet, got)
		}
	}
}

func TestValidateChecksTheMetricsAddress(t *testing.T) {
	cases := []struct {
		addr   string
		remote bool
		want   string // "": valid
	}{
		{"", false, ""},
		{"127.0.0.1:9464", false, ""},
		{"0.0.0.0:9464", false, "--metrics-addr 0.0.0.0:9464: 0.0.0.0 is not a loopback address; add --metrics-allow-remote"},
		{"0.0.0.0:9464", true, ""},
		{"nonsense", false, `--metrics-addr "nonsense": want HOST:PORT`},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			cfg := validConfig(t, "smoke")
			cfg.MetricsAddr, cfg.MetricsAllowRemote = c.addr, c.remote
			errs := cfg.Validate()
			switch {
			case c.want == "" && len(errs) > 0:
				t.Errorf("%v", errs)
			case c.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want)):
				t.Errorf("errors %v, want one containing %q", errs, c.want)
			}
		})
	}
}

func TestMetricsAddressInUseIsAConfigError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := brokenDemo()
	defer srv.Close()
	cfg, out := smokeConfig(t, srv.URL, `{}`)
	cfg.MetricsAddr = ln.Addr().String()
	if code := Run(context.Background(), cfg); code != exitcode.InvalidConfig {
		t.Fatalf("exit %d, want 104\n%s", code, out)
	}
	want := "driftload smoke: --metrics-addr " + ln.Addr().String() + ": bind: address already in use\n"
	if out.String() != want {
		t.Errorf("output %q, want the one line %q", out, want)
	}
}

// A scrape during the run reads the registry beside the VUs recording into
// it (run with -race).
func TestRunServesMetricsWhileRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := brokenDemo()
	defer srv.Close()
	cfg, _ := smokeConfig(t, srv.URL, `{"smoke": {"http_reqs": ["count>0"]}}`)
	cfg.Duration, cfg.VUs, cfg.MetricsAddr = 2*time.Second, 2, addr
	cfg.Stdout, cfg.Stderr = io.Discard, io.Discard
	done := make(chan int, 1)
	go func() { done <- Run(context.Background(), cfg) }()
	var body string
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(body, "driftload_http_requests_total{"); {
		if time.Now().After(deadline) {
			t.Fatalf("no request in the scrapes of %s within 10 s:\n%s", addr, body)
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	if code := <-done; code != exitcode.OK {
		t.Errorf("exit %d, want 0", code)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics are still served after the run")
	}
}
