package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A 12 s stall of the server: 10 VUs each hold one request for up to 12 s.
// Over the 30 s run about 1 800 requests complete, so the ten slow ones are
// about 0.6 % — the whole-run p(99) stays fast — but any 10 s window around
// the stall's end holds a few hundred requests with the ten slow ones among
// them, so "p(99)<1000 over 10s" must fail, naming the worst window.
func TestWindowedThresholdCatchesAStallTheWholeRunHides(t *testing.T) {
	t.Parallel()
	srv := startServe(t, "--inject-freeze-at", "8s", "--inject-freeze-for", "12s")
	dir := t.TempDir()
	th := filepath.Join(dir, "th.json")
	os.WriteFile(th, []byte(`{"http": {"http_req_duration": ["p(99)<1000", "p(99)<1000 over 10s"]}}`), 0o644)
	res := runBinary(t, dir, 2*time.Minute, "http", "GET", srv.base+"/healthz", "--vus", "10", "--duration", "30s",
		"--think", "100ms", "--thresholds", th)
	if res.code != 99 {
		t.Fatalf("exit %d, want 99\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	r := readResult(t, filepath.Join(dir, "http_test_results.json"))
	var whole, windowed map[string]any
	for _, x := range r["thresholds"].([]any) {
		m := x.(map[string]any)
		if m["window"] == nil {
			whole = m
		} else {
			windowed = m
		}
	}
	if whole == nil || windowed == nil {
		t.Fatalf("thresholds %v", r["thresholds"])
	}
	if whole["ok"] != true {
		t.Errorf("the whole-run p(99) must pass: %v", whole)
	}
	w := windowed["window"].(map[string]any)
	if windowed["ok"] != false || w["worst"].(float64) < 5000 || w["mode"] != "over" {
		t.Errorf("the windowed p(99) must fail with a worst window of seconds: %v", windowed)
	}
	if end := w["worst_end_seconds"].(float64); end < 19 || end > 31 {
		t.Errorf("worst window ends at %vs, want around the stall's end (20 s)", end)
	}
	if !strings.Contains(res.stdout, "worst 10s window") {
		t.Errorf("the summary must show the worst window:\n%s", res.stdout)
	}
}
