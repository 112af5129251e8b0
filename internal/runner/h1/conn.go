// Package h1 is driftload's own HTTP/1.1 client connection, the fast path
// for http:// and https:// requests.
//
// net/http's Transport serves each request with three goroutines (the
// caller, the connection's readLoop and writeLoop) talking over channels,
// and allocates ~75 times per request. A Conn does the whole exchange on its
// caller's goroutine: the request is serialised into a reused buffer and
// written with one write (writev with a large body), the response is parsed
// from a reused read buffer. It reproduces net/http's client behaviour where
// a caller can observe it: the header lines sent, Accept-Encoding: gzip with
// transparent decompression, response framing and keep-alive rules, the
// header map handed back, error values. Over TLS (crypto/tls, with ALPN
// offering http/1.1 only) it does the same inside the TLS records and counts
// the bytes on the wire. What it does not handle (HTTP/2, proxies, unusual
// URLs or headers: see ParseURL and Sendable) is for net/http.
package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is what the Conns of one client share.
type Config struct {
	// MaxBody bounds a response body, as received and once decompressed: a
	// larger one is not read further, the connection is not reused, and the
	// response fails with a *BodyTooLargeError. 0 means no limit.
	MaxBody int64
	// Sent and Received, when not nil, count the bytes every Conn writes
	// and reads on its network connection: over TLS the records on the
	// wire, handshake included, as net/http counts them.
	Sent, Received *atomic.Int64
	// TLS is the base configuration of connections to https URLs (nil: the
	// defaults). A Conn uses a clone with ServerName set to the URL's host
	// when the base has none, as net/http does, and NextProtos set to
	// http/1.1 alone, so that ALPN never selects HTTP/2.
	TLS *tls.Config
}

// Connection states.
const (
	stateIdle int32 = iota
	stateBusy
	stateClosed
	stateBusyCloseAfter // CloseIdle ran while busy
)

// Conn is one keep-alive HTTP/1.1 connection with its buffers. One
// goroutine uses it at a time (RoundTrip, SetDeadline, Release); Acquire,
// CloseIdle and Abort may be called from any goroutine.
type Conn struct {
	nc        net.Conn  // the TCP connection, or tc over it
	tc        *tls.Conn // nil for plain http
	authority string
	cfg       *Config
	state     atomic.Int32
	reused    bool // served a response before
	// sent and received count the Conn's own writes and reads: cfg's
	// counters for plain http; nil over TLS, where the TCP connection
	// under tc counts.
	sent, received *atomic.Int64

	// Read side: unread bytes are buf[r:w]; body and gz hold the body of
	// the last response.
	buf  []byte
	r, w int
	body []byte
	gz   []byte

	// Write side.
	wbuf []byte
	bufs [2][]byte
	nb   net.Buffers
	x    exchange

	// The last head: its framing fields, the copy a lazily built header
	// map is parsed from, and the values of a head parsed at once.
	fields    fields
	head      []byte
	fieldVals []byte

	resp Response
}

// NewConn returns a Conn to u over nc, a TCP connection to u.Addr(). For an
// https URL the Conn speaks TLS over nc (see Config.TLS): Handshake must
// succeed before its first RoundTrip. The new Conn is busy: its creator is
// using it. old, when not nil, is a closed Conn whose buffers the new one
// takes over (the last Response of old is then valid only until the new
// Conn's first RoundTrip).
func NewConn(nc net.Conn, u URL, cfg *Config, old *Conn) *Conn {
	c := &Conn{nc: nc, authority: u.Authority, cfg: cfg, buf: make([]byte, readBuf)}
	if u.TLS {
		if cfg.Sent != nil || cfg.Received != nil {
			nc = &countingConn{Conn: nc, sent: cfg.Sent, received: cfg.Received}
		}
		c.tc = tls.Client(nc, tlsConfig(cfg.TLS, u.Host()))
		c.nc = c.tc
	} else {
		c.sent, c.received = cfg.Sent, cfg.Received
		c.initExchange(nc)
	}
	if old != nil {
		c.wbuf, c.body, c.gz = old.wbuf, old.body, old.gz
		old.wbuf, old.body, old.gz = nil, nil, nil
	}
	c.state.Store(stateBusy)
	return c
}

// tlsConfig is base cloned for a connection to host: net/http's
// ServerName rule, and HTTP/1.1 as the only application protocol.
func tlsConfig(base *tls.Config, host string) *tls.Config {
	cfg := base.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = http11
	return cfg
}

// http11 is the ALPN list of a Conn; crypto/tls does not modify it.
var http11 = []string{"http/1.1"}

// Serves reports whether the connection was made for u's scheme and
// authority, so that it can send u's request.
func (c *Conn) Serves(u URL) bool { return c.authority == u.Authority && (c.tc != nil) == u.TLS }

// Handshake runs the TLS handshake of a connection to an https URL, within
// ctx and the deadline set with SetDeadline; for plain http it does
// nothing. After an error the caller closes the Conn.
func (c *Conn) Handshake(ctx context.Context) error {
	if c.tc == nil {
		return nil
	}
	return c.tc.HandshakeContext(ctx)
}

// ConnectionState returns the state of a TLS connection; ok is false for
// plain http.
func (c *Conn) ConnectionState() (state tls.ConnectionState, ok bool) {
	if c.tc == nil {
		return tls.ConnectionState{}, false
	}
	return c.tc.ConnectionState(), true
}

// countingConn counts the bytes a TLS connection's TCP connection carries.
type countingConn struct {
	net.Conn
	sent, received *atomic.Int64
}

func (cc *countingConn) Read(p []byte) (int, error) {
	n, err := cc.Conn.Read(p)
	if cc.received != nil {
		cc.received.Add(int64(n))
	}
	return n, err
}

func (cc *countingConn) Write(p []byte) (int, error) {
	n, err := cc.Conn.Write(p)
	if cc.sent != nil {
		cc.sent.Add(int64(n))
	}
	return n, err
}

// Reused reports whether the connection served a response before.
func (c *Conn) Reused() bool { return c.reused }

// Acquire marks an idle connection busy for a new request; it reports false
// when the connection is busy or closed (then do not use it).
func (c *Conn) Acquire() bool { return c.state.CompareAndSwap(stateIdle, stateBusy) }

// Release marks a busy connection idle after a response that kept it
// (Response.Keep). It reports false when CloseIdle ran meanwhile: then the
// caller closes the connection.
func (c *Conn) Release() bool { return c.state.CompareAndSwap(stateBusy, stateIdle) }

// CloseIdle closes the connection if it is idle, reporting whether it did;
// a busy connection is marked so that its Release fails. Like
// Transport.CloseIdleConnections.
func (c *Conn) CloseIdle() bool {
	for {
		switch c.state.Load() {
		case stateIdle:
			if c.state.CompareAndSwap(stateIdle, stateClosed) {
				_ = c.nc.Close()
				return true
			}
		case stateBusy:
			if c.state.CompareAndSwap(stateBusy, stateBusyCloseAfter) {
				return false
			}
		default:
			return false
		}
	}
}

// Close closes the connection.
func (c *Conn) Close() error {
	c.state.Store(stateClosed)
	return c.nc.Close()
}

// aLongTimeAgo is a deadline that fails I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// Abort makes the I/O of a request in flight fail at once.
func (c *Conn) Abort() { _ = c.nc.SetDeadline(aLongTimeAgo) }

// SetDeadline bounds the reads and writes of the next exchanges.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// Response is the outcome of one RoundTrip. It and its Body are valid until
// the Conn's next RoundTrip, and so is a call of Header.
type Response struct {
	Status int
	// Proto is the response's version, as net/http's Response.Proto:
	// "HTTP/1.1", "HTTP/1.0".
	Proto string
	// The header (see Header): the map, when parsed at once, else the
	// head it is built from; the framing's edits; whether it was built.
	header http.Header
	head   []byte
	edits  int
	built  bool
	// Body is the response body, decompressed when the Conn asked for gzip.
	Body []byte
	// HeadErr is set when no complete response head came back (net/http's
	// Client.Do returns such an error); BodyErr when the head did but the
	// body failed (net/http returns that from reading the body).
	HeadErr, BodyErr error
	// WroteRequest is when the request was written; FirstByte when the
	// first byte of a response arrived (zero: none did).
	WroteRequest, FirstByte time.Time
	// Keep reports whether the connection can serve another request.
	Keep bool
	// Retry reports that the server had closed this reused connection
	// before answering (its keep-alive timeout): the request may be sent
	// again on a new connection, as net/http would.
	Retry bool
}

// RoundTrip writes req and reads its response, skipping informational
// ones, within the deadline set with SetDeadline. The caller drops the
// connection unless Keep is set.
func (c *Conn) RoundTrip(req *Request) *Response {
	method := req.Method
	if method == "" {
		method = "GET"
	}
	gz := wantsGzip(method, req.Header)
	c.resp = Response{}
	werr := c.write(req, method, gz)
	got := c.readResponse(method, gz)
	r := &c.resp
	if werr != nil && r.HeadErr != nil {
		r.HeadErr = werr
	}
	r.Keep = r.Keep && r.HeadErr == nil
	r.Retry = r.HeadErr != nil && c.reused && !got && retryable(r.HeadErr)
	if r.Keep {
		c.reused = true
	}
	return r
}

// retryable: the error a write or read gets on a connection the server has
// closed.
func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ErrBodyTooLarge is matched (errors.Is) by the error of a response whose
// body is larger than Config.MaxBody.
var ErrBodyTooLarge = errors.New("response body too large")

// BodyTooLargeError is the error of a response whose body is larger than
// the limit; it matches ErrBodyTooLarge.
type BodyTooLargeError struct {
	// Limit is the limit in bytes.
	Limit int64
	// ContentLength is the length the server announced, or -1 when the
	// body was cut off while it was read.
	ContentLength int64
}

func (e *BodyTooLargeError) Error() string {
	if e.ContentLength >= 0 {
		return fmt.Sprintf("response body too large: Content-Length %d exceeds the limit of %d bytes", e.ContentLength, e.Limit)
	}
	return fmt.Sprintf("response body too large: more than the limit of %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrBodyTooLarge) hold.
func (e *BodyTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }

// MalformedError is the error of a response that is not valid HTTP/1.x, or
// breaks one of the limits net/http also enforces (header size, chunk line
// length). Its message is net/http's for the same response.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *MalformedError) Unwrap() error { return e.Err }

func malformed(err error) error { return &MalformedError{Err: err} }

// eofError is an error net/http words in its own way for a server that
// closed the connection too early; it matches io.ErrUnexpectedEOF.
type eofError string

func (e eofError) Error() string { return string(e) }

// Is makes errors.Is(err, io.ErrUnexpectedEOF) hold.
func (e eofError) Is(target error) bool { return target == io.ErrUnexpectedEOF }
