package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/runner/h1"
)

// oneShot is a loopback server that reads a request head and then does
// what act says with the connection.
func oneShot(t *testing.T, act func(c *net.TCPConn)) string {
	t.Helper()
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
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil {
					return
				}
				act(c.(*net.TCPConn))
				select {
				case <-done:
				case <-time.After(20 * time.Millisecond):
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func answer(resp string) func(*net.TCPConn) {
	return func(c *net.TCPConn) { _, _ = io.WriteString(c, resp) }
}

// refusedAddr is a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

var httpBuiltins = []string{
	"http_reqs", "http_req_duration", "http_req_blocked", "http_req_connecting", "http_req_tls_handshaking",
	"http_req_sending", "http_req_waiting", "http_req_receiving", "http_req_failed",
}

// Each kind of failure, provoked against loopback, gives its reason on both
// paths, and every built-in sample of the request carries it as a tag; a
// response with any status has none.
func TestFailureReasons(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     func(t *testing.T) string // the request's URL
		timeout time.Duration
		reason  string
	}{
		{"unexpected status", func(t *testing.T) string {
			return "http://" + oneShot(t, answer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"))
		}, 0, ""},
		{"refused port", func(t *testing.T) string { return "http://" + refusedAddr(t) }, 0, ReasonConnRefused},
		{"server closes at once", func(t *testing.T) string { return "http://" + oneShot(t, func(*net.TCPConn) {}) }, 0, ReasonEOF},
		{"server closes within the body", func(t *testing.T) string {
			return "http://" + oneShot(t, answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"))
		}, 0, ReasonEOF},
		{"server resets", func(t *testing.T) string {
			return "http://" + oneShot(t, func(c *net.TCPConn) { _ = c.SetLinger(0) })
		}, 0, ReasonConnReset},
		{"garbage response", func(t *testing.T) string { return "http://" + oneShot(t, answer("GARBAGE\r\n\r\n")) }, 0, ReasonMalformed},
		{"malformed chunked body", func(t *testing.T) string {
			return "http://" + oneShot(t, answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
		}, 0, ReasonMalformed},
		{"timeout", func(t *testing.T) string { return stallServer(t, "") }, 50 * time.Millisecond, ReasonTimeout},
		{"TLS to a plain HTTP port", func(t *testing.T) string {
			return "https://" + oneShot(t, answer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		}, 0, ReasonTLS},
		{"TLS to a port answering garbage", func(t *testing.T) string {
			return "https://" + oneShot(t, answer("\x00\x01garbage\r\n\r\n"))
		}, 0, ReasonTLS},
		{"body too large", func(t *testing.T) string {
			return "http://" + oneShot(t, answer("HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n"))
		}, 0, ReasonBodyTooLarge},
		{"unknown host", func(t *testing.T) string { return "http://no-such-host.test:80" }, 0, ReasonDNS},
	} {
		for _, std := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "", true: "/nethttp"}[std], func(t *testing.T) {
				f := newFixture()
				f.client = NewClient(ClientOptions{NoFastPath: std, Timeout: 5 * time.Second})
				defer f.client.Close()
				// No DNS server is asked: every look-up fails at once.
				f.client.dialer.Resolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
					return nil, errors.New("no DNS in tests")
				}}
				vu := NewVU(1, 1, f.client, f.reg, f.b)
				r := vu.Do(context.Background(), &Request{Method: "GET", URL: tc.url(t) + "/x", Endpoint: "x", Timeout: tc.timeout})
				if r.Reason != tc.reason || (r.Err == nil) != (tc.reason == "") {
					t.Fatalf("reason %q for error %v, want %q", r.Reason, r.Err, tc.reason)
				}
				snap := f.reg.Snapshot()
				for _, m := range httpBuiltins {
					got := snap.TagValues(m, "reason")
					if tc.reason == "" && len(got) != 0 || tc.reason != "" && !slices.Equal(got, []string{tc.reason}) {
						t.Errorf("%s: reason tags %q, want %q", m, got, tc.reason)
					}
				}
			})
		}
	}
}

// A request the run cancels reports the reason, and is not recorded.
func TestCanceledRequestsHaveAReason(t *testing.T) {
	f := newFixture()
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	abort, cancel := context.WithCancel(context.Background())
	vu.abort = abort
	time.AfterFunc(30*time.Millisecond, cancel)
	if r := vu.Do(context.Background(), &Request{Method: "GET", URL: stallServer(t, "") + "/x"}); !r.Canceled || r.Reason != ReasonCanceled {
		t.Fatalf("canceled %v, reason %q; want %q", r.Canceled, r.Reason, ReasonCanceled)
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()
	if r := vu.Do(stopped, &Request{Method: "GET", URL: "http://127.0.0.1:1/"}); !r.Canceled || r.Reason != ReasonCanceled {
		t.Fatalf("canceled %v, reason %q; want %q", r.Canceled, r.Reason, ReasonCanceled)
	}
}

func TestFailureReasonClassifiesErrors(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "http://h/", Err: err} }
	dial := func(err error) error { return wrap(&net.OpError{Op: "dial", Net: "tcp", Err: err}) }
	for _, tc := range []struct {
		err      error
		answered bool
		want     string
	}{
		{nil, false, ""},
		{wrap(context.DeadlineExceeded), false, ReasonTimeout},
		{dial(&timeoutErr{}), false, ReasonTimeout},
		{wrap(context.Canceled), false, ReasonCanceled},
		{&h1.BodyTooLargeError{Limit: 1, ContentLength: -1}, true, ReasonBodyTooLarge},
		{wrap(&h1.MalformedError{Err: errors.New("malformed HTTP response")}), true, ReasonMalformed},
		{dial(&net.DNSError{Err: "no such host", Name: "h", IsNotFound: true}), false, ReasonDNS},
		{dial(syscall.ECONNREFUSED), false, ReasonConnRefused},
		{dial(syscall.ENETUNREACH), false, ReasonDial},
		{dial(syscall.EHOSTUNREACH), false, ReasonDial},
		{wrap(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), false, ReasonConnReset},
		{wrap(&net.OpError{Op: "write", Err: syscall.EPIPE}), false, ReasonConnReset},
		{wrap(io.EOF), false, ReasonEOF},
		{io.ErrUnexpectedEOF, true, ReasonEOF},
		{wrap(errors.New("http: server closed idle connection")), false, ReasonEOF},
		{errors.New("http: unexpected EOF reading trailer"), true, ReasonEOF},
		{wrap(tls.RecordHeaderError{Msg: "tls: first record does not look like a TLS handshake"}), false, ReasonTLS},
		{wrap(tls.AlertError(40)), false, ReasonTLS},
		{wrap(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), false, ReasonTLS},
		{wrap(x509.HostnameError{Host: "h"}), false, ReasonTLS},
		{wrap(&net.OpError{Op: "local error", Err: errors.New("tls: unexpected message")}), false, ReasonTLS},
		{wrap(&net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}), true, ReasonTLS},
		{wrap(&net.OpError{Op: "remote error", Err: errors.New("something else")}), false, ReasonOther},
		{wrap(errors.New("http: server gave HTTP response to HTTPS client")), false, ReasonTLS},
		{wrap(errors.New(`malformed HTTP status code "x"`)), true, ReasonMalformed},
		{wrap(errors.New("unsupported protocol scheme")), false, ReasonOther},
	} {
		if got := failureReason(tc.err, tc.answered); got != tc.want {
			t.Errorf("failureReason(%v, answered %v) = %q, want %q", tc.err, tc.answered, got, tc.want)
		}
		if tc.want != "" && !slices.Contains(FailureReasons, tc.want) {
			t.Errorf("%q is not in FailureReasons", tc.want)
		}
	}
	seen := map[string]bool{}
	for _, r := range FailureReasons {
		if r == "" || seen[r] || strings.ContainsAny(r, ",:{}") {
			t.Errorf("FailureReasons: %q is empty, repeated or not a tag value", r)
		}
		seen[r] = true
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }
