package h1

// Reading a response body: a length's worth, until the server closes, or
// chunked with its trailer; decompressed when gzip was asked for; never more
// than the limit.

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
)

// maxLine is net/http's read buffer: a chunk-size line must end, and a
// trailer section must end with CRLF CRLF, within it.
const maxLine = 4096

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
		k, err := c.read(body[len(body):cap(body)][:min(int64(cap(body)-len(body)), n)])
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
		k, err := c.read(body[len(body):cap(body)])
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
