package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// suiteE2EThresholds keep every release criterion that does not depend on
// how fast this machine is (success rates, counts, the tests' verdicts) and
// make latency limits generous: the embedded server shares 2 CPUs with the
// load generator and whatever else runs, and these tests judge the suite,
// not the machine.
const suiteE2EThresholds = `{
  "smoke": {"http_req_failed": ["rate<0.01"], "health_check_success": ["rate>0.99"], "demo_detect_success": ["rate>0.95"]},
  "load": {"http_req_duration": ["p(95)<5000"], "detect_success": ["rate>0.99"], "events_processed": ["count>10000"]},
  "stress": {"http_req_duration": ["p(95)<20000"], "http_req_failed": ["rate<0.05"], "error_rate": ["rate<0.1"]},
  "capacity": {"http_req_failed": ["rate<0.05"], "detect_success": ["rate>0.95"], "unique_streams_created": ["count>300"]},
  "rate_limit": {"http_req_duration": ["p(95)<2000"], "rate_limited_responses": ["rate>0.5"]},
  "soak": {"http_req_failed": ["rate<0.01"]}
}`

// A demo limit short enough for a test: 2 per 3 s, probed every 500 ms.
var suiteRateLimit = []string{"--ratelimit-limit", "2", "--ratelimit-window", "3s", "--ratelimit-interval", "500ms"}

// suiteFile is a file of the suite's directory.
func suiteFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("suite file: %v", err)
	}
	return data
}

// phases reads suite_results.json's phases: test → phase.
func phases(t *testing.T, dir string) (map[string]any, []map[string]any) {
	t.Helper()
	r := readResult(t, filepath.Join(dir, "suite_results.json"))
	var out []map[string]any
	for _, p := range r["phases"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return r, out
}

// phaseTests is the phases' tests and statuses: "smoke:passed,load:not_run".
func phaseTests(ps []map[string]any) string {
	var out []string
	for _, p := range ps {
		out = append(out, p["test"].(string)+":"+p["status"].(string))
	}
	return strings.Join(out, ",")
}

// The release sequence but soak against the embedded target: a plan first,
// every phase's result file and HTML report, one verdict, suite_results.json
// with each phase against load's baseline, one JUnit suite a phase, the
// markdown summary, the page linking every phase's report, and the
// progress line naming the phase and the suite's time left.
func TestSuitePassesAndReadsEveryPhaseAgainstLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	th := filepath.Join(dir, "thresholds.json")
	if err := os.WriteFile(th, []byte(suiteE2EThresholds), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"suite", "--embedded-target", "--time-scale", "0.015", "--max-events", "200", "--skip", "soak",
		"--thresholds", th, "--out-dir", "out"}, suiteRateLimit...)
	res := runBinary(t, dir, 150*time.Second, args...)
	t.Logf("suite took %s", res.took)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	out := filepath.Join(dir, "out")

	// The plan comes first, with each phase's length and the total.
	plan := regexp.MustCompile(`(?s)^driftload suite: 5 phases against http://127\.0\.0\.1:\d+ \(embedded reference server\)\n` +
		`  1\. smoke +900ms .*\n  2\. load +14s .*\n  3\. stress +9s .*\n  4\. capacity +9s .*expecting a cache of 1000 streams\n` +
		`  5\. ratelimit +6s .*expecting 2 per 3s · paced in real time: not scaled below 6s\n` +
		` +total +3\ds +at time scale 0\.015`)
	if !plan.MatchString(res.stdout) {
		t.Errorf("stdout must start with the plan:\n%s", res.stdout)
	}
	if !regexp.MustCompile(`driftload load: \d+s/13\.5s .* · suite 2/5, \d+s left`).MatchString(res.stderr) {
		t.Errorf("the live line must show the phase and the suite's time left:\n%s", res.stderr)
	}
	if !strings.Contains(res.stdout, "✓ PASSED — all 5 phases passed (exit 0)") ||
		!regexp.MustCompile(`BASELINE  load: p95 \S+ · p99 \S+ · [\d.]+ req/s`).MatchString(res.stdout) {
		t.Errorf("the suite's summary must say PASSED and show load's baseline:\n%s", res.stdout)
	}

	r, ps := phases(t, out)
	if got, want := phaseTests(ps), "smoke:passed,load:passed,stress:passed,capacity:passed,ratelimit:passed"; got != want {
		t.Fatalf("phases %s, want %s\n%s", got, want, res.stdout)
	}
	if r["exit_code"].(float64) != 0 || r["passed"] != true || r["complete"] != true || r["baseline"] != "load" {
		t.Errorf("suite_results.json: exit %v passed %v complete %v baseline %v", r["exit_code"], r["passed"], r["complete"], r["baseline"])
	}
	for _, p := range ps {
		file := p["file"].(string)
		pr := readResult(t, filepath.Join(out, file))
		if pr["test"] != p["test"] || pr["exit_code"].(float64) != 0 {
			t.Errorf("%s: result file %s of test %v, exit %v", p["test"], file, pr["test"], pr["exit_code"])
		}
		figs := p["figures"].(map[string]any)
		if figs["p95_ms"].(float64) <= 0 || figs["rps"].(float64) <= 0 {
			t.Errorf("%s: key figures missing: %v", p["test"], figs)
		}
		if _, ok := p["vs_baseline"]; ok == (p["test"] == "load") {
			t.Errorf("%s: vs_baseline %v (every phase but load is compared with load)", p["test"], p["vs_baseline"])
		}
	}
	if f := ps[2]["findings"].([]any); len(f) == 0 || !strings.Contains(strings.Join(strings.Fields(f[len(f)-1].(string)), " "), "recover") {
		t.Errorf("stress's verdict lines must be among its findings: %v", f)
	}

	var junit struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(suiteFile(t, out, "suite_junit.xml"), &junit); err != nil {
		t.Fatal(err)
	}
	var suites []string
	for _, s := range junit.Suites {
		suites = append(suites, s.Name)
	}
	if got := strings.Join(suites, ","); got != "driftload smoke,driftload load,driftload stress,driftload capacity,driftload ratelimit" {
		t.Errorf("JUnit suites %s, want one a phase", got)
	}
	page := string(suiteFile(t, out, "suite_report.html"))
	for _, p := range ps {
		report := p["report"].(string)
		if html := string(suiteFile(t, out, report)); !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(page, `<a href="`+report+`">report</a>`) {
			t.Errorf("%s: its HTML report %s must exist and the suite's page link it", p["test"], report)
		}
	}
	md := string(suiteFile(t, out, "suite_summary.md"))
	for _, want := range []string{"# ✅ driftload suite against", "| load | ✅ passed | 0 |", "baseline", "[stress\\_test\\_results.json](stress_test_results.json)", "## ✅ driftload capacity"} {
		if !strings.Contains(md, want) {
			t.Errorf("suite_summary.md lacks %q:\n%s", want, md)
		}
	}
}

// A failed smoke stops the suite, as the sequence says; with
// --continue-on-fail the next phases run and fail too.
func TestSuiteStopsAfterAFailedSmoke(t *testing.T) {
	t.Parallel()
	srv := startServe(t, "--inject-error-rate", "1")
	dir := t.TempDir()
	res := runBinary(t, dir, 60*time.Second, "suite", "--base-url", srv.base, "--api-key", srv.key, "--time-scale", "0.02", "--out-dir", "out", "--quiet")
	if res.code != 99 {
		t.Fatalf("exit %d, want 99\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "✗ FAILED — 1 failed, 5 not run; stopped after smoke: smoke failed: fix it before going on") {
		t.Errorf("the verdict must say where and why the suite stopped:\n%s", res.stdout)
	}
	r, ps := phases(t, filepath.Join(dir, "out"))
	if got, want := phaseTests(ps), "smoke:failed,load:not_run,stress:not_run,capacity:not_run,ratelimit:not_run,soak:not_run"; got != want {
		t.Fatalf("phases %s, want %s", got, want)
	}
	if r["stopped_after"] != "smoke" || r["exit_code"].(float64) != 99 {
		t.Errorf("stopped_after %v exit %v", r["stopped_after"], r["exit_code"])
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if got := strings.Join(files, " "); got != "smoke_test_results.html smoke_test_results.json suite_junit.xml suite_report.html suite_results.json suite_summary.md" {
		t.Errorf("files %s: only smoke ran", got)
	}

	res = runBinary(t, dir, 60*time.Second, "suite", "--base-url", srv.base, "--api-key", srv.key, "--only", "smoke,stress",
		"--continue-on-fail", "--time-scale", "0.005", "--out-dir", "cont", "--quiet")
	if res.code != 99 {
		t.Fatalf("--continue-on-fail: exit %d, want 99\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if _, ps := phases(t, filepath.Join(dir, "cont")); phaseTests(ps) != "smoke:failed,stress:failed" {
		t.Fatalf("--continue-on-fail: phases %s, want both run and failed", phaseTests(ps))
	}
}

// --only keeps the release order; ratelimit right after smoke waits for
// smoke's demo calls to leave its window; the step summary gets the suite's
// markdown once (the phases do not append their own).
func TestSuiteOnlyKeepsTheReleaseOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	step := filepath.Join(dir, "step.md")
	args := append([]string{"suite", "--embedded-target", "--only", "ratelimit,smoke", "--time-scale", "0.02", "--out-dir", "out"}, suiteRateLimit...)
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "GITHUB_STEP_SUMMARY="+step)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	plan := regexp.MustCompile(`(?m)^  1\. smoke .*\n  2\. ratelimit +6s .*\n +first waits up to 3s for smoke's demo calls to leave its window$`)
	if !plan.MatchString(stdout.String()) {
		t.Errorf("plan:\n%s", stdout.String())
	}
	if !regexp.MustCompile(`driftload suite: waiting [\d.]+s for smoke's demo calls to leave ratelimit's 3s window`).MatchString(stderr.String()) {
		t.Errorf("the wait must be said:\n%s", stderr.String())
	}
	if _, ps := phases(t, filepath.Join(dir, "out")); phaseTests(ps) != "smoke:passed,ratelimit:passed" {
		t.Fatalf("phases %s\n%s", phaseTests(ps), stdout.String())
	}
	md, err := os.ReadFile(step)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := strings.Count(string(md), "# ✅ driftload suite"), strings.Count(string(md), "## ✅ driftload smoke"); n != 1 || m != 1 {
		t.Errorf("step summary: %d suite and %d smoke headings, want 1 each:\n%s", n, m, md)
	}
}

// Ctrl-C mid-suite: exit 105, the finished phase and the interrupted one
// keep their result files, the phases after are not run.
func TestSuiteInterruptKeepsEveryFinishedPhase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(binary, "suite", "--embedded-target", "--only", "smoke,load,stress", "--time-scale", "0.05", "--max-events", "200",
		"--checkpoint", "500ms", "--out-dir", "out", "--quiet")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// load's first checkpoint: smoke is done and load is measuring.
	loadFile := filepath.Join(dir, "out", "load_test_results.json")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := os.Stat(loadFile); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("load never wrote a checkpoint\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the suite did not stop after SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 105 {
		t.Fatalf("exit %d, want 105\n%s\n%s", code, stdout.String(), stderr.String())
	}
	r, ps := phases(t, filepath.Join(dir, "out"))
	if got, want := phaseTests(ps), "smoke:passed,load:interrupted,stress:not_run"; got != want {
		t.Fatalf("phases %s, want %s", got, want)
	}
	if r["interrupted"] != true || r["complete"] != true || r["exit_code"].(float64) != 105 {
		t.Errorf("suite_results.json: interrupted %v complete %v exit %v", r["interrupted"], r["complete"], r["exit_code"])
	}
	if smoke := readResult(t, filepath.Join(dir, "out", "smoke_test_results.json")); smoke["passed"] != true {
		t.Error("the finished smoke's result must be kept")
	}
	load := readResult(t, loadFile)
	if load["interrupted"] != true || load["complete"] != true || metricValue(t, load, "http_reqs", "count") == 0 {
		t.Errorf("load's result must be complete, interrupted, with what it measured: interrupted %v complete %v", load["interrupted"], load["complete"])
	}
	if !strings.Contains(stdout.String(), "✗ INTERRUPTED — 1 passed, 1 interrupted, 1 not run; stopped after load: the suite was interrupted (exit 105)") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	var junit struct {
		Suites []struct {
			Skipped int `xml:"skipped,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(suiteFile(t, filepath.Join(dir, "out"), "suite_junit.xml"), &junit); err != nil || len(junit.Suites) != 3 || junit.Suites[2].Skipped != 1 {
		t.Errorf("JUnit: %v, %+v; want 3 suites, stress skipped", err, junit.Suites)
	}
}
