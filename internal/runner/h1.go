package runner

// The fast path: driftload's own HTTP/1.1 client for plain http:// requests.
//
// net/http's Transport serves each request with three goroutines (the
// caller, the connection's readLoop and writeLoop) talking over channels,
// through an httptrace of eight closures, and allocates ~75 times per
// request. Here each VU owns one keep-alive connection and does the whole
// exchange on its own goroutine: the request is serialised into a reused
// buffer and written with one write (writev with a body), the response is
// parsed from a reused read buffer, and the phase instants are taken
// directly. It reproduces net/http's client behaviour where driftload can
// observe it (the header lines sent, Accept-Encoding: gzip with transparent
// decompression, response framing and keep-alive rules, the header map
// handed back, error values and timeouts); anything it does not handle
// (https, proxies, unusual URLs or headers) goes through net/http.

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// h1ReadBuf is a connection's initial read buffer: a response's status
	// line and headers must fit (it grows up to h1MaxHeader); bodies larger
	// than what is buffered are read straight into the VU's body buffer.
	h1ReadBuf = 1 << 10
	// h1MaxHeader is net/http's default limit on response header bytes.
	h1MaxHeader = 10 << 20
	// h1InlineBody: bodies up to this size are copied behind the headers and
	// sent with one write; larger ones go out with writev.
	h1InlineBody = 2 << 10
	// h1Max1xx is how many informational responses net/http skips.
	h1Max1xx = 5
	// h1MaxLine bounds a chunk-size or trailer line, as net/http does.
	h1MaxLine = 4096
)

// Connection states; see Client.Close.
const (
	connIdle int32 = iota
	connBusy
	connClosed
	connBusyCloseAfter
)

// h1Conn is one keep-alive connection, owned by one VU.
type h1Conn struct {
	nc        net.Conn
	authority string // the URL's host[:port]: the Host header and the reuse key
	buf       []byte // read buffer; unread bytes are buf[r:w]
	r, w      int
	state     atomic.Int32
	reused    bool // served a response before
}

// h1VU is a VU's fast-path state.
type h1VU struct {
	mu   sync.Mutex // guards conn against abortNow
	conn *h1Conn
	// stopAbort unregisters abortNow from the run's abort context.
	stopAbort func() bool
	wbuf      []byte
	bufs      [2][]byte
	nb        net.Buffers
	body      []byte // the response body; valid until the VU's next request
	gzBuf     bytes.Buffer
}

// aLongTimeAgo is a deadline that fails I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// abortNow fails the I/O of a request in flight (the run was interrupted or
// aborted); Do sees the abort context ended and reports the request canceled.
func (h *h1VU) abortNow() {
	h.mu.Lock()
	if h.conn != nil {
		_ = h.conn.nc.SetDeadline(aLongTimeAgo)
	}
	h.mu.Unlock()
}

// drop closes and forgets the VU's connection.
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
	conn.state.Store(connClosed)
	_ = conn.nc.Close()
}

// closeConns closes every idle fast-path connection; a busy one is closed by
// its VU when its request ends. Like Transport.CloseIdleConnections.
func (c *Client) closeConns() {
	c.connsMu.Lock()
	defer c.connsMu.Unlock()
	for conn := range c.conns {
		for {
			s := conn.state.Load()
			if s == connIdle && conn.state.CompareAndSwap(connIdle, connClosed) {
				_ = conn.nc.Close()
				delete(c.conns, conn)
				break
			}
			if s == connBusy && conn.state.CompareAndSwap(connBusy, connBusyCloseAfter) {
				break
			}
			if s == connClosed || s == connBusyCloseAfter {
				break
			}
		}
	}
}

// h1URL is a plain http:// URL the fast path sends as it is.
type h1URL struct {
	authority string // host[:port], as in the URL
	uri       string // the request-target: path and query, never empty
}

// parseH1URL accepts an http:// URL whose every byte net/url would keep as
// is: an ASCII host (name, IPv4 or [IPv6]) with an optional port, then an
// absolute path and query of unreserved, sub-delim, ':', '@', '/', '?' and
// valid %XX bytes. Anything else (userinfo, fragments, bytes net/url would
// escape, a query without a path) is left to net/http.
func parseH1URL(raw string) (h1URL, bool) {
	const scheme = "http://"
	if len(raw) <= len(scheme) || raw[:len(scheme)] != scheme {
		return h1URL{}, false
	}
	rest := raw[len(scheme):]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		slash = len(rest)
	}
	authority, target := rest[:slash], rest[slash:]
	if !validAuthority(authority) {
		return h1URL{}, false
	}
	if target == "" {
		return h1URL{authority: authority, uri: "/"}, true
	}
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c == '%' {
			if i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2]) {
				return h1URL{}, false
			}
			i += 2
			continue
		}
		if !uriByte[c] {
			return h1URL{}, false
		}
	}
	return h1URL{authority: authority, uri: target}, true
}

// byteSet is the set of ASCII letters, digits and the bytes of extra.
func byteSet(extra string) (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range extra {
		t[c] = true
	}
	return t
}

var uriByte = byteSet("-._~!$&'()*+,;=:@/?")

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validAuthority accepts host, host:port, [v6] and [v6]:port with an ASCII
// host name and a non-empty decimal port.
func validAuthority(a string) bool {
	if a == "" {
		return false
	}
	host, port := a, ""
	if a[0] == '[' {
		end := strings.IndexByte(a, ']')
		if end < 2 {
			return false
		}
		for i := 1; i < end; i++ {
			if c := a[i]; !isHex(c) && c != ':' && c != '.' {
				return false
			}
		}
		host, port = "", a[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
			if port == "" {
				return false
			}
		}
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
		if port == "" {
			return false
		}
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	if a[0] != '[' && host == "" {
		return false
	}
	if len(port) > 5 {
		return false
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// dialAddr is the address to dial for an authority: port 80 when it has none.
func dialAddr(authority string) string {
	if strings.HasSuffix(authority, "]") || strings.IndexByte(authority, ':') < 0 {
		return authority + ":80"
	}
	return authority
}

// fastHeaders is true when every header can be sent by the fast path exactly
// as net/http would send it: canonical, valid names, none of the fields
// net/http writes itself or acts on, and valid values.
func fastHeaders(h http.Header) bool {
	for k, vs := range h {
		if !validToken(k) || http.CanonicalHeaderKey(k) != k {
			return false
		}
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer", "Connection", "Expect", "Upgrade", "Te":
			return false
		}
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
					return false
				}
			}
		}
	}
	return true
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

var tokenByte = byteSet("!#$%&'*+-.^_`|~")

// fastMethod accepts upper-case token methods other than CONNECT.
func fastMethod(m string) bool {
	if m == "" {
		return true
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return m != "CONNECT"
}

// fastPath returns the URL of req when the fast path can send it.
func (c *Client) fastPath(req *Request) (h1URL, bool) {
	if !c.fast || !fastMethod(req.Method) {
		return h1URL{}, false
	}
	u, ok := parseH1URL(req.URL)
	if !ok || !fastHeaders(req.Header) {
		return h1URL{}, false
	}
	return u, true
}

func trimSpaceTab(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// appendRequest serialises the request head the way net/http writes it:
// request line, Host, User-Agent, Content-Length when net/http sends one,
// the caller's headers, then Accept-Encoding: gzip when it asks for gzip.
func appendRequest(b []byte, method string, u h1URL, userAgent string, header http.Header, bodyLen int, gzip bool) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, u.uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, u.authority...)
	b = append(b, "\r\n"...)
	if ua := trimSpaceTab(userAgent); ua != "" {
		b = append(b, "User-Agent: "...)
		b = append(b, ua...)
		b = append(b, "\r\n"...)
	}
	if bodyLen > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(bodyLen), 10)
		b = append(b, "\r\n"...)
	}
	for k, vs := range header {
		if k == "User-Agent" {
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, trimSpaceTab(v)...)
			b = append(b, "\r\n"...)
		}
	}
	if gzip {
		b = append(b, "Accept-Encoding: gzip\r\n"...)
	}
	return append(b, "\r\n"...)
}

// wantsGzip is net/http's rule for adding Accept-Encoding: gzip.
func wantsGzip(method string, h http.Header) bool {
	return method != "HEAD" && h.Get("Accept-Encoding") == "" && h.Get("Range") == ""
}

// h1Exchange is the outcome of one fast-path exchange.
type h1Exchange struct {
	status int
	header http.Header
	body   []byte
	// headErr is set when no complete response head came back; bodyErr when
	// the body failed after the head (net/http returns the former from
	// Client.Do, wrapped in a *url.Error, and the latter from the body read).
	headErr, bodyErr error
}

// doH1 sends req over the VU's connection and reads the response. It sets
// the tracer's instants as net/http's httptrace hooks would.
func (vu *VU) doH1(abort context.Context, req *Request, u h1URL, deadline time.Time) h1Exchange {
	c := vu.client
	h := &vu.h1
	tr := vu.tracer
	method := req.Method
	if method == "" {
		method = "GET"
	}
	gz := wantsGzip(method, req.Header)
	h.wbuf = appendRequest(h.wbuf[:0], method, u, c.userAgent, req.Header, len(req.Body), gz)
	headLen := len(h.wbuf)
	for attempt := 0; ; attempt++ {
		conn := h.conn
		if conn != nil && (conn.authority != u.authority || !conn.state.CompareAndSwap(connIdle, connBusy)) {
			c.dropConn(h)
			conn = nil
		}
		if conn == nil {
			var err error
			if conn, err = vu.dialH1(abort, u.authority, deadline); err != nil {
				return h1Exchange{headErr: err}
			}
		}
		tr.gotConn = time.Now()
		tr.reused = conn.reused
		if err := conn.nc.SetDeadline(deadline); err != nil {
			c.dropConn(h)
			return h1Exchange{headErr: err}
		}
		if err := abort.Err(); err != nil {
			// abortNow may have run before the deadline above replaced its own.
			c.dropConn(h)
			return h1Exchange{headErr: err}
		}
		h.wbuf = h.wbuf[:headLen]
		werr := c.writeH1(h, conn, req.Body)
		tr.wroteRequest = time.Now()
		ex, keep, got := vu.readH1(conn, method, gz)
		if werr != nil && ex.headErr != nil {
			ex.headErr = werr
		}
		if ex.headErr != nil && conn.reused && !got && attempt == 0 && retryable(ex.headErr) {
			// The server closed the idle connection (its keep-alive timeout)
			// before reading the request: net/http would have noticed the
			// close on its idle connection and dialled; do the same.
			c.dropConn(h)
			tr.getConn, tr.connectStart, tr.connectDone, tr.gotConn = time.Now(), time.Time{}, time.Time{}, time.Time{}
			tr.wroteRequest, tr.firstByte = time.Time{}, time.Time{}
			continue
		}
		if ex.headErr != nil || !keep || !conn.state.CompareAndSwap(connBusy, connIdle) {
			c.dropConn(h)
		} else {
			conn.reused = true
		}
		return ex
	}
}

// retryable: the error a write or read gets on a connection the server has
// closed.
func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// dialH1 connects to authority, reporting connect start and end to the
// VU's tracer through the dialer (as net/http's does), bounded by the
// request's deadline and the dialer's own timeout.
func (vu *VU) dialH1(abort context.Context, authority string, deadline time.Time) (*h1Conn, error) {
	c := vu.client
	ctx, cancel := context.WithDeadline(httptrace.WithClientTrace(abort, vu.tracer.clientTrace()), deadline)
	defer cancel()
	h := &vu.h1
	if h.stopAbort == nil && abort.Done() != nil {
		h.stopAbort = context.AfterFunc(abort, h.abortNow)
	}
	nc, err := c.dialer.DialContext(ctx, "tcp", dialAddr(authority))
	if err != nil {
		if abort.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = context.DeadlineExceeded
		}
		return nil, err
	}
	conn := &h1Conn{nc: nc, authority: authority, buf: make([]byte, h1ReadBuf)}
	conn.state.Store(connBusy)
	c.connsMu.Lock()
	if c.conns == nil {
		c.conns = make(map[*h1Conn]struct{})
	}
	c.conns[conn] = struct{}{}
	c.connsMu.Unlock()
	h.mu.Lock()
	h.conn = conn
	h.mu.Unlock()
	return conn, nil
}

// writeH1 writes the serialised head and the body: one write, or writev
// for a large body.
func (c *Client) writeH1(h *h1VU, conn *h1Conn, body []byte) error {
	var n int64
	var err error
	if len(body) <= h1InlineBody {
		h.wbuf = append(h.wbuf, body...)
		var k int
		k, err = conn.nc.Write(h.wbuf)
		n = int64(k)
	} else {
		h.bufs = [2][]byte{h.wbuf, body}
		h.nb = h.bufs[:]
		n, err = h.nb.WriteTo(conn.nc)
		h.bufs, h.nb = [2][]byte{}, nil
	}
	c.sent.Add(n)
	return err
}

// fill reads more bytes into the connection's buffer, growing it when full
// up to limit. It stamps the tracer's first byte.
func (vu *VU) fill(conn *h1Conn, limit int) error {
	if conn.r > 0 && conn.r == conn.w {
		conn.r, conn.w = 0, 0
	}
	if conn.w == len(conn.buf) {
		if conn.r > 0 {
			conn.w = copy(conn.buf, conn.buf[conn.r:conn.w])
			conn.r = 0
		} else {
			if len(conn.buf) >= limit {
				return errHeaderTooLarge
			}
			nb := make([]byte, min(2*len(conn.buf), limit))
			copy(nb, conn.buf[:conn.w])
			conn.buf = nb
		}
	}
	n, err := conn.nc.Read(conn.buf[conn.w:])
	if n > 0 {
		if vu.tracer.firstByte.IsZero() {
			vu.tracer.firstByte = time.Now()
		}
		conn.w += n
		vu.client.received.Add(int64(n))
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

var errHeaderTooLarge = fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", h1MaxHeader)

// readLine returns the next line of the buffer without its line end, reading
// more when needed; the line is valid until the next read.
func (vu *VU) readLine(conn *h1Conn, limit int) ([]byte, error) {
	for scanned := 0; ; { // scanned: bytes after conn.r known to hold no '\n'
		if i := bytes.IndexByte(conn.buf[conn.r+scanned:conn.w], '\n'); i >= 0 {
			end := conn.r + scanned + i
			line := conn.buf[conn.r:end]
			conn.r = end + 1
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		scanned = conn.w - conn.r
		if scanned >= limit {
			return nil, errLineTooLong
		}
		if err := vu.fill(conn, max(len(conn.buf), limit+1)); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

var errLineTooLong = errors.New("header line too long")

// headEnd returns the length of the head at the start of b (status line and
// headers up to and including the empty line), or -1; from is where to
// start looking for its final line end.
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// readHead reads a status line and header block. got reports whether any
// byte of a response arrived.
func (vu *VU) readHead(conn *h1Conn) (status int, version [2]int, header http.Header, got bool, err error) {
	scanned := 0 // relative to conn.r: where the last line end may start
	for {
		if n := headEnd(conn.buf[conn.r:conn.w], scanned); n >= 0 {
			head := string(conn.buf[conn.r : conn.r+n])
			conn.r += n
			status, version, header, err = parseHead(head)
			if err != nil {
				err = broken(err)
			}
			return status, version, header, true, err
		}
		// A line end may straddle this read and the next one.
		scanned = max(0, conn.w-conn.r-2)
		if err := vu.fill(conn, h1MaxHeader); err != nil {
			got = conn.w > conn.r
			if err == io.EOF && got {
				err = io.ErrUnexpectedEOF
			}
			return 0, version, nil, got, err
		}
	}
}

// parseHead parses a status line and headers ("HTTP/1.1 200 OK\r\nA: b\r\n\r\n")
// into a header map whose keys and values share head's memory, with
// net/http's validation.
func parseHead(head string) (status int, version [2]int, header http.Header, err error) {
	line, rest := cutLine(head)
	proto, st, ok := strings.Cut(line, " ")
	if !ok {
		return 0, version, nil, badString("malformed HTTP response", line)
	}
	st = strings.TrimLeft(st, " ")
	code, _, _ := strings.Cut(st, " ")
	if len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return 0, version, nil, badString("malformed HTTP status code", code)
	}
	status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	// http.ParseHTTPVersion: "HTTP/X.Y" with single digits.
	if len(proto) != 8 || proto[:5] != "HTTP/" || !isDigit(proto[5]) || proto[6] != '.' || !isDigit(proto[7]) {
		return 0, version, nil, badString("malformed HTTP version", proto)
	}
	version = [2]int{int(proto[5] - '0'), int(proto[7] - '0')}
	n := strings.Count(rest, "\n")
	header = make(http.Header, n)
	vals := make([]string, 0, n)
	var lastKey string
	for {
		line, rest = cutLine(rest)
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold: a continuation of the previous value.
			if lastKey == "" {
				return 0, version, nil, fmt.Errorf("malformed MIME header initial line: %q", line)
			}
			vs := header[lastKey]
			vs[len(vs)-1] = vs[len(vs)-1] + " " + trimSpaceTab(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return 0, version, nil, fmt.Errorf("malformed MIME header: missing colon: %q", line)
		}
		canon, valid := headerKey(k)
		if !valid {
			return 0, version, nil, fmt.Errorf("malformed MIME header line: %q", line)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
				return 0, version, nil, fmt.Errorf("malformed MIME header line: %q", line)
			}
		}
		v = trimSpaceTab(v)
		k = canon
		lastKey = k
		if vs, ok := header[k]; ok {
			header[k] = append(vs, v)
			continue
		}
		vals = append(vals, v)
		header[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	return status, version, header, nil
}

// headerKey validates a response header name as net/textproto does (token
// bytes, and spaces, which it accepts but does not canonicalise) and returns
// its canonical form.
func headerKey(k string) (string, bool) {
	if k == "" {
		return "", false
	}
	space := false
	for i := 0; i < len(k); i++ {
		if k[i] == ' ' {
			space = true
		} else if !tokenByte[k[i]] {
			return "", false
		}
	}
	if space {
		return k, true
	}
	return http.CanonicalHeaderKey(k), true
}

// broken wraps a response head's format error as net/http's Transport does.
func broken(err error) error {
	return fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func cutLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r"), rest
}

func badString(what, val string) error { return fmt.Errorf("%s %q", what, val) }

// hasToken reports whether a comma-separated header value list holds token
// (case-insensitive), like httpguts.HeaderValuesContainsToken.
func hasToken(vs []string, token string) bool {
	for _, v := range vs {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(trimSpaceTab(part), token) {
				return true
			}
		}
	}
	return false
}

// readH1 reads one response (skipping informational ones). keep reports
// whether the connection may serve another request; got whether any byte of
// a response arrived.
func (vu *VU) readH1(conn *h1Conn, method string, gz bool) (ex h1Exchange, keep, got bool) {
	var status int
	var version [2]int
	var header http.Header
	for n1xx := 0; ; n1xx++ {
		var err error
		var g bool
		status, version, header, g, err = vu.readHead(conn)
		got = got || g
		if err != nil {
			return h1Exchange{headErr: err}, false, got
		}
		if status < 100 || status > 199 || status == http.StatusSwitchingProtocols {
			break
		}
		if n1xx == h1Max1xx {
			return h1Exchange{headErr: errors.New("net/http: too many 1xx informational responses")}, false, got
		}
	}
	ex = h1Exchange{status: status, header: header}

	// Framing, as net/http's readTransfer decides it.
	atLeast11 := version[0] > 1 || version[0] == 1 && version[1] >= 1
	closeAfter := false
	conv := header["Connection"]
	hasClose := hasToken(conv, "close")
	switch {
	case version[0] < 1:
		closeAfter = true
	case version == [2]int{1, 0}:
		closeAfter = hasClose || !hasToken(conv, "keep-alive")
	case hasClose:
		closeAfter = true
		delete(header, "Connection")
	}
	chunked := false
	if te, ok := header["Transfer-Encoding"]; ok {
		delete(header, "Transfer-Encoding")
		if atLeast11 {
			if len(te) != 1 {
				ex.headErr = broken(fmt.Errorf("too many transfer encodings: %q", te))
				return ex, false, got
			}
			if !strings.EqualFold(te[0], "chunked") {
				ex.headErr = broken(fmt.Errorf("unsupported transfer encoding: %q", te[0]))
				return ex, false, got
			}
			chunked = true
		}
	}
	length, err := responseLength(status, method, header, chunked)
	if err != nil {
		ex.headErr = broken(err)
		return ex, false, got
	}
	if length == -1 && !chunked && bodyAllowed(status) {
		closeAfter = true
	}
	if chunked {
		delete(header, "Trailer")
	}
	if status == http.StatusSwitchingProtocols {
		closeAfter = true
	}

	h := &vu.h1
	body := h.body[:0]
	switch {
	case length == 0:
	case chunked:
		body, err = vu.readChunked(conn, body)
	case length > 0:
		body, err = vu.readN(conn, body, length)
	default:
		body, err = vu.readToEOF(conn, body)
	}
	h.body = body[:0]
	if err != nil {
		ex.bodyErr = err
		return ex, false, got
	}
	if gz && length != 0 && method != "HEAD" && strings.EqualFold(header.Get("Content-Encoding"), "gzip") {
		header.Del("Content-Encoding")
		header.Del("Content-Length")
		body, err = vu.gunzip(body)
		if err != nil {
			// The connection is still in step: the whole body was read.
			ex.bodyErr = err
			return ex, !closeAfter && conn.r == conn.w, got
		}
	}
	ex.body = body
	// Bytes beyond the response are unsolicited: net/http closes then too.
	return ex, !closeAfter && conn.r == conn.w, got
}

// responseLength is net/http's fixLength for a response: 0 for no body, -1
// for chunked or read-to-close.
func responseLength(status int, method string, header http.Header, chunked bool) (int64, error) {
	cls := header["Content-Length"]
	if len(cls) > 1 {
		first := strings.TrimSpace(cls[0])
		for _, cl := range cls[1:] {
			if strings.TrimSpace(cl) != first {
				return 0, fmt.Errorf("http: message cannot contain multiple Content-Length headers; got %q", cls)
			}
		}
		header["Content-Length"] = []string{first}
		cls = header["Content-Length"]
	}
	var n int64
	if len(cls) > 0 {
		cl := strings.TrimSpace(cls[0])
		if cl == "" {
			return 0, badString("invalid empty Content-Length", cl)
		}
		v, err := strconv.ParseUint(cl, 10, 63)
		if err != nil {
			return 0, badString("bad Content-Length", cl)
		}
		n = int64(v)
	}
	if method == "HEAD" || !bodyAllowed(status) {
		return 0, nil
	}
	if chunked {
		delete(header, "Content-Length")
		return -1, nil
	}
	if len(cls) > 0 {
		return n, nil
	}
	return -1, nil
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}

// grow makes room for at least n more bytes in b.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n, 512))
	copy(nb, b)
	return nb
}

// readN appends exactly n body bytes: the buffered ones, then straight from
// the connection.
func (vu *VU) readN(conn *h1Conn, body []byte, n int64) ([]byte, error) {
	for n > 0 {
		if conn.r < conn.w {
			k := int(min(int64(conn.w-conn.r), n))
			body = append(body, conn.buf[conn.r:conn.r+k]...)
			conn.r += k
			n -= int64(k)
			continue
		}
		// Never grow by more than 1 MiB ahead of the data: the length is
		// the server's word.
		body = grow(body, int(min(n, 1<<20)))
		k, err := conn.nc.Read(body[len(body):cap(body)][:min(int64(cap(body)-len(body)), n)])
		if k > 0 {
			vu.client.received.Add(int64(k))
			body = body[:len(body)+k]
			n -= int64(k)
			continue
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return body, err
	}
	return body, nil
}

// readToEOF appends everything until the server closes the connection.
func (vu *VU) readToEOF(conn *h1Conn, body []byte) ([]byte, error) {
	body = append(body, conn.buf[conn.r:conn.w]...)
	conn.r = conn.w
	for {
		body = grow(body, 4096)
		k, err := conn.nc.Read(body[len(body):cap(body)])
		vu.client.received.Add(int64(k))
		body = body[:len(body)+k]
		if err == io.EOF {
			return body, nil
		}
		if err != nil {
			return body, err
		}
	}
}

var errMalformedChunk = errors.New("malformed chunked encoding")

// readChunked appends a chunked body's data and skips its trailers.
func (vu *VU) readChunked(conn *h1Conn, body []byte) ([]byte, error) {
	for {
		line, err := vu.readLine(conn, h1MaxLine)
		if err != nil {
			return body, err
		}
		line = bytes.TrimRight(line, " \t")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = bytes.TrimRight(line[:i], " \t")
		}
		size, err := parseHexSize(line)
		if err != nil {
			return body, err
		}
		if size == 0 {
			for {
				t, err := vu.readLine(conn, h1MaxLine)
				if err != nil {
					return body, err
				}
				if len(t) == 0 {
					return body, nil
				}
			}
		}
		if body, err = vu.readN(conn, body, size); err != nil {
			return body, err
		}
		for conn.w-conn.r < 2 {
			if err := vu.fill(conn, max(len(conn.buf), h1MaxLine)); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return body, err
			}
		}
		if conn.buf[conn.r] != '\r' || conn.buf[conn.r+1] != '\n' {
			return body, errMalformedChunk
		}
		conn.r += 2
	}
}

func parseHexSize(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty hex number for chunk length")
	}
	if len(b) > 16 {
		return 0, errors.New("http chunk length too large")
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, errors.New("invalid byte in chunk length")
		}
		if n >= 1<<59 {
			return 0, errors.New("http chunk length too large")
		}
		n = n<<4 | int64(c)
	}
	return n, nil
}

// gunzip decompresses a gzip body (the server honoured Accept-Encoding).
// Rare: it allocates a reader each time.
func (vu *VU) gunzip(body []byte) ([]byte, error) {
	if len(body) == 0 {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out := &vu.h1.gzBuf
	out.Reset()
	if _, err := out.ReadFrom(zr); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// urlError wraps err like net/http's Client.Do: `Get "http://…": err`.
func urlError(method, rawURL string, err error) error {
	op := "Get"
	if method != "" {
		op = method[:1] + strings.ToLower(method[1:])
	}
	return &url.Error{Op: op, URL: rawURL, Err: err}
}

// deadlineErr turns an I/O timeout from the request's deadline into the
// error net/http reports when a request context's deadline passes.
func deadlineErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return context.DeadlineExceeded
	}
	return err
}
