package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"https://user:hunter2@api.example.com/v1", "https://user:[redacted]@api.example.com/v1"},
		{"https://user@api.example.com", "https://user@api.example.com"},
		{"https://h/x?api_key=s3cr3t&n=1", "https://h/x?api_key=[redacted]&n=1"},
		{"https://h/x?n=1&token=abc&Access-Token=def&x-api-key=k1", "https://h/x?n=1&token=[redacted]&Access-Token=[redacted]&x-api-key=[redacted]"},
		{"https://h/x?stripe_secret=a&myKey=b&page=2", "https://h/x?stripe_secret=[redacted]&myKey=[redacted]&page=2"},
		{"http://a:b c@h:bad port/", "http://[redacted]@h:bad port/"},
	}
	for _, c := range cases {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTextRemovesEverySecretForm(t *testing.T) {
	raw := "https://u:p%40ss@h/x?api_key=k%2Fy&n=1"
	secrets := Secrets([]string{raw}, "dlk_live_key")
	msg := `Get "https://u:p%40ss@h/x?api_key=k%2Fy&n=1": dial tcp: refused; key dlk_live_key`
	got := Text(msg, secrets)
	for _, s := range []string{"p%40ss", "p@ss", "k%2Fy", "k/y", "dlk_live_key"} {
		if strings.Contains(got, s) {
			t.Errorf("%q still contains %q", got, s)
		}
	}
}
