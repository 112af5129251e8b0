package http

import (
	"context"
	"errors"
	"github.com/driftload/driftload/internal/runner/h1"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/scenario"
)

// headerSeeds are -H lines of the tests and of the README, valid and invalid.
var headerSeeds = [][3]string{
	{"content-type: application/json", "X-Tag: a", "X-Tag:b"},
	{"X-Empty:", "Authorization: Bearer a:b", ""},
	{"Content-Type: application/json", "", ""},
	{"X-Tag a", ": a", "X Tag: a"},
	{"X-Tag: a\r\nEvil: 1", "", ""},
	{"host: example.com", "", ""},
	{"HOST : x", "X-Null: a\x00b", "X-Tab: a\tb"},
	{"X-Ctl: a\x01b", "X-Del: a\x7fb", "X-Utf8: café"},
	{" X-Trim :  spaced  ", "X-Unicode-Space: \u00a0v\u00a0", "Ké: v"},
}

// validFieldValue reports whether v is a field value net/http sends:
// no control character but HTAB, no DEL (RFC 9110, 5.5).
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkHeaders is every property of headers ParseHeaders accepted from
// lines: canonical token names other than Host, values without control
// characters, and every line present, in order.
func checkHeaders(t *testing.T, lines []string, h http.Header) {
	t.Helper()
	n := 0
	for k, vs := range h {
		if !h1.ValidToken(k) || http.CanonicalHeaderKey(k) != k {
			t.Fatalf("headers %q: name %q is not a canonical token", lines, k)
		}
		if k == "Host" {
			t.Fatalf("headers %q: Host accepted", lines)
		}
		for _, v := range vs {
			if strings.ContainsAny(k+v, "\r\n\x00") || !validFieldValue(v) {
				t.Fatalf("headers %q: %s: %q has a control character", lines, k, v)
			}
		}
		n += len(vs)
	}
	if n != len(lines) {
		t.Fatalf("headers %q: %d values, want one per line", lines, n)
	}
	want := http.Header{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		want.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	for k, vs := range want {
		if strings.Join(h[k], "\x00") != strings.Join(vs, "\x00") {
			t.Fatalf("headers %q: %s = %q, want %q", lines, k, h[k], vs)
		}
	}
	// net/http sends them: its transport checks the headers before it
	// dials, and a request it refuses fails every iteration of the run.
	req, err := http.NewRequest("GET", "http://127.0.0.1:1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	if _, err := noDialTransport.RoundTrip(req); !errors.Is(err, errNoDial) {
		t.Fatalf("headers %q: net/http refuses them: %v", lines, err)
	}
}

var errNoDial = errors.New("fuzz: no dial")

// noDialTransport is net/http's transport up to the dial, which it never makes.
var noDialTransport = &http.Transport{
	DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errNoDial },
}

// headerLines is one to three -H lines: a, then b and c when not empty.
func headerLines(a, b, c string) []string {
	lines := []string{a}
	for _, l := range []string{b, c} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// FuzzParseHeaders: parsing -H lines never panics; what it accepts is
// safe to send and is what was typed; an error is one line.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range headerSeeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		lines := headerLines(a, b, c)
		h, err := ParseHeaders(lines)
		if (h == nil) == (err == nil) {
			t.Fatalf("ParseHeaders(%q) = %v, %v: want exactly one of headers and error", lines, h, err)
		}
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") || !strings.HasPrefix(err.Error(), "-H ") {
				t.Fatalf("ParseHeaders(%q): error %q is not one line naming -H", lines, err)
			}
			return
		}
		checkHeaders(t, lines, h)
	})
}

// argsSeeds are command lines of the tests and of the README.
var argsSeeds = []struct {
	method, url, header, body, expect string
	think                             int64
}{
	{"GET", "http://127.0.0.1:8080/healthz", "", "", "", 0},
	{"post", "http://127.0.0.1:8080/v1/items", "Content-Type: application/json", "@item.json", "201", 0},
	{"PURGE", "https://example.test/x?q=1", "X-Tag: a", "hello", "200, 404", int64(time.Second)},
	{"GE T", "/healthz", "X Tag: a", "@", "200,ok", -1},
	{"GET/", "ftp://host/x", "host: example.com", "@missing", "99", 0},
	{"GET", "http:///x", "", "", "200,", 0},
	{"GET", "http://[::1", "", "", "", 0},
	{"", "http://127.0.0.1:8080/", "", "@\n", "600", 0},
	{"POST", "http://127.0.0.1:8080/", "", "@no\nfile", "", 0},
}

// FuzzParse: the whole command line (method, URL, one header, body,
// --expect, --think): parsing never panics; an accepted request has an
// upper-case token method, an http(s) URL with a host, safe headers and
// statuses 100–599; an error is one line.
func FuzzParse(f *testing.F) {
	for _, s := range argsSeeds {
		f.Add(s.method, s.url, s.header, s.body, s.expect, s.think)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "item.json"), []byte(`{"a":1}`), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, url, header, body, expect string, think int64) {
		// @FILE only ever reads inside dir: a name with no separator.
		if name, ok := strings.CutPrefix(body, "@"); ok && name != "" {
			body = "@" + filepath.Join(dir, filepath.Base(name))
		}
		var headers []string
		if header != "" {
			headers = []string{header}
		}
		a := Args{Method: method, URL: url, Headers: headers, Body: body, Expect: expect, Think: time.Duration(think)}
		r, err := Parse(a)
		if (r == nil) == (err == nil) {
			t.Fatalf("Parse(%+v) = %v, %v: want exactly one of request and error", a, r, err)
		}
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("Parse(%+v): error %q is not one line", a, err)
			}
			return
		}
		if !h1.ValidToken(r.Method) || r.Method != strings.ToUpper(method) {
			t.Fatalf("Parse(%+v): method %q", a, r.Method)
		}
		if _, err := scenario.CheckURL("URL", r.URL); err != nil || r.URL != url {
			t.Fatalf("Parse(%+v): URL %q (%v)", a, r.URL, err)
		}
		if _, err := http.NewRequest(r.Method, r.URL, nil); err != nil {
			t.Fatalf("Parse(%+v): net/http refuses method %q URL %q: %v", a, r.Method, r.URL, err)
		}
		checkHeaders(t, headers, r.Header)
		for _, s := range r.Expect {
			if s < 100 || s > 599 {
				t.Fatalf("Parse(%+v): expects status %d", a, s)
			}
		}
		if (len(r.Expect) == 0) != (strings.TrimSpace(expect) == "") {
			t.Fatalf("Parse(%+v): expect %v", a, r.Expect)
		}
		if r.Think < 0 || r.Think != a.Think {
			t.Fatalf("Parse(%+v): think %s", a, r.Think)
		}
		if !strings.HasPrefix(body, "@") && string(r.Body) != body {
			t.Fatalf("Parse(%+v): body %q", a, r.Body)
		}
	})
}
