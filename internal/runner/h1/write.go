package h1

import (
	"net/http"
	"strconv"
	"time"
)

// inlineBody: request bodies up to this size are copied behind the head and
// sent with one write; larger ones go out with writev.
const inlineBody = 2 << 10

// Request is a request as RoundTrip sends it.
type Request struct {
	// Method is the request method; "" means GET. See Sendable.
	Method string
	URL    URL
	// UserAgent is sent unless empty; a User-Agent in Header is not.
	UserAgent string
	// Header is sent as is (see Sendable) and never modified.
	Header http.Header
	Body   []byte
}

// write serialises req into the connection's write buffer and writes it:
// one write, or writev for a large body; on a plain TCP connection through
// the exchange (sendAndWait), which also waits for the answer's first bytes.
// It stamps WroteRequest.
func (c *Conn) write(req *Request, method string, gzip bool) error {
	c.wbuf = appendRequest(c.wbuf[:0], method, req.URL, req.UserAgent, req.Header, len(req.Body), gzip)
	var body []byte
	if len(req.Body) <= inlineBody {
		c.wbuf = append(c.wbuf, req.Body...)
	} else {
		body = req.Body
	}
	k, handled, err := c.sendAndWait(c.wbuf, body)
	n := int64(k)
	if !handled {
		// The rest, from byte k of head and body.
		head := c.wbuf[min(k, len(c.wbuf)):]
		body = body[max(0, k-len(c.wbuf)):]
		var m int64
		if len(body) == 0 {
			var w int
			w, err = c.nc.Write(head)
			m = int64(w)
		} else {
			c.bufs = [2][]byte{head, body}
			c.nb = c.bufs[:]
			m, err = c.nb.WriteTo(c.nc)
			c.bufs, c.nb = [2][]byte{}, nil
		}
		n += m
		c.resp.WroteRequest = time.Now()
	}
	if c.sent != nil {
		c.sent.Add(n)
	}
	return err
}

// appendRequest serialises a request head the way net/http writes it:
// request line, Host, User-Agent, Content-Length when net/http sends one,
// the caller's headers, then Accept-Encoding: gzip when it asks for gzip.
func appendRequest(b []byte, method string, u URL, userAgent string, header http.Header, bodyLen int, gzip bool) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, u.Target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, u.Authority...)
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

// wantsGzip is net/http's rule for adding Accept-Encoding: gzip (and then
// decompressing the response transparently).
func wantsGzip(method string, h http.Header) bool {
	return method != "HEAD" && h.Get("Accept-Encoding") == "" && h.Get("Range") == ""
}

func trimSpaceTab[S ~string | ~[]byte](s S) S {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
