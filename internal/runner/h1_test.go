package runner

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseH1URLAgreesWithNetURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		fast bool
	}{
		{"http://127.0.0.1:8080/healthz", true},
		{"http://localhost:8080", true},
		{"http://example.com", true},
		{"http://example.com/", true},
		{"http://[::1]:8080/v1/detect?stream=a-b_c.d~e&x=1,2;3", true},
		{"http://[::1]/x", true},
		{"http://h:1/a%2Fb/%41%zz", false}, // invalid escape
		{"http://h:1/a%2Fb/%41", true},
		{"http://h:1/a!b$c&d'e(f)g*h+i,j;k=l:m@n", true},
		{"http://h:1/p?q=/?:@", true},
		{"http://my_host.internal:9000/x", true},
		{"http://h:1/a b", false},
		{"http://h:1/a#frag", false},
		{"http://user:pw@h:1/", false},
		{"http://h:1?q=1", false}, // net/url adds the "/"
		{"http://h:/x", false},
		{"http://:80/x", false},
		{"http://h:123456/x", false},
		{"http://h:1/ü", false},
		{"http://h:1/a\"b", false},
		{"http://h:1/a[b]", false},
		{"https://h:1/x", false},
		{"HTTP://h:1/x", false},
		{"http://", false},
		{"http://h:1/%", false},
	} {
		u, ok := parseH1URL(tc.raw)
		if ok != tc.fast {
			t.Errorf("parseH1URL(%q) ok = %v, want %v", tc.raw, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		nu, err := url.Parse(tc.raw)
		if err != nil {
			t.Errorf("%q: the fast path accepts what net/url rejects: %v", tc.raw, err)
			continue
		}
		if u.authority != nu.Host || u.uri != nu.RequestURI() {
			t.Errorf("%q: fast (%q, %q), net/url (%q, %q)", tc.raw, u.authority, u.uri, nu.Host, nu.RequestURI())
		}
	}
}

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

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.String()
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
	long := strings.Repeat("abcdefghij", 1000)
	gz := gzipped("hello, gzip")
	for _, tc := range []struct {
		name       string
		method     string
		resp       string
		closeAfter bool
		wantErr    bool
		wantConns  int64
	}{
		{"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", false, false, 1},
		{"large content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + long, false, false, 1},
		{"empty content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"bare LF line ends", "GET", "HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\nok", false, false, 1},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n", false, false, 1},
		{"chunked large", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2710\r\n" + long + "\r\n0\r\n\r\n", false, false, 1},
		{"chunked with trailer", "GET", "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", false, false, 1},
		{"chunked beats content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, false, 1},
		{"chunked malformed", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", false, true, 2},
		{"read to close", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", true, false, 2},
		{"connection close", "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true, false, 2},
		{"HTTP/1.0 default close", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true, false, 2},
		{"HTTP/1.0 keep-alive", "GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false, false, 1},
		{"HTTP/1.0 ignores transfer-encoding", "GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nok", true, false, 2},
		{"HEAD with length", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", false, false, 1},
		{"204 with length", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"304", "GET", "HTTP/1.1 304 Not Modified\r\nEtag: \"x\"\r\n\r\n", false, false, 1},
		{"1xx skipped", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, 1},
		{"duplicate equal lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false, false, 1},
		{"conflicting lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false, true, 2},
		{"bad length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, true, 2},
		{"unsupported transfer-encoding", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, true, 2},
		{"truncated body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true, true, 2},
		{"truncated head", "GET", "HTTP/1.1 200 OK\r\nContent-Le", true, true, 2},
		{"no response", "GET", "", true, true, 2},
		{"malformed status line", "GET", "HTTP/1.1 20 OK\r\n\r\n", false, true, 2},
		{"other version", "GET", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"malformed version", "GET", "HTTP/1.10 200 OK\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"folded header", "GET", "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"space in a header name", "GET", "HTTP/1.1 200 OK\r\nx bad : a\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"header without colon", "GET", "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"control byte in a value", "GET", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"folded first header", "GET", "HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"non-canonical and repeated keys", "GET", "HTTP/1.1 503 Service Unavailable\r\nretry-after: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\ncontent-length: 0\r\n\r\n", false, false, 1},
		{"gzip", "GET", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n" + gz, false, false, 1},
		{"gzip chunked", "GET", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(gz)), 16) + "\r\n" + gz + "\r\n0\r\n\r\n", false, false, 1},
		{"bad gzip", "GET", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope", false, true, 1},
		{"unsolicited bytes after the response", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out [2]outcome
			for i, std := range []bool{true, false} {
				s := newScripted(t, tc.resp, tc.closeAfter)
				c := NewClient(ClientOptions{NoFastPath: std, Timeout: 5 * time.Second})
				f := newFixture()
				vu := NewVU(1, 1, c, f.reg, f.b)
				req := Request{Method: tc.method, URL: "http://" + s.addr + "/x"}
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
						if tc.name == "truncated head" {
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
			if (out[1].Err != "") != tc.wantErr || out[1].Conns != tc.wantConns {
				t.Errorf("fast path: error %v, %d connections; want error %v, %d connections", out[1].Err != "", out[1].Conns, tc.wantErr, tc.wantConns)
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
	if conn.state.Load() != connClosed {
		t.Fatal("idle connection not closed")
	}
	if _, err := conn.nc.Write([]byte("x")); err == nil {
		t.Fatal("write on a closed connection succeeded")
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
