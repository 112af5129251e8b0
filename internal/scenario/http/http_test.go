package http

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const u = "http://127.0.0.1:8080/healthz"
	cases := []struct {
		name    string
		args    Args
		want    *Request
		wantErr string // substring of the error; "" means success
	}{
		{"plain GET", Args{Method: "GET", URL: u},
			&Request{Method: "GET", URL: u, Header: http.Header{}}, ""},
		{"lower-case method", Args{Method: "post", URL: u},
			&Request{Method: "POST", URL: u, Header: http.Header{}}, ""},
		{"extension method", Args{Method: "PURGE", URL: u},
			&Request{Method: "PURGE", URL: u, Header: http.Header{}}, ""},
		{"body from file", Args{Method: "POST", URL: u, Body: "@" + bodyFile},
			&Request{Method: "POST", URL: u, Header: http.Header{}, Body: []byte(`{"a":1}`)}, ""},
		{"empty body file sends an empty body", Args{Method: "POST", URL: u, Body: "@" + emptyFile},
			&Request{Method: "POST", URL: u, Header: http.Header{}, Body: []byte{}}, ""},
		{"literal body", Args{Method: "PUT", URL: u, Body: "hello"},
			&Request{Method: "PUT", URL: u, Header: http.Header{}, Body: []byte("hello")}, ""},
		{"headers, repeated key kept twice", Args{Method: "GET", URL: u, Headers: []string{
			"content-type: application/json", "X-Tag: a", "X-Tag:b", "X-Empty:", "Authorization: Bearer a:b"}},
			&Request{Method: "GET", URL: u, Header: http.Header{
				"Content-Type": {"application/json"}, "X-Tag": {"a", "b"}, "X-Empty": {""}, "Authorization": {"Bearer a:b"}}}, ""},
		{"header value with a tab and non-ASCII text", Args{Method: "GET", URL: u, Headers: []string{"X-Tag: a\tcafé"}},
			&Request{Method: "GET", URL: u, Header: http.Header{"X-Tag": {"a\tcafé"}}}, ""},
		{"expect list", Args{Method: "GET", URL: u, Expect: "200, 404"},
			&Request{Method: "GET", URL: u, Header: http.Header{}, Expect: []int{200, 404}}, ""},
		{"think", Args{Method: "GET", URL: u, Think: time.Second},
			&Request{Method: "GET", URL: u, Header: http.Header{}, Think: time.Second}, ""},

		{"empty method", Args{Method: "", URL: u}, nil, "method"},
		{"method with a space", Args{Method: "GE T", URL: u}, nil, "method"},
		{"method with a slash", Args{Method: "GET/", URL: u}, nil, "method"},
		{"relative URL", Args{Method: "GET", URL: "/healthz"}, nil, "URL"},
		{"ftp URL", Args{Method: "GET", URL: "ftp://host/x"}, nil, "URL"},
		{"URL without host", Args{Method: "GET", URL: "http:///x"}, nil, "URL"},
		{"unparsable URL", Args{Method: "GET", URL: "http://[::1"}, nil, "URL"},
		{"header without colon", Args{Method: "GET", URL: u, Headers: []string{"X-Tag a"}}, nil, "-H"},
		{"header with empty key", Args{Method: "GET", URL: u, Headers: []string{": a"}}, nil, "-H"},
		{"header key with a space", Args{Method: "GET", URL: u, Headers: []string{"X Tag: a"}}, nil, "-H"},
		{"header value with CR LF", Args{Method: "GET", URL: u, Headers: []string{"X-Tag: a\r\nEvil: 1"}}, nil, "CR"},
		{"header value with a control character", Args{Method: "GET", URL: u, Headers: []string{"X-Tag: a\x01b"}}, nil, "control character"},
		{"header value with DEL", Args{Method: "GET", URL: u, Headers: []string{"X-Tag: a\x7fb"}}, nil, "control character"},
		{"header value with NUL", Args{Method: "GET", URL: u, Headers: []string{"X-Tag: a\x00b"}}, nil, "NUL"},
		{"Host header", Args{Method: "GET", URL: u, Headers: []string{"host: example.com"}}, nil, "Host"},
		{"missing body file", Args{Method: "POST", URL: u, Body: "@" + filepath.Join(dir, "nope")}, nil, "no such file"},
		{"body file name with a newline, quoted", Args{Method: "POST", URL: u, Body: "@" + filepath.Join(dir, "no\nfile")}, nil,
			"--body " + strconv.Quote("@"+filepath.Join(dir, "no\nfile")) + ": no such file"},
		{"body @ without file", Args{Method: "POST", URL: u, Body: "@"}, nil, "@FILE"},
		{"body file is a directory", Args{Method: "POST", URL: u, Body: "@" + dir}, nil, "--body"},
		{"expect not a number", Args{Method: "GET", URL: u, Expect: "200,ok"}, nil, "--expect"},
		{"expect out of range", Args{Method: "GET", URL: u, Expect: "99"}, nil, "--expect"},
		{"expect empty item", Args{Method: "GET", URL: u, Expect: "200,"}, nil, "--expect"},
		{"negative think", Args{Method: "GET", URL: u, Think: -time.Second}, nil, "--think"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.args)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error must be one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestHTTPCheckName(t *testing.T) {
	cases := []struct {
		expect []int
		want   string
	}{
		{nil, "status 2xx/3xx"},
		{[]int{201}, "status 201"},
		{[]int{200, 404}, "status 200,404"},
	}
	for _, c := range cases {
		if got := (&Request{Expect: c.expect}).checkName(); got != c.want {
			t.Errorf("expect %v: check %q, want %q", c.expect, got, c.want)
		}
	}
}

// seen is what a test server observed of the requests it received.
type seen struct {
	n                    atomic.Int64
	method, body, header atomic.Value
}

func recordingServer(t testing.TB, status int) (*httptest.Server, *seen) {
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.method.Store(r.Method)
		s.body.Store(string(b))
		s.header.Store(strings.Join(r.Header.Values("X-Tag"), "|"))
		s.n.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

// newTestVU is a VU of a one-VU run against the loopback.
func newTestVU(reg *metrics.Registry) (*runner.VU, *runner.Client) {
	client := runner.NewClient(runner.ClientOptions{MaxVUs: 1, Timeout: 5 * time.Second})
	return runner.NewVU(1, 1, client, reg, runner.DefineBuiltins(reg)), client
}

// The iteration sends exactly what the options describe and judges the
// status by --expect (default 2xx/3xx), in the check and in http_req_failed.
func TestHTTPIteration(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		expect   []int
		wantPass bool
	}{
		{"200 by default", 200, nil, true},
		{"302 by default", 302, nil, true},
		{"404 by default", 404, nil, false},
		{"404 expected", 404, []int{200, 404}, true},
		{"200 not expected", 200, []int{201}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, s := recordingServer(t, c.status)
			reg := metrics.NewRegistry()
			opts := &Request{
				Method: "POST", URL: srv.URL + "/x?q=1", Body: []byte("payload"),
				Header: http.Header{"X-Tag": {"a", "b"}}, Expect: c.expect,
			}
			inst, err := newHTTP(scenario.Env{BaseURL: srv.URL, Options: &Options{Request: opts}}, reg)
			if err != nil {
				t.Fatal(err)
			}
			vu, client := newTestVU(reg)
			defer client.Close()
			inst.SetupVU(vu)
			const iterations = 3
			for range iterations {
				inst.Iteration(context.Background(), vu)
			}
			vu.Recorder.Flush()
			snap := reg.Snapshot()

			if s.n.Load() != iterations || s.method.Load() != "POST" || s.body.Load() != "payload" || s.header.Load() != "a|b" {
				t.Fatalf("server saw %d requests, method %v body %v X-Tag %v; want %d POST payload a|b",
					s.n.Load(), s.method.Load(), s.body.Load(), s.header.Load(), iterations)
			}
			checks, _ := snap.Sink("checks", metrics.Tags{{Key: "check", Value: opts.checkName()}})
			failed, _ := snap.Sink("http_req_failed", metrics.Tags{{Key: "endpoint", Value: "http"}, {Key: "scenario", Value: "http"}})
			reqs, _ := snap.Sink("http_reqs", nil)
			if checks == nil || failed == nil || reqs == nil || reqs.Count != iterations {
				t.Fatalf("missing samples: checks %v failed %v reqs %v", checks, failed, reqs)
			}
			wantChecks, wantFailed := int64(0), int64(iterations)
			if c.wantPass {
				wantChecks, wantFailed = iterations, 0
			}
			if checks.Trues != wantChecks || failed.Trues != wantFailed {
				t.Errorf("check passes %d, http_req_failed %d; want %d and %d", checks.Trues, failed.Trues, wantChecks, wantFailed)
			}
		})
	}
}

func TestHTTPNeedsOptions(t *testing.T) {
	if _, err := newHTTP(scenario.Env{}, metrics.NewRegistry()); err == nil {
		t.Fatal("newHTTP without options must fail")
	}
}

// A canceled iteration sends nothing and records no check.
func TestHTTPIterationCanceled(t *testing.T) {
	srv, s := recordingServer(t, 200)
	reg := metrics.NewRegistry()
	inst, err := newHTTP(scenario.Env{Options: &Options{Request: &Request{Method: "GET", URL: srv.URL}}}, reg)
	if err != nil {
		t.Fatal(err)
	}
	vu, client := newTestVU(reg)
	defer client.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inst.Iteration(ctx, vu)
	vu.Recorder.Flush()
	if n := s.n.Load(); n != 0 {
		t.Fatalf("server saw %d requests after cancel, want 0", n)
	}
	if c, ok := reg.Snapshot().Sink("checks", nil); ok && c.Count != 0 {
		t.Fatalf("%d checks recorded for a canceled iteration", c.Count)
	}
}

// BenchmarkHTTPIteration is one http iteration (vu.Do with full phase
// timing, HDR recording and the check) against a loopback server; profile
// it with -cpuprofile and look at everything outside net/http's server.
func BenchmarkHTTPIteration(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
	}{{"GET", nil}, {"POST20KB", bytes.Repeat([]byte("x"), 20<<10)}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				_, _ = io.WriteString(w, "ok")
			}))
			defer srv.Close()
			method := "GET"
			if bc.body != nil {
				method = "POST"
			}
			reg := metrics.NewRegistry()
			inst, err := newHTTP(scenario.Env{Options: &Options{Request: &Request{Method: method, URL: srv.URL + "/healthz", Body: bc.body}}}, reg)
			if err != nil {
				b.Fatal(err)
			}
			vu, client := newTestVU(reg)
			defer client.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				inst.Iteration(ctx, vu)
			}
		})
	}
}

// A malformed -H never echoes the header's value: it may be a credential.
func TestHeaderErrorsHideValues(t *testing.T) {
	for _, line := range []string{"Authorization Bearer s3cr3tvalue", "X-Key: s3cr3tvalue\r\nX-Other: 1", "Host: s3cr3tvalue", ": s3cr3tvalue"} {
		_, err := ParseHeaders([]string{line})
		if err == nil {
			t.Errorf("%q accepted", line)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3tvalue") {
			t.Errorf("%q: error shows the value: %v", line, err)
		}
	}
}
