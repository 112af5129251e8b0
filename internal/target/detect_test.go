package target

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDetectorFlagsInjectedAnomalies warms a stream with normal events, then
// sends a batch where anomalous events are injected among normal ones.
func TestDetectorFlagsInjectedAnomalies(t *testing.T) {
	s := testServer(t, func(c *Config) { c.Permutations = 500 })
	g := newEventGen(42)
	// Under a steady stream the permutation p-value is uniform, so a
	// threshold of p lets through about p of the analyses as false alarms:
	// the tests use a strict one (the balanced 0.05 would flag 1 in 20).
	const override = `{"baseline_size":100,"window_size":20,"hop_size":10,"p_value_threshold":0.002,"permutation_count":500}`
	warm := decodeOK(t, detect(s, body("payments", g.normals(130), override)))
	if warm.Status != "ready" || warm.AnomalyCount != 0 || warm.BatchID == "" {
		t.Fatalf("warm-up: status %s, %d anomalies, batch %q", warm.Status, warm.AnomalyCount, warm.BatchID)
	}

	steady := decodeOK(t, detect(s, body("payments", g.normals(100), override)))
	if steady.AnomalyCount != 0 || len(steady.Anomalies) != 0 {
		t.Fatalf("a steady stream was flagged: %+v", steady.Anomalies)
	}

	// 30 normal, 25 anomalous (indices 30..54), 25 normal.
	events := g.normals(30)
	for range 25 {
		events = append(events, g.anomalous())
	}
	events = append(events, g.normals(25)...)
	r := decodeOK(t, detect(s, body("payments", events, override)))
	if r.AnomalyCount == 0 || r.AnomalyCount != len(r.Anomalies) {
		t.Fatalf("anomaly_count %d with %d anomalies; want some", r.AnomalyCount, len(r.Anomalies))
	}
	for _, a := range r.Anomalies {
		if a.Index < 30 || a.Index >= 30+25+20 || !a.Detected || a.Why == "" || !uuidRE.MatchString(a.ID) {
			t.Errorf("anomaly %+v: want index in [30, 75) (window holds injected events), detected, why, uuid id", a)
		}
		if a.Event["seq"] == nil || a.Metrics["ncd"] == nil || a.Metrics["p_value"] == nil || a.Metrics["confidence_level"] == nil {
			t.Errorf("anomaly lacks event or snake_case metrics: %+v", a)
		}
		if p := a.Metrics["p_value"].(float64); p > 0.002 {
			t.Errorf("anomaly with p_value %g above the threshold 0.002", p)
		}
	}
	t.Logf("%d anomalies at indices %v", r.AnomalyCount, func() (ix []int) {
		for _, a := range r.Anomalies {
			ix = append(ix, a.Index)
		}
		return
	}())
}

func TestDemoDetects(t *testing.T) {
	s := testServer(t, func(c *Config) { c.NoRateLimit = true; c.Permutations = 500 })
	g := newEventGen(7)
	const strict = `{"p_value_threshold":0.002,"permutation_count":500}`
	steady := decodeOK(t, call(s, "POST", "/v1/demo/detect", body("", g.normals(200), strict)))
	if steady.AnomalyCount != 0 || steady.StreamID != "" || steady.BatchID != "" || steady.Status != "" || steady.Demo == nil {
		t.Fatalf("steady demo: %+v", steady)
	}
	events := g.normals(100)
	for range 20 {
		events = append(events, g.anomalous())
	}
	r := decodeOK(t, call(s, "POST", "/v1/demo/detect", body("", events, strict)))
	if r.AnomalyCount == 0 {
		t.Fatalf("demo did not flag 20 anomalous events after 100 normal ones")
	}
	for _, a := range r.Anomalies {
		if a.Index < 100 {
			t.Errorf("demo anomaly at index %d, before the injected events", a.Index)
		}
	}
	// Fewer events than the demo history: answered, nothing analysed.
	if few := decodeOK(t, call(s, "POST", "/v1/demo/detect", body("", g.normals(4), ""))); few.TotalEvents != 4 || few.AnomalyCount != 0 {
		t.Fatalf("4-event demo: %+v", few)
	}
}

func TestProfilesThroughOverride(t *testing.T) {
	tests := []struct {
		name      string
		maxEvents int
		override  string
		status    int
		algo      string
		needed    int
	}{
		{"default is balanced", 1000, "", 200, "zstd", 449},
		{"sensitive", 1000, `{"ncd_threshold":0.2,"p_value_threshold":0.1,"baseline_size":200,"window_size":30,"hop_size":10,"permutation_count":500}`, 200, "zstd", 229},
		{"balanced", 1000, `{"ncd_threshold":0.3,"p_value_threshold":0.05,"baseline_size":400,"window_size":50,"hop_size":10,"permutation_count":1000}`, 200, "zstd", 449},
		{"strict on a 1000-event server", 1000, `{"ncd_threshold":0.45,"p_value_threshold":0.01,"baseline_size":800,"window_size":100,"hop_size":20,"permutation_count":1000}`, 400, "", 0},
		{"strict on a 1100-event server", 1100, `{"ncd_threshold":0.45,"p_value_threshold":0.01,"baseline_size":800,"window_size":100,"hop_size":20,"permutation_count":1000}`, 200, "zstd", 899},
		{"custom gzip", 1000, `{"baseline_size":10,"window_size":5,"compressor":"GZIP"}`, 200, "gzip", 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, func(c *Config) { c.MaxEvents = tt.maxEvents })
			rec := detect(s, body("p", []string{`{"a":1}`}, tt.override))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status != 200 {
				return
			}
			r := decodeOK(t, rec)
			if r.CompressionAlgo != tt.algo || r.DetectionEventsNeeded != tt.needed {
				t.Fatalf("algo %s needed %d, want %s %d", r.CompressionAlgo, r.DetectionEventsNeeded, tt.algo, tt.needed)
			}
			// A stream keeps its creation params: a later override is ignored.
			r2 := decodeOK(t, detect(s, body("p", []string{`{"a":1}`}, `{"baseline_size":20,"window_size":5,"compressor":"gzip"}`)))
			if r2.DetectionEventsNeeded != tt.needed-1 || r2.CompressionAlgo != tt.algo {
				t.Fatalf("override on an existing stream changed it: needed %d algo %s", r2.DetectionEventsNeeded, r2.CompressionAlgo)
			}
		})
	}
}

func TestLRUEvictionRecalibrates(t *testing.T) {
	s := testServer(t, func(c *Config) { c.DetectorCapacity = 2 })
	g := newEventGen(3)
	send := func(stream string, n int) testResponse {
		t.Helper()
		return decodeOK(t, detect(s, body(stream, g.normals(n), smallOverride)))
	}
	if r := send("a", 60); r.Status != "ready" {
		t.Fatalf("a after 60 events: %s", r.Status)
	}
	send("b", 1)
	if r := send("a", 1); r.Status != "ready" { // a is still cached, and now most recent
		t.Fatalf("a evicted too early: %s", r.Status)
	}
	send("c", 1) // evicts b, the least recently used
	if r := send("a", 1); r.Status != "ready" {
		t.Fatalf("a should have survived: %s", r.Status)
	}
	if r := send("b", 1); r.Status != "calibrating" || r.DetectionEventsNeeded != 49 {
		t.Fatalf("evicted b came back as %s needing %d, want calibrating from scratch (49)", r.Status, r.DetectionEventsNeeded)
	}
	send("d", 1) // evicts a (c is older? no: order is now b, a, then c... see below)
	metrics := scrape(t, s)
	if got := metricValue(t, metrics, "driftlock_detectors_active"); got != 2 {
		t.Errorf("driftlock_detectors_active = %g, want 2", got)
	}
	if got := metricValue(t, metrics, "driftlock_detector_evictions_total"); got != 3 {
		t.Errorf("driftlock_detector_evictions_total = %g, want 3", got)
	}
	if r := send("a", 1); r.Status != "calibrating" {
		t.Fatalf("a after eviction: %s, want calibrating", r.Status)
	}
	s.streamMu.Lock()
	n := len(s.streamParams)
	s.streamMu.Unlock()
	if n != 2 {
		t.Errorf("%d stream params kept for 2 cached streams", n)
	}
}

func scrape(t *testing.T, s *Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// metricValue returns the value of the first sample line starting with series.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + `(?:\{[^}]*\})? (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("series %s not in /metrics", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetrics(t *testing.T) {
	s := testServer(t, nil)
	g := newEventGen(9)
	anomalies := decodeOK(t, detect(s, body("m", g.normals(60), smallOverride))).AnomalyCount
	events := g.normals(20)
	for range 15 {
		events = append(events, g.anomalous())
	}
	anomalies += decodeOK(t, detect(s, body("m", events, ""))).AnomalyCount
	detect(s, "{")
	call(s, "GET", "/nope", "")
	text := scrape(t, s)
	for _, want := range []string{
		`driftlock_http_requests_total{route="/v1/detect",status="200"} 2`,
		`driftlock_http_requests_total{route="/v1/detect",status="400"} 1`,
		`driftlock_http_requests_total{route="unmatched",status="404"} 1`,
		`driftlock_http_request_duration_seconds_bucket{route="/v1/detect",le="0.001"}`,
		`driftlock_http_request_duration_seconds_bucket{route="/v1/detect",le="10"}`,
		`driftlock_http_request_duration_seconds_count{route="/v1/detect"} 3`,
		`driftlock_detection_latency_seconds_count{route="/v1/detect"} 2`,
		`driftlock_events_processed_total{route="/v1/detect"} 95`,
		`driftlock_anomalies_total{route="/v1/detect"} ` + strconv.Itoa(anomalies),
		"driftlock_detectors_active 1",
		"driftlock_detector_evictions_total 0",
		"process_resident_memory_bytes ",
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if anomalies == 0 {
		t.Errorf("no anomalies to count")
	}
	// Two servers in one process each have their own registry.
	if other := scrape(t, testServer(t, nil)); strings.Contains(other, `route="/v1/detect"`) {
		t.Errorf("a new server sees another's series")
	}
}
