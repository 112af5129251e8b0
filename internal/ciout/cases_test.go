package ciout

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftload/driftload/internal/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// load reads a result file of testdata: smoke, soak and stress-open are
// real runs (histograms, series and timeline left out).
func load(t *testing.T, name string) *report.Result {
	t.Helper()
	r, err := report.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// resultCase is a result and how many JUnit test cases, failures and errors
// it must give.
type resultCase struct {
	name                    string
	result                  func(t *testing.T) *report.Result
	tests, failures, errors int
}

func fromFile(name string) func(t *testing.T) *report.Result {
	return func(t *testing.T) *report.Result { return load(t, name) }
}

func at(s float64) *float64 { return &s }

// resultCases are the outcomes a run can have: passed, failed thresholds,
// invalid, interrupted, aborted by a threshold with the test's verdict,
// windowed and no-data thresholds, failed checks, a checkpoint.
var resultCases = []resultCase{
	// 5 thresholds + 7 checks + verdict, validity, completion.
	{name: "smoke-passed", result: fromFile("smoke"), tests: 15},
	// 10 thresholds (2 failed) + 3 checks + 3.
	{name: "soak-thresholds-failed", result: fromFile("soak"), tests: 16, failures: 2},
	// 6 thresholds (4 failed) + 2 checks + 3; invalid run.
	{name: "stress-open-invalid", result: fromFile("stress-open"), tests: 11, failures: 4, errors: 1},
	{name: "smoke-interrupted", result: func(t *testing.T) *report.Result {
		r := load(t, "smoke")
		r.Interrupted, r.Aborted, r.AbortReason = true, true, "interrupted by signal"
		r.Passed, r.ExitCode = false, 105
		r.Thresholds[2].OK, r.Thresholds[2].Measured = false, 612.5
		return r
	}, tests: 15, failures: 1, errors: 1},
	{name: "windowed-aborted-verdict", result: func(t *testing.T) *report.Result {
		r := load(t, "stress-open")
		r.Run = report.Run{Model: "closed", Valid: true, AchievedRate: 41.5, CPU: 0.2}
		r.Aborted, r.AbortReason = true, "threshold http_req_failed rate<0.05 for 30s failed (abortOnFail)"
		r.Verdict = "breaking point at 120 VUs: errors rose above 5%"
		r.Passed, r.ExitCode = false, 99
		r.Thresholds = []report.ThresholdResult{
			{Metric: "http_req_duration", Expression: "p(99)<1000", OK: true, Measured: 812.3, HasData: true},
			{Metric: "http_req_duration", Expression: "p(99)<1000 over 10s", OK: false, Measured: 5123.4, HasData: true,
				Window: &report.WindowVerdict{Mode: "over", Seconds: 10, EffectiveSeconds: 10, Windows: 51, Worst: 5123.4,
					WorstStartSeconds: 8, WorstEndSeconds: 18, BreachedAtSeconds: at(12)}},
			{Metric: "http_req_failed", Expression: "rate<0.05 for 30s", OK: false, Measured: 0.081, HasData: true, AbortOnFail: true,
				Window: &report.WindowVerdict{Mode: "for", Seconds: 30, EffectiveSeconds: 30, Windows: 60, Worst: 0.081,
					WorstStartSeconds: 30, WorstEndSeconds: 60, BreachedAtSeconds: at(60)}},
			{Metric: "http_req_duration{endpoint:detect}", Expression: "p(95)<800", OK: false, HasData: false},
		}
		r.Checks = []report.CheckResult{
			{Name: "detect status 200", Passes: 4800, Fails: 385},
			{Name: `body has "anomalies" & <score>`, Passes: 5185},
		}
		return r
	}, tests: 9, failures: 5, errors: 1},
	{name: "checkpoint", result: func(t *testing.T) *report.Result {
		r := load(t, "soak")
		r.Complete, r.Passed, r.ExitCode = false, false, 0
		r.Thresholds, r.Verdict = []report.ThresholdResult{}, ""
		r.Run = report.Run{Valid: true}
		return r
	}, tests: 6, errors: 1},
}
