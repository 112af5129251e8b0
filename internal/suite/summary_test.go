package suite

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario/all"
)

// t0 is the fixtures' start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// figs are a fixture phase's figures: seconds run, p95 and p99 (ms),
// requests/s, error rate, most VUs.
type figs struct{ secs, p95, p99, rps, errRate, vus float64 }

// fixtureResult is a finished result of test with the figures f and the
// given thresholds.
func fixtureResult(test string, code int, f figs, ths ...report.ThresholdResult) *report.Result {
	r := &report.Result{
		SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "driftload", Version: "test"}, Test: test,
		Target: report.Target{BaseURL: "http://127.0.0.1:8080", Embedded: true}, Share: "0:1",
		Start: t0, End: t0.Add(time.Duration(f.secs * float64(time.Second))), DurationSeconds: f.secs,
		Metrics: map[string]*report.MetricResult{
			"http_reqs":         {Type: "counter", Contains: "default", Values: map[string]float64{"count": f.rps * f.secs, "rate": f.rps}},
			"http_req_duration": {Type: "trend", Contains: "time", Values: map[string]float64{"med": f.p95 / 3, "p(95)": f.p95, "p(99)": f.p99}},
			"http_req_failed":   {Type: "rate", Contains: "default", Values: map[string]float64{"rate": f.errRate}},
			"vus":               {Type: "gauge", Contains: "default", Values: map[string]float64{"max": f.vus}},
		},
		Thresholds: ths, Checks: []report.CheckResult{}, Run: report.Run{Model: "closed", Valid: code != 110},
		Complete: true, ExitCode: code, Passed: code == 0,
	}
	if code == 105 {
		r.Interrupted, r.Aborted, r.AbortReason = true, true, "interrupted by signal"
	}
	if code == 110 {
		r.Run.InvalidReasons = []string{"driftload used 97% of every core"}
	}
	return r
}

// phaseRun is how a fixture phase ended.
type phaseRun struct {
	code    int
	result  *report.Result
	verdict []string
	errLine string
	secs    float64
}

// fixtureRun plays a suite: each phase of the sequence ends as runs says,
// those without an entry are not run (the suite stopped before them).
func fixtureRun(t *testing.T, continueOnFail bool, runs map[string]phaseRun) *run {
	t.Helper()
	p := &Plan{
		Options: Options{
			Base:  harness.Config{BaseURL: "http://127.0.0.1:8080", Embedded: true, TimeScale: 0.02, Version: "test", Flags: map[string]any{"time_scale": 0.02}},
			RunID: "20260102-030405-abcdefgh", Dir: "out", ContinueOnFail: continueOnFail,
		},
		now: func() time.Time { return t0 },
	}
	for _, test := range Sequence() {
		p.Phases = append(p.Phases, Phase{Test: test, Preview: harness.Preview{Describe: "constant-vus: 5 VUs for 1.2s", Length: test.DefaultLength() / 50}})
	}
	r := &run{p: p, res: p.newResults(t0), results: make([]*report.Result, len(p.Phases))}
	for i, ph := range p.Phases {
		pr, ok := runs[ph.Test.Name]
		if r.res.StopReason != "" || !ok {
			r.res.Phases[i].Status, r.res.Phases[i].Reason = StatusNotRun, r.res.StopReason
			continue
		}
		r.results[i] = pr.result
		file := ""
		if pr.result != nil {
			file = ph.Test.ResultFile
		}
		r.record(i, pr.code, pr.verdict, pr.errLine, time.Duration(pr.secs*float64(time.Second)), file)
		if file != "" {
			r.res.Phases[i].Report = htmlName(file)
		}
		r.codes = append(r.codes, pr.code)
		if stop, why := stopAfter(ph.Test, pr.code, continueOnFail); stop {
			r.res.StoppedAfter, r.res.StopReason = ph.Test.Name, why
		}
	}
	r.finish(t0.Add(95 * time.Second))
	return r
}

func ok(metric, expr string, measured float64) report.ThresholdResult {
	return report.ThresholdResult{Metric: metric, Expression: expr, OK: true, Measured: measured, HasData: true}
}

func failed(metric, expr string, measured float64) report.ThresholdResult {
	return report.ThresholdResult{Metric: metric, Expression: expr, Measured: measured, HasData: true}
}

// releaseRun: every phase ran; stress broke, soak's verdict failed.
func releaseRun(t *testing.T) *run {
	return fixtureRun(t, false, map[string]phaseRun{
		"smoke": {code: 0, result: fixtureResult("smoke", 0, figs{1.8, 0.72, 1.02, 15.44, 0, 5}, ok("http_req_duration", "p(95)<500", 0.72))},
		"load":  {code: 0, result: fixtureResult("load", 0, figs{18.6, 450, 820, 48.17, 0, 100}, ok("http_req_duration", "p(95)<500", 450))},
		"stress": {code: 99, result: fixtureResult("stress", 99, figs{12.5, 2260, 2910, 82.15, 0.062, 200},
			failed("http_req_duration", "p(95)<1000", 2260), failed("http_req_failed", "rate<0.05", 0.062)),
			verdict: []string{"errors start at 180 VUs (6.2% failed)", "latency knee at 102 VUs (p95 366ms vs 25ms at 52 VUs)", "peak sustained throughput 715 req/s at 180 VUs"}},
		"capacity": {code: 0, result: fixtureResult("capacity", 0, figs{12.6, 74.3, 138.62, 189.15, 0, 100}),
			verdict: []string{"the cache holds between 920 and 1100 streams — evictions only beyond the expected 1000"}},
		"ratelimit": {code: 0, result: fixtureResult("ratelimit", 0, figs{120.4, 0.34, 0.4, 0.52, 0, 1}),
			verdict: []string{"effective limit: 10 per 1m observed, 10 expected — limit 10 per 1m enforced"}},
		"soak": {code: 99, result: func() *report.Result {
			r := fixtureResult("soak", 99, figs{36.6, 248.83, 624.64, 27.73, 0, 50})
			r.Verdict = "soak degraded: server memory grew 50.9 → 92.7 MiB (+82%, p<0.001) and is still growing"
			return r
		}(), verdict: []string{"server memory (RSS) still growing at +6343 MiB/h (p<0.001)"}},
	})
}

// smokeFailedRun: smoke failed, the suite stopped there.
func smokeFailedRun(t *testing.T) *run {
	return fixtureRun(t, false, map[string]phaseRun{
		"smoke": {code: 99, result: fixtureResult("smoke", 99, figs{1.8, 1.7, 1.81, 11.66, 0.2857, 5},
			failed("http_req_failed", "rate<0.01", 0.2857), failed("demo_detect_success", "rate>0.95", 0))},
		"load": {code: 0}, // never reached
	})
}

// interruptedRun: smoke passed, load was interrupted; even with
// --continue-on-fail an interrupt stops the suite.
func interruptedRun(t *testing.T) *run {
	return fixtureRun(t, true, map[string]phaseRun{
		"smoke": {code: 0, result: fixtureResult("smoke", 0, figs{1.8, 0.72, 1.02, 15.44, 0, 5})},
		"load":  {code: 105, result: fixtureResult("load", 105, figs{4.01, 70.78, 103.3, 14.45, 0, 29})},
	})
}

// unreachableRun: with --continue-on-fail, smoke failed its pre-flight
// (108, no result), load was an invalid run, the rest passed: 108 outranks 110.
func unreachableRun(t *testing.T) *run {
	return fixtureRun(t, true, map[string]phaseRun{
		"smoke":     {code: 108, errLine: "target not ready: pre-flight GET http://127.0.0.1:8080/healthz: connection refused", secs: 0.004},
		"load":      {code: 110, result: fixtureResult("load", 110, figs{18.6, 450, 820, 48.17, 0, 100})},
		"stress":    {code: 0, result: fixtureResult("stress", 0, figs{12.5, 900, 1400, 82.15, 0, 200})},
		"capacity":  {code: 0, result: fixtureResult("capacity", 0, figs{12.6, 74.3, 138.62, 189.15, 0, 100})},
		"ratelimit": {code: 0, result: fixtureResult("ratelimit", 0, figs{120.4, 0.34, 0.4, 0.52, 0, 1})},
		"soak":      {code: 0, result: fixtureResult("soak", 0, figs{36.6, 248.83, 624.64, 27.73, 0, 50})},
	})
}

var runCases = []struct {
	name     string
	run      func(t *testing.T) *run
	code     int
	statuses string
}{
	{"release", releaseRun, 99, "passed,passed,failed,passed,passed,failed"},
	{"smoke-failed", smokeFailedRun, 99, "failed,not_run,not_run,not_run,not_run,not_run"},
	{"interrupted", interruptedRun, 105, "passed,interrupted,not_run,not_run,not_run,not_run"},
	{"unreachable", unreachableRun, 108, "error,invalid,passed,passed,passed,passed"},
}

func TestSuiteOutputs(t *testing.T) {
	t.Parallel()
	for _, tc := range runCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.run(t)
			res := r.res
			var st []string
			for _, pr := range res.Phases {
				st = append(st, pr.Status)
			}
			if got := strings.Join(st, ","); got != tc.statuses {
				t.Errorf("statuses %s, want %s", got, tc.statuses)
			}
			if res.ExitCode != tc.code || res.Passed != (tc.code == 0) || !res.Complete {
				t.Errorf("exit %d passed %v complete %v, want exit %d", res.ExitCode, res.Passed, res.Complete, tc.code)
			}

			var sum bytes.Buffer
			if err := WriteSummary(&sum, res, SummaryOptions{Dir: "out"}); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".txt", sum.Bytes())
			var md bytes.Buffer
			if err := r.markdown(&md); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".md", md.Bytes())
			var page bytes.Buffer
			if err := WritePage(&page, res); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".html", page.Bytes())
			for _, pr := range res.Phases {
				if pr.Report != "" && !strings.Contains(page.String(), `<a href="`+pr.Report+`">report</a>`) {
					t.Errorf("the page must link %s's report %s", pr.Test, pr.Report)
				}
			}
			data, err := res.encode()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".json", data)
			var back Results
			if err := json.Unmarshal(data, &back); err != nil || len(back.Phases) != len(res.Phases) {
				t.Fatalf("suite_results.json does not read back: %v", err)
			}
			var x bytes.Buffer
			if err := r.junit(&x); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Suites []struct {
					Name    string `xml:"name,attr"`
					Skipped int    `xml:"skipped,attr"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(x.Bytes(), &doc); err != nil || len(doc.Suites) != len(res.Phases) {
				t.Fatalf("JUnit: %v, %d suites for %d phases", err, len(doc.Suites), len(res.Phases))
			}
			for i, s := range doc.Suites {
				if s.Name != "driftload "+res.Phases[i].Test || (s.Skipped == 1) != (res.Phases[i].Status == StatusNotRun) {
					t.Errorf("JUnit suite %d: %s skipped %d, phase %s %s", i, s.Name, s.Skipped, res.Phases[i].Test, res.Phases[i].Status)
				}
			}
		})
	}
}

func TestEveryPhaseIsReadAgainstLoad(t *testing.T) {
	t.Parallel()
	res := releaseRun(t).res
	if res.Baseline != "load" || res.BaselineFigures == nil || res.BaselineFigures.P95Ms != 450 {
		t.Fatalf("baseline %q %+v, want load's figures", res.Baseline, res.BaselineFigures)
	}
	for _, pr := range res.Phases {
		switch {
		case pr.Test == "load" && pr.VsBaseline != nil:
			t.Error("the baseline is not compared with itself")
		case pr.Test != "load" && (pr.VsBaseline == nil || pr.VsBaseline.P95 == nil):
			t.Errorf("%s is not compared with load", pr.Test)
		}
	}
	stress := res.Phases[2]
	if got := *stress.VsBaseline.P95; got < 5.02 || got > 5.03 {
		t.Errorf("stress p95 is %.3f× load's, want 2260/450 = 5.02", got)
	}
	// An interrupted load measured part of its profile: no baseline.
	if res := interruptedRun(t).res; res.Baseline != "" || res.Phases[0].VsBaseline != nil {
		t.Errorf("an interrupted load must not be the baseline: %q", res.Baseline)
	}
}

func TestAllTestsStayInTheSequence(t *testing.T) {
	t.Parallel()
	// A new Driftlock test joins the suite by being listed in package all;
	// the suite needs nothing more — except a fixture here.
	n := 0
	for _, test := range all.Tests {
		if !test.Generic {
			n++
		}
	}
	if n != len(Sequence()) || n != len(runCases[0].statuses)-len(strings.ReplaceAll(runCases[0].statuses, ",", ""))+1 {
		t.Fatalf("%d Driftlock tests, %d phases: update the fixtures", n, len(Sequence()))
	}
}
