package driftlock

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden readings from testdata/README.md.
func TestParseDetectResponseFixtures(t *testing.T) {
	tests := []struct {
		file string
		want DetectResult
	}{
		{"detect-ready-snake.json", DetectResult{
			Success: true, SuccessKnown: true, Events: 120, EventsKnown: true, Anomalies: 2, AnomaliesKnown: true,
			ServerTime: 245300 * time.Microsecond, ServerTimeKnown: true, Status: "ready", Ready: true, ReadyKnown: true,
			StreamID: "0b9e8d7c-6a5b-4c3d-9e2f-1a0b9c8d7e6f", RequestID: "req-42", BatchID: "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
		}},
		{"detect-ready-pascal.json", DetectResult{
			Success: true, SuccessKnown: true, Events: 600, EventsKnown: true, Anomalies: 1, AnomaliesKnown: true,
			ServerTime: 1200 * time.Millisecond, ServerTimeKnown: true, Status: "ready", Ready: true, ReadyKnown: true,
			StreamID: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", RequestID: "1732999999000000000", BatchID: "7a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d",
		}},
		{"detect-calibrating.json", DetectResult{
			Success: true, SuccessKnown: true, Events: 20, EventsKnown: true, Anomalies: 0, AnomaliesKnown: true,
			ServerTime: 0, ServerTimeKnown: true, Status: "calibrating", Ready: false, ReadyKnown: true,
			StreamID: "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", RequestID: "req-7",
		}},
		{"detect-microseconds.json", DetectResult{
			Success: true, SuccessKnown: true, Events: 10, EventsKnown: true, Anomalies: 0, AnomaliesKnown: true,
			ServerTime: 850 * time.Microsecond, ServerTimeKnown: true, Status: "ready", Ready: true, ReadyKnown: true,
			StreamID: "3e4f5a6b-7c8d-4e9f-0a1b-2c3d4e5f6a7b", RequestID: "r",
		}},
		{"demo-ok.json", DetectResult{
			Success: true, SuccessKnown: true, Events: 4, EventsKnown: true, Anomalies: 1, AnomaliesKnown: true,
			ServerTime: 125 * time.Millisecond, ServerTimeKnown: true, RequestID: "req_abc123",
			DemoRemaining: 9, DemoLimit: 10, DemoKnown: true,
		}},
		{"docs-variant-metrics.json", DetectResult{
			Events: 100, EventsKnown: true, Anomalies: 1, AnomaliesKnown: true,
			ServerTime: 42 * time.Millisecond, ServerTimeKnown: true,
		}},
		{"k6-assumed-variant.json", DetectResult{
			Events: 50, EventsKnown: true, Anomalies: 0, AnomaliesKnown: true,
			ServerTime: 12500 * time.Microsecond, ServerTimeKnown: true,
			StreamID: "load-test-stream-3-7-1732999999000",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseDetectResponse(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseDetectResponseVariants(t *testing.T) {
	tests := []struct {
		name string
		body string
		want DetectResult
	}{
		{"pascal top level", `{"Success": true, "TotalEvents": 7, "AnomalyCount": 3, "ProcessingTime": "1.5ms",
			"Status": "ready", "DetectionReady": true, "StreamID": "s", "RequestID": "q", "BatchID": "b"}`,
			DetectResult{Success: true, SuccessKnown: true, Events: 7, EventsKnown: true, Anomalies: 3, AnomaliesKnown: true,
				ServerTime: 1500 * time.Microsecond, ServerTimeKnown: true, Status: "ready", Ready: true, ReadyKnown: true,
				StreamID: "s", RequestID: "q", BatchID: "b"}},
		{"us suffix", `{"processing_time": "850us"}`,
			DetectResult{ServerTime: 850 * time.Microsecond, ServerTimeKnown: true}},
		{"greek mu", `{"processing_time": "12μs"}`,
			DetectResult{ServerTime: 12 * time.Microsecond, ServerTimeKnown: true}},
		{"escaped micro sign", `{"processing_time": "3\u00b5s"}`,
			DetectResult{ServerTime: 3 * time.Microsecond, ServerTimeKnown: true}},
		{"bad processing_time falls back to detection_time_ms", `{"processing_time": "soon", "detection_time_ms": 3}`,
			DetectResult{ServerTime: 3 * time.Millisecond, ServerTimeKnown: true}},
		{"numeric processing_time is not a duration string", `{"processing_time": 5}`, DetectResult{}},
		{"metrics.duration_ms PascalCase", `{"Metrics": {"Processed": 9, "DurationMs": 1.25}}`,
			DetectResult{Events: 9, EventsKnown: true, ServerTime: 1250 * time.Microsecond, ServerTimeKnown: true}},
		{"total_events wins over processed", `{"total_events": 5, "processed": 6, "metrics": {"processed": 7}}`,
			DetectResult{Events: 5, EventsKnown: true}},
		{"anomaly_count wins over array", `{"anomaly_count": 5, "anomalies": [{}, {}]}`,
			DetectResult{Anomalies: 5, AnomaliesKnown: true}},
		{"array counted with nested commas and brackets", `{"anomalies": [{"a": [1, 2], "b": "x,]}\"y"}, [3, {"c": ","}], "s", 4]}`,
			DetectResult{Anomalies: 4, AnomaliesKnown: true}},
		{"empty array with space", `{"anomalies": [ ]}`, DetectResult{Anomalies: 0, AnomaliesKnown: true}},
		{"status only", `{"status": "calibrating"}`, DetectResult{Status: "calibrating", ReadyKnown: true}},
		{"detection_ready wins over status", `{"status": "ready", "detection_ready": false}`,
			DetectResult{Status: "ready", ReadyKnown: true}},
		{"unexpected types are unknown", `{"success": "yes", "total_events": "many", "anomaly_count": -1, "anomalies": {},
			"processing_time": null, "status": 3, "stream_id": 5, "metrics": [1], "demo": "no"}`, DetectResult{}},
		{"quoted and exponent numbers", `{"total_events": "12", "anomaly_count": 1e1}`,
			DetectResult{Events: 12, EventsKnown: true, Anomalies: 10, AnomaliesKnown: true}},
		{"fractional count is unknown", `{"total_events": 1.5}`, DetectResult{}},
		{"negative time is unknown", `{"processing_time": "-5ms", "detection_time_ms": -1}`, DetectResult{}},
		{"demo limit only", `{"demo": {"limit_per_minute": 10}}`, DetectResult{DemoLimit: 10, DemoKnown: true}},
		{"demo without quota", `{"demo": {"message": "hi"}}`, DetectResult{}},
		{"escaped ids", `{"request_id": "a\"b\\c\u00e9"}`, DetectResult{RequestID: "a\"b\\c\u00e9"}},
		{"empty object", ` {} `, DetectResult{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDetectResponse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseDetectResponseNotObject(t *testing.T) {
	for _, body := range []string{"", "404 page not found", "[]", "null", `"x"`, "42", `{"a":`, `{"a":1} x`} {
		if _, err := ParseDetectResponse([]byte(body)); !errors.Is(err, ErrNotObject) {
			t.Errorf("ParseDetectResponse(%q) error = %v, want ErrNotObject", body, err)
		}
	}
	if _, err := ParseDetectResponse(readFixture(t, "error-404.txt")); !errors.Is(err, ErrNotObject) {
		t.Errorf("error-404.txt: error = %v", err)
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want ErrorBody
		ok   bool
	}{
		{"error-401.json", readFixture(t, "error-401.json"),
			ErrorBody{Code: "unauthorized", Message: "authentication failed", RequestID: "req-401"}, true},
		{"error-429-demo.json", readFixture(t, "error-429-demo.json"),
			ErrorBody{Code: "rate_limit_exceeded", Message: "Demo rate limit exceeded. Sign up for unlimited access.",
				RequestID: "req-429", RetryAfterSeconds: 60, HasRetryAfter: true}, true},
		{"error-402-billing.json", readFixture(t, "error-402-billing.json"),
			ErrorBody{Code: "payment_required", Message: "Your subscription is past due"}, true},
		{"error-404.txt", readFixture(t, "error-404.txt"), ErrorBody{}, false},
		{"empty", nil, ErrorBody{}, false},
		{"success body", readFixture(t, "detect-ready-snake.json"), ErrorBody{}, false},
		{"flat code only", []byte(`{"code": "internal", "message": "boom", "request_id": "r1"}`),
			ErrorBody{Code: "internal", Message: "boom", RequestID: "r1"}, true},
		{"pascal envelope", []byte(`{"Error": {"Code": "forbidden", "Message": "no", "RequestID": "r", "RetryAfterSeconds": 1.5}}`),
			ErrorBody{Code: "forbidden", Message: "no", RequestID: "r", RetryAfterSeconds: 1.5, HasRetryAfter: true}, true},
		{"retry after outside envelope", []byte(`{"error": {"code": "rate_limit_exceeded"}, "retry_after_seconds": 30}`),
			ErrorBody{Code: "rate_limit_exceeded", RetryAfterSeconds: 30, HasRetryAfter: true}, true},
		{"negative retry after ignored", []byte(`{"error": {"code": "x", "retry_after_seconds": -3}}`),
			ErrorBody{Code: "x"}, true},
		{"null error", []byte(`{"error": null}`), ErrorBody{}, false},
		{"truncated", []byte(`{"error": {"code": "x"`), ErrorBody{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseError(tt.body)
			if ok != tt.ok || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 30, 12, 0, 0, 0, time.UTC)
	body429 := readFixture(t, "error-429-demo.json")
	header := func(v string) http.Header {
		h := http.Header{}
		h.Set("Retry-After", v)
		return h
	}
	tests := []struct {
		name   string
		h      http.Header
		body   []byte
		want   time.Duration
		source string
	}{
		{"body only (real demo route)", http.Header{}, body429, 60 * time.Second, "body"},
		{"header only", header("5"), nil, 5 * time.Second, "header"},
		{"both, header wins", header("1"), body429, time.Second, "both"},
		{"header date", header(now.Add(90 * time.Second).Format(http.TimeFormat)), []byte("rate limited"), 90 * time.Second, "header"},
		{"header date in the past", header(now.Add(-time.Minute).Format(http.TimeFormat)), nil, 0, "header"},
		{"header RFC 850 date", header("Sunday, 30-Nov-25 12:00:30 GMT"), nil, 30 * time.Second, "header"},
		{"header fractional seconds", header("1.5"), nil, 1500 * time.Millisecond, "header"},
		{"header zero", header("0"), nil, 0, "header"},
		{"bad header, body used", header("soon"), body429, 60 * time.Second, "body"},
		{"negative header ignored", header("-5"), nil, 0, "none"},
		{"none", http.Header{}, []byte(`{"error": {"code": "unauthorized"}}`), 0, "none"},
		{"nil header, plain text", nil, []byte("404 page not found"), 0, "none"},
		{"fractional body", nil, []byte(`{"error": {"retry_after_seconds": 0.25}}`), 250 * time.Millisecond, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, source := RetryAfter(tt.h, tt.body, now)
			if d != tt.want || source != tt.source {
				t.Errorf("got %v from %q, want %v from %q", d, source, tt.want, tt.source)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "245.3ms", want: 245300 * time.Microsecond},
		{in: "1.2s", want: 1200 * time.Millisecond},
		{in: "850µs", want: 850 * time.Microsecond},
		{in: "850μs", want: 850 * time.Microsecond},
		{in: "850us", want: 850 * time.Microsecond},
		{in: "0ms", want: 0},
		{in: "0", want: 0},
		{in: " 12ns ", want: 12},
		{in: "1m30s", want: 90 * time.Second},
		{in: "", bad: true},
		{in: "12", bad: true},
		{in: "fast", bad: true},
		{in: "12 ms", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseDetectResponse(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			f.Add(readFixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"anomalies": [{"a": "]\\\"", "b": [[]]}, 1]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseDetectResponse(body)
		if err != nil {
			if r != (DetectResult{}) {
				t.Errorf("error %v with non-zero result %+v", err, r)
			}
			return
		}
		if r.Events < 0 || r.Anomalies < 0 || r.ServerTime < 0 || r.DemoRemaining < 0 || r.DemoLimit < 0 {
			t.Errorf("negative reading %+v", r)
		}
		ParseError(body)
		RetryAfter(nil, body, time.Time{})
	})
}
