package target

import (
	"context"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

func processingTime(t *testing.T, r testResponse) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(r.ProcessingTime)
	if err != nil {
		t.Fatalf("processing_time %q: %v", r.ProcessingTime, err)
	}
	return d
}

func TestInjectedLatencyIsServiceTime(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Config)
		min, max time.Duration
	}{
		{"none", func(*Config) {}, 0, 40 * time.Millisecond},
		{"latency", func(c *Config) { c.InjectLatency = 60 * time.Millisecond }, 60 * time.Millisecond, 400 * time.Millisecond},
		{"latency+jitter", func(c *Config) { c.InjectLatency = 30 * time.Millisecond; c.InjectJitter = 30 * time.Millisecond }, 30 * time.Millisecond, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, func(c *Config) { tt.edit(c); c.NoRateLimit = true })
			for _, path := range []string{"/v1/detect", "/v1/demo/detect"} {
				start := time.Now()
				rec := call(s, "POST", path, `{"events":[{"a":1}]}`, "X-Api-Key", s.DevKey())
				took := time.Since(start)
				pt := processingTime(t, decodeOK(t, rec))
				if pt < tt.min || pt > tt.max || pt > took {
					t.Errorf("%s: processing_time %v, want in [%v, %v] and <= the %v the call took", path, pt, tt.min, tt.max, took)
				}
			}
			// The server-side histogram saw the same service time.
			text := scrape(t, s)
			sum := metricValue(t, text, `driftlock_http_request_duration_seconds_sum{route="/v1/detect"}`)
			if sum < tt.min.Seconds() {
				t.Errorf("request duration sum %gs below the injected %v", sum, tt.min)
			}
		})
	}
}

func TestInjectedDelayDegradesWithUptime(t *testing.T) {
	clk := newFakeClock()
	s := testServer(t, func(c *Config) {
		c.InjectLatency = 5 * time.Millisecond
		c.DegradePerMinute = 10 * time.Millisecond
	}, withClock(clk.now))
	steps := []struct {
		uptime time.Duration
		want   time.Duration
	}{
		{0, 5 * time.Millisecond},
		{30 * time.Second, 10 * time.Millisecond},
		{2 * time.Minute, 25 * time.Millisecond},
		{10 * time.Minute, 105 * time.Millisecond},
	}
	start := clk.now()
	for _, st := range steps {
		clk.advance(start.Add(st.uptime).Sub(clk.now()))
		if got := s.injectedDelay(); got != st.want {
			t.Errorf("uptime %v: delay %v, want %v", st.uptime, got, st.want)
		}
	}
	// And through the handler: after 3 minutes a request takes >= 35 ms.
	clk.advance(3*time.Minute - 10*time.Minute)
	if pt := processingTime(t, decodeOK(t, detect(s, `{"events":[{"a":1}]}`))); pt < 35*time.Millisecond {
		t.Errorf("processing_time %v after 3 min of uptime, want >= 35ms", pt)
	}
}

func TestJitterStaysInRange(t *testing.T) {
	s := testServer(t, func(c *Config) { c.InjectJitter = 10 * time.Millisecond })
	distinct := map[time.Duration]bool{}
	for range 200 {
		d := s.injectedDelay()
		if d < 0 || d >= 10*time.Millisecond {
			t.Fatalf("jitter %v outside [0, 10ms)", d)
		}
		distinct[d] = true
	}
	if len(distinct) < 150 {
		t.Fatalf("only %d distinct jitters in 200", len(distinct))
	}
}

func TestInjectedErrors(t *testing.T) {
	tests := []struct {
		rate     float64
		min, max int // 500s out of 200
	}{
		{0, 0, 0},
		{1, 200, 200},
		{0.25, 30, 70},
	}
	for _, tt := range tests {
		s := testServer(t, func(c *Config) { c.InjectErrorRate = tt.rate; c.NoRateLimit = true })
		errs := 0
		for range 200 {
			rec := detect(s, `{"events":[{"a":1}]}`)
			switch rec.Code {
			case 500:
				errs++
				if e := decodeErr(t, rec); e.Error.Code != "internal" {
					t.Fatalf("500 body %s", rec.Body.String())
				}
			case 200:
			default:
				t.Fatalf("status %d", rec.Code)
			}
		}
		if errs < tt.min || errs > tt.max {
			t.Errorf("rate %g: %d errors in 200, want %d..%d", tt.rate, errs, tt.min, tt.max)
		}
		if got := metricValue(t, scrape(t, s), "driftlock_injected_errors_total"); int(got) != errs {
			t.Errorf("driftlock_injected_errors_total %g, want %d", got, errs)
		}
		if rec := call(s, "GET", "/healthz", ""); rec.Code != 200 {
			t.Errorf("healthz got an injected error")
		}
	}
}

func TestMaxInFlight(t *testing.T) {
	s := testServer(t, func(c *Config) {
		c.MaxInFlight = 2
		c.InjectLatency = 500 * time.Millisecond
		c.NoRateLimit = true
	})
	const n = 6
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/v1/detect", "/v1/demo/detect"}[i%2]
			codes[i] = call(s, "POST", path, `{"events":[{"a":1}]}`, "X-Api-Key", s.DevKey()).Code
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[200] != 2 || count[503] != n-2 {
		t.Fatalf("status counts %v, want 2 OK and %d 503", count, n-2)
	}
	rec := detect(s, `{"events":[{"a":1}]}`)
	if rec.Code != 200 {
		t.Fatalf("after the burst: %d", rec.Code)
	}
	if s.inFlight.Load() != 0 {
		t.Fatalf("in-flight count %d after all finished", s.inFlight.Load())
	}
}

func TestMaxInFlight503Body(t *testing.T) {
	s := testServer(t, func(c *Config) { c.MaxInFlight = 1 })
	s.inFlight.Store(1) // one request already being served
	rec := detect(s, `{"events":[{"a":1}]}`)
	if e := decodeErr(t, rec); rec.Code != 503 || e.Error.Code != "service_unavailable" || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
}

func rss(t *testing.T, s *Server) float64 {
	return metricValue(t, scrape(t, s), "process_resident_memory_bytes")
}

func TestLeakIsRetained(t *testing.T) {
	const perRequest, requests = 1 << 20, 48
	s := testServer(t, func(c *Config) { c.LeakBytesPerRequest = perRequest; c.NoRateLimit = true })
	// Return what earlier tests freed to the OS first, or its release while
	// the leak grows can hide the leak in the process RSS.
	debug.FreeOSMemory()
	before := rss(t, s)
	for range requests {
		if rec := detect(s, `{"events":[{"a":1}]}`); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	debug.FreeOSMemory()
	after := rss(t, s)
	text := scrape(t, s)
	if got := metricValue(t, text, "driftlock_injected_leak_bytes"); got != perRequest*requests {
		t.Errorf("driftlock_injected_leak_bytes %g, want %d", got, perRequest*requests)
	}
	if grew := after - before; grew < perRequest*requests/2 {
		t.Errorf("resident memory grew by %.1f MiB, want most of the %d MiB leaked", grew/(1<<20), requests)
	}
	t.Logf("RSS %.1f -> %.1f MiB", before/(1<<20), after/(1<<20))
}

// TestFreeze holds requests that arrive, or are being served, during the
// freeze until it ends, and counts the hold in processing_time.
func TestFreeze(t *testing.T) {
	const at, dur = 300 * time.Millisecond, 400 * time.Millisecond
	s := testServer(t, func(c *Config) {
		c.InjectFreezeAt, c.InjectFreezeFor = at, dur
		c.InjectLatency = 150 * time.Millisecond
		c.NoRateLimit = true
	})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	end := s.startedMono.Add(at + dur)

	type result struct {
		status  int
		done    time.Time
		pt      time.Duration
		name    string
		minDone time.Time
	}
	send := func(name, path string, startAt time.Duration, minDone time.Time) *result {
		time.Sleep(time.Until(s.startedMono.Add(startAt)))
		r := &result{name: name, minDone: minDone}
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(`{"events":[{"a":1}]}`))
		if path == "/healthz" {
			req, _ = http.NewRequest("GET", base+path, nil)
		}
		req.Header.Set("X-Api-Key", s.DevKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return r
		}
		defer resp.Body.Close()
		r.status, r.done = resp.StatusCode, time.Now()
		if path != "/healthz" {
			var out testResponse
			if err := jsonDecode(resp, &out); err != nil {
				t.Error(err)
			}
			r.pt, _ = time.ParseDuration(out.ProcessingTime)
		}
		return r
	}
	var wg sync.WaitGroup
	results := make([]*result, 4)
	plan := []struct {
		name, path string
		at         time.Duration
		minDone    time.Time
	}{
		// In flight when the freeze starts (done serving at ~350ms): held to the end.
		{"in flight", "/v1/detect", 200 * time.Millisecond, end},
		// Arrives during the freeze: held, then served (+150ms).
		{"arrives frozen", "/v1/detect", 400 * time.Millisecond, end.Add(150 * time.Millisecond)},
		{"healthz frozen", "/healthz", 400 * time.Millisecond, end},
		// Before the freeze: untouched.
		{"before", "/v1/detect", 0, time.Time{}},
	}
	for i, p := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = send(p.name, p.path, p.at, p.minDone)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.status != 200 {
			t.Fatalf("%s: status %d", r.name, r.status)
		}
		if r.done.Before(r.minDone) {
			t.Errorf("%s: answered %v before it should be", r.name, r.minDone.Sub(r.done))
		}
		if plan[i].name == "before" && r.done.After(s.startedMono.Add(at)) {
			t.Errorf("request before the freeze was held (done at %v)", r.done.Sub(s.startedMono))
		}
	}
	// Arrived at ~200ms, would have been done at ~350ms: held to 700ms.
	// Without the hold either request would show ~150ms.
	if pt := results[0].pt; pt < 400*time.Millisecond {
		t.Errorf("in-flight request: processing_time %v does not include the hold", pt)
	}
	// Arrived at ~400ms: held ~300ms, then 150ms of latency (minus scheduling slack).
	if pt := results[1].pt; pt < 400*time.Millisecond {
		t.Errorf("frozen request: processing_time %v does not include the hold", pt)
	}
	// Once only: after the window nothing is held.
	late := send("after", "/v1/detect", at+dur+50*time.Millisecond, time.Time{})
	if late.pt > 140*time.Millisecond+dur/2 {
		t.Errorf("request after the freeze took %v", late.pt)
	}
}

func TestGracefulShutdown(t *testing.T) {
	s := testServer(t, func(c *Config) { c.InjectLatency = 300 * time.Millisecond })
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("base URL %q", base)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Fatal("second Start succeeded")
	}
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/v1/detect", strings.NewReader(`{"events":[{"a":1}]}`))
		req.Header.Set("X-Api-Key", s.DevKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // the request is in its injected latency
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("Shutdown returned after %v, before the in-flight request could finish", took)
	}
	select {
	case code := <-done:
		if code != 200 {
			t.Fatalf("in-flight request got %d, want 200", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request never answered")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after Shutdown")
	}
}
