package h1

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Responses where h1 once read differently from net/http (found by reading
// net/http's source and by FuzzResponseParser): both must agree, on the
// outcome given here.
func TestReadsEdgeCasesLikeNetHTTP(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	chunked := ok + "Transfer-Encoding: chunked\r\n\r\n"
	for _, tc := range []struct {
		name   string
		resp   string
		ok     bool
		header http.Header // when ok and not nil: the header map
		body   string
	}{
		{"chunk line with a bare LF", chunked + "3\nabc\r\n0\r\n\r\n", false, nil, ""},
		{"chunk line with a CR inside", chunked + "3\r\r\nabc\r\n0\r\n\r\n", false, nil, ""},
		{"last chunk line with a bare LF", chunked + "0\n\r\n", false, nil, ""},
		{"chunk extension", chunked + "3;name=value\r\nabc\r\n0\r\n\r\n", true, nil, "abc"},
		{"white space before a chunk extension", chunked + "3 ;x\r\nabc\r\n0\r\n\r\n", false, nil, ""},
		{"white space after the size", chunked + "3 \t\r\nabc\r\n0\r\n\r\n", true, nil, "abc"},
		{"chunk line at net/http's buffer size", chunked + "3;" + strings.Repeat("x", 4092) + "\r\nabc\r\n0\r\n\r\n", true, nil, "abc"},
		{"chunk line beyond net/http's buffer size", chunked + "3;" + strings.Repeat("x", 4093) + "\r\nabc\r\n0\r\n\r\n", false, nil, ""},
		{"chunk lines dwarfing the data", chunked + strings.Repeat("1;"+strings.Repeat("e", 100)+"\r\nx\r\n", 200) + "0\r\n\r\n", false, nil, ""},
		{"trailer", chunked + "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", true, nil, "abc"},
		{"trailer field without a colon", chunked + "3\r\nabc\r\n0\r\nX-Sum\r\n\r\n", false, nil, ""},
		{"trailer with a control byte", chunked + "3\r\nabc\r\n0\r\nX-Sum: \x01\r\n\r\n", false, nil, ""},
		{"trailer ended by a bare LF at EOF", chunked + "3\r\nabc\r\n0\r\n\n", false, nil, ""},
		{"trailer section of one bare LF", chunked + "3\r\nabc\r\n0\r\n\nX\r\n\r\n", true, nil, "abc"},
		{"trailer without CRLF CRLF in 4 KiB", chunked + "3\r\nabc\r\n0\r\nX: " + strings.Repeat("y", 4096) + "\r\n\r\n", false, nil, ""},
		{"truncated trailer", chunked + "3\r\nabc\r\n0\r\n", false, nil, ""},
		{"Trailer announcing Content-Length", ok + "Trailer: X-Sum, Content-Length\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, nil, ""},
		{"Trailer without chunking is kept", ok + "Trailer: Content-Length\r\nContent-Length: 2\r\n\r\nok", true, http.Header{"Trailer": {"Content-Length"}, "Content-Length": {"2"}}, "ok"},
		{"folded line with a control byte", ok + "X-A: a\r\n b\x01\r\nContent-Length: 0\r\n\r\n", false, nil, ""},
		{"folded onto an empty value", ok + "X-A:\r\n  b\r\nContent-Length: 0\r\n\r\n", true, http.Header{"X-A": {"b"}, "Content-Length": {"0"}}, ""},
		{"folded empty line", ok + "X-A: a\r\n \r\nContent-Length: 0\r\n\r\n", true, http.Header{"X-A": {"a "}, "Content-Length": {"0"}}, ""},
		{"Pragma: no-cache implies Cache-Control", ok + "Pragma: no-cache\r\nContent-Length: 0\r\n\r\n", true, http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"no-cache"}, "Content-Length": {"0"}}, ""},
		{"non-ASCII case folding of chunked", ok + "Transfer-Encoding: chun\u212aed\r\n\r\n0\r\n\r\n", false, nil, ""},
		{"Unicode space around a length", ok + "Content-Length: 2\u0085\r\n\r\nok", false, nil, ""},
		{"six informational responses", strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6) + ok + "Content-Length: 2\r\n\r\nok", true, nil, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 7} {
				got := readH1([]byte(tc.resp), "GET", chunk, 1<<20)
				want := readReference([]byte(tc.resp), "GET", 1<<20)
				if (got.err == nil) != tc.ok || (want.err == nil) != tc.ok {
					t.Fatalf("reads of %d bytes: h1 error %v, net/http error %v; want success %v", chunk, got.err, want.err, tc.ok)
				}
				if !tc.ok {
					continue
				}
				if got.status != want.status || string(got.body) != string(want.body) || !reflect.DeepEqual(got.header, want.header) {
					t.Fatalf("reads of %d bytes: h1 %d %v %q, net/http %d %v %q", chunk, got.status, got.header, got.body, want.status, want.header, want.body)
				}
				if string(got.body) != tc.body || tc.header != nil && !reflect.DeepEqual(got.header, tc.header) {
					t.Fatalf("reads of %d bytes: %v %q, want %v %q", chunk, got.header, got.body, tc.header, tc.body)
				}
			}
		})
	}
}

// h1 is stricter than net/http in the cases FuzzResponseParser documents.
func TestStricterThanNetHTTP(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
	}{{"+20", 20}, {"-00", 0}} {
		resp := []byte("HTTP/1.1 " + tc.code + " OK\r\nContent-Length: 0\r\n\r\n")
		if want := readReference(resp, "GET", 100); want.err != nil || want.status != tc.status {
			t.Errorf("net/http: %d %v, want it to accept status %s", want.status, want.err, tc.code)
		}
		if got := readH1(resp, "GET", 0, 100); !stricterThanNetHTTP(got.err) {
			t.Errorf("h1: %v, want a malformed status code for %s", got.err, tc.code)
		}
	}
}
