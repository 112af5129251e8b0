package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// capacityThresholds replaces the default capacity section, whose
// unique_streams_created count>1000 a 20-second run cannot reach.
const capacityThresholds = `{"capacity": {
  "http_req_failed": ["rate<0.05"],
  "detect_success": ["rate>0.95"],
  "unique_streams_created": ["count>150"]
}}`

type capacityRun struct {
	code     int
	out      string
	analysis map[string]any
	created  float64
}

// runCapacityAgainst runs a 20-second, 20-VU capacity test expecting a
// 200-stream cache against a reference server holding cacheSize detectors.
// 20 VUs thinking 0.3–0.7 s create about 40 streams/s, ~800 in all:
// sentinels (every 10th stream) get retention probes after 180 newer
// streams and eviction probes after 220, so the first ~14 s of sentinels
// are probed before the end.
func runCapacityAgainst(t *testing.T, cacheSize int) capacityRun {
	t.Helper()
	srv := startServe(t, "--detector-capacity", strconv.Itoa(cacheSize), "--key-rate", "10000")
	dir := t.TempDir()
	th := filepath.Join(dir, "thresholds.json")
	if err := os.WriteFile(th, []byte(capacityThresholds), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runBinary(t, dir, 90*time.Second, "capacity", "--base-url", srv.base, "--api-key", srv.key,
		"--vus", "20", "--duration", "20s", "--expected-capacity", "200", "--thresholds", th, "--quiet")
	r := readResult(t, filepath.Join(dir, "capacity_test_results.json"))
	a, ok := r["analysis"].(map[string]any)
	if !ok {
		t.Fatalf("no analysis (exit %d)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	run := capacityRun{code: res.code, out: res.stdout + res.stderr, analysis: a, created: metricValue(t, r, "unique_streams_created", "count")}
	if got := a["streams_created"].(float64); got != run.created {
		t.Errorf("analysis.streams_created %v, unique_streams_created %v: both count confirmed streams", got, run.created)
	}
	if run.created < 300 {
		t.Fatalf("only %v streams created in 20 s with 20 VUs\n%s", run.created, run.out)
	}
	return run
}

// probeCount reads analysis.probes.by_kind[kind][outcome].
func (r capacityRun) probeCount(kind, outcome string) float64 {
	byKind := r.analysis["probes"].(map[string]any)["by_kind"].(map[string]any)
	v, _ := byKind[kind].(map[string]any)[outcome].(float64)
	return v
}

func TestCapacitySeesEvictionsInASmallCache(t *testing.T) {
	t.Parallel()
	r := runCapacityAgainst(t, 200)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0: a cache of exactly the expected size passes\n%s", r.code, r.out)
	}
	if v := r.analysis["verdict"]; v != "evicts_beyond_expected" {
		t.Fatalf("verdict %v, want evicts_beyond_expected\n%s", v, r.out)
	}
	// Eviction probes come after ≥220 newer streams: a 200-entry LRU has
	// dropped every one of them.
	if ev, kept := r.probeCount("eviction", "evicted"), r.probeCount("eviction", "kept"); ev < 3 || kept != 0 {
		t.Fatalf("eviction probes: %v evicted, %v kept; want ≥3 and 0\n%s", ev, kept, r.out)
	}
	// Every new stream beyond the 200 cached evicted one (evicted probes
	// re-create their stream and evict one more each).
	if ev, ok := r.analysis["evictions"].(float64); !ok || ev < r.created-200 {
		t.Errorf("server evictions %v, want at least %v created − 200 cached", r.analysis["evictions"], r.created)
	}
	if peak, _ := r.analysis["detectors_active_peak"].(float64); peak != 200 {
		t.Errorf("detectors_active peak %v, want the full 200-stream cache", peak)
	}
	if !strings.Contains(r.out, "evicted") {
		t.Errorf("summary should report the probes:\n%s", r.out)
	}
}

func TestCapacitySeesNoEvictionsInALargeCache(t *testing.T) {
	t.Parallel()
	r := runCapacityAgainst(t, 5000)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", r.code, r.out)
	}
	if v := r.analysis["verdict"]; v != "no_eviction" {
		t.Fatalf("verdict %v, want no_eviction\n%s", v, r.out)
	}
	probes := r.analysis["probes"].(map[string]any)
	if kept, ev := probes["kept"].(float64), probes["evicted"].(float64); kept < 6 || ev != 0 {
		t.Fatalf("probes: %v kept, %v evicted; want all kept\n%s", kept, ev, r.out)
	}
	if r.probeCount("eviction", "kept") < 3 {
		t.Errorf("eviction probes (after ≥220 newer) should have come back ready\n%s", r.out)
	}
	if ev, ok := r.analysis["evictions"].(float64); !ok || ev != 0 {
		t.Errorf("server evictions %v, want 0", r.analysis["evictions"])
	}
	// Every confirmed stream is still cached (probes re-touch, never add);
	// the last scrape follows the last request.
	if peak, _ := r.analysis["detectors_active_peak"].(float64); peak < r.created || peak > r.created+5 {
		t.Errorf("detectors_active peak %v, want all %v streams", peak, r.created)
	}
}

func TestCapacityFailsACacheBelowTheExpectedSize(t *testing.T) {
	t.Parallel()
	r := runCapacityAgainst(t, 120)
	if r.code != 99 {
		t.Fatalf("exit %d, want 99: streams evicted after fewer than 200 newer ones\n%s", r.code, r.out)
	}
	if v := r.analysis["verdict"]; v != "evicts_below_expected" {
		t.Fatalf("verdict %v, want evicts_below_expected\n%s", v, r.out)
	}
	if r.probeCount("retention", "evicted") < 1 {
		t.Fatalf("retention probes (after ≥180 newer) should come back calibrating\n%s", r.out)
	}
	if !strings.Contains(r.out, "fewer than the expected 200") {
		t.Errorf("summary should say why it failed:\n%s", r.out)
	}
}
