package target

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventChunk is about 64 KiB of comma-terminated events, for eventStream.
func eventChunk(event string) []byte {
	var b bytes.Buffer
	for b.Len() < 64<<10 {
		b.WriteString(event)
		b.WriteByte(',')
	}
	return b.Bytes()
}

// eventStream is a detect body of about size bytes: chunk repeated, then one
// last event. It is generated as it is read, so the test never holds it.
func eventStream(size int64, chunk []byte) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		if _, err := io.WriteString(pw, `{"events":[`); err != nil {
			return
		}
		for n := int64(0); n < size; n += int64(len(chunk)) {
			if _, err := pw.Write(chunk); err != nil {
				return // the reader gave up
			}
		}
		_, _ = io.WriteString(pw, `{"last":true}]}`)
		_ = pw.Close()
	}()
	return pr
}

// rawResult is what rawPost saw.
type rawResult struct {
	status int
	body   []byte
	err    error
}

// rawPost sends a POST over its own connection, streaming body chunked
// (contentLength -1) or with the given Content-Length, and reads the response
// while the upload goes on: a server may answer before the body is read, and
// http.Client then often reports the failed write instead of the answer.
func rawPost(addr, path string, body io.ReadCloser, contentLength int64, header ...string) rawResult {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return rawResult{err: err}
	}
	defer conn.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, body)
	req.ContentLength = contentLength
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = req.Write(conn) // fails once the server stops reading; closes body
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		_ = conn.Close()
		<-wrote
		return rawResult{err: err}
	}
	b, err := io.ReadAll(resp.Body)
	_ = conn.Close()
	<-wrote
	return rawResult{status: resp.StatusCode, body: b, err: err}
}

// heapInUse reads the bytes in in-use heap spans (MemStats.HeapInuse)
// without stopping the world.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// heapAfterGC is MemStats.HeapInuse after a full collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// residentBytes is this process's RSS, for the log (0 where unknown).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// peakSampler records the largest heapInUse seen until stop is called.
func peakSampler() (stop func() uint64) {
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, heapInUse())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak
	}
}

const mib = 1 << 20

// TestOversizedBodiesKeepTheHeapSmall sends a burst of 40 concurrent ~95 MB
// bodies (the report: RSS stayed at 3.86 GB after 40 of them) and expects each
// rejected while the heap stays near where it was.
//
// The bound: a rejected request holds at most the decoder's buffer (one event
// plus a read, here well under 64 KiB) and the max+1 events decoded so far
// (~100 KiB), plus the connection's 4 KiB buffers: about 0.2 MiB, 8 MiB for 40
// at once, twice that with the garbage the GC lets accumulate. 64 MiB leaves
// room for a noisy machine; buffering a body up to the 10 MiB limit would
// already need 400 MiB, decoding one 95 MB batch about 1 GiB.
func TestOversizedBodiesKeepTheHeapSmall(t *testing.T) {
	const bodySize = 95_000_000
	const peakBound, afterBound = 64 * mib, 16 * mib
	chunk := eventChunk(`{"seq":123456,"level":"INFO","service":"checkout","message":"request ok","latency_ms":42}`)
	tiny := eventChunk(`{"a":1}`)
	tests := []struct {
		name     string
		edit     func(*Config)
		requests int
		chunk    []byte
		size     int64
		length   bool // send Content-Length instead of chunked
		status   int
		msg      string
	}{
		{"chunked, over the 10 MiB body limit", nil, 40, chunk, bodySize, false, 413, "larger than 10485760 bytes"},
		{"Content-Length over the 10 MiB body limit", nil, 40, chunk, bodySize, true, 413, "larger than 10485760 bytes"},
		{"10 MB of tiny events, within the body limit", nil, 40, tiny, 10_000_000, false, 400, "too many events: 1001 or more, at most 1000 per request"},
		// The whole body is read (and dropped) to tell it from one over the
		// limit: 8 requests keep that quick under -race.
		{"within a 128 MiB body limit", func(c *Config) { c.MaxBodyBytes = 128 * mib }, 8, chunk, bodySize, false, 400, "too many events: 1001 or more, at most 1000 per request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, func(c *Config) {
				c.NoRateLimit = true
				c.ReadTimeout = 2 * time.Minute // a memory test, not a timing one
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			base, err := s.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Shutdown(t.Context())
			addr := strings.TrimPrefix(base, "http://")
			// The exact length of what eventStream sends.
			length := int64(-1)
			if tt.length {
				n := (tt.size + int64(len(tt.chunk)) - 1) / int64(len(tt.chunk))
				length = int64(len(`{"events":[`)) + n*int64(len(tt.chunk)) + int64(len(`{"last":true}]}`))
			}

			before, rssBefore := heapAfterGC(), residentBytes()
			stop := peakSampler()
			start := time.Now()
			results := make([]rawResult, tt.requests)
			var wg sync.WaitGroup
			for i := range tt.requests {
				wg.Go(func() {
					results[i] = rawPost(addr, "/v1/detect", eventStream(tt.size, tt.chunk), length, "X-Api-Key", s.DevKey())
				})
			}
			wg.Wait()
			took := time.Since(start)
			peak := stop()
			after, rssAfter := heapAfterGC(), residentBytes()

			for i, r := range results {
				if r.err != nil || r.status != tt.status || !strings.Contains(string(r.body), tt.msg) {
					t.Errorf("request %d: %d %s (%v), want %d with %q", i, r.status, r.body, r.err, tt.status, tt.msg)
				}
			}
			t.Logf("%d × %d MB in %v: heap in use %.1f MiB before, peak %.1f, after GC %.1f; RSS %.0f -> %.0f MiB",
				tt.requests, tt.size/1e6, took.Round(time.Millisecond), float64(before)/mib, float64(peak)/mib, float64(after)/mib,
				float64(rssBefore)/mib, float64(rssAfter)/mib)
			if peak > before+peakBound {
				t.Errorf("heap in use peaked at %.1f MiB, %.1f MiB above the %.1f MiB before the burst (bound %d MiB)",
					float64(peak)/mib, float64(peak-before)/mib, float64(before)/mib, peakBound/mib)
			}
			if after > before+afterBound {
				t.Errorf("heap in use %.1f MiB after the burst and a GC, %.1f MiB above the %.1f MiB before (bound %d MiB)",
					float64(after)/mib, float64(after-before)/mib, float64(before)/mib, afterBound/mib)
			}
		})
	}
}

// endless is a reader that never ends: pattern over and over. It counts
// what was read from it.
type endless struct {
	pattern []byte
	n       int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.pattern[(e.n+int64(i))%int64(len(e.pattern))]
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestTooManyEventsStopsDecoding: event max+1 ends decoding, so what follows
// it is never read by the decoder (an endless body still gets an answer) and
// never judged (garbage after it is still "too many events").
func TestTooManyEventsStopsDecoding(t *testing.T) {
	ev := `{"level":"INFO","message":"ok"}`
	events := func(n int) string { return `{"stream_id":"s","events":[` + strings.Repeat(ev+",", n-1) + ev }
	// The decoder reads ahead in growing chunks; one event is 32 bytes.
	const readAhead = 64 << 10
	tests := []struct {
		name      string
		maxEvents int
		prefix    string
		rest      []byte // repeated without end
		msg       string
	}{
		{"endless events", 1000, events(1001), []byte("," + ev), "too many events: 1001 or more, at most 1000 per request"},
		{"garbage after event max+1", 1000, events(1001), []byte(`%%garbage]]}}{{"`), "too many events: 1001 or more, at most 1000 per request"},
		{"demo limit", DemoMaxEvents, events(DemoMaxEvents + 1), []byte("," + ev), "too many events: 201 or more, at most 200 per request"},
		{"exactly max+1", 1000, events(1001) + "]}", []byte(" "), "too many events: 1001, at most 1000 per request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rest := &endless{pattern: tt.rest}
			req, rerr := decodeDetectRequest(io.MultiReader(strings.NewReader(tt.prefix), rest), tt.maxEvents, true)
			if req != nil || rerr == nil || rerr.status != 400 || rerr.message != tt.msg {
				t.Fatalf("= %v %+v, want 400 %q", req, rerr, tt.msg)
			}
			if rest.n > readAhead {
				t.Errorf("decoder read %d bytes past event max+1, want at most %d", rest.n, readAhead)
			}
		})
	}

	// Through the handler a finite body is read to its end (to tell it from
	// one over the limit) but not decoded: garbage after event 1001 is not
	// reported, and the connection stays usable.
	s := testServer(t, nil)
	garbage := events(1001) + strings.Repeat("%% not json ", 10_000)
	rec := detect(s, garbage)
	if e := decodeErr(t, rec); rec.Code != 400 || e.Error.Code != "invalid_argument" || e.Error.Message != "too many events: 1001 or more, at most 1000 per request" {
		t.Fatalf("= %d %s, want 400 too many events", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("Connection") == "close" {
		t.Errorf("a 400 within the body limit closed the connection")
	}
	// Over the limit it is a 413 whatever comes first.
	small := testServer(t, func(c *Config) { c.MaxBodyBytes = 64 << 10 })
	if rec := detect(small, garbage); rec.Code != 413 || rec.Header().Get("Connection") != "close" {
		t.Fatalf("= %d %s (Connection %q), want 413 and close", rec.Code, rec.Body.String(), rec.Header().Get("Connection"))
	}
}

// slowConn is what one slow client saw: how long until its connection was
// closed, and the status of the answer it got first, if any.
type slowConn struct {
	closedAfter time.Duration
	status      int
	err         error
}

// TestSlowClientsAreCut holds 50 connections per case (250 at once), each
// sending 1 byte per 200 ms, against a server with 1 s timeouts; each must be
// answered or closed after about the timeout.
func TestSlowClientsAreCut(t *testing.T) {
	const conns, timeout, drip = 50, time.Second, 200 * time.Millisecond
	const earliest, latest = timeout / 2, 6 * time.Second // generous: a shared 2-core machine
	s := testServer(t, func(c *Config) {
		c.NoRateLimit = true
		c.ReadTimeout, c.ReadHeaderTimeout, c.IdleTimeout = timeout, timeout, timeout
	})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) }) // after the parallel subtests
	addr := strings.TrimPrefix(base, "http://")
	key := s.DevKey()

	post := func(path, framing string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key + "\r\nContent-Type: application/json\r\n" + framing + "\r\n"
	}
	tests := []struct {
		name   string
		head   string // sent at once
		drip   string // then one byte per drip, repeated
		status int    // of the answer, when one comes (0: none expected)
	}{
		{"slow body to /v1/detect", post("/v1/detect", "Content-Length: 100000\r\n"), `{"events":[{"a":1},`, 408},
		{"slow chunked body to /v1/demo/detect", post("/v1/demo/detect", "Transfer-Encoding: chunked\r\n") + "100000\r\n", `{"events":[{"a":1},`, 408},
		{"slow body the route does not read", post("/healthz", "Content-Length: 100000\r\n"), "x", 405},
		{"slow headers", "POST /v1/detect HTTP/1.1\r\nHost: x\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
		{"idle keep-alive connection", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // 250 slow connections at once: the server must cut them all
			results := make([]slowConn, conns)
			var wg sync.WaitGroup
			for i := range conns {
				wg.Go(func() { results[i] = slowClient(addr, tt.head, tt.drip, drip, latest+2*time.Second) })
			}
			wg.Wait()
			var slowest time.Duration
			answered := map[int]int{}
			for i, r := range results {
				slowest = max(slowest, r.closedAfter)
				if r.err != nil {
					t.Errorf("connection %d: %v", i, r.err)
					continue
				}
				if r.closedAfter < earliest || r.closedAfter > latest {
					t.Errorf("connection %d closed after %v, want within [%v, %v]", i, r.closedAfter, earliest, latest)
				}
				if r.status != 0 {
					answered[r.status]++
					if tt.status != 0 && r.status != tt.status {
						t.Errorf("connection %d answered %d, want %d", i, r.status, tt.status)
					}
				}
			}
			t.Logf("%d connections: slowest closed after %v; answered first (status: count) %v", conns, slowest.Round(time.Millisecond), answered)
		})
	}
}

// slowClient sends head, then drip one byte every interval until the server
// closes the connection. It reads the answer (if any) meanwhile, and reports
// when reading saw the end of the connection; giveUp bounds the whole thing.
func slowClient(addr, head, drip string, interval, giveUp time.Duration) slowConn {
	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return slowConn{err: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(start.Add(giveUp))
	if _, err := io.WriteString(conn, head); err != nil {
		return slowConn{err: err}
	}
	stop := make(chan struct{})
	dripped := make(chan struct{})
	go func() {
		defer close(dripped)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; drip != ""; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte{drip[i%len(drip)]}); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-dripped }()

	br := bufio.NewReader(conn)
	var res slowConn
	if resp, err := http.ReadResponse(br, nil); err == nil {
		res.status = resp.StatusCode
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	// Then the connection must end: EOF, or a reset from the server.
	_, err = io.Copy(io.Discard, br)
	res.closedAfter = time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		res.err = fmt.Errorf("still open after %v", giveUp)
	}
	return res
}

// TestReadTimeoutSparesSlowHandlers: the read timeout bounds reading the
// body only, from when the server starts on the request. A handler busy for
// longer (injected latency) is not cut short, nor is the next request on the
// connection, and a request held by a freeze still has the whole timeout to
// read its body after the hold.
func TestReadTimeoutSparesSlowHandlers(t *testing.T) {
	const timeout, hold = 200 * time.Millisecond, 700 * time.Millisecond
	g := newEventGen(21)
	// Beyond net/http's 4 KiB read buffer, so the body is read from the
	// connection after the hold, not from what came with the headers.
	big := body("", g.normals(300), "")
	tests := []struct {
		name   string
		edit   func(*Config)
		body   string
		minPT  [2]time.Duration // processing_time at least, of each request
		inHold bool             // send while the freeze is on
	}{
		{"injected latency beyond the timeout", func(c *Config) { c.InjectLatency = hold }, `{"events":[{"a":1}]}`, [2]time.Duration{hold, hold}, false},
		// Sent 50 ms into the freeze: held for the rest (the second is not).
		{"a freeze longer than the timeout", func(c *Config) { c.InjectFreezeAt, c.InjectFreezeFor = 300*time.Millisecond, hold }, big, [2]time.Duration{hold / 2, 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, func(c *Config) {
				c.NoRateLimit = true
				c.ReadTimeout = timeout
				tt.edit(c)
			})
			base, err := s.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Shutdown(t.Context())
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			if tt.inHold {
				time.Sleep(time.Until(s.startedMono.Add(s.cfg.InjectFreezeAt + 50*time.Millisecond)))
			}
			for i := range 2 {
				req, _ := http.NewRequest("POST", base+"/v1/detect", strings.NewReader(tt.body))
				req.Header.Set("X-Api-Key", s.DevKey())
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var r testResponse
				if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != 200 {
					t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
				}
				if pt := processingTime(t, r); pt < tt.minPT[i] {
					t.Errorf("request %d: processing_time %v, want at least %v", i, pt, tt.minPT[i])
				}
			}
		})
	}
}
