package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stepStages holds each level for hold, jumping between levels, and holds
// the last level for final: the shape that makes breaking points exact.
// Recovery is judged on the second half of the final hold.
func stepStages(hold, final time.Duration, levels ...int) string {
	var parts []string
	for i, l := range levels {
		h := hold
		if i == len(levels)-1 {
			h = final
		}
		parts = append(parts, fmt.Sprintf("0s:%d", l), fmt.Sprintf("%s:%d", h, l))
	}
	return strings.Join(parts, ",")
}

type breakingPoint struct {
	ErrorsStart int
	Knee        int
	Verdict     string
	Found       bool
	Lines       string
}

func runStress(t *testing.T, stages string, serveArgs ...string) breakingPoint {
	t.Helper()
	srv := startServe(t, serveArgs...)
	base, key := srv.base, srv.key
	dir := t.TempDir()
	res := runBinary(t, dir, 3*time.Minute, "stress", "--base-url", base, "--api-key", key,
		"--stages", stages, "--interval", "4s", "--max-events", "400", "--quiet")
	if res.code != 0 && res.code != 99 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	r := readResult(t, filepath.Join(dir, "stress_test_results.json"))
	bp := r["analysis"].(map[string]any)["breaking_point"].(map[string]any)
	return breakingPoint{
		ErrorsStart: int(bp["errors_start_at_vus"].(float64)),
		Knee:        int(bp["latency_knee_at_vus"].(float64)),
		Verdict:     bp["recovery"].(map[string]any)["verdict"].(string),
		Found:       bp["found"].(bool),
		Lines:       res.stdout,
	}
}

// The target admits N=4 concurrent detect requests and each takes about
// S=600 ms (injected latency; the 200–400-event batches cost a few ms more).
// A VU thinks T=0.5–0.7 s between requests, so it has a request in flight a
// share f=S/(S+T)≈0.5 of the time. At V VUs at most V requests can be in
// flight, so up to N=4 VUs nothing can be rejected; at 6 VUs the chance that
// the 5 others already hold 4 or more slots is C(5,4)/32+1/32≈19 %, far
// above the 1 % that marks errors: errors start at the first level above N.
func TestStressFindsTheInFlightLimit(t *testing.T) {
	t.Parallel()
	got := runStress(t, stepStages(8*time.Second, 16*time.Second, 4, 6, 8, 4),
		"--max-in-flight", "4", "--inject-latency", "600ms")
	if got.ErrorsStart != 6 {
		t.Fatalf("errors start at %d VUs, want 6 (first level above max-in-flight 4)\n%s", got.ErrorsStart, got.Lines)
	}
	if got.Verdict != "recovered" {
		t.Fatalf("recovery %q, want recovered: the server is fine once load drops\n%s", got.Verdict, got.Lines)
	}
	if !strings.Contains(got.Lines, "errors start at 6 VUs") || !strings.Contains(got.Lines, "503 overloaded") {
		t.Errorf("summary must say where errors start and which status:\n%s", got.Lines)
	}
}

func TestStressOnAHealthyServerFindsNoBreakingPoint(t *testing.T) {
	t.Parallel()
	got := runStress(t, stepStages(8*time.Second, 16*time.Second, 4, 6, 8, 4), "--inject-latency", "100ms")
	if got.Found || got.ErrorsStart != 0 || got.Knee != 0 {
		t.Fatalf("healthy server: errors at %d, knee at %d, want no breaking point\n%s", got.ErrorsStart, got.Knee, got.Lines)
	}
	if got.Verdict != "recovered" {
		t.Fatalf("recovery %q, want recovered\n%s", got.Verdict, got.Lines)
	}
}

func TestStressReportsAServerThatDoesNotRecover(t *testing.T) {
	t.Parallel()
	// Service time grows by 3 s per minute of uptime: by the final stage
	// requests take over a second longer than in the first.
	got := runStress(t, stepStages(8*time.Second, 24*time.Second, 4, 6, 8, 4),
		"--inject-latency", "100ms", "--degrade-per-minute", "3s")
	if got.Verdict != "not_recovered" {
		t.Fatalf("recovery %q, want not_recovered for a server that keeps degrading\n%s", got.Verdict, got.Lines)
	}
}
