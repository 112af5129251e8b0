package h1

import (
	"net/http"
	"strings"
)

// URL is an http:// or https:// URL a Conn sends as it is.
type URL struct {
	// Authority is the URL's host[:port]: the Host header, and with TLS the
	// key a connection is reused by.
	Authority string
	// Target is the request-target: path and query, never empty.
	Target string
	// TLS is set for an https:// URL: its connection speaks TLS.
	TLS bool
}

// Addr is the address to dial for u: port 80 (443 with TLS) when the URL
// has none.
func (u URL) Addr() string {
	if strings.HasSuffix(u.Authority, "]") || strings.IndexByte(u.Authority, ':') < 0 {
		if u.TLS {
			return u.Authority + ":443"
		}
		return u.Authority + ":80"
	}
	return u.Authority
}

// Host is u's host without port and brackets ("::1" for "[::1]:8443"): the
// name a TLS connection verifies the server's certificate for and sends as
// SNI, as net/http's does.
func (u URL) Host() string {
	a := u.Authority
	if a != "" && a[0] == '[' {
		if end := strings.IndexByte(a, ']'); end > 0 {
			return a[1:end]
		}
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		return a[:i]
	}
	return a
}

// ParseURL accepts an http:// or https:// URL whose every byte net/url
// would keep as is: an ASCII host (name, IPv4 or [IPv6]) with an optional
// port, then an absolute path and query of unreserved, sub-delim, ':', '@',
// '/', '?' and valid %XX bytes. Anything else (userinfo, fragments, bytes
// net/url would escape, a query without a path, an upper-case scheme) is
// refused: net/http must send it.
func ParseURL(raw string) (URL, bool) {
	rest, secure := strings.CutPrefix(raw, "https://")
	if !secure {
		var ok bool
		if rest, ok = strings.CutPrefix(raw, "http://"); !ok {
			return URL{}, false
		}
	}
	if rest == "" {
		return URL{}, false
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		slash = len(rest)
	}
	authority, target := rest[:slash], rest[slash:]
	if !validAuthority(authority) {
		return URL{}, false
	}
	if target == "" {
		return URL{Authority: authority, Target: "/", TLS: secure}, true
	}
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c == '%' {
			if i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2]) {
				return URL{}, false
			}
			i += 2
			continue
		}
		if !uriByte[c] {
			return URL{}, false
		}
	}
	return URL{Authority: authority, Target: target, TLS: secure}, true
}

// byteSet is the set of ASCII letters, digits and the bytes of extra.
func byteSet(extra string) (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range extra {
		t[c] = true
	}
	return t
}

var (
	uriByte   = byteSet("-._~!$&'()*+,;=:@/?")
	tokenByte = byteSet("!#$%&'*+-.^_`|~")
)

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validAuthority accepts host, host:port, [v6] and [v6]:port with an ASCII
// host name and a non-empty decimal port.
func validAuthority(a string) bool {
	if a == "" {
		return false
	}
	host, port := a, ""
	if a[0] == '[' {
		end := strings.IndexByte(a, ']')
		if end < 2 {
			return false
		}
		for i := 1; i < end; i++ {
			if c := a[i]; !isHex(c) && c != ':' && c != '.' {
				return false
			}
		}
		host, port = "", a[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
			if port == "" {
				return false
			}
		}
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
		if port == "" {
			return false
		}
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	if a[0] != '[' && host == "" {
		return false
	}
	if len(port) > 5 {
		return false
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// ValidToken reports whether s is an RFC 9110 token (section 5.6.2): one or
// more of the ASCII letters, digits and !#$%&'*+-.^_`|~. Methods and header
// names are tokens.
func ValidToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

// Sendable reports whether a Conn sends a request with method and header
// exactly as net/http would: an upper-case method other than CONNECT ("" is
// GET), and headers with canonical, valid names, none of the fields net/http
// writes itself or acts on, and valid values.
func Sendable(method string, header http.Header) bool {
	return sendableMethod(method) && sendableHeader(header)
}

func sendableMethod(m string) bool {
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return m != "CONNECT"
}

func sendableHeader(h http.Header) bool {
	for k, vs := range h {
		if !ValidToken(k) || http.CanonicalHeaderKey(k) != k {
			return false
		}
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer", "Connection", "Expect", "Upgrade", "Te":
			return false
		}
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
					return false
				}
			}
		}
	}
	return true
}
