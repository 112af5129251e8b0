package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testTLS returns a server configuration with httptest's certificate (for
// 127.0.0.1, ::1 and example.com) and a client base configuration trusting
// it, each a new clone.
func testTLS(tb testing.TB) (server, client *tls.Config) {
	tb.Helper()
	s, pool := testCert()
	return s.Clone(), &tls.Config{RootCAs: pool}
}

var testCert = sync.OnceValues(func() (*tls.Config, *x509.CertPool) {
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{Certificates: srv.TLS.Certificates, NextProtos: []string{"http/1.1"}}, pool
})

// paths are the two ways a request can go, for side-by-side tests.
var paths = []struct {
	name string
	std  bool
}{{"fast", false}, {"nethttp", true}}

// quietTLSServer is httptest's TLS server for h without the log lines of
// the handshakes tests make fail.
func quietTLSServer(t *testing.T, h http.Handler, http2 bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.EnableHTTP2 = http2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// An https request on either path times TCP connect and TLS handshake as
// separate phases on a new connection, and neither on the kept-alive one;
// the fast path does it on its own connection, net/http on its Transport.
// The caller's TLS configuration is cloned, never modified.
func TestTLSPhasesAndReuse(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.StartTLS()
			defer srv.Close()
			_, base := testTLS(t)
			f := newFixture()
			f.client = NewClient(ClientOptions{TLS: base, NoFastPath: p.std})
			defer f.client.Close()
			if base.InsecureSkipVerify || base.NextProtos != nil || base.ClientSessionCache != nil {
				t.Fatal("the caller's TLS config was modified: it must be cloned")
			}
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			req := &Request{Method: "GET", URL: srv.URL + "/x", Endpoint: "x"}
			for i := range 2 {
				tr := vu.tracer // a tracer that saw a dial is retired after the request
				r := vu.Do(context.Background(), req)
				if !r.OK(200) || string(r.Body) != "ok" || r.Proto != "HTTP/1.1" {
					t.Fatalf("request %d: %d %s %q %v", i, r.Status, r.Proto, r.Body, r.Err)
				}
				if (vu.h1.conn != nil) == p.std {
					t.Fatalf("request %d: fast path connection %v, want the %s path", i, vu.h1.conn != nil, p.name)
				}
				tm := r.Timings
				if i == 0 {
					if tm.Connecting <= 0 || tm.TLSHandshaking <= 0 {
						t.Fatalf("first request timings %+v: want a connect and a handshake phase", tm)
					}
					// Connecting is the TCP connect alone; the handshake follows it.
					if tr.connectDone.After(tr.tlsStart) || !tr.tlsStart.Before(tr.tlsDone) || tr.tlsDone.After(tr.gotConn) {
						t.Fatalf("instants out of order: connect done %v, TLS %v–%v, got conn %v", tr.connectDone, tr.tlsStart, tr.tlsDone, tr.gotConn)
					}
				} else if tm.Connecting != 0 || tm.TLSHandshaking != 0 {
					t.Fatalf("second request timings %+v: want the connection reused, no connect, no handshake", tm)
				}
				if tm.Duration != tm.Sending+tm.Waiting+tm.Receiving || tm.Waiting <= 0 {
					t.Fatalf("request %d timings %+v", i, tm)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Fatalf("%d connections, want 1 kept alive", n)
			}
			hs, _ := f.reg.Snapshot().Sink("http_req_tls_handshaking", nil)
			if hs.Count != 2 || hs.Max <= 0 || hs.Min != 0 {
				t.Fatalf("http_req_tls_handshaking: %d samples, min %g, max %g ms; want 2, one of them 0", hs.Count, hs.Min, hs.Max)
			}
		})
	}
}

// countingListener counts the bytes its connections read and write.
type countingListener struct {
	net.Listener
	read, written *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l countingListener
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.written.Add(int64(n))
	return n, err
}

// data_sent and data_received count what goes over the wire: the TLS
// records, handshake included, exactly what the server's TCP connection
// carried, on both paths.
func TestTLSCountsTheBytesOnTheWire(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			var read, written atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				_, _ = w.Write([]byte("ok"))
			}))
			srv.Listener = countingListener{Listener: srv.Listener, read: &read, written: &written}
			srv.StartTLS()
			defer srv.Close()
			_, base := testTLS(t)
			f := newFixture()
			f.client = NewClient(ClientOptions{TLS: base, NoFastPath: p.std})
			defer f.client.Close()
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			for _, req := range []Request{
				{Method: "GET", URL: srv.URL + "/x"},
				{Method: "POST", URL: srv.URL + "/x", Body: []byte(strings.Repeat("b", 5000))},
			} {
				if r := vu.Do(context.Background(), &req); !r.OK(200) {
					t.Fatalf("%s: %d %v", req.Method, r.Status, r.Err)
				}
			}
			// The server counts a write once it returns, which may be
			// after the client read it: wait for the counts to settle.
			settled := func() bool { return f.client.BytesSent() == read.Load() && f.client.BytesReceived() == written.Load() }
			for end := time.Now().Add(5 * time.Second); !settled() && time.Now().Before(end); {
				time.Sleep(time.Millisecond)
			}
			if !settled() {
				t.Fatalf("client counted %d sent, %d received; the server read %d, wrote %d",
					f.client.BytesSent(), f.client.BytesReceived(), read.Load(), written.Load())
			}
			// More than the plaintext: the certificate alone is ~1 KB.
			if f.client.BytesSent() < 5000 || f.client.BytesReceived() < 1000 {
				t.Fatalf("counted %d sent, %d received: the handshake and records are missing", f.client.BytesSent(), f.client.BytesReceived())
			}
		})
	}
}

// Every TLS failure gives the same error (up to the address), reason and
// timeout flag on the fast path as through net/http.
func TestTLSFailuresLikeNetHTTP(t *testing.T) {
	srv := quietTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), false)
	_, trusting := testTLS(t)
	for _, tc := range []struct {
		name    string
		url     func(t *testing.T) string
		opts    ClientOptions
		timeout time.Duration
		reason  string
	}{
		{"trusted", func(*testing.T) string { return srv.URL }, ClientOptions{TLS: trusting}, 0, ""},
		{"insecure", func(*testing.T) string { return srv.URL }, ClientOptions{Insecure: true}, 0, ""},
		{"insecure on top of a base config", func(*testing.T) string { return srv.URL }, ClientOptions{TLS: &tls.Config{RootCAs: x509.NewCertPool()}, Insecure: true}, 0, ""},
		{"system roots do not trust the test server", func(*testing.T) string { return srv.URL }, ClientOptions{}, 0, ReasonTLS},
		{"a pool without the server's certificate", func(*testing.T) string { return srv.URL }, ClientOptions{TLS: &tls.Config{RootCAs: x509.NewCertPool()}}, 0, ReasonTLS},
		{"certificate for another host", func(*testing.T) string {
			return "https://localhost:" + srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
		}, ClientOptions{TLS: trusting}, 0, ReasonTLS},
		{"base ServerName wins over the URL's host", func(*testing.T) string { return srv.URL }, ClientOptions{TLS: &tls.Config{RootCAs: trusting.RootCAs, ServerName: "other.example"}}, 0, ReasonTLS},
		{"plain HTTP server", func(t *testing.T) string {
			return "https://" + oneShot(t, answer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		}, ClientOptions{TLS: trusting}, 0, ReasonTLS},
		{"server closes during the handshake", func(t *testing.T) string {
			return "https://" + oneShot(t, func(*net.TCPConn) {})
		}, ClientOptions{TLS: trusting}, 0, ReasonEOF},
		{"handshake stalls past the timeout", func(t *testing.T) string {
			return "https" + strings.TrimPrefix(stallServer(t, ""), "http")
		}, ClientOptions{TLS: trusting}, 50 * time.Millisecond, ReasonTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs [2]string
			for i, p := range paths {
				f := newFixture()
				opts := tc.opts
				opts.NoFastPath = p.std
				f.client = NewClient(opts)
				vu := NewVU(1, 1, f.client, f.reg, f.b)
				url := tc.url(t)
				r := vu.Do(context.Background(), &Request{Method: "GET", URL: url + "/x", Timeout: tc.timeout})
				f.client.Close()
				if r.Reason != tc.reason || tc.reason == "" && !r.OK(200) || r.TimedOut != (tc.reason == ReasonTimeout) {
					t.Fatalf("%s: status %d, error %v, reason %q, timed out %v; want reason %q", p.name, r.Status, r.Err, r.Reason, r.TimedOut, tc.reason)
				}
				if r.Err != nil {
					errs[i] = strings.ReplaceAll(r.Err.Error(), url, "URL")
					t.Logf("%s: %s", p.name, errs[i])
				}
				// A failed handshake is timed too (net/http's TLSHandshakeDone
				// runs on errors), but for one the request's timeout ended:
				// net/http returns then while its handshake goroutine is
				// still winding down, the fast path once the handshake has
				// returned.
				timed := tc.reason == ReasonTLS || tc.reason == ReasonTimeout && !p.std
				if timed && r.Timings.TLSHandshaking <= 0 {
					t.Errorf("%s: timings %+v, want the failed handshake timed", p.name, r.Timings)
				}
			}
			if errs[0] != errs[1] {
				t.Errorf("fast path: %q\nnet/http:  %q", errs[0], errs[1])
			}
		})
	}
}

// A client certificate in the base configuration (--cert/--key) is
// presented on both paths.
func TestTLSClientCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strconv.Itoa(len(r.TLS.PeerCertificates)))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	serverTLS, base := testTLS(t)
	serverTLS.ClientAuth = tls.RequireAnyClientCert
	srv.TLS = serverTLS
	srv.StartTLS()
	defer srv.Close()
	for _, p := range paths {
		for _, tc := range []struct {
			name string
			cert bool
			want string // the body; "" for a failed handshake
		}{{"with", true, "1"}, {"without", false, ""}} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				opts := ClientOptions{TLS: base.Clone(), NoFastPath: p.std}
				if tc.cert {
					opts.TLS.Certificates = serverTLS.Certificates
				}
				f := newFixture()
				f.client = NewClient(opts)
				defer f.client.Close()
				r := NewVU(1, 1, f.client, f.reg, f.b).Do(context.Background(), &Request{Method: "GET", URL: srv.URL})
				if tc.want != "" && (!r.OK(200) || string(r.Body) != tc.want) || tc.want == "" && r.Reason != ReasonTLS {
					t.Fatalf("%d %q %v (reason %q); want body %q", r.Status, r.Body, r.Err, r.Reason, tc.want)
				}
			})
		}
	}
}

// The run's abort reaches a request whose TLS handshake is in flight: it
// ends at once as canceled, on both paths.
func TestAbortDuringTheTLSHandshake(t *testing.T) {
	url := "https" + strings.TrimPrefix(stallServer(t, ""), "http") + "/x"
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			_, base := testTLS(t)
			f := newFixture()
			f.client = NewClient(ClientOptions{TLS: base, NoFastPath: p.std})
			defer f.client.Close()
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			abort, cancel := context.WithCancel(context.Background())
			vu.abort = abort
			time.AfterFunc(30*time.Millisecond, cancel)
			r := vu.Do(context.Background(), &Request{Method: "GET", URL: url})
			if !r.Canceled || r.Reason != ReasonCanceled {
				t.Fatalf("canceled %v, reason %q, error %v; want canceled", r.Canceled, r.Reason, r.Err)
			}
			if reqs, _ := f.reg.Snapshot().Sink("http_reqs", nil); reqs.Count != 0 {
				t.Fatalf("%d requests recorded, want none", reqs.Count)
			}
		})
	}
}

// HTTP/2 is opt-in: against a server offering h2, https speaks HTTP/1.1 on
// the fast path and through net/http alike, and HTTP/2 only with
// ClientOptions.HTTP2, which sends it through net/http.
func TestHTTP2IsOptIn(t *testing.T) {
	srv := quietTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) }), true)
	_, base := testTLS(t)
	for _, tc := range []struct {
		name  string
		opts  ClientOptions
		proto string
		fast  bool
	}{
		{"default", ClientOptions{}, "HTTP/1.1", true},
		{"net/http", ClientOptions{NoFastPath: true}, "HTTP/1.1", false},
		{"HTTP2", ClientOptions{HTTP2: true}, "HTTP/2.0", false},
		{"HTTP2 and net/http", ClientOptions{HTTP2: true, NoFastPath: true}, "HTTP/2.0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			opts := tc.opts
			opts.TLS = base
			f.client = NewClient(opts)
			defer f.client.Close()
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			for i := range 2 {
				r := vu.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/x"})
				if !r.OK(200) || r.Proto != tc.proto || string(r.Body) != tc.proto {
					t.Fatalf("request %d: %d, proto %q, the server saw %q, error %v; want %s", i, r.Status, r.Proto, r.Body, r.Err, tc.proto)
				}
				if (vu.h1.conn != nil) != tc.fast {
					t.Fatalf("request %d: fast path %v, want %v", i, vu.h1.conn != nil, tc.fast)
				}
				if hs := r.Timings.TLSHandshaking; (i == 0) != (hs > 0) {
					t.Fatalf("request %d: TLS handshaking %s; want a handshake on the first only", i, hs)
				}
			}
		})
	}
}

// A new connection resumes the TLS session an earlier one got, its own
// VU's or another's: one session cache serves the run, on both paths.
func TestTLSSessionsAreResumed(t *testing.T) {
	srv := quietTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close") // every request on a new connection
		if r.TLS.DidResume {
			_, _ = io.WriteString(w, "resumed")
		}
	}), false)
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			_, base := testTLS(t)
			f := newFixture()
			f.client = NewClient(ClientOptions{TLS: base, NoFastPath: p.std})
			defer f.client.Close()
			vus := []*VU{NewVU(1, 1, f.client, f.reg, f.b), NewVU(2, 1, f.client, f.reg, f.b)}
			for i, tc := range []struct {
				vu      int
				resumed bool
			}{{0, false}, {0, true}, {1, true}} {
				r := vus[tc.vu].Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/x"})
				if !r.OK(200) || (string(r.Body) == "resumed") != tc.resumed || r.Timings.TLSHandshaking <= 0 {
					t.Fatalf("request %d (VU %d): %d %q %v, handshake %s; want resumed %v", i, tc.vu+1, r.Status, r.Body, r.Err, r.Timings.TLSHandshaking, tc.resumed)
				}
			}
		})
	}
}
