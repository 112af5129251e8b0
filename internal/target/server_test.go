package target

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Config)
	}{
		{"Addr", func(c *Config) { c.Addr = "no-port" }},
		{"DemoLimit", func(c *Config) { c.DemoLimit = 0 }},
		{"DemoWindow", func(c *Config) { c.DemoWindow = 0 }},
		{"KeyRate", func(c *Config) { c.KeyRate = 0 }},
		{"MaxEvents", func(c *Config) { c.MaxEvents = 0 }},
		{"MaxBodyBytes", func(c *Config) { c.MaxBodyBytes = 10 }},
		{"DetectorCapacity", func(c *Config) { c.DetectorCapacity = 0 }},
		{"Permutations", func(c *Config) { c.Permutations = -1 }},
		{"InjectLatency", func(c *Config) { c.InjectLatency = -time.Second }},
		{"InjectJitter", func(c *Config) { c.InjectJitter = -time.Second }},
		{"InjectErrorRate", func(c *Config) { c.InjectErrorRate = 1.5 }},
		{"DegradePerMinute", func(c *Config) { c.DegradePerMinute = -time.Second }},
		{"LeakBytesPerRequest", func(c *Config) { c.LeakBytesPerRequest = -1 }},
		{"MaxInFlight", func(c *Config) { c.MaxInFlight = -1 }},
		{"InjectFreezeAt", func(c *Config) { c.InjectFreezeAt = -time.Second }},
		{"InjectFreezeFor", func(c *Config) { c.InjectFreezeAt = time.Second }},
		{"APIKeys", func(c *Config) { c.APIKeys = []string{"a b"} }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("New: %v, want an error naming %s", err, tt.field)
			}
		})
	}
	if _, err := New(DefaultConfig()); err != nil {
		t.Fatalf("DefaultConfig rejected: %v", err)
	}
}

func TestRoutes(t *testing.T) {
	s := testServer(t, func(c *Config) { c.Version = "1.2.3" })
	tests := []struct {
		method, path string
		status       int
		want         string // substring of the body
		allow        string
	}{
		{"GET", "/healthz", 200, `"status":"ok"`, ""},
		{"HEAD", "/healthz", 200, "", ""},
		{"GET", "/api/healthz", 200, `"status":"ok"`, ""},
		{"GET", "/readyz", 200, `"ready":true`, ""},
		{"GET", "/v1/version", 200, `"version":"1.2.3"`, ""},
		{"GET", "/v1/profiles", 200, `"name":"strict"`, ""},
		{"GET", "/metrics", 200, "driftlock_detectors_active", ""},
		{"GET", "/nope", 404, "404 page not found", ""},
		{"GET", "/v1/detect/extra", 404, "404 page not found", ""},
		{"POST", "/healthz", 405, `"code":"method_not_allowed"`, "GET, HEAD"},
		{"GET", "/v1/detect", 405, `"code":"method_not_allowed"`, "POST"},
		{"PUT", "/v1/demo/detect", 405, `"code":"method_not_allowed"`, "POST"},
		{"DELETE", "/metrics", 405, `"code":"method_not_allowed"`, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			rec := call(s, tt.method, tt.path, "")
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Fatalf("%s %s = %d %q, want %d containing %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.status, tt.want)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if tt.status == 405 {
				decodeErr(t, rec)
			}
		})
	}
}

func TestProfilesRoute(t *testing.T) {
	s := testServer(t, func(c *Config) { c.Permutations = 100 })
	var out struct {
		Default  string        `json:"default"`
		Profiles []profileJSON `json:"profiles"`
	}
	if err := json.Unmarshal(call(s, "GET", "/v1/profiles", "").Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		ncd      float64
		accepted bool
	}{"sensitive": {0.20, true}, "balanced": {0.30, true}, "strict": {0.45, false}}
	seen := 0
	for _, p := range out.Profiles {
		w, ok := want[p.Name]
		if !ok {
			continue
		}
		seen++
		if p.NCDThreshold != w.ncd || *p.AcceptedOnDetect != w.accepted || p.EffectivePermutationCount != 100 {
			t.Errorf("profile %+v, want ncd %g accepted %v effective permutations 100", p, w.ncd, w.accepted)
		}
	}
	if seen != 3 || out.Default != "balanced" || out.Profiles[len(out.Profiles)-1].Name != "custom" {
		t.Fatalf("profiles = %+v", out)
	}
}

func TestReadyzWhileDraining(t *testing.T) {
	s := testServer(t, nil)
	s.draining.Store(true)
	if rec := call(s, "GET", "/readyz", ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining = %d", rec.Code)
	}
}

func TestRequestID(t *testing.T) {
	s := testServer(t, nil)
	rec := detect(s, body("rid", []string{`{"a":1}`}, ""), "X-Request-Id", "abc-123")
	if got := decodeOK(t, rec).RequestID; got != "abc-123" || rec.Header().Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request_id %q / header %q, want the echo abc-123", got, rec.Header().Get("X-Request-Id"))
	}
	rec = detect(s, "{")
	if e := decodeErr(t, rec); !strings.HasPrefix(e.Error.RequestID, "req_") {
		t.Fatalf("generated request_id %q", e.Error.RequestID)
	}
}

func TestAuth(t *testing.T) {
	devFormat := "dlk_123e4567-e89b-12d3-a456-426614174000.s3cret"
	tests := []struct {
		name    string
		keys    []string
		headers []string
		status  int
	}{
		{"dev: missing key", nil, nil, 401},
		{"dev: key of the dlk form", nil, []string{"X-Api-Key", devFormat}, 200},
		{"dev: bearer", nil, []string{"Authorization", "Bearer " + devFormat}, 200},
		{"dev: bearer lower case", nil, []string{"Authorization", "bearer " + devFormat}, 200},
		{"dev: not the dlk form", nil, []string{"X-Api-Key", "dlk_nope.secret"}, 401},
		{"dev: no secret", nil, []string{"X-Api-Key", "dlk_123e4567-e89b-12d3-a456-426614174000."}, 401},
		{"dev: basic auth", nil, []string{"Authorization", "Basic " + devFormat}, 401},
		{"configured: match", []string{"k1", "k2"}, []string{"X-Api-Key", "k2"}, 200},
		{"configured: bearer", []string{"k1"}, []string{"Authorization", "Bearer k1"}, 200},
		{"configured: dlk form is not enough", []string{"k1"}, []string{"X-Api-Key", devFormat}, 401},
		{"configured: prefix", []string{"k1"}, []string{"X-Api-Key", "k"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, func(c *Config) { c.APIKeys = tt.keys })
			rec := call(s, "POST", "/v1/detect", body("s", []string{`{"a":1}`}, ""), tt.headers...)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status == 401 {
				if e := decodeErr(t, rec); e.Error.Code != "unauthorized" || e.Error.Message != "authentication failed" {
					t.Fatalf("401 body %s", rec.Body.String())
				}
			}
		})
	}
	s := testServer(t, func(c *Config) { c.APIKeys = []string{"first", "second"} })
	if s.DevKey() != "first" {
		t.Fatalf("DevKey = %q, want the first configured key", s.DevKey())
	}
	s = testServer(t, nil)
	if !devKeyPattern.MatchString(s.DevKey()) {
		t.Fatalf("generated dev key %q is not of the dlk form", s.DevKey())
	}
}

func TestDetectBadRequests(t *testing.T) {
	ev := `{"a":1}`
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"empty body", "", 400, "invalid_argument", "body is empty"},
		{"malformed", `{"events":[`, 400, "invalid_argument", "malformed JSON"},
		{"trailing garbage", `{"events":[{"a":1}]} x`, 400, "invalid_argument", "malformed JSON"},
		{"not an object", `[1,2]`, 400, "invalid_argument", "must be a JSON object"},
		{"null body", `null`, 400, "invalid_argument", "must be a JSON object"},
		{"no events", `{"stream_id":"s"}`, 400, "invalid_argument", "events is required"},
		{"events null", `{"events":null}`, 400, "invalid_argument", "got null"},
		{"events object", `{"events":{"a":1}}`, 400, "invalid_argument", "got object"},
		{"events empty", `{"events":[]}`, 400, "invalid_argument", "must not be empty"},
		{"null event", `{"events":[{"a":1},null]}`, 400, "invalid_argument", "events[1] is null"},
		{"string event", `{"events":["x"]}`, 400, "invalid_argument", "events[0] must be a JSON object, got string"},
		{"empty event", `{"events":[{ }]}`, 400, "invalid_argument", "events[0] is an empty object"},
		{"too many events", body("", repeat(ev, 1001), ""), 400, "invalid_argument", "too many events: 1001"},
		{"stream_id null", `{"stream_id":null,"events":[{"a":1}]}`, 400, "invalid_argument", "stream_id must be a string, got null"},
		{"stream_id number", `{"stream_id":5,"events":[{"a":1}]}`, 400, "invalid_argument", "got number"},
		{"stream_id empty", `{"stream_id":" ","events":[{"a":1}]}`, 400, "invalid_argument", "must not be empty"},
		{"stream_id long", body(strings.Repeat("s", 300), []string{ev}, ""), 400, "invalid_argument", "longer than"},
		{"override type", body("s", []string{ev}, `{"baseline_size":"big"}`), 400, "invalid_argument", "config_override.baseline_size must be an integer"},
		{"override not object", body("s", []string{ev}, `[1]`), 400, "invalid_argument", "config_override"},
		{"override too big for max events", body("s", []string{ev}, `{"baseline_size":800,"window_size":100}`), 400, "invalid_argument", "baseline_size + 3*window_size = 1100"},
		{"override compressor", body("s", []string{ev}, `{"compressor":"lz4"}`), 400, "invalid_argument", "compressor"},
		{"override zero window", body("s", []string{ev}, `{"window_size":0}`), 400, "invalid_argument", "window_size must be at least 1"},
		{"override threshold", body("s", []string{ev}, `{"ncd_threshold":2}`), 400, "invalid_argument", "NCDThreshold"},
		{"body too large", `{"events":[{"pad":"` + strings.Repeat("x", 3000) + `"}]}`, 413, "payload_too_large", "larger than 2048 bytes"},
	}
	s := testServer(t, nil)
	small := testServer(t, func(c *Config) { c.MaxBodyBytes = 2048 })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := s
			if tt.status == 413 {
				srv = small
			}
			rec := detect(srv, tt.body)
			e := decodeErr(t, rec)
			if rec.Code != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.msg) {
				t.Fatalf("= %d %s, want %d %s with %q", rec.Code, rec.Body.String(), tt.status, tt.code, tt.msg)
			}
		})
	}
}

func TestDemoBadRequests(t *testing.T) {
	ev := `{"a":1}`
	tests := []struct {
		name, body, msg string
	}{
		{"malformed", `{`, "malformed JSON"},
		{"events empty", `{"events":[]}`, "must not be empty"},
		{"null event", `{"events":[null]}`, "events[0] is null"},
		{"too many events", body("", repeat(ev, 201), ""), "too many events: 201, at most 200"},
		{"override too big", body("", []string{ev}, `{"baseline_size":190,"window_size":20}`), "exceeds the demo's 200"},
	}
	s := testServer(t, func(c *Config) { c.NoRateLimit = true })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := call(s, "POST", "/v1/demo/detect", tt.body)
			e := decodeErr(t, rec)
			if rec.Code != 400 || e.Error.Code != "invalid_argument" || !strings.Contains(e.Error.Message, tt.msg) {
				t.Fatalf("= %d %s, want 400 with %q", rec.Code, rec.Body.String(), tt.msg)
			}
		})
	}
	// The demo route ignores stream_id, even a null one.
	if rec := call(s, "POST", "/v1/demo/detect", `{"stream_id":null,"events":[{"a":1}]}`); rec.Code != 200 {
		t.Fatalf("demo with stream_id = %d %s", rec.Code, rec.Body.String())
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestDetectCalibratingResponse(t *testing.T) {
	s := testServer(t, nil)
	g := newEventGen(1)
	rec := detect(s, body("logs-production", g.normals(20), ""), "X-Request-Id", "req-7")
	r := decodeOK(t, rec)
	if !r.Success || r.TotalEvents != 20 || r.AnomalyCount != 0 || r.Status != "calibrating" ||
		r.DetectionReady == nil || *r.DetectionReady || r.DetectionEventsNeeded != 430 || r.BatchID != "" ||
		r.CompressionAlgo != "zstd" || r.RequestID != "req-7" || r.Anomalies == nil {
		t.Fatalf("calibrating response %s", rec.Body.String())
	}
	if !uuidRE.MatchString(r.StreamID) || r.StreamID == "logs-production" {
		t.Fatalf("stream_id %q should be the stream's UUID", r.StreamID)
	}
	if d, err := time.ParseDuration(r.ProcessingTime); err != nil || d <= 0 {
		t.Fatalf("processing_time %q: %v", r.ProcessingTime, err)
	}
	for _, k := range []string{`"calibration":{`, `"detection_min_events":450`, `"anomalies":[]`} {
		if !strings.Contains(rec.Body.String(), k) {
			t.Errorf("body lacks %s: %s", k, rec.Body.String())
		}
	}
	if again := decodeOK(t, detect(s, body("logs-production", g.normals(5), ""))); again.StreamID != r.StreamID || again.DetectionEventsNeeded != 425 {
		t.Fatalf("second request: stream %s needed %d, want %s and 425", again.StreamID, again.DetectionEventsNeeded, r.StreamID)
	}
	// A stream sent by its UUID is the same stream.
	if byUUID := decodeOK(t, detect(s, body(r.StreamID, g.normals(5), ""))); byUUID.DetectionEventsNeeded != 420 {
		t.Fatalf("stream by UUID: needed %d, want 420", byUUID.DetectionEventsNeeded)
	}
	// No stream_id: the default stream.
	if def := decodeOK(t, detect(s, body("", g.normals(1), ""))); def.StreamID != streamUUID(s.DevKey(), "default") {
		t.Fatalf("default stream %s", def.StreamID)
	}
}

func TestStreamUUID(t *testing.T) {
	a := streamUUID("key1", "orders")
	tests := []struct {
		name       string
		got        string
		want       string
		sameAsWant bool
	}{
		{"deterministic", streamUUID("key1", "orders"), a, true},
		{"other tenant", streamUUID("key2", "orders"), a, false},
		{"other slug", streamUUID("key1", "orders2"), a, false},
		{"uuid passes through, lower-cased", streamUUID("key1", "2D3E4F5A-6B7C-4D8E-9F0A-1B2C3D4E5F6A"), "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", true},
	}
	for _, tt := range tests {
		if (tt.got == tt.want) != tt.sameAsWant || !uuidRE.MatchString(tt.got) {
			t.Errorf("%s: %s vs %s", tt.name, tt.got, tt.want)
		}
	}
	if a[14] != '5' {
		t.Errorf("derived UUID %s is not version 5", a)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{850*time.Microsecond + 300, "850µs"},
		{10*time.Millisecond + 234567, "10.235ms"},
		{245*time.Millisecond + 310*time.Microsecond, "245.31ms"},
		{1234567891, "1.235s"},
		{500, "500ns"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%d) = %q, want %q", int64(tt.d), got, tt.want)
		}
		if _, err := time.ParseDuration(formatDuration(tt.d)); err != nil {
			t.Errorf("not a Go duration: %v", err)
		}
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name, xff, realIP, remote, want string
	}{
		{"xff first entry", "203.0.113.9, 10.0.0.1", "198.51.100.2", "192.0.2.1:999", "203.0.113.9"},
		{"real ip", "", "198.51.100.2", "192.0.2.1:999", "198.51.100.2"},
		{"socket", "", "", "192.0.2.1:999", "192.0.2.1"},
		{"socket v6", "", "", "[::1]:80", "::1"},
		{"empty xff entry", " , 10.0.0.1", "198.51.100.2", "192.0.2.1:999", "198.51.100.2"},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if tt.realIP != "" {
			r.Header.Set("X-Real-IP", tt.realIP)
		}
		if got := clientIP(r); got != tt.want {
			t.Errorf("%s: clientIP = %q, want %q", tt.name, got, tt.want)
		}
	}
}
