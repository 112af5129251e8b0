package target

import (
	"net/http"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/target/cbad"
)

var fuzzSeeds = []string{
	``,
	`{}`,
	`null`,
	`[]`,
	`{"events":[{"a":1}]}`,
	`{"stream_id":"s","events":[{"level":"INFO","message":"hi"}],"config_override":{"baseline_size":2,"window_size":1,"hop_size":1,"permutation_count":3}}`,
	`{"stream_id":null,"events":[null]}`,
	`{"events":["x",1,true,[],{}]}`,
	`{"events":[{"a":1}],"config_override":{"baseline_size":1e30}}`,
	`{"events":[{"a":1}],"config_override":{"ncd_threshold":"x","compressor":7}}`,
	`{"events":[{"a":"\ud800"}]} `,
	`{"events":[{"a":1}]}{"events":[]}`,
	`{"stream_id":"2D3E4F5A-6B7C-4D8E-9F0A-1B2C3D4E5F6A","events":[{"a":{"b":[1,2,{"c":null}]}}]}`,
}

// FuzzDecodeDetectRequest: no body makes decoding panic, and what it
// accepts satisfies the route's rules.
func FuzzDecodeDetectRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, withStream := range []bool{true, false} {
			req, rerr := decodeDetectRequest(body, 50, withStream)
			if (req == nil) == (rerr == nil) {
				t.Fatalf("want exactly one of request and error, got %v %v", req, rerr)
			}
			if rerr != nil {
				if rerr.status != http.StatusBadRequest || rerr.code != "invalid_argument" || rerr.message == "" {
					t.Fatalf("bad error %+v", rerr)
				}
				continue
			}
			if len(req.events) == 0 || len(req.events) > 50 {
				t.Fatalf("accepted %d events", len(req.events))
			}
			for i, e := range req.events {
				if len(e) < 3 || e[0] != '{' {
					t.Fatalf("accepted event %d %q", i, e)
				}
			}
			if withStream && req.streamID != "" && strings.TrimSpace(req.streamID) == "" {
				t.Fatalf("accepted blank stream_id")
			}
			if req.override != nil {
				balanced, _ := cbad.Profile("balanced")
				_, _ = req.override.params(balanced, 1000, 10)
				_, _ = demoParams(req.override, 10)
			}
		}
	})
}

// FuzzHandler sends each input to both detect routes: the server never
// panics and answers only 200, 400 or 413.
func FuzzHandler(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	s := testServer(f, func(c *Config) {
		c.NoRateLimit = true
		c.Permutations = 5
		c.MaxEvents = 100
		c.MaxBodyBytes = 64 << 10
		c.DetectorCapacity = 50
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/detect", "/v1/demo/detect"} {
			rec := call(s, "POST", path, string(body), "X-Api-Key", s.DevKey())
			switch rec.Code {
			case 200, 400, 413:
			default:
				t.Fatalf("%s: status %d for %q: %s", path, rec.Code, body, rec.Body.String())
			}
			if rec.Code != 200 {
				decodeErr(t, rec)
			}
		}
		if n := s.panics.Load(); n != 0 {
			t.Fatalf("%d panics", n)
		}
	})
}
