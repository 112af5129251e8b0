package gen

import (
	"math"
	"strings"
	"testing"
)

func TestStreamIDsAreUniqueAcrossVUsIterationsAndRuns(t *testing.T) {
	t.Parallel()
	runs := []RunID{NewRunID(), NewRunID()}
	if runs[0] == runs[1] {
		t.Fatalf("two NewRunID calls gave %q twice", runs[0])
	}
	seen := make(map[string]struct{}, 2*200*100)
	for _, run := range runs {
		for vu := range 200 {
			for iter := range 100 {
				id := StreamID("load-test-stream", run, vu, iter)
				if !ValidStreamID(id) {
					t.Fatalf("StreamID(%q, %d, %d) = %q is not a slug of at most %d characters", run, vu, iter, id, MaxStreamIDLen)
				}
				if _, dup := seen[id]; dup {
					t.Fatalf("stream id %q produced twice", id)
				}
				seen[id] = struct{}{}
			}
		}
	}
}

func TestStreamIDFormat(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("p", 100)
	tests := []struct {
		name   string
		prefix string
		run    RunID
		parts  []int
		want   string
	}{
		{"documented example", "stream", "k3f9a2", []int{4, 7}, "stream-k3f9a2-4-7"},
		{"no parts", "stream", "k3f9a2", nil, "stream-k3f9a2"},
		{"no prefix", "", "k3f9a2", []int{1}, "k3f9a2-1"},
		{"no run", "stream", "", []int{1, 2}, "stream-1-2"},
		{"prefix made a slug", "Load Test_Stream", "ab", []int{3}, "load-test-stream-ab-3"},
		{"invalid run characters replaced", "s", "AB.c", nil, "s-ab-c"},
		{"negative part", "s", "ab", []int{-12, 3}, "s-ab-n12-3"},
		{"min int", "s", "ab", []int{math.MinInt64}, "s-ab-n9223372036854775808"},
		{"long prefix shortened", long, "abcdefgh", []int{1234}, long[:64-len("-abcdefgh-1234")] + "-abcdefgh-1234"},
		{"prefix cut to the room left", "stream", "ab", []int{math.MaxInt64, math.MaxInt64, 1e15}, "stre-ab-9223372036854775807-9223372036854775807-1000000000000000"},
		{"prefix dropped when no room", "stream", "abc", []int{math.MaxInt64, math.MaxInt64, 1e18}, "abc-9223372036854775807-9223372036854775807-1000000000000000000"},
	}
	for _, tt := range tests {
		got := StreamID(tt.prefix, tt.run, tt.parts...)
		if got != tt.want {
			t.Errorf("%s: StreamID(%q, %q, %v) = %q, want %q", tt.name, tt.prefix, tt.run, tt.parts, got, tt.want)
		}
		if !ValidStreamID(got) {
			t.Errorf("%s: %q is not a valid stream id", tt.name, got)
		}
	}
}

func TestStreamIDHashesPartsThatCannotFit(t *testing.T) {
	t.Parallel()
	a := StreamID("stream", "abcdefgh", math.MaxInt64, math.MaxInt64, math.MaxInt64)
	b := StreamID("stream", "abcdefgh", math.MaxInt64, math.MaxInt64, math.MaxInt64-1)
	if a == b {
		t.Fatalf("distinct oversized parts share the id %q", a)
	}
	for _, id := range []string{a, b} {
		if !ValidStreamID(id) || !strings.HasPrefix(id, "stream-abcdefgh-x") || len(id) != len("stream-abcdefgh-x")+16 {
			t.Errorf("hashed id %q, want stream-abcdefgh-x<16 hex>", id)
		}
	}
}

func TestAppendStreamIDDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	buf := make([]byte, 0, 128)
	run := RunID("k3f9a2pq")
	vu, iter := 17, 12345
	if n := testing.AllocsPerRun(100, func() { buf = AppendStreamID(buf[:0], "stream", run, vu, iter/10) }); n != 0 {
		t.Errorf("AppendStreamID: %v allocations, want 0", n)
	}
}

func TestNewRunIDIsRandomBase32(t *testing.T) {
	t.Parallel()
	seen := map[RunID]bool{}
	for range 1000 {
		id := NewRunID()
		if len(id) != 8 || strings.Trim(string(id), base32Lower) != "" {
			t.Fatalf("NewRunID() = %q, want 8 characters of [a-z2-7]", id)
		}
		if _, err := ParseRunID(string(id)); err != nil {
			t.Fatalf("ParseRunID rejects NewRunID's %q: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("NewRunID repeated %q within 1000 calls", id)
		}
		seen[id] = true
	}
}

func TestParseRunID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"k3f9a2", true}, {"a", true}, {"0123456789abcdef", true},
		{"", false}, {"0123456789abcdefg", false}, {"ABC", false}, {"a-b", false}, {"é", false},
	}
	for _, tt := range tests {
		id, err := ParseRunID(tt.in)
		if (err == nil) != tt.ok || (tt.ok && string(id) != tt.in) {
			t.Errorf("ParseRunID(%q) = %q, %v; want ok=%v", tt.in, id, err, tt.ok)
		}
	}
}

func TestValidStreamID(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"stream-ab-1": true, "a": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "Stream": false, "a_b": false, "a b": false,
	}
	for in, want := range tests {
		if got := ValidStreamID(in); got != want {
			t.Errorf("ValidStreamID(%q) = %v, want %v", in, got, want)
		}
	}
}
