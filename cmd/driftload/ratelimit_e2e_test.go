package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rateLimitRun is what one ratelimit run against its own reference server said.
type rateLimitRun struct {
	code     int
	took     time.Duration
	stdout   string
	analysis map[string]any
}

// runRateLimit starts a server limiting the demo route to 3 per 6 s (plus
// serveArgs) and runs ratelimit against it expecting that limit, one request
// every 500 ms: a 6 s window then holds 12 paced requests for 3 slots.
func runRateLimit(t *testing.T, duration string, serveArgs ...string) rateLimitRun {
	t.Helper()
	srv := startServe(t, append([]string{"--demo-limit", "3", "--demo-window", "6s"}, serveArgs...)...)
	dir := t.TempDir()
	res := runBinary(t, dir, 90*time.Second, "ratelimit", "--base-url", srv.base,
		"--limit", "3", "--window", "6s", "--interval", "500ms", "--duration", duration, "--quiet")
	if res.code != 0 && res.code != 99 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	r := readResult(t, filepath.Join(dir, "rate_limit_test_results.json"))
	return rateLimitRun{code: res.code, took: res.took, stdout: res.stdout, analysis: r["analysis"].(map[string]any)}
}

func rlField(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		v = v.(map[string]any)[k]
	}
	return v
}

func TestRateLimitPassesAgainstTheReferenceLimiter(t *testing.T) {
	t.Parallel()
	got := runRateLimit(t, "20s")
	a := got.analysis
	if got.code != 0 {
		t.Fatalf("exit %d, want 0 against a correct limiter\n%s", got.code, got.stdout)
	}
	if got.took > time.Minute {
		t.Errorf("took %s, want under a minute", got.took)
	}
	if ok := rlField(a, "enforcement", "ok").(bool); !ok {
		t.Errorf("enforcement not ok: %v", rlField(a, "enforcement", "reason"))
	}
	// 40 paced ticks in 20 s and at most 3 successes per 6 s: the busiest
	// window holds exactly the limit.
	if obs := rlField(a, "enforcement", "observed").(float64); obs != 3 {
		t.Errorf("observed %v per window, want 3", obs)
	}
	if share := a["limited_share"].(float64); share <= 0.5 {
		t.Errorf("limited share %.2f, want > 0.5", share)
	}
	if src := rlField(a, "retry_after", "source").(string); src != "both" {
		t.Errorf("Retry-After source %q, want both (header and body)", src)
	}
	// A probe follows the first 429 of each window: about three in 20 s.
	if rlField(a, "retry_after", "inaccurate").(bool) || !rlField(a, "retry_after", "accurate").(bool) {
		t.Errorf("Retry-After not judged accurate: %v", rlField(a, "retry_after", "verdicts"))
	}
	for _, want := range []string{"allowed", "effective limit: 3 per 6s observed", "Retry-After accurate", "429 latency"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, got.stdout)
		}
	}
}

func TestRateLimitFailsWithoutALimit(t *testing.T) {
	t.Parallel()
	got := runRateLimit(t, "8s", "--no-rate-limit")
	if got.code != 99 {
		t.Fatalf("exit %d, want 99 when the server does not limit\n%s", got.code, got.stdout)
	}
	if !rlField(got.analysis, "enforcement", "over_limit").(bool) {
		t.Errorf("over_limit false: %v", rlField(got.analysis, "enforcement", "reason"))
	}
	if !strings.Contains(got.stdout, "over the limit") {
		t.Errorf("summary does not say the limit was exceeded:\n%s", got.stdout)
	}
}

func TestRateLimitNotesAMissingRetryAfterHeader(t *testing.T) {
	t.Parallel()
	got := runRateLimit(t, "14s", "--no-retry-after-header")
	if got.code != 0 {
		t.Fatalf("exit %d, want 0: a missing header is noted, not failed\n%s", got.code, got.stdout)
	}
	if !rlField(got.analysis, "retry_after", "header_missing").(bool) {
		t.Error("header_missing false")
	}
	if src := rlField(got.analysis, "retry_after", "source").(string); src != "body" {
		t.Errorf("Retry-After source %q, want body", src)
	}
	if !strings.Contains(got.stdout, "NOTE: 429s carry no Retry-After header") {
		t.Errorf("summary does not note the missing header:\n%s", got.stdout)
	}
}
