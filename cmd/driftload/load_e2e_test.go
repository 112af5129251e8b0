package main

import (
	"bufio"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape reads every sample of the Prometheus text at base/metrics whose
// name is name, keyed by its label string.
func scrape(t *testing.T, base, name string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		labels := ""
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			labels, rest = rest[1:end], rest[end+1:]
		} else if !strings.HasPrefix(rest, " ") {
			continue // another metric with this prefix
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[labels] = v
	}
	return out
}

func sumWhere(samples map[string]float64, contains ...string) float64 {
	total := 0.0
outer:
	for labels, v := range samples {
		for _, c := range contains {
			if !strings.Contains(labels, c) {
				continue outer
			}
		}
		total += v
	}
	return total
}

func metricValue(t *testing.T, r map[string]any, name, key string) float64 {
	t.Helper()
	m, ok := r["metrics"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("metric %s missing from the result file", name)
	}
	return m["values"].(map[string]any)[key].(float64)
}

func TestLoadCompressedProfileMatchesTheServersCounts(t *testing.T) {
	t.Parallel()
	srv := startServe(t)
	base, key := srv.base, srv.key
	dir := t.TempDir()
	res := runBinary(t, dir, 3*time.Minute, "load", "--base-url", base, "--api-key", key, "--time-scale", "0.02", "--quiet")
	// The profile's thresholds are evaluated; a loaded 2-core CI machine may
	// miss a latency threshold, so 0 and 99 are both an honest outcome here.
	if res.code != 0 && res.code != 99 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	r := readResult(t, filepath.Join(dir, "load_test_results.json"))
	if n := len(r["thresholds"].([]any)); n != 8 {
		t.Errorf("%d thresholds evaluated, want the load section's 8", n)
	}
	if d := r["duration_seconds"].(float64); d < 18 || d > 60 {
		t.Errorf("ran %gs, want the whole 18 s profile plus graceful stop", d)
	}

	requests := scrape(t, base, "driftlock_http_requests_total")
	events := scrape(t, base, "driftlock_events_processed_total")

	detect := metricValue(t, r, "http_req_duration", "count")
	if detect == 0 {
		t.Fatal("no requests recorded")
	}
	// Every request driftload recorded reached the server, and vice versa
	// (the server also saw the pre-flight /healthz).
	serverDetect := sumWhere(requests, `route="/v1/detect"`)
	serverHealth := sumWhere(requests, `route="/healthz"`)
	reqs := metricValue(t, r, "http_reqs", "count")
	if reqs != serverDetect+serverHealth-1 {
		t.Errorf("http_reqs = %g, server answered %g detect + %g healthz - 1 pre-flight", reqs, serverDetect, serverHealth)
	}
	sentEvents := metricValue(t, r, "events_processed", "count")
	if serverEvents := sumWhere(events, `route="/v1/detect"`); sentEvents != serverEvents {
		t.Errorf("events_processed = %g, server processed %g", sentEvents, serverEvents)
	}
	for _, sc := range []string{"normal", "large_batch", "health"} {
		found := false
		for _, s := range r["metrics"].(map[string]any)["http_reqs"].(map[string]any)["series"].([]any) {
			if s.(map[string]any)["tags"].(map[string]any)["scenario"] == sc {
				found = true
			}
		}
		if !found {
			t.Errorf("no requests tagged scenario:%s", sc)
		}
	}
}
