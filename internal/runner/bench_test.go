package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// rawServer is a minimal keep-alive HTTP/1.1 server on loopback: it reads a
// request head and its Content-Length body and answers with resp, so a
// benchmark's profile shows the client rather than net/http's server.
func rawServer(tb testing.TB, resp string) string {
	return rawServerTLS(tb, resp, nil)
}

// rawServerTLS is rawServer speaking TLS with config (plain when nil); it
// returns the server's base URL.
func rawServerTLS(tb testing.TB, resp string, config *tls.Config) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	scheme := "http://"
	if config != nil {
		ln, scheme = tls.NewListener(ln, config), "https://"
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRaw(c, resp)
		}
	}()
	return scheme + ln.Addr().String()
}

func serveRaw(c net.Conn, resp string) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 32<<10)
	out := []byte(resp)
	for {
		n := 0
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
			if k, v, ok := strings.Cut(string(line), ":"); ok && strings.EqualFold(k, "Content-Length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if _, err := br.Discard(n); err != nil {
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

const okResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Mon, 30 Nov 2026 05:30:00 GMT\r\nContent-Length: 2\r\n\r\nok"

// BenchmarkDo is one request through vu.Do (phase timing, built-in metrics
// recorded into HDR series) against a minimal loopback server, plain and
// over TLS (keep-alive: the handshake is outside the loop), on the fast path
// and through net/http.
func BenchmarkDo(b *testing.B) {
	base := rawServer(b, okResponse)
	serverTLS, clientTLS := testTLS(b)
	tlsBase := rawServerTLS(b, okResponse, serverTLS)
	body := bytes.Repeat([]byte("x"), 20<<10)
	header := http.Header{"Content-Type": {"application/octet-stream"}}
	get := func(base string) Request {
		return Request{Method: "GET", URL: base + "/healthz", Endpoint: "healthz", Scenario: "http"}
	}
	post := func(base string) Request {
		return Request{Method: "POST", URL: base + "/upload", Header: header, Body: body, Endpoint: "upload", Scenario: "http"}
	}
	for _, bc := range []struct {
		name string
		std  bool
		req  Request
	}{
		{"GET", false, get(base)},
		{"POST20KB", false, post(base)},
		{"GET-nethttp", true, get(base)},
		{"POST20KB-nethttp", true, post(base)},
		{"GET-tls", false, get(tlsBase)},
		{"POST20KB-tls", false, post(tlsBase)},
		{"GET-tls-nethttp", true, get(tlsBase)},
		{"POST20KB-tls-nethttp", true, post(tlsBase)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture()
			f.client = NewClient(ClientOptions{NoFastPath: bc.std, TLS: clientTLS})
			defer f.client.Close()
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			ctx := context.Background()
			req := bc.req
			b.ReportAllocs()
			for b.Loop() {
				if r := vu.Do(ctx, &req); r.Err != nil || r.Status != 200 {
					b.Fatalf("%d %v", r.Status, r.Err)
				}
			}
		})
	}
}

// BenchmarkDoHTTPTestServer is BenchmarkDo's GET against net/http's server,
// for comparison with scenario.BenchmarkHTTPIteration.
func BenchmarkDoHTTPTestServer(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	f := newFixture()
	defer f.client.Close()
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	req := Request{Method: "GET", URL: srv.URL + "/healthz", Endpoint: "healthz"}
	b.ReportAllocs()
	for b.Loop() {
		vu.Do(context.Background(), &req)
	}
}

// BenchmarkRecordHTTP is recording one request's built-in samples through
// the VU's series cache: a success, a failure (tagged with its reason), and
// the two alternating (each lookup then misses the last-hit entry).
func BenchmarkRecordHTTP(b *testing.B) {
	tm := Timings{Blocked: time.Microsecond, Sending: 3 * time.Microsecond, Waiting: time.Millisecond, Duration: time.Millisecond}
	ok := Response{Status: 200, Timings: tm}
	failed := failedResponse(tm)
	for _, bc := range []struct {
		name  string
		resps []Response
	}{
		{"ok", []Response{ok}},
		{"failed", []Response{failed}},
		{"alternating", []Response{ok, failed}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture()
			vu := NewVU(1, 1, f.client, f.reg, f.b)
			req := Request{Method: "GET", URL: "http://h/x", Endpoint: "x", Scenario: "s", Tags: metrics.NewTags("group", "g")}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				vu.recordHTTP(&req, &bc.resps[i%len(bc.resps)])
				i++
			}
		})
	}
}

func failedResponse(tm Timings) Response {
	return Response{Err: context.DeadlineExceeded, TimedOut: true, Reason: ReasonTimeout, Timings: tm}
}
