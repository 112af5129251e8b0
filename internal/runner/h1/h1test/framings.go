// Package h1test holds the HTTP/1.x response framings the tests of h1 and
// runner share: the side-by-side comparison of the fast path with net/http,
// and the seed corpus of h1's differential fuzz test.
package h1test

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
)

// Framing is one server response and how a client must read it.
type Framing struct {
	Name string
	// Method is the request's method.
	Method string
	// Resp is what the server answers every request with; it closes the
	// connection afterwards when CloseAfter is set.
	Resp       string
	CloseAfter bool
	// WantErr: the request fails. WantConns: two requests take this many
	// connections.
	WantErr   bool
	WantConns int64
}

// Gzipped returns s gzip-compressed.
func Gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.String()
}

// Framings returns every framing: lengths, chunked bodies and trailers,
// read-to-close, keep-alive rules per version, bodiless statuses, 1xx,
// malformed heads and bodies, gzip.
func Framings() []Framing {
	long := strings.Repeat("abcdefghij", 1000)
	gz := Gzipped("hello, gzip")
	return []Framing{
		{"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", false, false, 1},
		{"large content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + long, false, false, 1},
		{"empty content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"bare LF line ends", "GET", "HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\nok", false, false, 1},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n", false, false, 1},
		{"chunked large", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2710\r\n" + long + "\r\n0\r\n\r\n", false, false, 1},
		{"chunked with trailer", "GET", "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", false, false, 1},
		{"chunked beats content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, false, 1},
		{"chunked malformed", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", false, true, 2},
		{"read to close", "GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", true, false, 2},
		{"connection close", "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true, false, 2},
		{"HTTP/1.0 default close", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true, false, 2},
		{"HTTP/1.0 keep-alive", "GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false, false, 1},
		{"HTTP/1.0 ignores transfer-encoding", "GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nok", true, false, 2},
		{"HEAD with length", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", false, false, 1},
		{"204 with length", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"304", "GET", "HTTP/1.1 304 Not Modified\r\nEtag: \"x\"\r\n\r\n", false, false, 1},
		{"1xx skipped", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, 1},
		{"duplicate equal lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false, false, 1},
		{"conflicting lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false, true, 2},
		{"bad length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, true, 2},
		{"unsupported transfer-encoding", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, true, 2},
		{"truncated body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true, true, 2},
		{"truncated head", "GET", "HTTP/1.1 200 OK\r\nContent-Le", true, true, 2},
		{"no response", "GET", "", true, true, 2},
		{"malformed status line", "GET", "HTTP/1.1 20 OK\r\n\r\n", false, true, 2},
		{"other version", "GET", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"malformed version", "GET", "HTTP/1.10 200 OK\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"folded header", "GET", "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"space in a header name", "GET", "HTTP/1.1 200 OK\r\nx bad : a\r\nContent-Length: 0\r\n\r\n", false, false, 1},
		{"header without colon", "GET", "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"control byte in a value", "GET", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"folded first header", "GET", "HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 0\r\n\r\n", false, true, 2},
		{"non-canonical and repeated keys", "GET", "HTTP/1.1 503 Service Unavailable\r\nretry-after: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\ncontent-length: 0\r\n\r\n", false, false, 1},
		{"gzip", "GET", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n" + gz, false, false, 1},
		{"gzip chunked", "GET", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(gz)), 16) + "\r\n" + gz + "\r\n0\r\n\r\n", false, false, 1},
		{"bad gzip", "GET", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope", false, true, 1},
		{"unsolicited bytes after the response", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false, false, 2},
	}
}
