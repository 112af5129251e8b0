package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
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
		{"https", Request{Method: "GET", URL: "https://h:1/x"}, true},
		{"upper-case scheme", Request{Method: "GET", URL: "HTTPS://h:1/x"}, false},
		{"lower-case method", Request{Method: "get", URL: "http://h:1/x"}, false},
		{"CONNECT", Request{Method: "CONNECT", URL: "http://h:1/x"}, false},
		{"non-canonical key", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"x-api-key": {"k"}}}, false},
		{"Host header", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"Host": {"other"}}}, false},
		{"Connection header", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"Connection": {"close"}}}, false},
		{"Expect header", Request{Method: "POST", URL: "http://h:1/x", Header: http.Header{"Expect": {"100-continue"}}}, false},
		{"newline in value", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"X-A": {"a\r\nb"}}}, false},
		{"invalid name", Request{Method: "GET", URL: "http://h:1/x", Header: http.Header{"X A": {"a"}}}, false},
	} {
		if _, ok := c.fastPath(&tc.req, &h1VU{}); ok != tc.fast {
			t.Errorf("%s: fast = %v, want %v", tc.name, ok, tc.fast)
		}
	}
	for _, tc := range []struct {
		name        string
		opts        ClientOptions
		env         string // a proxy variable set
		http, https bool   // whether each scheme takes the fast path
	}{
		{"defaults", ClientOptions{}, "", true, true},
		{"NoFastPath", ClientOptions{NoFastPath: true}, "", false, false},
		{"HTTP2 sends https through net/http", ClientOptions{HTTP2: true}, "", true, false},
		{"HTTP_PROXY", ClientOptions{}, "HTTP_PROXY", false, true},
		{"http_proxy", ClientOptions{}, "http_proxy", false, true},
		{"HTTPS_PROXY", ClientOptions{}, "HTTPS_PROXY", true, false},
		{"https_proxy", ClientOptions{}, "https_proxy", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(tc.env, "http://127.0.0.1:3128")
			}
			c := NewClient(tc.opts)
			if _, ok := c.fastPath(&Request{Method: "GET", URL: "http://h:1/x"}, &h1VU{}); ok != tc.http {
				t.Errorf("http: fast = %v, want %v", ok, tc.http)
			}
			if _, ok := c.fastPath(&Request{Method: "GET", URL: "https://h:1/x"}, &h1VU{}); ok != tc.https {
				t.Errorf("https: fast = %v, want %v", ok, tc.https)
			}
		})
	}
}

// A VU's fast path parses each URL it is given, though it keeps the last.
func TestFastPathURLOfEachRequest(t *testing.T) {
	c := NewClient(ClientOptions{HTTP2: true})
	var h h1VU
	for _, tc := range []struct {
		url, target string // target "": not on the fast path
	}{
		{"http://h:1/a", "/a"}, {"http://h:1/a", "/a"}, {"http://h:1/b?q=1", "/b?q=1"},
		{"https://h:1/a", ""}, {"http://h:1/%zz", ""}, {"http://h:1/a", "/a"},
	} {
		u, ok := c.fastPath(&Request{Method: "GET", URL: tc.url}, &h)
		if ok != (tc.target != "") || ok && u.Target != tc.target {
			t.Errorf("%s: fast %v, target %q; want target %q", tc.url, ok, u.Target, tc.target)
		}
	}
}

// scripted is a loopback server that answers every request with the same
// raw bytes, closing the connection afterwards when closeAfter is set. It
// records each request head (and body) it read, and counts connections and
// the ones that ended.
type scripted struct {
	addr       string
	url        string // http://addr, or https://addr over TLS
	resp       string
	closeAfter bool
	conns      atomic.Int64
	ended      atomic.Int64
	mu         sync.Mutex
	reqs       []string
}

func newScripted(t *testing.T, resp string, closeAfter bool) *scripted {
	return newScriptedTLS(t, resp, closeAfter, nil)
}

// newScriptedTLS is newScripted speaking TLS with config, or plain HTTP
// when config is nil.
func newScriptedTLS(t *testing.T, resp string, closeAfter bool, config *tls.Config) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{addr: ln.Addr().String(), url: "http://" + ln.Addr().String(), resp: resp, closeAfter: closeAfter}
	if config != nil {
		ln = tls.NewListener(ln, config)
		s.url = "https://" + s.addr
	}
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
				s.ended.Add(1)
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
		for _, secure := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "", true: "/tls"}[secure], func(t *testing.T) {
				var got [2]string
				for i, std := range []bool{true, false} {
					var serverTLS *tls.Config
					opts := ClientOptions{NoFastPath: std, UserAgent: "driftload/test"}
					if secure {
						serverTLS, opts.TLS = testTLS(t)
					}
					s := newScriptedTLS(t, "HTTP/1.1 204 No Content\r\n\r\n", false, serverTLS)
					c := NewClient(opts)
					defer c.Close()
					f := newFixture()
					vu := NewVU(1, 1, c, f.reg, f.b)
					req := tc.req
					req.URL = s.url + req.URL
					if _, fast := c.fastPath(&req, &h1VU{}); fast == std {
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
					// Over TLS the wire carries more (TestTLSCountsTheBytesOnTheWire).
					if !secure && c.BytesSent() != int64(len(reqs[0])) {
						t.Errorf("std=%v: counted %d bytes sent, the server read %d", std, c.BytesSent(), len(reqs[0]))
					}
				}
				if got[0] != got[1] {
					t.Errorf("net/http sent\n%q\nthe fast path sent\n%q", got[0], got[1])
				}
			})
		}
	}
}

type outcome struct {
	Status int
	Proto  string
	Header http.Header
	Body   string
	Err    string
	// Conns is how many connections two requests took.
	Conns int64
}

// The fast path reads every response framing as net/http does, over plain
// TCP and over TLS: the same status, version, header map, body, error or
// not, and connection reuse.
func TestFastPathReadsResponsesLikeNetHTTP(t *testing.T) {
	for _, tc := range h1test.Framings() {
		for _, secure := range []bool{false, true} {
			t.Run(tc.Name+map[bool]string{false: "", true: "/tls"}[secure], func(t *testing.T) {
				testFraming(t, tc, secure)
			})
		}
	}
}

// testFraming sends two requests on each path to a server answering with
// tc's response, over TLS when secure is set, and compares the outcomes.
func testFraming(t *testing.T, tc h1test.Framing, secure bool) {
	var out [2]outcome
	for i, std := range []bool{true, false} {
		var serverTLS *tls.Config
		opts := ClientOptions{NoFastPath: std, Timeout: 5 * time.Second}
		if secure {
			serverTLS, opts.TLS = testTLS(t)
		}
		s := newScriptedTLS(t, tc.Resp, tc.CloseAfter, serverTLS)
		c := NewClient(opts)
		f := newFixture()
		vu := NewVU(1, 1, c, f.reg, f.b)
		req := Request{Method: tc.Method, URL: s.url + "/x"}
		var o outcome
		for i := range 2 {
			if i == 1 && tc.Name == "unsolicited bytes after the response" {
				// net/http closes the connection once its read loop sees
				// the bytes; a request sent before that would read them as
				// its response. Wait for the close, as the fast path does
				// at once.
				waitFor(t, func() bool { return s.ended.Load() == 1 })
			}
			r := vu.Do(context.Background(), &req)
			o = outcome{Status: r.Status, Proto: r.Proto, Header: r.Header(), Body: string(r.Body)}
			if r.Err != nil {
				o.Status, o.Proto, o.Header, o.Body = 0, "", nil, ""
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
}

// waitFor waits until cond holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not met within 10 s")
		}
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
// no failed request: the fast path redials, as net/http does, over plain
// TCP and over TLS (where the close is a close_notify alert).
func TestFastPathRedialsWhenTheServerClosedAnIdleConnection(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls"}[secure], func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			serverTLS, clientTLS := testTLS(t)
			base := "http://" + ln.Addr().String()
			if secure {
				ln, base = tls.NewListener(ln, serverTLS), "https://"+ln.Addr().String()
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
			f.client = NewClient(ClientOptions{TLS: clientTLS})
			defer f.client.Close()
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			for i := range 3 {
				for _, method := range []string{"GET", "POST"} {
					r := vu.Do(context.Background(), &Request{Method: method, URL: base + "/x", Body: []byte("b"), Endpoint: "x"})
					if r.Err != nil || r.Status != 200 {
						t.Fatalf("request %d %s: %v", i, method, r.Err)
					}
					if secure && r.Timings.TLSHandshaking <= 0 {
						t.Fatalf("request %d %s: timings %+v, want the redial's handshake timed", i, method, r.Timings)
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
		})
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
