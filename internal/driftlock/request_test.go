package driftlock

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestProfiles(t *testing.T) {
	want := []Profile{
		{"sensitive", 0.20, 0.10, 200, 30, 10, 500, "zstd"},
		{"balanced", 0.30, 0.05, 400, 50, 10, 1000, "zstd"},
		{"strict", 0.45, 0.01, 800, 100, 20, 1000, "zstd"},
	}
	got := Profiles()
	if len(got) != len(want) {
		t.Fatalf("Profiles() = %+v", got)
	}
	for i, p := range want {
		if got[i] != p {
			t.Errorf("profile %d = %+v, want %+v", i, got[i], p)
		}
		byName, ok := ProfileByName(p.Name)
		if !ok || byName != p {
			t.Errorf("ProfileByName(%q) = %+v, %v", p.Name, byName, ok)
		}
	}
	got[0].BaselineSize = 1 // the caller's copy
	if p, _ := ProfileByName("sensitive"); p.BaselineSize != 200 {
		t.Error("Profiles() exposes the package's table")
	}
	if _, ok := ProfileByName("Balanced"); ok {
		t.Error("ProfileByName is case-sensitive")
	}
	if _, ok := ProfileByName(DefaultProfile); !ok {
		t.Error("DefaultProfile is not a profile")
	}
}

func TestClamp(t *testing.T) {
	tests := []struct {
		profile               string
		max                   int
		baseline, window, hop int
	}{
		{"strict", 1000, 700, 100, 20},
		{"strict", 10000, 800, 100, 20},
		{"strict", 1100, 800, 100, 20},
		{"strict", 0, 800, 100, 20},
		{"strict", -1, 800, 100, 20},
		{"strict", 256, 64, 64, 20},
		{"strict", 50, 12, 12, 12},
		{"balanced", 1000, 400, 50, 10},
		{"balanced", 256, 106, 50, 10},
		{"balanced", 200, 50, 50, 10},
		{"balanced", 199, 49, 49, 10},
		{"sensitive", 256, 166, 30, 10},
		{"sensitive", 50, 12, 12, 10},
		{"sensitive", 4, 1, 1, 1},
		{"sensitive", 2, 1, 1, 1},
	}
	for _, tt := range tests {
		p, _ := ProfileByName(tt.profile)
		c := p.Clamp(tt.max)
		if c.BaselineSize != tt.baseline || c.WindowSize != tt.window || c.HopSize != tt.hop {
			t.Errorf("%s.Clamp(%d) = baseline %d window %d hop %d, want %d %d %d",
				tt.profile, tt.max, c.BaselineSize, c.WindowSize, c.HopSize, tt.baseline, tt.window, tt.hop)
		}
		if tt.max >= 4 && c.BaselineSize+3*c.WindowSize > tt.max {
			t.Errorf("%s.Clamp(%d): %d+3*%d exceeds the limit", tt.profile, tt.max, c.BaselineSize, c.WindowSize)
		}
		if c.Name != p.Name || c.PermutationCount != p.PermutationCount || c.NCDThreshold != p.NCDThreshold {
			t.Errorf("%s.Clamp(%d) changed other fields: %+v", tt.profile, tt.max, c)
		}
	}
}

type wireRequest struct {
	StreamID       *string          `json:"stream_id"`
	Events         []map[string]any `json:"events"`
	ConfigOverride *map[string]any  `json:"config_override"`
}

func decodeStrict(t *testing.T, body []byte) (wireRequest, map[string]json.RawMessage) {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("invalid JSON: %s", body)
	}
	var w wireRequest
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatal(err)
	}
	return w, keys
}

func TestAppendDetectRequest(t *testing.T) {
	events := []byte(`[{"timestamp":"2025-11-30T12:00:00Z","level":"INFO","message":"ok"},{"cpu":99}]`)
	balanced, _ := ProfileByName("balanced")

	t.Run("stream and profile", func(t *testing.T) {
		body := AppendDetectRequest(nil, "logs-production", events, &balanced)
		w, keys := decodeStrict(t, body)
		if w.StreamID == nil || *w.StreamID != "logs-production" {
			t.Errorf("stream_id = %v", w.StreamID)
		}
		if len(w.Events) != 2 || w.Events[1]["cpu"] != 99.0 {
			t.Errorf("events = %v", w.Events)
		}
		if !strings.Contains(string(body), `"events":`+string(events)) {
			t.Errorf("events not copied verbatim: %s", body)
		}
		if len(keys) != 3 {
			t.Errorf("keys = %v", keys)
		}
		want := map[string]any{
			"baseline_size": 400.0, "window_size": 50.0, "hop_size": 10.0,
			"ncd_threshold": 0.3, "p_value_threshold": 0.05, "permutation_count": 1000.0, "compressor": "zstd",
		}
		got := *w.ConfigOverride
		if len(got) != len(want) {
			t.Errorf("config_override = %v", got)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("config_override[%s] = %v, want %v", k, got[k], v)
			}
		}
	})

	t.Run("demo route", func(t *testing.T) {
		body := AppendDetectRequest(nil, "", events, nil)
		_, keys := decodeStrict(t, body)
		if len(keys) != 1 || keys["events"] == nil {
			t.Errorf("keys = %v", keys)
		}
		if want := `{"events":` + string(events) + `}`; string(body) != want {
			t.Errorf("body = %s, want %s", body, want)
		}
	})

	t.Run("appends to dst", func(t *testing.T) {
		dst := []byte("prefix")
		body := AppendDetectRequest(dst, "s", []byte(`[{}]`), nil)
		if string(body) != `prefix{"stream_id":"s","events":[{}]}` {
			t.Errorf("body = %s", body)
		}
	})

	t.Run("empty events", func(t *testing.T) {
		if body := AppendDetectRequest(nil, "", nil, nil); string(body) != `{"events":[]}` {
			t.Errorf("body = %s", body)
		}
	})

	t.Run("odd profile values are left out", func(t *testing.T) {
		p := Profile{NCDThreshold: math.NaN(), PValueThreshold: 1e-7, WindowSize: 5}
		body := AppendDetectRequest(nil, "", []byte(`[{}]`), &p)
		w, _ := decodeStrict(t, body)
		got := *w.ConfigOverride
		if len(got) != 2 || got["window_size"] != 5.0 || got["p_value_threshold"] != 1e-7 {
			t.Errorf("config_override = %v (%s)", got, body)
		}
		empty := AppendDetectRequest(nil, "", []byte(`[{}]`), &Profile{NCDThreshold: math.Inf(1), PValueThreshold: math.NaN()})
		if w, _ := decodeStrict(t, empty); w.ConfigOverride == nil || len(*w.ConfigOverride) != 0 {
			t.Errorf("body = %s", empty)
		}
	})
}

func TestAppendDetectRequestEscaping(t *testing.T) {
	ids := []string{
		`plain-slug_1`,
		`quote"back\slash`,
		"new\nline\rtab\tbell\x07nul\x00del\x7f",
		"unicode é ü 日本 😀",
		"invalid \xff\xfe utf8",
		"line\u2028para\u2029sep",
		"</script>&",
	}
	for _, id := range ids {
		body := AppendDetectRequest(nil, id, []byte(`[{}]`), nil)
		w, _ := decodeStrict(t, body)
		var want string // what encoding/json makes of id (one U+FFFD per invalid byte)
		std, _ := json.Marshal(id)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if w.StreamID == nil || *w.StreamID != want {
			t.Errorf("stream_id %q decoded as %v (%s)", id, w.StreamID, body)
		}
		// Matches encoding/json apart from its HTML escaping.
		mine := appendString(nil, id)
		stdText := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(std))
		if string(mine) != stdText {
			t.Errorf("appendString(%q) = %s, encoding/json = %s", id, mine, stdText)
		}
	}
	for _, c := range []string{"\n", "\x01", "\x1f"} {
		if s := string(appendString(nil, c)); strings.ContainsAny(s[1:len(s)-1], "\x00\x01\x1f\n") {
			t.Errorf("control character not escaped: %q", s)
		}
	}
}

func BenchmarkAppendDetectRequest(b *testing.B) {
	events := []byte(`[{"level":"INFO","message":"ok"}]`)
	p, _ := ProfileByName("strict")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendDetectRequest(buf[:0], "logs-production", events, &p)
	}
}

func BenchmarkParseDetectResponse(b *testing.B) {
	body := readFixture(b, "detect-ready-snake.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDetectResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}
