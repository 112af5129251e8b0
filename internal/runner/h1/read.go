package h1

import (
	"bytes"
	"compress/gzip"
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
	readBuf = 1 << 10
	// maxHeader is net/http's default limit on response header bytes, the
	// heads of informational responses included.
	maxHeader = 10 << 20
	// maxLine is net/http's read buffer: a chunk-size line must end, and a
	// trailer section must end with CRLF CRLF, within it.
	maxLine = 4096
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
	if c.cfg.Received != nil {
		c.cfg.Received.Add(int64(n))
	}
}

var errHeaderTooLarge = fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", maxHeader)

// readChunkLine returns the next chunk-size line without its CRLF, reading
// more when needed; the line is valid until the next read. As net/http
// does, it requires the CRLF (RFC 9112 allows no bare LF there), no other
// CR, and the line end within maxLine bytes.
func (c *Conn) readChunkLine() ([]byte, error) {
	for scanned := 0; ; { // scanned: bytes after c.r known to hold no '\n'
		if i := bytes.IndexByte(c.buf[c.r+scanned:c.w], '\n'); i >= 0 {
			n := scanned + i + 1 // the line's length with its LF
			if n > maxLine {
				return nil, malformed(errLineTooLong)
			}
			line := c.buf[c.r : c.r+n]
			c.r += n
			if cr := bytes.IndexByte(line, '\r'); cr < 0 {
				return nil, malformed(errors.New("chunked line ends with bare LF"))
			} else if cr != n-2 {
				return nil, malformed(errors.New("invalid CR in chunked line"))
			}
			return line[:n-2], nil
		}
		scanned = c.w - c.r
		if scanned >= maxLine {
			return nil, malformed(errLineTooLong)
		}
		if err := c.fill(max(len(c.buf), maxLine)); err != nil {
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
	r.Status, r.Header = status, header
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

// grow makes room for at least n more bytes in b, doubling its capacity
// but not beyond ceiling, and straight to ceiling once beyond half of it
// (a body at a limit of 2^k+1 bytes then costs two buffers, not three).
func grow(b []byte, n int, ceiling int64) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	c := int64(max(2*cap(b), len(b)+n, 512))
	if c > ceiling/2 {
		c = ceiling
	}
	c = max(c, int64(len(b)+n))
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// readN appends exactly n body bytes: the buffered ones, then straight from
// the connection. The body buffer grows up to limit.
func (c *Conn) readN(body []byte, n, limit int64) ([]byte, error) {
	for n > 0 {
		if c.r < c.w {
			k := int(min(int64(c.w-c.r), n))
			body = append(body, c.buf[c.r:c.r+k]...)
			c.r += k
			n -= int64(k)
			continue
		}
		// Never grow by more than 1 MiB ahead of the data: the length is
		// the server's word.
		body = grow(body, int(min(n, 1<<20)), limit)
		k, err := c.nc.Read(body[len(body):cap(body)][:min(int64(cap(body)-len(body)), n)])
		if k > 0 {
			c.count(k)
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

// readToEOF appends everything until the server closes the connection, or
// fails when that is more than limit bytes.
func (c *Conn) readToEOF(body []byte, limit int64) ([]byte, error) {
	k := int(min(int64(c.w-c.r), limit+1))
	body = append(body, c.buf[c.r:c.r+k]...)
	c.r += k
	for int64(len(body)) <= limit {
		// One byte beyond the limit tells a body over it from one at it.
		body = grow(body, int(min(4096, limit+1-int64(len(body)))), limit+1)
		k, err := c.nc.Read(body[len(body):cap(body)])
		c.count(k)
		body = body[:len(body)+k]
		if err == io.EOF {
			if int64(len(body)) > limit {
				break
			}
			return body, nil
		}
		if err != nil {
			return body, err
		}
	}
	return body, &BodyTooLargeError{Limit: limit, ContentLength: -1}
}

var (
	errMalformedChunk = errors.New("malformed chunked encoding")
	errTrailerEOF     = eofError("http: unexpected EOF reading trailer")
	errLongTrailer    = errors.New("http: suspiciously long trailer after chunked body")
	crlfcrlf          = []byte("\r\n\r\n")
)

// readChunked appends a chunked body's data and reads its trailers, as
// net/http's chunked reader does; it fails before reading a chunk that
// would take the body over limit.
func (c *Conn) readChunked(body []byte, limit int64) ([]byte, error) {
	// excess is net/http's guard against senders whose chunk lines dwarf
	// their data: 16 bytes of overhead per chunk and twice its data are
	// fine, more than 16 KiB beyond that is not.
	var excess int64
	for {
		line, err := c.readChunkLine()
		if err != nil {
			return body, err
		}
		excess += int64(len(line)) + 2
		line = bytes.TrimRight(line, " \t")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // a chunk extension
		}
		size, err := parseHexSize(line)
		if err != nil {
			return body, malformed(err)
		}
		excess = max(excess-16-2*min(size, 1<<40), 0)
		if excess > 16<<10 {
			return body, malformed(errors.New("chunked encoding contains too much non-data"))
		}
		if size == 0 {
			return body, c.readTrailer()
		}
		if size > limit-int64(len(body)) {
			return body, &BodyTooLargeError{Limit: limit, ContentLength: -1}
		}
		if body, err = c.readN(body, size, limit); err != nil {
			return body, err
		}
		for c.w-c.r < 2 {
			if err := c.fill(max(len(c.buf), maxLine)); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return body, err
			}
		}
		if c.buf[c.r] != '\r' || c.buf[c.r+1] != '\n' {
			return body, malformed(errMalformedChunk)
		}
		c.r += 2
	}
}

// readTrailer reads the trailer section after the last chunk as net/http's
// body.readTrailer does: CRLF ends an empty one; otherwise CRLF CRLF must
// come within maxLine bytes, and the fields up to the first empty line are
// parsed (and dropped) like header fields.
func (c *Conn) readTrailer() error {
	for c.w-c.r < 2 {
		if err := c.fill(max(len(c.buf), maxLine)); err != nil {
			if err == io.EOF {
				return errTrailerEOF
			}
			return err
		}
	}
	if c.buf[c.r] == '\r' && c.buf[c.r+1] == '\n' {
		c.r += 2
		return nil
	}
	for scanned := 0; !bytes.Contains(c.buf[c.r+scanned:min(c.w, c.r+maxLine)], crlfcrlf); {
		if c.w-c.r >= maxLine {
			return malformed(errLongTrailer)
		}
		scanned = max(0, c.w-c.r-3)
		if err := c.fill(max(len(c.buf), maxLine)); err != nil {
			if err == io.EOF {
				return malformed(errLongTrailer)
			}
			return err
		}
	}
	n := 1 // a bare LF: no fields
	if c.buf[c.r] != '\n' {
		n = headEnd(c.buf[c.r:c.w], 0)
	}
	_, err := parseFields(string(c.buf[c.r : c.r+n]))
	c.r += n
	if err != nil {
		return malformed(err)
	}
	return nil
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

// gunzip decompresses a gzip body (the server honoured Accept-Encoding),
// failing when that makes more than limit bytes. Rare: it allocates a
// reader each time.
func (c *Conn) gunzip(body []byte, limit int64) ([]byte, error) {
	if len(body) == 0 {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, malformed(err)
	}
	out, err := ReadBody(c.gz[:0], zr, limit)
	c.gz = out[:0]
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			c.gz = nil // do not keep a buffer of the limit's size
			return nil, err
		}
		return nil, malformed(err)
	}
	return out, nil
}

// ReadBody appends r's bytes to dst until io.EOF, up to limit bytes: one
// more fails with a *BodyTooLargeError. dst grows to at most limit+1 bytes.
func ReadBody(dst []byte, r io.Reader, limit int64) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = grow(dst, 1, limit+1)
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst, &BodyTooLargeError{Limit: limit, ContentLength: -1}
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
