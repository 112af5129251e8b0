package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/runner/h1/h1test"
)

// FuzzResponseParser feeds arbitrary bytes as a server's response to a Conn
// and to net/http (http.ReadResponse, skipping 1xx responses as the
// Transport does, then the body read with the same limit), and requires the
// same outcome: both fail, or both succeed with the same status, version,
// header map and body.
//
// h1 is stricter than net/http in these cases only:
//
//   - A status code with a sign ("HTTP/1.1 +20 OK", "HTTP/1.1 -00 OK"):
//     net/http parses the code with strconv.Atoi, which takes a sign, and
//     rejects only negative results. RFC 9112 has status-code = 3DIGIT, and
//     no server sends a sign; h1 rejects it.
//
// The fuzz input also picks the method (HEAD or GET), how many bytes each
// read returns (exercising every buffer boundary) and the body limit.
func FuzzResponseParser(f *testing.F) {
	for _, fr := range h1test.Framings() {
		f.Add([]byte(fr.Resp), fr.Method == "HEAD", uint8(0), uint16(0))
		f.Add([]byte(fr.Resp), fr.Method == "HEAD", uint8(3), uint16(8))
	}
	f.Fuzz(func(t *testing.T, resp []byte, head bool, chunk uint8, limit uint16) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		max := int64(limit)
		if max == 0 {
			max = 1 << 20
		}
		want := readReference(resp, method, max)
		got := readH1(resp, method, int(chunk), max)
		if (got.err == nil) != (want.err == nil) {
			if want.err == nil && stricterThanNetHTTP(got.err) {
				return
			}
			t.Fatalf("response %q (%s, limit %d):\nh1:       %v\nnet/http: %v", resp, method, max, got.err, want.err)
		}
		if got.err != nil {
			return
		}
		if got.status != want.status || got.proto != want.proto || !bytes.Equal(got.body, want.body) || !reflect.DeepEqual(got.header, want.header) {
			t.Fatalf("response %q (%s, limit %d):\nh1:       %d %s %v %q\nnet/http: %d %s %v %q", resp, method, max,
				got.status, got.proto, got.header, got.body, want.status, want.proto, want.header, want.body)
		}
	})
}

type readOutcome struct {
	status int
	proto  string
	header http.Header
	body   []byte
	err    error
}

func readH1(resp []byte, method string, chunk int, limit int64) readOutcome {
	c := NewConn(&memConn{data: resp, chunk: chunk}, URL{Authority: "h"}, &Config{MaxBody: limit}, nil)
	c.readResponse(method, false)
	r := &c.resp
	if r.HeadErr != nil {
		return readOutcome{err: r.HeadErr}
	}
	if r.BodyErr != nil {
		return readOutcome{err: r.BodyErr}
	}
	return readOutcome{status: r.Status, proto: r.Proto, header: r.Header(), body: r.Body}
}

// readReference reads resp as net/http's Transport does, with its default
// 4 KiB read buffer. The Transport's bound on the header bytes of 1xx and
// final responses together (10 MiB) is not modelled: fuzz inputs are small.
func readReference(resp []byte, method string, limit int64) readOutcome {
	br := bufio.NewReader(bytes.NewReader(resp))
	req := &http.Request{Method: method}
	for {
		r, err := http.ReadResponse(br, req)
		if err != nil {
			return readOutcome{err: err}
		}
		if r.StatusCode >= 100 && r.StatusCode <= 199 && r.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		r.Body.Close()
		if err == nil && int64(len(body)) > limit {
			err = ErrBodyTooLarge
		}
		if err != nil {
			return readOutcome{err: err}
		}
		return readOutcome{status: r.StatusCode, proto: r.Proto, header: r.Header, body: body}
	}
}

// stricterThanNetHTTP reports whether err is one of the documented cases
// where h1 rejects what net/http accepts.
func stricterThanNetHTTP(err error) bool {
	var m *MalformedError
	return errors.As(err, &m) && (strings.Contains(err.Error(), `malformed HTTP status code "+`) ||
		strings.Contains(err.Error(), `malformed HTTP status code "-`))
}
