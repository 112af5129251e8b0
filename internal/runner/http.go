package runner

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner/h1"
)

// ClientOptions tune the run's one HTTP client.
type ClientOptions struct {
	// Timeout bounds each request (0: 60 s, k6's default).
	Timeout time.Duration
	// TLS is the base TLS configuration of https requests (RootCAs, client
	// Certificates, ...); the client uses a clone. nil: the defaults.
	TLS *tls.Config
	// Insecure skips TLS certificate verification, on top of TLS.
	Insecure bool
	// MaxVUs sizes the idle connection pool so every VU keeps its connection.
	MaxVUs int
	// UserAgent is sent with every request.
	UserAgent string
	// NoFastPath sends every request through net/http's Transport instead
	// of driftload's own HTTP/1.1 client (package h1), which otherwise
	// sends http:// and https:// requests when no proxy is configured.
	NoFastPath bool
	// HTTP2 sends https requests through net/http, negotiating HTTP/2 when
	// the server offers it (ALPN h2). Without it every request speaks
	// HTTP/1.1, on either path: the fast path offers only http/1.1, and
	// net/http does not attempt HTTP/2. Plain http:// is HTTP/1.1 always.
	HTTP2 bool
	// MaxBodyBytes bounds the response body a request reads (0 or less:
	// DefaultMaxBodyBytes). A larger body is not read further, its
	// connection is closed, and the request fails with an error matching
	// ErrBodyTooLarge; a Content-Length over the limit fails it at once.
	MaxBodyBytes int64
	// LocalIPs, when set, are the source addresses: this process's i-th
	// VU dials from LocalIPs.Addr(i) (port 0) on both paths. On net/http's
	// a connection is dialled from the address of the VU that needs it,
	// and its shared pool may later lend it to another VU.
	LocalIPs *LocalIPs
}

// DefaultMaxBodyBytes is the response body limit when
// ClientOptions.MaxBodyBytes is not set: 4 MiB.
const DefaultMaxBodyBytes = 4 << 20

// ErrBodyTooLarge is matched (errors.Is) by the error of a request whose
// response body is larger than ClientOptions.MaxBodyBytes; the error's
// message names the limit.
var ErrBodyTooLarge = h1.ErrBodyTooLarge

// Client is the HTTP client shared by all VUs of a run. It counts the bytes
// every connection sends and receives.
type Client struct {
	hc        *http.Client
	transport *http.Transport
	timeout   time.Duration
	userAgent string
	maxBody   int64
	sent      atomic.Int64
	received  atomic.Int64

	// The fast path (fastpath.go) for http:// and for https:// URLs: on
	// unless disabled, HTTP/2 is asked for (https), or a proxy is
	// configured for the scheme.
	fast    bool
	fastTLS bool
	h1      h1.Config
	dialer  *net.Dialer
	connsMu sync.Mutex
	conns   map[*h1.Conn]struct{}

	// local is the --local-ips pool (nil: the system picks the source
	// address); dialers are its addresses' dialers, made as VUs need them.
	local     *LocalIPs
	maxVUs    int
	dialersMu sync.Mutex
	dialers   map[int]*net.Dialer
}

// NewClient returns a keep-alive client whose idle pool holds a connection
// per VU.
func NewClient(opts ClientOptions) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxVUs < 1 {
		opts.MaxVUs = 1
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "driftload"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	c := &Client{timeout: opts.Timeout, userAgent: opts.UserAgent, maxBody: opts.MaxBodyBytes, maxVUs: opts.MaxVUs}
	c.dialer = c.newDialer()
	if opts.LocalIPs != nil {
		c.local, c.dialers = opts.LocalIPs, map[int]*net.Dialer{}
		// The pre-flight, and a VU made outside an engine, dial as the first VU.
		c.dialer = c.dialerFor(0)
	}
	c.h1 = h1.Config{MaxBody: opts.MaxBodyBytes, Sent: &c.sent, Received: &c.received}
	c.fast = !opts.NoFastPath && os.Getenv("HTTP_PROXY") == "" && os.Getenv("http_proxy") == ""
	c.fastTLS = !opts.NoFastPath && !opts.HTTP2 && os.Getenv("HTTPS_PROXY") == "" && os.Getenv("https_proxy") == ""
	tlsConfig := opts.TLS.Clone()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	if opts.Insecure {
		tlsConfig.InsecureSkipVerify = true //nolint:gosec // the user asked for --insecure
	}
	// One session cache for every connection of the run, on both paths: a
	// redialled connection resumes its session (net/http keeps none unless
	// the configuration has one).
	if tlsConfig.ClientSessionCache == nil {
		tlsConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	// The fast path's own clone: the Transport modifies its configuration
	// (NextProtos) on first use.
	c.h1.TLS = tlsConfig.Clone()
	if !opts.HTTP2 && tlsConfig.NextProtos == nil {
		// The ClientHello the fast path sends, and no HTTP/2.
		tlsConfig.NextProtos = []string{"http/1.1"}
	}
	c.transport = &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialer := c.dialer
			if d, ok := ctx.Value(dialerKey{}).(*net.Dialer); ok {
				dialer = d // the VU's, for its --local-ips address (doStd)
			}
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: conn, c: c}, nil
		},
		MaxIdleConns:          opts.MaxVUs + 16,
		MaxIdleConnsPerHost:   opts.MaxVUs + 16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     opts.HTTP2,
		TLSClientConfig:       tlsConfig,
	}
	c.hc = &http.Client{
		Transport: c.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// newDialer is a dialer with the client's timeouts, from no particular
// source address.
func (c *Client) newDialer() *net.Dialer {
	return &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
}

// dialerKey carries a VU's dialer to the Transport's DialContext in the
// request's context.
type dialerKey struct{}

// tlsHandshakeTimeout bounds a TLS handshake on both paths, besides the
// request's own timeout.
const tlsHandshakeTimeout = 10 * time.Second

// Close drops idle connections; busy ones close when their request ends.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
	c.closeConns()
}

// BytesSent returns the bytes written to every connection so far.
func (c *Client) BytesSent() int64 { return c.sent.Load() }

// BytesReceived returns the bytes read from every connection so far.
func (c *Client) BytesReceived() int64 { return c.received.Load() }

type countingConn struct {
	net.Conn
	c *Client
}

func (cc *countingConn) Read(p []byte) (int, error) {
	n, err := cc.Conn.Read(p)
	cc.c.received.Add(int64(n))
	return n, err
}

func (cc *countingConn) Write(p []byte) (int, error) {
	n, err := cc.Conn.Write(p)
	cc.c.sent.Add(int64(n))
	return n, err
}

// Request is one HTTP request of an iteration.
type Request struct {
	Method string
	URL    string
	// Header is sent as is; it may be shared between requests and is never modified.
	Header http.Header
	Body   []byte
	// Endpoint and Scenario become the `endpoint` and `scenario` tags.
	Endpoint string
	Scenario string
	// Tags are extra tags for this request's metrics.
	Tags metrics.Tags
	// Timeout overrides the client's per-request timeout when > 0.
	Timeout time.Duration
	// Expect lists the statuses that are not failures; empty means 200–399.
	Expect []int
}

// Timings are the phases of one request, k6's definitions.
type Timings struct {
	Blocked, Connecting, TLSHandshaking, Sending, Waiting, Receiving time.Duration
	// Duration is Sending + Waiting + Receiving.
	Duration time.Duration
}

// Response is what came back. Body is only valid until the VU's next
// request, and so is a call of Header.
type Response struct {
	Status int
	// Proto is the protocol of the response: "HTTP/1.1", "HTTP/1.0", or
	// "HTTP/2.0" when ClientOptions.HTTP2 negotiated it.
	Proto string
	// header is net/http's map; on the fast path fast holds the response,
	// whose map is built when Header is called.
	header  http.Header
	fast    *h1.Response
	Body    []byte
	Err     error
	Timings Timings
	// TimedOut is true when the request hit its timeout.
	TimedOut bool
	// Canceled is true when the run stopped the request; nothing was recorded.
	Canceled bool
	// Reason says why the request failed, one of FailureReasons; it is
	// empty when Err is nil (a response with any status, expected or not).
	Reason string
	// Latency is the time from the iteration's intended start (open model;
	// the actual start otherwise) to the end of this request, blocked and
	// connecting included: what a user arriving on schedule waited.
	Latency time.Duration
}

// Header returns the response's header map (nil when no response came
// back). On driftload's own HTTP/1.1 client the map is built on the first
// call, which must come before the VU's next request; the map itself stays
// valid.
func (r *Response) Header() http.Header {
	if r.fast != nil {
		return r.fast.Header()
	}
	return r.header
}

// OK reports whether the request got a response with the given status.
func (r *Response) OK(status int) bool { return r.Err == nil && r.Status == status }

// tracer collects one request's phase instants; each VU reuses its own.
// The httptrace hooks may run on net/http's goroutines (and a dial's may
// still run after the request ended), so they stamp under mu, and Do reads
// under mu; a tracer whose hooks may still fire is retired (see Do).
type tracer struct {
	mu sync.Mutex
	instants
	trace *httptrace.ClientTrace
}

// instants are the phase instants of one request.
type instants struct {
	getConn, connectStart, connectDone, tlsStart, tlsDone, gotConn, wroteRequest, firstByte time.Time
	reused                                                                                  bool
}

// clientTrace returns the hooks that fill t, made on first use: the fast
// path needs them only to dial.
func (t *tracer) clientTrace() *httptrace.ClientTrace {
	if t.trace != nil {
		return t.trace
	}
	t.trace = &httptrace.ClientTrace{
		GetConn:           func(string) { t.stamp(&t.getConn) },
		ConnectStart:      func(string, string) { t.stamp(&t.connectStart) },
		ConnectDone:       func(string, string, error) { t.stamp(&t.connectDone) },
		TLSHandshakeStart: func() { t.stamp(&t.tlsStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { t.stamp(&t.tlsDone) },
		GotConn: func(info httptrace.GotConnInfo) {
			now := time.Now()
			t.mu.Lock()
			t.gotConn, t.reused = now, info.Reused
			t.mu.Unlock()
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { t.stamp(&t.wroteRequest) },
		GotFirstResponseByte: func() { t.stamp(&t.firstByte) },
	}
	return t.trace
}

// stamp sets *at, one of t's instants, to now.
func (t *tracer) stamp(at *time.Time) {
	now := time.Now()
	t.mu.Lock()
	*at = now
	t.mu.Unlock()
}

func (t *tracer) reset() {
	t.mu.Lock()
	t.instants = instants{}
	t.mu.Unlock()
}

func sub(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() || a.Before(b) {
		return 0
	}
	return a.Sub(b)
}

// timings turns the collected instants into k6's phases; end is when the
// body was read (or the request failed).
func (t *tracer) timings(start, end time.Time) Timings {
	var tm Timings
	connStart := t.getConn
	if connStart.IsZero() {
		connStart = start
	}
	if !t.connectStart.IsZero() {
		tm.Blocked = sub(t.connectStart, connStart)
	} else {
		tm.Blocked = sub(t.gotConn, connStart)
	}
	tm.Connecting = sub(t.connectDone, t.connectStart)
	tm.TLSHandshaking = sub(t.tlsDone, t.tlsStart)
	sendStart := t.gotConn
	if sendStart.IsZero() {
		sendStart = start
	}
	tm.Sending = sub(t.wroteRequest, sendStart)
	if !t.firstByte.IsZero() {
		tm.Waiting = sub(t.firstByte, t.wroteRequest)
		tm.Receiving = sub(end, t.firstByte)
	} else if !t.wroteRequest.IsZero() {
		tm.Waiting = sub(end, t.wroteRequest)
	}
	tm.Duration = tm.Sending + tm.Waiting + tm.Receiving
	return tm
}

var statusText = func() [600]string {
	var s [600]string
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusTag(code int) string {
	if code >= 0 && code < len(statusText) {
		return statusText[code]
	}
	return strconv.Itoa(code)
}

func expected(status int, expect []int) bool {
	if len(expect) == 0 {
		return status >= 200 && status < 400
	}
	for _, s := range expect {
		if s == status {
			return true
		}
	}
	return false
}

// Do sends req for vu, times it and records the built-in HTTP metrics. When
// ctx has already ended nothing is sent. Once sent, a request runs to its
// end (or timeout) even if ctx ends meanwhile, and is recorded; only the
// run's abort (interrupt, abortOnFail) cancels it, and then nothing is
// recorded. Either way the response comes back with Canceled set.
func (vu *VU) Do(ctx context.Context, req *Request) *Response {
	c := vu.client
	resp := &vu.resp
	*resp = Response{}
	if err := ctx.Err(); err != nil {
		resp.Canceled, resp.Err, resp.Reason = true, err, ReasonCanceled
		return resp
	}
	abort := vu.abort
	if abort == nil {
		abort = context.Background()
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	vu.tracer.reset()
	var start time.Time
	var err error
	if u, ok := c.fastPath(req, &vu.h1); ok {
		start = time.Now()
		vu.tracer.getConn = start
		ex, derr := vu.doH1(abort, req, &u, start.Add(timeout))
		switch {
		case derr != nil:
			err = urlError(req.Method, req.URL, deadlineErr(derr))
		case ex.HeadErr != nil:
			err = urlError(req.Method, req.URL, deadlineErr(ex.HeadErr))
		default:
			resp.Status, resp.Proto, resp.fast, resp.Body = ex.Status, ex.Proto, ex, ex.Body
			if ex.BodyErr != nil {
				err = deadlineErr(ex.BodyErr)
			}
		}
	} else {
		var sent bool
		if start, sent, err = vu.doStd(abort, req, timeout); !sent {
			resp.Err, resp.Reason = err, ReasonOther
			return resp
		}
	}
	vu.finish(abort, req, start, err)
	return resp
}

// finish times and records the request Do sent at start; err is how it
// failed. It is Do's second half, apart so that its locals are not on the
// stack while the request waits for its response (see stack.go).
//
//go:noinline
func (vu *VU) finish(abort context.Context, req *Request, start time.Time, err error) {
	resp := &vu.resp
	end := time.Now()
	tr := vu.tracer
	tr.mu.Lock()
	timings := tr.timings(start, end)
	answered, dialled := !tr.firstByte.IsZero(), !tr.connectStart.IsZero()
	tr.mu.Unlock()
	if err != nil || dialled {
		// The hooks of a dial may still fire: net/http dials on its own
		// goroutine and may go on after the request failed, and a Happy
		// Eyeballs racer may outlive a dial. They stamp the retired tracer.
		vu.tracer = &tracer{}
	}
	if err != nil {
		if abort.Err() != nil {
			resp.Canceled = true
			resp.Err = abort.Err()
			resp.Reason = ReasonCanceled
			return
		}
		resp.Err = err
		resp.TimedOut = errors.Is(err, context.DeadlineExceeded) || isTimeout(err)
		resp.Reason = failureReason(err, answered)
	}
	resp.Timings = timings
	resp.Latency = vu.lag + end.Sub(start)
	vu.recordHTTP(req, resp)
}

// doStd sends req through net/http, with httptrace timing.
// sent is false when the request could not even be built: nothing is recorded then.
func (vu *VU) doStd(abort context.Context, req *Request, timeout time.Duration) (start time.Time, sent bool, err error) {
	c := vu.client
	resp := &vu.resp
	reqCtx, cancel := context.WithTimeout(abort, timeout)
	defer cancel()
	reqCtx = httptrace.WithClientTrace(reqCtx, vu.tracer.clientTrace())
	if d := vu.netDialer(); d != c.dialer {
		reqCtx = context.WithValue(reqCtx, dialerKey{}, d)
	}

	var body io.Reader
	if req.Body != nil {
		vu.bodyReader.Reset(req.Body)
		body = &vu.bodyReader
	}
	hreq, err := http.NewRequestWithContext(reqCtx, req.Method, req.URL, body)
	if err != nil {
		return time.Time{}, false, err
	}
	for k, v := range req.Header {
		hreq.Header[k] = v
	}
	if req.Body != nil {
		hreq.ContentLength = int64(len(req.Body))
		hreq.GetBody = nil
	}
	hreq.Header.Set("User-Agent", c.userAgent)

	start = time.Now()
	hresp, err := c.hc.Do(hreq)
	if err == nil {
		resp.Status, resp.Proto, resp.header = hresp.StatusCode, hresp.Proto, hresp.Header
		// A HEAD response's ContentLength is the announced one, without a body.
		if hresp.ContentLength > c.maxBody && hreq.Method != http.MethodHead {
			err = &h1.BodyTooLargeError{Limit: c.maxBody, ContentLength: hresp.ContentLength}
		} else {
			vu.bodyBuf, err = h1.ReadBody(vu.bodyBuf[:0], hresp.Body, c.maxBody)
		}
		// Closing a body not read to its end closes the connection.
		hresp.Body.Close()
		if errors.Is(err, ErrBodyTooLarge) {
			vu.bodyBuf = nil // do not keep a buffer of the limit's size
		} else {
			resp.Body = vu.bodyBuf
		}
	}
	return start, true, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// bodyReader is a rewindable reader over a request body, reused per VU.
type bodyReader = bytes.Reader
