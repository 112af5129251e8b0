package target

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestDemoLimitWindow(t *testing.T) {
	clk := newFakeClock()
	s := testServer(t, func(c *Config) { c.DemoLimit = 3; c.DemoWindow = time.Minute }, withClock(clk.now))
	ev := body("", []string{`{"a":1}`}, "")
	steps := []struct {
		at        time.Duration // since the first request
		status    int
		remaining int // on 200
		retry     int // on 429
	}{
		{0, 200, 2, 0},
		{10 * time.Second, 200, 1, 0},
		{20 * time.Second, 200, 0, 0},
		{30 * time.Second, 429, 0, 30},                     // the oldest (t=0) leaves at 60 s
		{59*time.Second + 500*time.Millisecond, 429, 0, 1}, // 0.5 s rounds up
		{60 * time.Second, 200, 0, 0},                      // t=0 left; rejected ones used nothing
		{61 * time.Second, 429, 0, 9},                      // next to leave: t=10 s at 70 s
		{70 * time.Second, 200, 0, 0},
	}
	start := clk.now()
	for _, st := range steps {
		clk.advance(start.Add(st.at).Sub(clk.now()))
		rec := call(s, "POST", "/v1/demo/detect", ev)
		if rec.Code != st.status {
			t.Fatalf("at %v: status %d, want %d: %s", st.at, rec.Code, st.status, rec.Body.String())
		}
		if st.status == 200 {
			r := decodeOK(t, rec)
			if r.Demo == nil || r.Demo.RemainingCalls != st.remaining || r.Demo.LimitPerMinute != 3 || r.Demo.MaxEventsPerRequest != 200 {
				t.Fatalf("at %v: demo block %+v, want remaining %d", st.at, r.Demo, st.remaining)
			}
			continue
		}
		e := decodeErr(t, rec)
		if e.Error.Code != "rate_limit_exceeded" || e.Error.RetryAfterSeconds != st.retry {
			t.Fatalf("at %v: 429 body %s, want retry_after_seconds %d", st.at, rec.Body.String(), st.retry)
		}
		if got := rec.Header().Get("Retry-After"); got != strconv.Itoa(st.retry) {
			t.Fatalf("at %v: Retry-After %q, want %d", st.at, got, st.retry)
		}
	}
}

func TestDemoLimitKeyingAndOptions(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Config)
		headers   [][]string // one request each
		want      []int
		retryHead bool
	}{
		{"same socket", nil, [][]string{nil, nil, nil}, []int{200, 200, 429}, true},
		{"xff first entry decides", nil,
			[][]string{{"X-Forwarded-For", "203.0.113.1, 10.0.0.1"}, {"X-Forwarded-For", "203.0.113.1"}, {"X-Forwarded-For", "203.0.113.2, 203.0.113.1"}, {"X-Forwarded-For", "203.0.113.1, 1.1.1.1"}},
			[]int{200, 200, 200, 429}, true},
		{"x-real-ip", nil,
			[][]string{{"X-Real-IP", "198.51.100.7"}, {"X-Real-IP", "198.51.100.7"}, {"X-Real-IP", "198.51.100.8"}, {"X-Real-IP", "198.51.100.7"}},
			[]int{200, 200, 200, 429}, true},
		{"no Retry-After header", func(c *Config) { c.NoRetryAfterHeader = true }, [][]string{nil, nil, nil}, []int{200, 200, 429}, false},
		{"no rate limit", func(c *Config) { c.NoRateLimit = true }, [][]string{nil, nil, nil, nil}, []int{200, 200, 200, 200}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, func(c *Config) {
				c.DemoLimit = 2
				if tt.edit != nil {
					tt.edit(c)
				}
			}, withClock(newFakeClock().now))
			for i, h := range tt.headers {
				rec := call(s, "POST", "/v1/demo/detect", body("", []string{`{"a":1}`}, ""), h...)
				if rec.Code != tt.want[i] {
					t.Fatalf("request %d: %d, want %d", i, rec.Code, tt.want[i])
				}
				if rec.Code == 429 {
					if e := decodeErr(t, rec); e.Error.RetryAfterSeconds != 60 {
						t.Fatalf("retry_after_seconds %d, want 60", e.Error.RetryAfterSeconds)
					}
					if has := rec.Header().Get("Retry-After") != ""; has != tt.retryHead {
						t.Fatalf("Retry-After header present = %v, want %v", has, tt.retryHead)
					}
				}
			}
		})
	}
}

// TestLimitersUnderConcurrency checks exact counts when many requests race.
func TestLimitersUnderConcurrency(t *testing.T) {
	const workers = 60
	tests := []struct {
		name    string
		edit    func(*Config)
		send    func(s *Server, i int) int
		wantOK  int
		wantCap int // accepted per distinct client/key
	}{
		{"demo one IP", func(c *Config) { c.DemoLimit = 10 },
			func(s *Server, i int) int {
				return call(s, "POST", "/v1/demo/detect", `{"events":[{"a":1}]}`, "X-Forwarded-For", "203.0.113.5").Code
			}, 10, 0},
		{"demo three IPs", func(c *Config) { c.DemoLimit = 7 },
			func(s *Server, i int) int {
				return call(s, "POST", "/v1/demo/detect", `{"events":[{"a":1}]}`, "X-Real-IP", fmt.Sprintf("10.0.0.%d", i%3)).Code
			}, 21, 0},
		{"key bucket", func(c *Config) { c.KeyRate = 25 },
			func(s *Server, i int) int { return detect(s, `{"events":[{"a":1}]}`).Code }, 25, 0},
		{"two keys", func(c *Config) { c.KeyRate = 12; c.APIKeys = []string{"ka", "kb"} },
			func(s *Server, i int) int {
				return call(s, "POST", "/v1/detect", `{"events":[{"a":1}]}`, "X-Api-Key", []string{"ka", "kb"}[i%2]).Code
			}, 24, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, tt.edit, withClock(newFakeClock().now)) // time stands still
			var wg sync.WaitGroup
			codes := make([]int, workers)
			for i := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = tt.send(s, i)
				}()
			}
			wg.Wait()
			ok, limited := 0, 0
			for _, c := range codes {
				switch c {
				case 200:
					ok++
				case 429:
					limited++
				default:
					t.Fatalf("unexpected status %d", c)
				}
			}
			if ok != tt.wantOK || limited != workers-tt.wantOK {
				t.Fatalf("%d accepted, %d limited; want %d and %d", ok, limited, tt.wantOK, workers-tt.wantOK)
			}
		})
	}
}

func TestKeyBucket(t *testing.T) {
	clk := newFakeClock()
	s := testServer(t, func(c *Config) { c.KeyRate = 4 }, withClock(clk.now))
	ev := `{"events":[{"a":1}]}`
	for i := 3; i >= 0; i-- {
		rec := detect(s, ev)
		if rec.Code != 200 || rec.Header().Get("X-RateLimit-Limit") != "4" || rec.Header().Get("X-RateLimit-Remaining") != strconv.Itoa(i) {
			t.Fatalf("burst request: %d limit %q remaining %q, want 200 4 %d", rec.Code,
				rec.Header().Get("X-RateLimit-Limit"), rec.Header().Get("X-RateLimit-Remaining"), i)
		}
		if rec.Header().Get("Retry-After") != "" {
			t.Fatal("Retry-After on a 200")
		}
	}
	rec := detect(s, ev)
	e := decodeErr(t, rec)
	h := rec.Header()
	if rec.Code != 429 || e.Error.Code != "rate_limit_exceeded" || e.Error.RetryAfterSeconds != 1 ||
		h.Get("Retry-After") != "1" || h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Limit") != "4" ||
		h.Get("X-RateLimit-Reset") != strconv.FormatInt(clk.now().Unix()+1, 10) {
		t.Fatalf("429: %d %v %s", rec.Code, h, rec.Body.String())
	}
	// Bad requests use a token too (the limit is checked before the body).
	clk.advance(250 * time.Millisecond) // one token back
	if rec := detect(s, "{"); rec.Code != 400 || rec.Header().Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("after 250ms: %d remaining %q", rec.Code, rec.Header().Get("X-RateLimit-Remaining"))
	}
	clk.advance(time.Hour) // refills to the burst, not beyond
	if rec := detect(s, ev); rec.Header().Get("X-RateLimit-Remaining") != "3" {
		t.Fatalf("after an hour: remaining %q, want 3", rec.Header().Get("X-RateLimit-Remaining"))
	}
	if rec := call(s, "POST", "/v1/detect", ev); rec.Code != 401 || rec.Header().Get("X-RateLimit-Limit") != "" {
		t.Fatalf("401 must not touch a bucket: %d %v", rec.Code, rec.Header())
	}
}

func TestKeyBucketSlowRate(t *testing.T) {
	tests := []struct {
		rate      float64
		wantLimit string
		wantRetry string
	}{
		{0.5, "1", "2"},  // burst 1, a token every 2 s
		{0.25, "1", "4"}, // a token every 4 s
		{2.5, "3", "1"},  // burst rounds up; 0.4 s rounds up to 1 s
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rate), func(t *testing.T) {
			clk := newFakeClock()
			s := testServer(t, func(c *Config) { c.KeyRate = tt.rate }, withClock(clk.now))
			var rec interface{ Result() *http.Response }
			for i := 0; i < 10; i++ {
				r := detect(s, `{"events":[{"a":1}]}`)
				rec = r
				if r.Code == 429 {
					break
				}
			}
			res := rec.Result()
			if res.StatusCode != 429 || res.Header.Get("X-RateLimit-Limit") != tt.wantLimit || res.Header.Get("Retry-After") != tt.wantRetry {
				t.Fatalf("got %d limit %q retry %q, want 429 %s %s", res.StatusCode,
					res.Header.Get("X-RateLimit-Limit"), res.Header.Get("Retry-After"), tt.wantLimit, tt.wantRetry)
			}
		})
	}
}

func TestNoRateLimitOnDetect(t *testing.T) {
	s := testServer(t, func(c *Config) { c.KeyRate = 1; c.NoRateLimit = true }, withClock(newFakeClock().now))
	for i := 0; i < 5; i++ {
		rec := detect(s, `{"events":[{"a":1}]}`)
		if rec.Code != 200 || rec.Header().Get("X-RateLimit-Limit") != "" {
			t.Fatalf("request %d: %d %v", i, rec.Code, rec.Header())
		}
	}
}

func TestLimiterSweep(t *testing.T) {
	clk := newFakeClock()
	l := newDemoLimiter(1, time.Second)
	for i := 0; i < sweepEvery-1; i++ {
		l.allow(fmt.Sprint(i), clk.now())
	}
	clk.advance(2 * time.Second)
	l.allow("last", clk.now())
	if n := len(l.log); n != 1 {
		t.Fatalf("%d demo clients kept after the sweep, want 1", n)
	}
	k := newKeyLimiter(10)
	for i := 0; i < sweepEvery-1; i++ {
		k.allow(fmt.Sprint(i), clk.now())
	}
	clk.advance(2 * time.Second)
	k.allow("last", clk.now())
	if n := len(k.buckets); n != 1 {
		t.Fatalf("%d buckets kept after the sweep, want 1", n)
	}
}
