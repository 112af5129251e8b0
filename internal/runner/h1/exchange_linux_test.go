//go:build linux

package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// plainConn hides a TCP connection's type, so a Conn over it takes the
// net.Conn path instead of the exchange.
type plainConn struct{ net.Conn }

// exchangeOutcome is what a caller of RoundTrip can observe of one
// response, with the connection's addresses taken out of error strings.
type exchangeOutcome struct {
	Status           int
	Header           http.Header
	Body             string
	HeadErr, BodyErr string
	Keep, Retry      bool
	WroteRequest     bool // stamped, and not after FirstByte when that is
	Sent, Received   int64
	ServerGot        string // the request bytes the server read
}

// TestExchangeAgreesWithNetConn runs each server behaviour twice, once
// through the exchange and once through the net.Conn path, and requires the
// same outcome: response, errors (with net's wording), keep-alive and retry
// decisions, instants, byte counts and the request bytes the server got.
func TestExchangeAgreesWithNetConn(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	big := bytes.Repeat([]byte("b"), 4<<20) // more than the socket buffers take at once
	for _, tc := range []struct {
		name string
		body []byte
		// serve answers the request the server has read (req) on conn.
		serve func(conn *net.TCPConn, req []byte)
		// deadline bounds the request (0: 5 s).
		deadline time.Duration
		// reuse: one exchange first, so the request under test goes over a
		// connection that served a response (Retry is then possible).
		reuse bool
		// partial: the exchange writes only part of the request.
		partial bool
	}{
		{name: "one write", serve: func(c *net.TCPConn, _ []byte) { _, _ = io.WriteString(c, ok) }},
		{name: "head in pieces", serve: func(c *net.TCPConn, _ []byte) {
			for _, part := range []string{"HTTP/1.1 200", " OK\r\nContent-Le", "ngth: 2\r\n\r", "\nok"} {
				_, _ = io.WriteString(c, part)
				time.Sleep(5 * time.Millisecond)
			}
		}},
		{name: "a head larger than the read buffer", serve: func(c *net.TCPConn, _ []byte) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("v", 3000)+"\r\nContent-Length: 2\r\n\r\nok")
		}},
		{name: "closed before answering", serve: func(c *net.TCPConn, _ []byte) { _ = c.Close() }},
		{name: "closed before answering a reused connection", reuse: true, serve: func(c *net.TCPConn, _ []byte) { _ = c.Close() }},
		{name: "reset before answering", reuse: true, serve: func(c *net.TCPConn, _ []byte) {
			_ = c.SetLinger(0)
			_ = c.Close()
		}},
		{name: "closed in the middle of the head", serve: func(c *net.TCPConn, _ []byte) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-")
			_ = c.Close()
		}},
		{name: "no answer before the deadline", deadline: 50 * time.Millisecond, serve: func(c *net.TCPConn, _ []byte) {
			time.Sleep(200 * time.Millisecond)
		}},
		{name: "a large body written in several calls", body: big, partial: true, serve: func(c *net.TCPConn, _ []byte) { _, _ = io.WriteString(c, ok) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			viaExchange, whole := exchangeRun(t, tc.body, tc.serve, tc.deadline, tc.reuse, false)
			viaNetConn, _ := exchangeRun(t, tc.body, tc.serve, tc.deadline, tc.reuse, true)
			if fmt.Sprintf("%+v", viaExchange) != fmt.Sprintf("%+v", viaNetConn) {
				t.Errorf("exchange:\n%+v\nnet.Conn:\n%+v", viaExchange, viaNetConn)
			}
			if whole == tc.partial {
				t.Errorf("the exchange wrote the whole request: %v, want %v", whole, !tc.partial)
			}
		})
	}
}

// exchangeRun sends one GET (a POST with body) to a server that reads the
// request and then calls serve, over a new Conn (plain: on the net.Conn
// path), after one plain exchange first when reuse is set. whole reports
// whether the exchange wrote the whole request.
func exchangeRun(t *testing.T, body []byte, serve func(*net.TCPConn, []byte), deadline time.Duration, reuse, plain bool) (out exchangeOutcome, whole bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if reuse {
			if _, err := readRequest(br); err != nil {
				got <- err.Error()
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
		}
		req, err := readRequest(br)
		if err != nil {
			got <- err.Error()
			return
		}
		serve(c.(*net.TCPConn), req)
		got <- fmt.Sprintf("%d bytes, %q", len(req), req[:min(len(req), 120)])
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	local, remote := nc.LocalAddr().String(), nc.RemoteAddr().String()
	if plain {
		nc = plainConn{nc}
	}
	var sent, received atomic.Int64
	u := URL{Authority: "h", Target: "/x"}
	c := NewConn(nc, u, &Config{Sent: &sent, Received: &received}, nil)
	defer c.Close()
	if (c.x.raw == nil) != plain {
		t.Fatalf("exchange enabled: %v, want %v", c.x.raw != nil, !plain)
	}
	if deadline == 0 {
		deadline = 5 * time.Second
	}
	if reuse {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if r := c.RoundTrip(&Request{URL: u}); r.HeadErr != nil || !r.Keep {
			t.Fatalf("first exchange: %+v", r)
		}
		sent.Store(0)
		received.Store(0)
	}
	_ = c.SetDeadline(time.Now().Add(deadline))
	method := "GET"
	if body != nil {
		method = "POST"
	}
	r := c.RoundTrip(&Request{Method: method, URL: u, UserAgent: "t", Body: body})
	clean := func(err error) string {
		if err == nil {
			return ""
		}
		return strings.NewReplacer(local, "LOCAL", remote, "REMOTE").Replace(err.Error())
	}
	whole = !plain && c.x.wrote == c.x.size
	out = exchangeOutcome{
		Status: r.Status, Header: r.Header(), Body: string(r.Body), HeadErr: clean(r.HeadErr), BodyErr: clean(r.BodyErr),
		Keep: r.Keep, Retry: r.Retry, Sent: sent.Load(), Received: received.Load(),
		WroteRequest: !r.WroteRequest.IsZero() && (r.FirstByte.IsZero() || !r.FirstByte.Before(r.WroteRequest)),
	}
	_ = c.Close()
	out.ServerGot = <-got
	return out, whole
}

// readRequest reads one request's head and its Content-Length body.
func readRequest(br *bufio.Reader) ([]byte, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	_ = req.Write(&b)
	return b.Bytes(), nil
}

// The exchange serves new connections and kept ones that were busy
// recently; one idle for longer than exchangeIdle (the server may have
// closed its end meanwhile) and anything that is not plain TCP go the
// net.Conn way.
func TestExchangeOnlyForRecentlyUsedTCPConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct {
		name     string
		plain    bool          // the net.Conn's type hidden
		reused   bool          // served a response before
		idle     time.Duration // since the last response began
		unread   bool          // bytes beyond the last response buffered
		exchange bool
	}{
		{name: "new", exchange: true},
		{name: "reused and busy", reused: true, idle: time.Millisecond, exchange: true},
		{name: "reused and idle", reused: true, idle: 2 * exchangeIdle},
		{name: "bytes left unread", reused: true, idle: time.Millisecond, unread: true},
		{name: "not a TCPConn", plain: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nc net.Conn
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if tc.plain {
				nc = plainConn{nc}
			}
			c := NewConn(nc, URL{Authority: "h"}, &Config{}, nil)
			defer c.Close()
			c.reused, c.x.last = tc.reused, time.Now().Add(-tc.idle)
			if tc.unread {
				c.w = 1
			}
			if got := c.exchangeable(); got != tc.exchange {
				t.Errorf("exchange: %v, want %v", got, tc.exchange)
			}
		})
	}
}
