package target

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the limiters.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testServer builds a Server from the defaults changed by edit.
func testServer(t testing.TB, edit func(*Config), opts ...option) *Server {
	t.Helper()
	cfg := DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	s, err := newServer(cfg, opts...)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	return s
}

// call sends one request straight to the handler. headers alternate name, value.
func call(s *Server, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// detect posts body to /v1/detect with the server's dev key.
func detect(s *Server, body string, headers ...string) *httptest.ResponseRecorder {
	return call(s, http.MethodPost, "/v1/detect", body, append([]string{"X-Api-Key", s.DevKey()}, headers...)...)
}

// testResponse is a 200 body as a client reads it.
type testResponse struct {
	Success               bool   `json:"success"`
	BatchID               string `json:"batch_id"`
	StreamID              string `json:"stream_id"`
	TotalEvents           int    `json:"total_events"`
	AnomalyCount          int    `json:"anomaly_count"`
	ProcessingTime        string `json:"processing_time"`
	CompressionAlgo       string `json:"compression_algo"`
	RequestID             string `json:"request_id"`
	Status                string `json:"status"`
	DetectionReady        *bool  `json:"detection_ready"`
	DetectionEventsNeeded int    `json:"detection_events_needed"`
	Anomalies             []struct {
		ID       string         `json:"id"`
		Index    int            `json:"index"`
		Metrics  map[string]any `json:"metrics"`
		Event    map[string]any `json:"event"`
		Why      string         `json:"why"`
		Detected bool           `json:"detected"`
	} `json:"anomalies"`
	Demo *struct {
		RemainingCalls      int `json:"remaining_calls"`
		LimitPerMinute      int `json:"limit_per_minute"`
		MaxEventsPerRequest int `json:"max_events_per_request"`
	} `json:"demo"`
}

type testError struct {
	Error struct {
		Code              string `json:"code"`
		Message           string `json:"message"`
		RequestID         string `json:"request_id"`
		RetryAfterSeconds int    `json:"retry_after_seconds"`
	} `json:"error"`
}

func decodeOK(t testing.TB, rec *httptest.ResponseRecorder) testResponse {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body.String())
	}
	var out testResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return out
}

func decodeErr(t testing.TB, rec *httptest.ResponseRecorder) testError {
	t.Helper()
	var out testError
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("error body %q is not the JSON envelope: %v", rec.Body.String(), err)
	}
	if out.Error.Code == "" || out.Error.Message == "" || out.Error.RequestID == "" {
		t.Fatalf("error envelope incomplete: %s", rec.Body.String())
	}
	return out
}

// eventGen makes JSON log events: normal ones from a small vocabulary and
// anomalous ones with another shape and random payloads.
type eventGen struct {
	r *rand.Rand
	n int
}

func newEventGen(seed uint64) *eventGen { return &eventGen{r: rand.New(rand.NewPCG(seed, 7))} }

var (
	tgLevels   = []string{"INFO", "INFO", "INFO", "WARN", "DEBUG"}
	tgServices = []string{"checkout", "inventory", "auth", "gateway"}
	tgMessages = []string{"request ok", "cache hit", "cache miss", "db query done", "session refreshed"}
)

func (g *eventGen) normal() string {
	g.n++
	pick := func(s []string) string { return s[g.r.IntN(len(s))] }
	return fmt.Sprintf(`{"seq":%d,"level":%q,"service":%q,"path":"/v1/items/%d","status":200,"latency_ms":%d,"message":%q}`,
		g.n, pick(tgLevels), pick(tgServices), g.r.IntN(5000), 5+g.r.IntN(200), pick(tgMessages))
}

func (g *eventGen) anomalous() string {
	g.n++
	b := make([]byte, 150)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return fmt.Sprintf(`{"seq":%d,"panic":%q,"code":%d}`, g.n, hex.EncodeToString(b), g.r.Int64())
}

func (g *eventGen) normals(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.normal()
	}
	return out
}

// body renders a detect request body; override may be "".
func body(streamID string, events []string, override string) string {
	var b strings.Builder
	b.WriteString("{")
	if streamID != "" {
		fmt.Fprintf(&b, `"stream_id":%q,`, streamID)
	}
	if override != "" {
		fmt.Fprintf(&b, `"config_override":%s,`, override)
	}
	b.WriteString(`"events":[` + strings.Join(events, ",") + "]}")
	return b.String()
}

// smallOverride is a cheap custom profile: ready after 50 events.
const smallOverride = `{"baseline_size":40,"window_size":10,"hop_size":5,"permutation_count":50}`

func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
