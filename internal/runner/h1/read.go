package h1

import (
	"bytes"
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
	if err := c.x.rerr; err != nil {
		// The exchange's read failed (sendAndWait).
		c.x.rerr = nil
		return err
	}
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
	n, err := c.read(c.buf[c.w:])
	if n > 0 {
		if c.resp.FirstByte.IsZero() {
			c.resp.FirstByte = time.Now()
			c.x.last = c.resp.FirstByte
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
// returning its length n and setting c.fields to its framing fields. A head
// scanHead takes is copied to c.head, and its header map is built later if
// at all (Response.Header); header is the map of any other head, parsed at
// once. got reports whether any byte of a response arrived.
func (c *Conn) readHead(limit int) (status int, version [2]int, header http.Header, n int, got bool, err error) {
	scanned := 0 // relative to c.r: where the last line end may start
	for {
		if n = headEnd(c.buf[c.r:c.w], scanned); n >= 0 {
			if n > limit {
				return 0, version, nil, n, true, malformed(errHeaderTooLarge)
			}
			b := c.buf[c.r : c.r+n]
			c.r += n
			var ok bool
			if status, version, ok = scanHead(b, &c.fields); ok {
				c.head = append(c.head[:0], b...)
				c.fields.src = c.head
				return status, version, nil, n, true, nil
			}
			status, version, header, err = parseHead(string(b))
			if err != nil {
				return status, version, nil, n, true, broken(err)
			}
			c.fieldVals = c.fields.fromHeader(header, c.fieldVals)
			return status, version, header, n, true, nil
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
func validValue[S ~string | ~[]byte](v S) bool {
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

// asciiEqualFold is strings.EqualFold for ASCII only, as net/http compares
// tokens: "chunKed" with a Kelvin sign is not "chunked".
func asciiEqualFold[S ~string | ~[]byte](s S, t string) bool {
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
	f := &c.fields
	edits := 0
	atLeast11 := version[0] > 1 || version[0] == 1 && version[1] >= 1
	closeAfter := false
	hasClose := f.hasToken(fieldConnection, "close")
	switch {
	case version[0] < 1:
		closeAfter = true
	case version == [2]int{1, 0}:
		closeAfter = hasClose || !f.hasToken(fieldConnection, "keep-alive")
	case hasClose:
		closeAfter = true
		edits |= dropConnection
	}
	chunked := false
	if nte := f.count(fieldTransferEncoding); nte > 0 {
		edits |= dropTransferEncoding
		if atLeast11 {
			if nte != 1 {
				r.HeadErr = broken(fmt.Errorf("too many transfer encodings: %q", f.strings(fieldTransferEncoding)))
				return got
			}
			if te := f.first(fieldTransferEncoding); !asciiEqualFold(te, "chunked") {
				r.HeadErr = broken(fmt.Errorf("unsupported transfer encoding: %q", te))
				return got
			}
			chunked = true
		}
	}
	length, lenEdits, err := responseLength(status, method, f, chunked)
	if err != nil {
		r.HeadErr = broken(err)
		return got
	}
	edits |= lenEdits
	if chunked {
		if err := checkTrailerKeys(f); err != nil {
			r.HeadErr = broken(err)
			return got
		}
		if f.count(fieldTrailer) > 0 {
			edits |= dropTrailer
		}
	}
	r.Status, r.Proto = status, proto(version)
	r.header, r.edits = header, edits
	if header == nil {
		r.head = c.head
	}
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
	if gz && length != 0 && method != "HEAD" && asciiEqualFold(f.first(fieldContentEncoding), "gzip") {
		r.edits |= dropEncoding
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
// for chunked or read-to-close; edits are its changes to the header map.
func responseLength(status int, method string, f *fields, chunked bool) (n int64, edits int, err error) {
	ncl := f.count(fieldContentLength)
	var cl []byte
	if ncl > 0 {
		cl = trimSpaceTab(f.first(fieldContentLength))
	}
	if ncl > 1 {
		for _, s := range f.spans {
			if s.kind == fieldContentLength && !bytes.Equal(trimSpaceTab(f.src[s.off:s.end]), cl) {
				return 0, 0, fmt.Errorf("http: message cannot contain multiple Content-Length headers; got %q", f.strings(fieldContentLength))
			}
		}
		edits |= oneContentLength
	}
	if ncl > 0 {
		if len(cl) == 0 {
			return 0, 0, badString("invalid empty Content-Length", "")
		}
		v, ok := parseLength(cl)
		if !ok {
			return 0, 0, badString("bad Content-Length", string(cl))
		}
		n = v
	}
	if method == "HEAD" || !bodyAllowed(status) {
		return 0, edits, nil
	}
	if chunked {
		return -1, edits | dropContentLength, nil
	}
	if ncl > 0 {
		return n, edits, nil
	}
	return -1, edits, nil
}

// parseLength is strconv.ParseUint(b, 10, 63) without the allocation.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// checkTrailerKeys is net/http's fixTrailer for a chunked response: the
// Trailer header (removed) must not announce framing fields.
func checkTrailerKeys(f *fields) error {
	for _, s := range f.spans {
		if s.kind != fieldTrailer {
			continue
		}
		for key := range bytes.SplitSeq(f.src[s.off:s.end], comma) {
			key = trimSpaceTab(key)
			for _, name := range [...]string{"Transfer-Encoding", "Trailer", "Content-Length"} {
				if asciiEqualFold(key, name) {
					return badString("bad trailer key", name)
				}
			}
		}
	}
	return nil
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}
