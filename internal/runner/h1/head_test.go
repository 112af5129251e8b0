package h1

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/driftload/driftload/internal/runner/h1/h1test"
)

// FuzzScanHead holds scanHead, the allocation-free check of a response
// head, to parseHead, the parser it stands in for: a head scanHead takes
// parseHead takes too, with the same status, version and framing field
// values; the only valid heads scanHead leaves to parseHead are folded ones.
func FuzzScanHead(f *testing.F) {
	for _, fr := range h1test.Framings() {
		f.Add([]byte(fr.Resp))
	}
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length:  7 \r\nTrailer: a, b\r\n\r\n",
		"HTTP/1.0 204  No\r\nx y: z\r\ncontent-length: 1\r\nCONTENT-LENGTH: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
		"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nTransfer-Encoding: gzip\n\n",
	} {
		f.Add([]byte(s))
	}
	folded := regexp.MustCompile(`\n[ \t]`)
	f.Fuzz(func(t *testing.T, b []byte) {
		n := headEnd(b, 0)
		if n < 0 {
			return
		}
		head := b[:n]
		var fast fields
		status, version, ok := scanHead(head, &fast)
		wantStatus, wantVersion, header, err := parseHead(string(head))
		if !ok {
			if err == nil && !folded.Match(head) {
				t.Fatalf("head %q: scanHead refused a head without folded lines that parseHead takes", head)
			}
			return
		}
		if err != nil {
			t.Fatalf("head %q: scanHead took it, parseHead: %v", head, err)
		}
		if status != wantStatus || version != wantVersion {
			t.Fatalf("head %q: scanHead %d %v, parseHead %d %v", head, status, version, wantStatus, wantVersion)
		}
		var slow fields
		slow.fromHeader(header, nil)
		for kind := range numFraming {
			if got, want := fast.strings(kind), slow.strings(kind); !reflect.DeepEqual(got, want) {
				t.Fatalf("head %q: %s values %q, parseHead's %q", head, framingNames[kind], got, want)
			}
		}
	})
}

// The header map a response hands back is built on the first call of
// Header, after the framing's edits, and is the map of a head parsed at
// once (a folded line makes h1 parse it at once).
func TestHeaderBuiltLazilyWithTheFramingsEdits(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	for _, tc := range []struct {
		name, head, body string
		gz               bool
		want             http.Header
	}{
		{"connection close is dropped", ok + "Connection: close\r\nContent-Length: 2\r\n", "ok", false,
			http.Header{"Content-Length": {"2"}}},
		{"duplicate lengths collapse", ok + "Content-Length: 2\r\nContent-Length: 2\r\nX-A: 1\r\nX-A: 2\r\n", "ok", false,
			http.Header{"Content-Length": {"2"}, "X-A": {"1", "2"}}},
		{"chunked drops Transfer-Encoding, Content-Length and Trailer", ok + "Transfer-Encoding: chunked\r\nTrailer: X-Sum\r\nContent-Length: 9\r\n", "2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n", false,
			http.Header{}},
		{"decompressed drops Content-Encoding and Content-Length", ok + "Content-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(h1test.Gzipped("ok"))) + "\r\nEtag: x\r\n", h1test.Gzipped("ok"), true,
			http.Header{"Etag": {"x"}}},
		{"non-canonical names are canonicalised", ok + "x-request-id: 7\r\ncontent-length: 2\r\n", "ok", false,
			http.Header{"X-Request-Id": {"7"}, "Content-Length": {"2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, fold := range []bool{false, true} {
				head := tc.head
				want := tc.want.Clone()
				if fold {
					head += "X-Folded: a\r\n b\r\n"
					want["X-Folded"] = []string{"a b"}
				}
				c := NewConn(&memConn{data: []byte(head + "\r\n" + tc.body)}, URL{Authority: "h"}, &Config{}, nil)
				c.readResponse("GET", tc.gz)
				r := &c.resp
				if r.HeadErr != nil || r.BodyErr != nil {
					t.Fatalf("folded %v: %v %v", fold, r.HeadErr, r.BodyErr)
				}
				if lazy := r.header == nil; lazy == fold {
					t.Errorf("folded %v: map built at once: %v, want %v", fold, !lazy, fold)
				}
				if got := r.Header(); !reflect.DeepEqual(got, want) {
					t.Errorf("folded %v: header %v, want %v", fold, got, want)
				}
				if again := r.Header(); !reflect.DeepEqual(again, want) {
					t.Errorf("folded %v: second call %v, want %v", fold, again, want)
				}
			}
		})
	}
}
