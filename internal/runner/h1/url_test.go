package h1

import (
	"net/http"
	"net/url"
	"testing"
)

func TestParseURLAgreesWithNetURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		fast bool
	}{
		{"http://127.0.0.1:8080/healthz", true},
		{"http://localhost:8080", true},
		{"http://example.com", true},
		{"http://example.com/", true},
		{"http://[::1]:8080/v1/detect?stream=a-b_c.d~e&x=1,2;3", true},
		{"http://[::1]/x", true},
		{"http://h:1/a%2Fb/%41%zz", false}, // invalid escape
		{"http://h:1/a%2Fb/%41", true},
		{"http://h:1/a!b$c&d'e(f)g*h+i,j;k=l:m@n", true},
		{"http://h:1/p?q=/?:@", true},
		{"http://my_host.internal:9000/x", true},
		{"http://h:1/a b", false},
		{"http://h:1/a#frag", false},
		{"http://user:pw@h:1/", false},
		{"http://h:1?q=1", false}, // net/url adds the "/"
		{"http://h:/x", false},
		{"http://:80/x", false},
		{"http://h:123456/x", false},
		{"http://h:1/ü", false},
		{"http://h:1/a\"b", false},
		{"http://h:1/a[b]", false},
		{"https://h:1/x", true},
		{"https://[::1]:8443", true},
		{"https://", false},
		{"https://user@h/", false},
		{"HTTP://h:1/x", false},
		{"HTTPS://h:1/x", false},
		{"ftp://h:1/x", false},
		{"http://", false},
		{"http://h:1/%", false},
	} {
		u, ok := ParseURL(tc.raw)
		if ok != tc.fast {
			t.Errorf("ParseURL(%q) ok = %v, want %v", tc.raw, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		nu, err := url.Parse(tc.raw)
		if err != nil {
			t.Errorf("%q: the fast path accepts what net/url rejects: %v", tc.raw, err)
			continue
		}
		if u.Authority != nu.Host || u.Target != nu.RequestURI() || u.TLS != (nu.Scheme == "https") {
			t.Errorf("%q: fast (%q, %q, TLS %v), net/url (%q, %q, %s)", tc.raw, u.Authority, u.Target, u.TLS, nu.Host, nu.RequestURI(), nu.Scheme)
		}
		if u.Host() != nu.Hostname() {
			t.Errorf("%q: Host %q, net/url's Hostname %q", tc.raw, u.Host(), nu.Hostname())
		}
	}
}

func TestAddrDefaultsToTheSchemesPort(t *testing.T) {
	for _, tc := range []struct {
		authority string
		tls       bool
		addr      string
	}{
		{"example.com", false, "example.com:80"},
		{"example.com:8080", false, "example.com:8080"},
		{"[::1]", false, "[::1]:80"},
		{"[::1]:9000", false, "[::1]:9000"},
		{"127.0.0.1", false, "127.0.0.1:80"},
		{"example.com", true, "example.com:443"},
		{"example.com:8443", true, "example.com:8443"},
		{"[::1]", true, "[::1]:443"},
	} {
		if got := (URL{Authority: tc.authority, TLS: tc.tls}).Addr(); got != tc.addr {
			t.Errorf("Addr of %q (TLS %v) = %q, want %q", tc.authority, tc.tls, got, tc.addr)
		}
	}
}

func TestValidTokenIsRFC9110Token(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"GET", true},
		{"get", true},
		{"X-Api-Key", true},
		{"!#$%&'*+-.^_`|~09azAZ", true},
		{"", false},
		{"X A", false},
		{"X:A", false},
		{"a\"b", false},
		{"(x)", false},
		{"ü", false},
		{"a\x00", false},
		{"a\x7f", false},
	} {
		if got := ValidToken(tc.s); got != tc.want {
			t.Errorf("ValidToken(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestSendable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		want   bool
	}{
		{"plain GET", "GET", nil, true},
		{"empty method is GET", "", nil, true},
		{"extension method", "PURGE", nil, true},
		{"headers", "POST", http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {"k"}}, true},
		{"lower-case method", "get", nil, false},
		{"CONNECT", "CONNECT", nil, false},
		{"non-canonical key", "GET", http.Header{"x-api-key": {"k"}}, false},
		{"Host", "GET", http.Header{"Host": {"other"}}, false},
		{"Te", "GET", http.Header{"Te": {"trailers"}}, false},
		{"newline in value", "GET", http.Header{"X-A": {"a\r\nb"}}, false},
		{"DEL in value", "GET", http.Header{"X-A": {"a\x7fb"}}, false},
		{"tab in value", "GET", http.Header{"X-A": {"a\tb"}}, true},
		{"invalid name", "GET", http.Header{"X A": {"a"}}, false},
	} {
		if got := Sendable(tc.method, tc.header); got != tc.want {
			t.Errorf("%s: Sendable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
