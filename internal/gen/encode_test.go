package gen

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendJSONStringEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`say "hi"`, `"say \"hi\""`},
		{`C:\path`, `"C:\\path"`},
		{"a\nb\rc\td", `"a\nb\rc\td"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f<&>", "\"\x7f<&>\""},
		{"héllo ☃ 🚀", `"héllo ☃ 🚀"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"bad\xffutf8\xc3", `"bad\ufffdutf8\ufffd"`},
	}
	for _, tt := range tests {
		if got := string(AppendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\x00\n\t\u2028", "héllo 🚀", "\xff\xfe", "a\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendJSONString([]byte("x"), s)[1:]
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s is not a JSON string: %v", s, out, err)
		}
		ref, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("AppendJSONString(%q) decodes to %q, encoding/json round-trips to %q", s, got, want)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("valid UTF-8 %q decoded as %q", s, got)
		}
	})
}

func TestAppendFixed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    uint64
		dec  int
		want string
	}{
		{0, 2, "0.00"}, {5, 2, "0.05"}, {12345, 2, "123.45"}, {100, 2, "1.00"},
		{123456789, 8, "1.23456789"}, {99999999999999, 8, "999999.99999999"},
	}
	for _, tt := range tests {
		if got := string(appendFixed(nil, tt.v, tt.dec)); got != tt.want {
			t.Errorf("appendFixed(%d, %d) = %s, want %s", tt.v, tt.dec, got, tt.want)
		}
	}
}
