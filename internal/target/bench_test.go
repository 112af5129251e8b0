package target

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/target/cbad"
)

// BenchmarkDetect measures one /v1/detect request through the handler on a
// warm stream of normal events, by profile and batch size, at the default
// permutation cap (and balanced also at a cap of 100). "new-stream" sends each request to a new stream: the cheap
// calibrating path, unless the batch alone fills baseline+window.
func BenchmarkDetect(b *testing.B) {
	cases := []struct {
		profile string
		perms   int
	}{
		{"new-stream", cbad.DefaultPermutations},
		{"sensitive", cbad.DefaultPermutations},
		{"balanced", cbad.DefaultPermutations},
		{"strict", cbad.DefaultPermutations},
		{"balanced", 100},
	}
	for _, c := range cases {
		for _, batch := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("profile=%s/perms=%d/batch=%d", c.profile, c.perms, batch), func(b *testing.B) {
				benchDetect(b, c.profile, c.perms, batch)
			})
		}
	}
}

func benchDetect(b *testing.B, profile string, perms, batch int) {
	s := testServer(b, func(c *Config) { c.NoRateLimit = true; c.MaxEvents = 2000; c.Permutations = perms })
	h := s.Handler()
	g := newEventGen(11)
	override := ""
	if profile != "new-stream" {
		p, _ := cbad.Profile(profile)
		override = fmt.Sprintf(`{"baseline_size":%d,"window_size":%d,"hop_size":%d,"ncd_threshold":%g,"p_value_threshold":%g,"permutation_count":%d}`,
			p.BaselineSize, p.WindowSize, p.HopSize, p.NCDThreshold, p.PValueThreshold, p.Permutations)
		if rec := detect(s, body("bench", g.normals(p.BaselineSize+p.WindowSize), override)); rec.Code != 200 {
			b.Fatalf("warm-up: %d %s", rec.Code, rec.Body.String())
		}
	}
	// A pool of distinct bodies, so the stream keeps moving.
	bodies := make([]string, 16)
	for i := range bodies {
		bodies[i] = body("bench", g.normals(batch), override)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stream := "bench"
		if profile == "new-stream" {
			stream = fmt.Sprintf("new-%d", i) // always a new, calibrating stream
		}
		bd := bodies[i%len(bodies)]
		if profile == "new-stream" {
			bd = strings.Replace(bd, `"stream_id":"bench"`, fmt.Sprintf(`"stream_id":%q`, stream), 1)
		}
		req := httptest.NewRequest("POST", "/v1/detect", strings.NewReader(bd))
		req.Header.Set("X-Api-Key", s.DevKey())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecode compares the streaming decoder with the whole-body one it
// replaced (decodeWhole, in fuzz_test.go) on valid batches of normal events.
func BenchmarkDecode(b *testing.B) {
	g := newEventGen(12)
	for _, batch := range []int{10, 1000} {
		bd := []byte(body("bench", g.normals(batch), smallOverride))
		b.Run(fmt.Sprintf("streaming/batch=%d", batch), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bd)))
			for b.Loop() {
				if _, rerr := decodeDetectRequest(bytes.NewReader(bd), 1000, true); rerr != nil {
					b.Fatal(rerr)
				}
			}
		})
		b.Run(fmt.Sprintf("whole/batch=%d", batch), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bd)))
			for b.Loop() {
				if _, rerr := decodeWhole(bd, 1000, true); rerr != nil {
					b.Fatal(rerr)
				}
			}
		})
	}
}
