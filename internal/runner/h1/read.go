package h1

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// readBuf is a connection's initial read buffer: a response's status
	// line and headers must fit (it grows up to maxHeader); bodies larger
	// than what is buffered are read straight into the body buffer.
	readBuf = 512
	// maxHeader is net/http's default limit on response header bytes, the
	// heads of informational responses included.
	maxHeader = 10 << 20
)

// fill reads more bytes into the connection's buffer, growing it when full
// up to limit. It stamps the response's first byte.
func (c *Conn) fill(limit int) error {
	if c.r > 0 && c.r == c.w {
		c.r, c.w = 0, 0
	}
	if c.w == len(c.buf) {
		if c.r > 0 {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		} else {
			if len(c.buf) >= limit {
				return errHeaderTooLarge
			}
			nb := make([]byte, min(2*len(c.buf), limit))
			copy(nb, c.buf[:c.w])
			c.buf = nb
		}
	}
	n, err := c.nc.Read(c.buf[c.w:])
	if n > 0 {
		if c.resp.FirstByte.IsZero() {
			c.resp.FirstByte = time.Now()
		}
		c.w += n
		c.count(n)
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

func (c *Conn) count(n int) {
	if c.received != nil {
		c.received.Add(int64(n))
	}
}

var errHeaderTooLarge = fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", maxHeader)

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

// readHead reads a status line and header block of at most limit bytes,
// returning its length n. got reports whether any byte of a response
// arrived.
func (c *Conn) readHead(limit int) (status int, version [2]int, header http.Header, n int, got bool, err error) {
	scanned := 0 // relative to c.r: where the last line end may start
	for {
		if n = headEnd(c.buf[c.r:c.w], scanned); n >= 0 {
			if n > limit {
				return 0, version, nil, n, true, malformed(errHeaderTooLarge)
			}
			head := string(c.buf[c.r : c.r+n])
			c.r += n
			status, version, header, err = parseHead(head)
			if err != nil {
				err = broken(err)
			}
			return status, version, header, n, true, err
		}
		// A line end may straddle this read and the next one.
		scanned = max(0, c.w-c.r-2)
		if err := c.fill(limit); err != nil {
			got = c.w > c.r
			if err == io.EOF && got {
				err = io.ErrUnexpectedEOF
			}
			if err == errHeaderTooLarge {
				err = malformed(err)
			}
			return 0, version, nil, 0, got, err
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
	if header, err = parseFields(rest); err != nil {
		return 0, version, nil, err
	}
	// http.ReadResponse's fixPragmaCacheControl.
	if p := header["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		if _, ok := header["Cache-Control"]; !ok {
			header["Cache-Control"] = []string{"no-cache"}
		}
	}
	return status, version, header, nil
}

// parseFields parses header fields up to the empty line ending them into a
// header map whose keys and values share fields' memory, as
// textproto.Reader.ReadMIMEHeader does: obs-folded lines are joined with a
// space, names are validated and canonicalised, values validated and
// trimmed.
func parseFields(fields string) (http.Header, error) {
	n := strings.Count(fields, "\n")
	header := make(http.Header, n)
	vals := make([]string, 0, n)
	var lastKey string
	for {
		var line string
		line, fields = cutLine(fields)
		if line == "" {
			return header, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold: a continuation of the previous value.
			if lastKey == "" {
				return nil, fmt.Errorf("malformed MIME header initial line: %q", line)
			}
			cont := trimSpaceTab(line)
			if !validValue(cont) {
				return nil, fmt.Errorf("malformed MIME header line: %q", line)
			}
			vs := header[lastKey]
			vs[len(vs)-1] = trimLeftSpaceTab(vs[len(vs)-1] + " " + cont)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("malformed MIME header: missing colon: %q", line)
		}
		canon, valid := headerKey(k)
		if !valid || !validValue(v) {
			return nil, fmt.Errorf("malformed MIME header line: %q", line)
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
}

// validValue: no control bytes but HTAB.
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func trimLeftSpaceTab(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
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
	return malformed(fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err))
}

// proto is "HTTP/X.Y" for a response version.
func proto(v [2]int) string {
	switch v {
	case [2]int{1, 1}:
		return "HTTP/1.1"
	case [2]int{1, 0}:
		return "HTTP/1.0"
	}
	return "HTTP/" + strconv.Itoa(v[0]) + "." + strconv.Itoa(v[1])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func cutLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r"), rest
}

func badString(what, val string) error { return fmt.Errorf("%s %q", what, val) }

// hasToken reports whether a comma-separated header value list holds token
// (ASCII case-insensitive), like httpguts.HeaderValuesContainsToken.
func hasToken(vs []string, token string) bool {
	for _, v := range vs {
		for part := range strings.SplitSeq(v, ",") {
			if asciiEqualFold(trimSpaceTab(part), token) {
				return true
			}
		}
	}
	return false
}

// asciiEqualFold is strings.EqualFold for ASCII only, as net/http compares
// tokens: "chunKed" with a Kelvin sign is not "chunked".
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerASCII(s[i]) != lowerASCII(t[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// readResponse reads one response (skipping informational ones) into
// c.resp, setting Keep when the connection may serve another request. got
// reports whether any byte of a response arrived.
func (c *Conn) readResponse(method string, gz bool) (got bool) {
	r := &c.resp
	var status int
	var version [2]int
	var header http.Header
	// Informational responses are skipped; their heads count against the
	// final one's header limit, as in net/http's Transport.
	for budget := maxHeader; ; {
		var err error
		var g bool
		var n int
		status, version, header, n, g, err = c.readHead(budget)
		got = got || g
		if err != nil {
			r.HeadErr = err
			return got
		}
		if status < 100 || status > 199 || status == http.StatusSwitchingProtocols {
			break
		}
		budget -= n
	}

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
				r.HeadErr = broken(fmt.Errorf("too many transfer encodings: %q", te))
				return got
			}
			if !asciiEqualFold(te[0], "chunked") {
				r.HeadErr = broken(fmt.Errorf("unsupported transfer encoding: %q", te[0]))
				return got
			}
			chunked = true
		}
	}
	length, err := responseLength(status, method, header, chunked)
	if err != nil {
		r.HeadErr = broken(err)
		return got
	}
	if chunked {
		if err := checkTrailerKeys(header); err != nil {
			r.HeadErr = broken(err)
			return got
		}
	}
	r.Status, r.Proto, r.Header = status, proto(version), header
	if length == -1 && !chunked && bodyAllowed(status) {
		closeAfter = true
	}
	if status == http.StatusSwitchingProtocols {
		closeAfter = true
	}

	limit := c.cfg.MaxBody
	if limit <= 0 {
		limit = math.MaxInt64 - 1
	}
	if length > limit {
		// Not read at all: the connection closes with the rest unread.
		r.BodyErr = &BodyTooLargeError{Limit: limit, ContentLength: length}
		return got
	}
	body := c.body[:0]
	switch {
	case length == 0:
	case chunked:
		body, err = c.readChunked(body, limit)
	case length > 0:
		body, err = c.readN(body, length, limit)
	default:
		body, err = c.readToEOF(body, limit)
	}
	c.body = body[:0]
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			c.body = nil // do not keep a buffer of the limit's size
		}
		r.BodyErr = err
		return got
	}
	// Bytes beyond the response are unsolicited: net/http closes then too.
	r.Keep = !closeAfter && c.r == c.w
	if gz && length != 0 && method != "HEAD" && asciiEqualFold(header.Get("Content-Encoding"), "gzip") {
		header.Del("Content-Encoding")
		header.Del("Content-Length")
		if body, err = c.gunzip(body, limit); err != nil {
			// The connection is still in step (the whole body was read),
			// but net/http closes it when a body is not read to its end.
			r.Keep = r.Keep && !errors.Is(err, ErrBodyTooLarge)
			r.BodyErr = err
			return got
		}
	}
	r.Body = body
	return got
}

// responseLength is net/http's fixLength for a response: 0 for no body, -1
// for chunked or read-to-close.
func responseLength(status int, method string, header http.Header, chunked bool) (int64, error) {
	cls := header["Content-Length"]
	if len(cls) > 1 {
		first := trimSpaceTab(cls[0])
		for _, cl := range cls[1:] {
			if trimSpaceTab(cl) != first {
				return 0, fmt.Errorf("http: message cannot contain multiple Content-Length headers; got %q", cls)
			}
		}
		header["Content-Length"] = []string{first}
		cls = header["Content-Length"]
	}
	var n int64
	if len(cls) > 0 {
		cl := trimSpaceTab(cls[0])
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

// checkTrailerKeys is net/http's fixTrailer for a chunked response: the
// Trailer header is removed, and must not announce framing fields.
func checkTrailerKeys(header http.Header) error {
	vs, ok := header["Trailer"]
	if !ok {
		return nil
	}
	delete(header, "Trailer")
	for _, v := range vs {
		for key := range strings.SplitSeq(v, ",") {
			switch key = http.CanonicalHeaderKey(trimSpaceTab(key)); key {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				return badString("bad trailer key", key)
			}
		}
	}
	return nil
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}
