package h1

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/runner/h1/h1test"
)

// endlessConn is a memConn whose scripted head is followed by body bytes
// without end: each Read beyond the head returns body repeated. It counts
// what the client read.
type endlessConn struct {
	memConn
	body string
	off  int // into body
	read int64
}

func (e *endlessConn) Read(p []byte) (int, error) {
	var n int
	if len(e.data) > 0 || e.body == "" {
		var err error
		n, err = e.memConn.Read(p)
		e.read += int64(n)
		return n, err
	} else {
		for n < len(p) {
			k := copy(p[n:], e.body[e.off:])
			n += k
			e.off = (e.off + k) % len(e.body)
		}
	}
	e.read += int64(n)
	return n, nil
}

func TestBodyLimit(t *testing.T) {
	const limit = 10000
	exact := strings.Repeat("x", limit)
	chunk := strconv.FormatInt(1000, 16) + "\r\n" + strings.Repeat("c", 1000) + "\r\n"
	for _, tc := range []struct {
		name    string
		resp    string
		endless string // body bytes repeated after resp without end
		gz      bool
		// tooLarge: the response fails with a BodyTooLargeError whose
		// ContentLength is announced (-1: cut off while reading).
		tooLarge  bool
		announced int64
	}{
		{"endless chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk, false, true, -1},
		{"endless read to close", "HTTP/1.1 200 OK\r\n\r\n", "y", false, true, -1},
		{"huge content-length", "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n", "z", false, true, 100000000000},
		{"content-length one over", "HTTP/1.1 200 OK\r\nContent-Length: 10001\r\n\r\n" + exact + "x", "", false, true, 10001},
		{"content-length at the limit", "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + exact, "", false, false, 0},
		{"chunked at the limit", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat(chunk, 10) + "0\r\n\r\n", "", false, false, 0},
		{"chunked one over", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat(chunk, 10) + "1\r\nx\r\n0\r\n\r\n", "", false, true, -1},
		{"read to close at the limit", "HTTP/1.1 200 OK\r\n\r\n" + exact, "", false, false, 0},
		{"read to close one over", "HTTP/1.1 200 OK\r\n\r\n" + exact + "x", "", false, true, -1},
		{"gzip decompressing beyond the limit", gzipResponse(exact + "x"), "", true, true, -1},
		{"gzip decompressing to the limit", gzipResponse(exact), "", true, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := &endlessConn{memConn: memConn{data: []byte(tc.resp), chunk: 1500}, body: tc.endless}
			c := NewConn(nc, URL{Authority: "h:1"}, &Config{MaxBody: limit}, nil)
			req := &Request{URL: URL{Authority: "h:1", Target: "/"}}
			if !tc.gz {
				req.Header = map[string][]string{"Accept-Encoding": {"identity"}}
			}
			r := c.RoundTrip(req)
			if r.HeadErr != nil {
				t.Fatalf("head error %v", r.HeadErr)
			}
			if !tc.tooLarge {
				if r.BodyErr != nil || len(r.Body) != limit {
					t.Fatalf("body of %d bytes, error %v; want %d bytes", len(r.Body), r.BodyErr, limit)
				}
				return
			}
			var tl *BodyTooLargeError
			if !errors.As(r.BodyErr, &tl) || !errors.Is(r.BodyErr, ErrBodyTooLarge) || tl.Limit != limit || tl.ContentLength != tc.announced {
				t.Fatalf("error %v, want a BodyTooLargeError{%d, %d}", r.BodyErr, limit, tc.announced)
			}
			if !strings.Contains(r.BodyErr.Error(), strconv.Itoa(limit)) {
				t.Errorf("error %q does not name the limit", r.BodyErr)
			}
			if r.Keep || r.Body != nil {
				t.Errorf("keep %v, body of %d bytes: a body over the limit is dropped with its connection", r.Keep, len(r.Body))
			}
			// The client stopped reading at the limit (plus what one read
			// brought beyond it).
			if max := int64(len(tc.resp)) + limit + 2*1500; nc.read > max {
				t.Errorf("read %d bytes, want at most %d", nc.read, max)
			}
			if cap(c.body) > limit+1 {
				t.Errorf("kept a body buffer of %d bytes", cap(c.body))
			}
		})
	}
}

func gzipResponse(body string) string {
	gz := h1test.Gzipped(body)
	return "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n" + gz
}
