// Package redact keeps secrets out of everything driftload prints or writes:
// URL passwords, secret-looking query parameters, API keys and header values.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a secret's value.
const Mask = "[redacted]"

// secretParams are query parameter names (lower case, with '-' and '_'
// removed) whose values are secrets.
var secretParams = []string{
	"key", "apikey", "xapikey", "token", "accesstoken", "idtoken", "refreshtoken", "authtoken",
	"secret", "clientsecret", "password", "passwd", "pwd", "pass", "auth", "authorization",
	"signature", "sig", "credential", "credentials", "session", "sessionid", "jwt", "bearer",
	"privatekey", "xamzsignature", "xamzcredential", "xamzsecuritytoken", "code",
}

// SecretParam reports whether a query parameter's value is a secret: its
// name, without '-' and '_', is a known secret name or ends in one of
// "key", "token", "secret", "password".
func SecretParam(name string) bool {
	n := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name))
	for _, s := range secretParams {
		if n == s {
			return true
		}
	}
	for _, suffix := range []string{"key", "token", "secret", "password"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// URL returns raw with its password and the values of secret query
// parameters replaced by Mask; a string that does not parse as a URL is
// returned with anything between "://" and "@" masked.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return maskUserinfo(raw)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
	}
	if u.RawQuery != "" {
		u.RawQuery = query(u.RawQuery)
	}
	return strings.Replace(u.String(), url.QueryEscape(Mask), Mask, -1)
}

// query masks the secret parameters of a raw query, keeping the order and
// every other byte.
func query(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if hasValue && SecretParam(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + Mask
		}
	}
	return strings.Join(parts, "&")
}

// maskUserinfo masks what lies between "://" and the next "@" before any "/".
func maskUserinfo(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return s
	}
	return s[:i+3] + Mask + rest[at:]
}

// Secrets collects the secret values found in URLs and given directly
// (API keys), so free text such as an error message can be cleaned with
// Text.
func Secrets(urls []string, values ...string) []string {
	var out []string
	add := func(v string) {
		if len(v) >= 3 && v != Mask {
			out = append(out, v)
		}
	}
	for _, v := range values {
		add(v)
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				add(p)
				add(url.QueryEscape(p))
			}
		}
		for name, vs := range u.Query() {
			if SecretParam(name) {
				for _, v := range vs {
					add(v)
					add(url.QueryEscape(v))
				}
			}
		}
	}
	return out
}

// Text replaces every occurrence of each secret in s by Mask.
func Text(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return s
}
