package h1

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// memConn is a net.Conn that reads a scripted response, at most chunk bytes
// per Read (0: as many as asked), then io.EOF; writes are kept.
type memConn struct {
	data   []byte
	chunk  int
	wrote  bytes.Buffer
	closed bool
}

func (m *memConn) Read(p []byte) (int, error) {
	if m.closed {
		return 0, net.ErrClosed
	}
	if len(m.data) == 0 {
		return 0, io.EOF
	}
	if m.chunk > 0 && len(p) > m.chunk {
		p = p[:m.chunk]
	}
	n := copy(p, m.data)
	m.data = m.data[n:]
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error) {
	if m.closed {
		return 0, net.ErrClosed
	}
	return m.wrote.Write(p)
}

func (m *memConn) Close() error                     { m.closed = true; return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

func TestConnStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		// run drives a new (busy) connection and reports what CloseIdle did.
		run                     func(c *Conn) bool
		wantClosedNow, wantOpen bool
	}{
		{"idle connections close at once", func(c *Conn) bool { c.Release(); return c.CloseIdle() }, true, false},
		{"busy connections close when released", func(c *Conn) bool {
			closed := c.CloseIdle()
			if c.Release() {
				t.Error("Release after CloseIdle succeeded")
			}
			return closed
		}, false, true},
		{"closed connections stay closed", func(c *Conn) bool { _ = c.Close(); return c.CloseIdle() }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := &memConn{}
			c := NewConn(nc, URL{Authority: "h:1"}, &Config{}, nil)
			if c.Acquire() {
				t.Fatal("a new connection is busy: Acquire must fail")
			}
			if got := tc.run(c); got != tc.wantClosedNow {
				t.Errorf("CloseIdle = %v, want %v", got, tc.wantClosedNow)
			}
			if nc.closed == tc.wantOpen {
				t.Errorf("net.Conn closed = %v, want %v", nc.closed, !tc.wantOpen)
			}
			if c.Acquire() {
				t.Error("Acquire succeeded on a connection CloseIdle ran on")
			}
		})
	}
}

// A RoundTrip writes the request, reads the response, counts the bytes and
// marks the connection reused once it served a response it keeps.
func TestRoundTripCountsBytesAndKeepsTheConnection(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	nc := &memConn{data: []byte(resp), chunk: 7}
	var sent, received atomic.Int64
	c := NewConn(nc, URL{Authority: "h:1"}, &Config{Sent: &sent, Received: &received}, nil)
	r := c.RoundTrip(&Request{URL: URL{Authority: "h:1", Target: "/x"}, UserAgent: "t", Body: []byte("b")})
	if r.HeadErr != nil || r.BodyErr != nil || r.Status != 200 || string(r.Body) != "ok" || !r.Keep || r.Retry {
		t.Fatalf("response %+v", r)
	}
	if want := "GET /x HTTP/1.1\r\nHost: h:1\r\nUser-Agent: t\r\nContent-Length: 1\r\nAccept-Encoding: gzip\r\n\r\nb"; nc.wrote.String() != want {
		t.Errorf("wrote %q, want %q", nc.wrote.String(), want)
	}
	if sent.Load() != int64(nc.wrote.Len()) || received.Load() != int64(len(resp)) {
		t.Errorf("counted %d sent, %d received; want %d, %d", sent.Load(), received.Load(), nc.wrote.Len(), len(resp))
	}
	if r.FirstByte.IsZero() || r.WroteRequest.IsZero() || r.FirstByte.Before(r.WroteRequest) {
		t.Errorf("instants: wrote %v, first byte %v", r.WroteRequest, r.FirstByte)
	}
	if !c.Reused() {
		t.Error("a connection that served a response is reused")
	}
	// The server has closed the connection meanwhile: the next request on
	// it may be retried on a new one.
	if r := c.RoundTrip(&Request{URL: URL{Authority: "h:1", Target: "/x"}}); r.HeadErr != io.EOF || !r.Retry || r.Keep {
		t.Fatalf("second response %+v, want EOF and Retry", r)
	}
}

// A new connection takes over the buffers of the one it replaces.
func TestNewConnTakesOverBuffers(t *testing.T) {
	old := NewConn(&memConn{data: []byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")}, URL{Authority: "h:1"}, &Config{}, nil)
	old.RoundTrip(&Request{URL: URL{Authority: "h:1", Target: "/"}})
	_ = old.Close()
	body, wbuf := old.body, old.wbuf
	c := NewConn(&memConn{}, URL{Authority: "h:1"}, &Config{}, old)
	if cap(c.body) != cap(body) || cap(c.wbuf) != cap(wbuf) || old.body != nil || old.wbuf != nil {
		t.Fatal("buffers not handed over")
	}
}
