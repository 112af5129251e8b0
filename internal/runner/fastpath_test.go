package runner

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/runner/h1/h1test"
)

func TestFastPathEligibility(t *testing.T) {
	c := NewClient(ClientOptions{})
	for _, tc := range []struct {
		name string
		req  Request
		fast bool
	}{
		{"plain GET", Request{Method: "GET", URL: "http://h:1/x"}, true},
		{"empty method is GET", Request{URL: "http://h:1/x"}, true},
		{"POST with headers", Request{Method: "POST", URL: "http://h:1/x", Header: http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {"k"}}}, true},
		{"https", Request{Method: "GET", URL: "https://h:1/x"}, false},
		{"lower-case method", Request{Method: "get", URL: "http://h:1/x"}, false},
		{"CONNECT", Request{Method: "CONNECT", URL: "http://h:1/x"}, false},
		{"non-canonical key", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"x-api-key": {"k"}}}, false},
		{"Host header", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"Host": {"other"}}}, false},
		{"Connection header", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"Connection": {"close"}}}, false},
		{"Expect header", Request{Method: "POST", URL: "http://h:1/x", Header: http.Header{"Expect": {"100-continue"}}}, false},
		{"newline in value", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"X-A": {"a\r\nb"}}}, false},
		{"invalid name", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"X A": {"a"}}}, false},
	} {
		if _, ok := c.fastPath(&tc.req); ok != tc.fast {
			t.Errorf("%s: fast = %v, want %v", tc.name, ok, tc.fast)
		}
	}
	if _, ok := NewClient(ClientOptions{NoFastPath: true}).fastPath(&Request{Method: "GET", URL: "http://h:1/x"}); ok {
		t.Error("NoFastPath must send everything through net/http")
	}
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:3128")
	if _, ok := NewClient(ClientOptions{}).fastPath(&Request{Method: "GET", URL: "http://h:1/x"}); ok {
		t.Error("with a proxy configured every request must go through net/http")
	}
}

// scripted is a loopback server that answers every request with the same
// raw bytes, closing the connection afterwards when closeAfter is set. It
// records each request head (and body) it read, and counts connections.
type scripted struct {
	addr       string
	resp       string
	closeAfter bool
	conns      atomic.Int64
	mu         sync.Mutex
	reqs       []string
}

func newScripted(t *testing.T, resp string, closeAfter bool) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{addr: ln.Addr().String(), resp: resp, closeAfter: closeAfter}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serve(c)
			}()
		}
	}()
	return s
}

func (s *scripted) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for {
		var head strings.Builder
		n := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, head.String()+string(body))
		s.mu.Unlock()
		if _, err := io.WriteString(c, s.resp); err != nil || s.closeAfter {
			return
		}
	}
}

func (s *scripted) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// normalizeHead sorts a request head's header lines, which net/http writes
// in another order.
func normalizeHead(raw string) string {
	head, body, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	slices.Sort(lines[1:])
	return strings.Join(lines, "\r\n") + "\r\n\r\n" + body
}

// Every request the fast path sends is byte for byte (up to header order)
// what net/http sends for it.
func TestFastPathSendsWhatNetHTTPSends(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 500)
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"GET", Request{Method: "GET", URL: "/healthz"}},
		{"default method", Request{URL: "/healthz?x=1&y=a%20b"}},
		{"no path", Request{Method: "GET", URL: ""}},
		{"POST small body", Request{Method: "POST", URL: "/v1/detect", Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}, Body: []byte(`{"events":[]}`)}},
		{"POST large body", Request{Method: "POST", URL: "/upload", Header: http.Header{"Content-Type": {"application/octet-stream"}}, Body: body}},
		{"POST empty body", Request{Method: "POST", URL: "/x", Body: []byte{}}},
		{"POST nil body", Request{Method: "POST", URL: "/x"}},
		{"PUT nil body", Request{Method: "PUT", URL: "/x"}},
		{"DELETE", Request{Method: "DELETE", URL: "/x"}},
		{"HEAD no gzip", Request{Method: "HEAD", URL: "/x"}},
		{"OPTIONS", Request{Method: "OPTIONS", URL: "/x"}},
		{"own Accept-Encoding", Request{Method: "GET", URL: "/x", Header: http.Header{"Accept-Encoding": {"br"}}}},
		{"Range", Request{Method: "GET", URL: "/x", Header: http.Header{"Range": {"bytes=0-1"}}}},
		{"multi-valued and padded", Request{Method: "GET", URL: "/x", Header: http.Header{"X-Multi": {"a", " b\t", ""}, "X-Empty": {}}}},
		{"own User-Agent is replaced", Request{Method: "GET", URL: "/x", Header: http.Header{"User-Agent": {"curl"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for i, std := range []bool{true, false} {
				s := newScripted(t, "HTTP/1.1 204 No Content\r\n\r\n", false)
				c := NewClient(ClientOptions{NoFastPath: std, UserAgent: "driftload/test"})
				defer c.Close()
				f := newFixture()
				vu := NewVU(1, 1, c, f.reg, f.b)
				req := tc.req
				req.URL = "http://" + s.addr + req.URL
				if _, fast := c.fastPath(&req); fast == std {
					t.Fatalf("std=%v: fast path eligibility %v", std, fast)
				}
				if r := vu.Do(context.Background(), &req); r.Err != nil {
					t.Fatal(r.Err)
				}
				reqs := s.requests()
				if len(reqs) != 1 {
					t.Fatalf("server saw %d requests", len(reqs))
				}
				got[i] = normalizeHead(strings.Replace(reqs[0], s.addr, "ADDR", 1))
				if std && c.BytesSent() != int64(len(reqs[0])) {
					t.Fatalf("net/http sent %d bytes, the server read %d", c.BytesSent(), len(reqs[0]))
				}
				if !std && c.BytesSent() != int64(len(reqs[0])) {
					t.Errorf("fast path counted %d bytes sent, the server read %d", c.BytesSent(), len(reqs[0]))
				}
			}
			if got[0] != got[1] {
				t.Errorf("net/http sent\n%q\nthe fast path sent\n%q", got[0], got[1])
			}
		})
	}
}

type outcome struct {
	Status int
	Header http.Header
	Body   string
	Err    string
	// Conns is how many connections two requests took.
	Conns int64
}

// The fast path reads every response framing as net/http does: the same
// status, header map, body, error or not, and connection reuse.
func TestFastPathReadsResponsesLikeNetHTTP(t *testing.T) {
	for _, tc := range h1test.Framings() {
		t.Run(tc.Name, func(t *testing.T) {
			var out [2]outcome
			for i, std := range []bool{true, false} {
				s := newScripted(t, tc.Resp, tc.CloseAfter)
				c := NewClient(ClientOptions{NoFastPath: std, Timeout: 5 * time.Second})
				f := newFixture()
				vu := NewVU(1, 1, c, f.reg, f.b)
				req := Request{Method: tc.Method, URL: "http://" + s.addr + "/x"}
				var o outcome
				for range 2 {
					r := vu.Do(context.Background(), &req)
					o = outcome{Status: r.Status, Header: r.Header, Body: string(r.Body)}
					if r.Err != nil {
						o.Status, o.Header, o.Body = 0, nil, ""
						// The same error, but for where net/http notices a
						// truncated head: at EOF (fast path) or at a line
						// without a colon.
						o.Err = strings.ReplaceAll(r.Err.Error(), s.addr, "ADDR")
						if tc.Name == "truncated head" {
							o.Err = "error"
						}
					}
				}
				c.Close()
				o.Conns = s.conns.Load()
				out[i] = o
			}
			if !reflect.DeepEqual(out[0], out[1]) {
				t.Errorf("net/http: %+v\nfast path: %+v", out[0], out[1])
			}
			if (out[1].Err != "") != tc.WantErr || out[1].Conns != tc.WantConns {
				t.Errorf("fast path: error %v, %d connections; want error %v, %d connections", out[1].Err != "", out[1].Conns, tc.WantErr, tc.WantConns)
			}
		})
	}
}

// stallServer sends head (if any) and then nothing until the test ends.
func stallServer(t *testing.T, head string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(done); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_, _ = io.WriteString(c, head)
				<-done
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestFastPathTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		status     int
	}{
		{"no response", "", 0},
		{"head then a stalled body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := stallServer(t, tc.head)
			var errs [2]string
			for i, std := range []bool{true, false} {
				f := newFixture()
				f.client = NewClient(ClientOptions{NoFastPath: std})
				vu := NewVU(1, 1, f.client, f.reg, f.b)
				start := time.Now()
				r := vu.Do(context.Background(), &Request{Method: "GET", URL: base + "/x", Endpoint: "x", Timeout: 50 * time.Millisecond})
				f.client.Close()
				if !r.TimedOut || r.Err == nil || r.Canceled || r.Status != tc.status {
					t.Fatalf("std=%v: resp = %+v, want a timeout with status %d", std, r, tc.status)
				}
				errs[i] = r.Err.Error()
				if el := time.Since(start); el > 5*time.Second {
					t.Fatalf("timeout took %s", el)
				}
				failed, _ := f.reg.Snapshot().Sink("http_req_failed", nil)
				if failed.Count != 1 || failed.Trues != 1 {
					t.Fatalf("failed = %+v: the timeout must be recorded as a failure", failed)
				}
			}
			if errs[0] != errs[1] {
				t.Errorf("net/http: %q, fast path: %q", errs[0], errs[1])
			}
		})
	}
}

// A server that closes idle keep-alive connections (its idle timeout) costs
// no failed request: the fast path redials, as net/http does.
func TestFastPathRedialsWhenTheServerClosedAnIdleConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() { ln.Close(); wg.Wait() }()
	var conns atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			// One response, keep-alive promised, then the connection is closed.
			buf := make([]byte, 4096)
			_, _ = c.Read(buf)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			time.Sleep(20 * time.Millisecond)
			c.Close()
		}
	}()
	f := newFixture()
	defer f.client.Close()
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	for i := range 3 {
		for _, method := range []string{"GET", "POST"} {
			r := vu.Do(context.Background(), &Request{Method: method, URL: "http://" + ln.Addr().String() + "/x", Body: []byte("b"), Endpoint: "x"})
			if r.Err != nil || r.Status != 200 {
				t.Fatalf("request %d %s: %v", i, method, r.Err)
			}
			time.Sleep(50 * time.Millisecond) // the server closes meanwhile
		}
	}
	if n := conns.Load(); n != 6 {
		t.Fatalf("%d connections, want one per request", n)
	}
	failed, _ := f.reg.Snapshot().Sink("http_req_failed", nil)
	if failed.Count != 6 || failed.Trues != 0 {
		t.Fatalf("failed = %d of %d, want 0 of 6", failed.Trues, failed.Count)
	}
}

// Client.Close closes the fast path's idle connections, and a VU that
// sends again afterwards dials a new one.
func TestClientCloseClosesFastConnections(t *testing.T) {
	s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false)
	f := newFixture()
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	req := &Request{Method: "GET", URL: "http://" + s.addr + "/x"}
	if r := vu.Do(context.Background(), req); r.Err != nil {
		t.Fatal(r.Err)
	}
	conn := vu.h1.conn
	f.client.Close()
	if conn.Acquire() {
		t.Fatal("idle connection not closed")
	}
	if r := vu.Do(context.Background(), req); r.Err != nil || s.conns.Load() != 2 {
		t.Fatalf("after Close: %v, %d connections; want a new connection", r.Err, s.conns.Load())
	}
	f.client.Close()
}

// The fast path's timings follow net/http's: connecting on a new
// connection only, and sending + waiting + receiving = duration.
func TestFastPathTimings(t *testing.T) {
	s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false)
	f := newFixture()
	defer f.client.Close()
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	req := &Request{Method: "GET", URL: "http://" + s.addr + "/x"}
	first := vu.Do(context.Background(), req).Timings
	if first.Connecting <= 0 {
		t.Fatalf("first request: %+v, want a connect phase", first)
	}
	second := vu.Do(context.Background(), req).Timings
	if second.Connecting != 0 {
		t.Fatalf("second request: %+v, want no connect phase", second)
	}
	for _, tm := range []Timings{first, second} {
		if tm.Duration != tm.Sending+tm.Waiting+tm.Receiving || tm.Waiting <= 0 || tm.Duration <= 0 {
			t.Fatalf("timings %+v", tm)
		}
	}
}
