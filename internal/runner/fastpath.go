package runner

// The fast path: http:// and https:// requests go through driftload's own
// HTTP/1.1 client (package h1), one keep-alive connection per VU, the whole
// exchange on the VU's goroutine. Here the VU's connection is dialled (and
// its TLS handshake run), reused, redialled and closed, and the phase
// instants are taken as net/http's httptrace hooks would.

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/driftload/driftload/internal/runner/h1"
)

// h1VU is a VU's fast-path state.
type h1VU struct {
	mu   sync.Mutex // guards conn against abortNow
	conn *h1.Conn
	// old is the last connection closed: the next one takes its buffers.
	old *h1.Conn
	// runAborts is set when the engine's abortVUs calls abortNow; otherwise
	// stopAbort unregisters it from the VU's abort context.
	runAborts bool
	stopAbort func() bool
	// rawURL parsed is url: a VU sends the same URL again and again.
	rawURL string
	url    h1.URL
	// req is the request being sent, here rather than on the stack.
	req h1.Request
}

// abortNow fails the I/O of a request in flight (the run was interrupted or
// aborted); Do sees the abort context ended and reports the request canceled.
func (h *h1VU) abortNow() {
	h.mu.Lock()
	if h.conn != nil {
		h.conn.Abort()
	}
	h.mu.Unlock()
}

// dropConn closes and forgets the VU's connection.
func (c *Client) dropConn(h *h1VU) {
	conn := h.conn
	if conn == nil {
		return
	}
	h.mu.Lock()
	h.conn = nil
	h.mu.Unlock()
	c.connsMu.Lock()
	delete(c.conns, conn)
	c.connsMu.Unlock()
	_ = conn.Close()
	h.old = conn
}

// closeConns closes every idle fast-path connection; a busy one is closed by
// its VU when its request ends. Like Transport.CloseIdleConnections.
func (c *Client) closeConns() {
	c.connsMu.Lock()
	defer c.connsMu.Unlock()
	for conn := range c.conns {
		if conn.CloseIdle() {
			delete(c.conns, conn)
		}
	}
}

// fastPath returns the URL of req when the fast path can send it; h keeps
// the last URL parsed.
func (c *Client) fastPath(req *Request, h *h1VU) (h1.URL, bool) {
	if !c.fast && !c.fastTLS || !h1.Sendable(req.Method, req.Header) {
		return h1.URL{}, false
	}
	if req.URL != h.rawURL || h.rawURL == "" {
		u, ok := h1.ParseURL(req.URL)
		if !ok {
			return h1.URL{}, false
		}
		h.rawURL, h.url = req.URL, u
	}
	if u := h.url; !(u.TLS && !c.fastTLS || !u.TLS && !c.fast) {
		return u, true
	}
	return h1.URL{}, false
}

// doH1 sends req over the VU's connection and reads the response. It sets
// the tracer's instants as net/http's httptrace hooks would. It returns
// either the response or the error of a failed dial.
func (vu *VU) doH1(abort context.Context, req *Request, u *h1.URL, deadline time.Time) (*h1.Response, error) {
	c := vu.client
	h := &vu.h1
	tr := vu.tracer
	hreq := &h.req
	hreq.Method = req.Method
	hreq.URL = *u
	hreq.UserAgent = c.userAgent
	hreq.Header = req.Header
	hreq.Body = req.Body
	for attempt := 0; ; attempt++ {
		conn := h.conn
		if conn != nil && (!conn.Serves(*u) || !conn.Acquire()) {
			c.dropConn(h)
			conn = nil
		}
		if conn == nil {
			var err error
			if conn, err = vu.dialH1(abort, u, deadline); err != nil {
				return nil, err
			}
		}
		tr.gotConn = time.Now()
		tr.reused = conn.Reused()
		if err := conn.SetDeadline(deadline); err != nil {
			c.dropConn(h)
			return nil, err
		}
		if err := abort.Err(); err != nil {
			// abortNow may have run before the deadline above replaced its own.
			c.dropConn(h)
			return nil, err
		}
		resp := conn.RoundTrip(hreq)
		tr.wroteRequest, tr.firstByte = resp.WroteRequest, resp.FirstByte
		if resp.Retry && attempt == 0 {
			// The server closed the idle connection (its keep-alive timeout)
			// before reading the request: net/http would have noticed the
			// close on its idle connection and dialled; do the same.
			c.dropConn(h)
			tr.instants = instants{getConn: time.Now()}
			continue
		}
		if !resp.Keep || !conn.Release() {
			c.dropConn(h)
		}
		return resp, nil
	}
}

// dialH1 connects to u, reporting connect start and end to the VU's tracer
// through the VU's dialer (as net/http's does), bounded by the request's
// deadline and the dialer's own timeout. For an https URL it then runs the
// TLS handshake, timed as the tracer's TLS instants, bounded by the
// request's deadline and tlsHandshakeTimeout.
func (vu *VU) dialH1(abort context.Context, u *h1.URL, deadline time.Time) (*h1.Conn, error) {
	c := vu.client
	ctx, cancel := context.WithDeadline(httptrace.WithClientTrace(abort, vu.tracer.clientTrace()), deadline)
	defer cancel()
	h := &vu.h1
	if !h.runAborts && h.stopAbort == nil && abort.Done() != nil {
		h.stopAbort = context.AfterFunc(abort, h.abortNow)
	}
	var nc net.Conn
	var err error
	target := *u // a copy: u itself stays on the caller's stack
	onOwnStack(func() { nc, err = vu.netDialer().DialContext(ctx, "tcp", target.Addr()) })
	if err != nil {
		if abort.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = context.DeadlineExceeded
		}
		return nil, err
	}
	conn := h1.NewConn(nc, *u, &c.h1, h.old)
	h.old = nil
	if u.TLS {
		onOwnStack(func() { err = vu.handshake(ctx, conn) })
		if err != nil {
			_ = conn.Close()
			h.old = conn
			return nil, err
		}
	}
	c.connsMu.Lock()
	if c.conns == nil {
		c.conns = make(map[*h1.Conn]struct{})
	}
	c.conns[conn] = struct{}{}
	c.connsMu.Unlock()
	h.mu.Lock()
	h.conn = conn
	h.mu.Unlock()
	return conn, nil
}

// handshake runs conn's TLS handshake within ctx, the dial's context, and
// tlsHandshakeTimeout, with net/http's errors: its own for that timeout, and
// http.ErrSchemeMismatch when a plain HTTP server answered.
func (vu *VU) handshake(ctx context.Context, conn *h1.Conn) error {
	hctx, cancel := context.WithTimeoutCause(ctx, tlsHandshakeTimeout, errTLSHandshakeTimeout)
	defer cancel()
	vu.tracer.tlsStart = time.Now()
	err := conn.Handshake(hctx)
	vu.tracer.tlsDone = time.Now()
	var rec tls.RecordHeaderError
	switch {
	case err == nil:
	case ctx.Err() == nil && context.Cause(hctx) == errTLSHandshakeTimeout:
		err = errTLSHandshakeTimeout
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.As(err, &rec) && string(rec.RecordHeader[:]) == "HTTP/":
		err = http.ErrSchemeMismatch
	}
	return err
}

// errTLSHandshakeTimeout is net/http's error for a handshake slower than
// its TLSHandshakeTimeout.
var errTLSHandshakeTimeout error = tlsHandshakeTimeoutError{}

type tlsHandshakeTimeoutError struct{}

func (tlsHandshakeTimeoutError) Timeout() bool   { return true }
func (tlsHandshakeTimeoutError) Temporary() bool { return true }
func (tlsHandshakeTimeoutError) Error() string   { return "net/http: TLS handshake timeout" }

// urlError wraps err like net/http's Client.Do: `Get "http://…": err`.
func urlError(method, rawURL string, err error) error {
	op := "Get"
	if method != "" {
		op = method[:1] + strings.ToLower(method[1:])
	}
	return &url.Error{Op: op, URL: rawURL, Err: err}
}

// deadlineErr turns an I/O timeout from the request's deadline into the
// error net/http reports when a request context's deadline passes; the TLS
// handshake's own timeout keeps net/http's error for it.
func deadlineErr(err error) error {
	if err == errTLSHandshakeTimeout {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return context.DeadlineExceeded
	}
	return err
}
