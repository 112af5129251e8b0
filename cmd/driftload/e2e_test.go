package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the driftload executable built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "driftload-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "driftload")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building driftload: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type runResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runBinary runs driftload with args in dir, killing it after limit.
func runBinary(t *testing.T, dir string, limit time.Duration, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running driftload: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("driftload %v did not stop within %s\nstdout:\n%s\nstderr:\n%s", args, limit, res.stdout, res.stderr)
	}
	return res
}

func readResult(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("result file: %v", err)
	}
	var r map[string]any
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("result file is not JSON: %v", err)
	}
	return r
}

func TestSmokeAgainstEmbeddedTargetPasses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runBinary(t, dir, 60*time.Second, "smoke", "--embedded-target", "--duration", "4s", "--vus", "3")
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	r := readResult(t, filepath.Join(dir, "smoke_test_results.json"))
	if r["schema_version"].(float64) != 1 || r["exit_code"].(float64) != 0 || r["aborted"].(bool) {
		t.Fatalf("result header wrong: schema %v exit %v aborted %v", r["schema_version"], r["exit_code"], r["aborted"])
	}
	cfg := r["config"].(map[string]any)
	if cfg["api_key"] != "[redacted]" {
		t.Errorf("api key must be redacted, got %v", cfg["api_key"])
	}
	ms := r["metrics"].(map[string]any)
	for _, name := range []string{"http_reqs", "http_req_duration", "http_req_failed", "iterations", "checks", "health_check_success", "demo_detect_success", "data_sent", "data_received", "vus", "vus_max"} {
		if _, ok := ms[name]; !ok {
			t.Errorf("metric %s missing from the result file", name)
		}
	}
	h := ms["http_req_duration"].(map[string]any)["histogram"].(map[string]any)
	if h["data"] == "" || h["encoding"] != "hdr-v2-compressed-base64" {
		t.Errorf("trend histogram not encoded: %v", h)
	}
	for _, th := range r["thresholds"].([]any) {
		m := th.(map[string]any)
		if m["ok"] != true {
			t.Errorf("threshold %v %v failed: %v", m["metric"], m["expression"], m["measured"])
		}
	}
	if !strings.Contains(res.stdout, "PASSED") {
		t.Errorf("summary must say PASSED:\n%s", res.stdout)
	}
}

func TestSmokeAgainstFailingServerExits99(t *testing.T) {
	t.Parallel()
	srv := startServe(t, "--inject-error-rate", "1")
	base, key := srv.base, srv.key
	dir := t.TempDir()
	res := runBinary(t, dir, 60*time.Second, "smoke", "--base-url", base, "--api-key", key, "--duration", "3s", "--vus", "2")
	if res.code != 99 {
		t.Fatalf("exit %d, want 99\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "✗ demo_detect_success") {
		t.Errorf("summary must name the failing threshold:\n%s", res.stdout)
	}
	r := readResult(t, filepath.Join(dir, "smoke_test_results.json"))
	if r["exit_code"].(float64) != 99 || r["passed"].(bool) {
		t.Errorf("result file must record the failure: exit %v passed %v", r["exit_code"], r["passed"])
	}
}

func TestBadThresholdsFileExits104(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"smoke": {"http_reqs": ["value>5"]}}`), 0o644)
	res := runBinary(t, dir, 30*time.Second, "smoke", "--thresholds", bad, "--base-url", "http://127.0.0.1:1")
	if res.code != 104 {
		t.Fatalf("exit %d, want 104\nstderr:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "http_reqs") || !strings.Contains(res.stderr, "value") {
		t.Errorf("message must name the metric and the statistic:\n%s", res.stderr)
	}
	if n := strings.Count(strings.TrimSpace(res.stderr), "\n"); n != 0 {
		t.Errorf("want a one-line error, got:\n%s", res.stderr)
	}

	res = runBinary(t, dir, 30*time.Second, "validate", bad)
	if res.code != 104 || !strings.Contains(res.stderr, "smoke") {
		t.Errorf("validate: exit %d, stderr %q; want 104 naming the test", res.code, res.stderr)
	}
	res = runBinary(t, dir, 30*time.Second, "validate")
	if res.code != 0 {
		t.Errorf("validate of the built-in thresholds: exit %d\n%s", res.code, res.stderr)
	}
}

func TestBadFlagsExit104WithOneLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"smoke", "--vus", "many"},
		{"smoke", "--stages", "30s"},
		{"smoke", "--base-url", "ftp://x"},
		{"smoke", "--no-such-flag"},
		{"smoke", "--time-scale", "-1"},
		{"smoke", "--vus", "0"},
		{"smoke", "--timeout", "-1s"},
		{"smoke", "--rate", "5", "--stages", "10s:2"},
		// Configuration errors come before the pre-flight: nothing listens here.
		{"ratelimit", "--limit", "0", "--base-url", "http://127.0.0.1:1"},
		{"capacity", "--expected-capacity", "-1", "--base-url", "http://127.0.0.1:1"},
	} {
		res := runBinary(t, dir, 30*time.Second, args...)
		if res.code != 104 {
			t.Errorf("%v: exit %d, want 104\n%s", args, res.code, res.stderr)
		}
		if strings.Contains(res.stderr, "goroutine") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
			t.Errorf("%v: want a one-line error, got:\n%s", args, res.stderr)
		}
	}
}

func TestNothingListeningExits108Fast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runBinary(t, dir, 30*time.Second, "smoke", "--base-url", "http://127.0.0.1:1", "--duration", "1m")
	if res.code != 108 {
		t.Fatalf("exit %d, want 108\n%s", res.code, res.stderr)
	}
	if res.took > 5*time.Second {
		t.Errorf("took %s, want under 5s", res.took)
	}
	if !strings.Contains(res.stderr, "127.0.0.1:1") {
		t.Errorf("message must name the address:\n%s", res.stderr)
	}
}

func TestSIGINTExits105AndWritesTheResult(t *testing.T) {
	t.Parallel()
	base := startServe(t).base
	dir := t.TempDir()
	cmd := exec.Command(binary, "smoke", "--base-url", base, "--duration", "1m", "--vus", "2")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("driftload did not stop after SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 105 {
		t.Fatalf("exit %d, want 105\n%s\n%s", code, stdout.String(), stderr.String())
	}
	r := readResult(t, filepath.Join(dir, "smoke_test_results.json"))
	if r["aborted"] != true || r["interrupted"] != true || r["exit_code"].(float64) != 105 {
		t.Fatalf("result: aborted %v interrupted %v exit %v", r["aborted"], r["interrupted"], r["exit_code"])
	}
	if reqs := r["metrics"].(map[string]any)["http_reqs"].(map[string]any)["values"].(map[string]any)["count"].(float64); reqs == 0 {
		t.Fatal("what was measured before the interrupt must be kept")
	}
}

func TestVersion(t *testing.T) {
	res := runBinary(t, t.TempDir(), 10*time.Second, "version")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "driftload ") {
		t.Fatalf("version: exit %d %q", res.code, res.stdout)
	}
}

func TestSmokeThroughTheStdlibClientPasses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runBinary(t, dir, time.Minute, "smoke", "--embedded-target", "--duration", "2s", "--vus", "2", "--stdlib-http", "--quiet")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if cfg := readResult(t, filepath.Join(dir, "smoke_test_results.json"))["config"].(map[string]any); cfg["stdlib_http"] != true {
		t.Errorf("config must echo stdlib_http: %v", cfg["stdlib_http"])
	}
}
