package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
)

// An https request through a client trusting the server's certificate via
// ClientOptions.TLS times the handshake on a new connection, and records it
// in http_req_tls_handshaking; a reused connection has none.
func TestTLSHandshakeIsTimedWithTheTLSOption(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	base := &tls.Config{RootCAs: pool}
	f := newFixture()
	f.client = NewClient(ClientOptions{TLS: base})
	defer f.client.Close()
	if base.InsecureSkipVerify || base.NextProtos != nil {
		t.Fatal("the caller's TLS config was modified: it must be cloned")
	}
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	req := &Request{Method: "GET", URL: srv.URL + "/x", Endpoint: "x"}
	first := vu.Do(context.Background(), req)
	if !first.OK(200) || string(first.Body) != "ok" {
		t.Fatalf("first request: %d %q %v", first.Status, first.Body, first.Err)
	}
	if first.Timings.TLSHandshaking <= 0 {
		t.Fatalf("first request timings %+v: want a TLS handshake", first.Timings)
	}
	if second := vu.Do(context.Background(), req); !second.OK(200) || second.Timings.TLSHandshaking != 0 {
		t.Fatalf("second request: %v, timings %+v: want the connection reused, no handshake", second.Err, second.Timings)
	}
	hs, _ := f.reg.Snapshot().Sink("http_req_tls_handshaking", nil)
	if hs.Count != 2 || hs.Max <= 0 {
		t.Fatalf("http_req_tls_handshaking: %d samples, max %g ms; want 2 with one above 0", hs.Count, hs.Max)
	}
}

func TestTLSOptions(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	for _, tc := range []struct {
		name   string
		opts   ClientOptions
		reason string
	}{
		{"system roots do not trust the test server", ClientOptions{}, ReasonTLS},
		{"the server's pool", ClientOptions{TLS: &tls.Config{RootCAs: pool}}, ""},
		{"insecure", ClientOptions{Insecure: true}, ""},
		{"insecure on top of a base config", ClientOptions{TLS: &tls.Config{RootCAs: x509.NewCertPool()}, Insecure: true}, ""},
		{"a pool without the server's certificate", ClientOptions{TLS: &tls.Config{RootCAs: x509.NewCertPool()}}, ReasonTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.client = NewClient(tc.opts)
			defer f.client.Close()
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			r := vu.Do(context.Background(), &Request{Method: "GET", URL: srv.URL})
			if r.Reason != tc.reason || tc.reason == "" && !r.OK(200) {
				t.Fatalf("status %d, error %v, reason %q; want reason %q", r.Status, r.Err, r.Reason, tc.reason)
			}
		})
	}
}
