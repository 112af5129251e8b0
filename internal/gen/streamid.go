package gen

import (
	crand "crypto/rand"
	"fmt"
)

// RunID identifies one run inside stream ids, so that streams of different
// runs (and of different machines running at once) never collide. It is
// random per run and deliberately not derived from the seed.
type RunID string

const (
	runIDLen     = 8     // characters produced by NewRunID
	maxRunIDLen  = 16    // longest RunID that ParseRunID accepts
	base32Lower  = alnum // [a-z2-7]
	hashedMarker = "x"   // starts the hashed-parts segment, see AppendStreamID
)

// MaxStreamIDLen is the longest stream id StreamID produces.
const MaxStreamIDLen = 64

// NewRunID returns a fresh random RunID of 8 lower-case base32 characters
// (40 bits from crypto/rand).
func NewRunID() RunID {
	var b [5]byte
	_, _ = crand.Read(b[:]) // never fails: crypto/rand crashes the program instead of returning an error
	x := uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
	var id [runIDLen]byte
	for i := range id {
		id[i] = base32Lower[x>>(5*(runIDLen-1-i))&31]
	}
	return RunID(id[:])
}

// ParseRunID accepts a user-given run id: 1 to 16 characters of [a-z0-9].
func ParseRunID(s string) (RunID, error) {
	if len(s) == 0 || len(s) > maxRunIDLen {
		return "", fmt.Errorf("gen: run id %q must have 1 to %d characters", s, maxRunIDLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "", fmt.Errorf("gen: run id %q may only hold a-z and 0-9", s)
		}
	}
	return RunID(s), nil
}

// StreamID returns "<prefix>-<run>-<parts joined by '-'>", e.g.
// StreamID("stream", run, vu, iter/10) == "stream-k3f9a2pq-4-7". See
// AppendStreamID for the rules.
func StreamID(prefix string, run RunID, parts ...int) string {
	var buf [MaxStreamIDLen]byte
	return string(AppendStreamID(buf[:0], prefix, run, parts...))
}

// AppendStreamID appends the stream id StreamID returns, without allocating
// when dst has room.
//
// The id is a slug: only [a-z0-9-], at most MaxStreamIDLen characters.
// Upper-case prefix letters are lowered and other characters of prefix and
// run become '-'; empty prefix or run segments are left out; a negative part
// is written "n<abs>" so it cannot be confused with the separator. Under one
// prefix, distinct (run, parts) give distinct ids: when the id would be too
// long the prefix is shortened or dropped, never the run or the parts. Only
// if run and parts alone exceed the limit are the parts replaced by
// "x<16 hex digits>" of a 64-bit hash of them (unique but for a 2^-64-scale
// collision chance).
func AppendStreamID(dst []byte, prefix string, run RunID, parts ...int) []byte {
	if len(run) > maxRunIDLen {
		run = run[:maxRunIDLen]
	}
	tail := len(run) // length of run and parts, with separators between them
	for i, p := range parts {
		if i > 0 || len(run) > 0 {
			tail++
		}
		tail += partLen(p)
	}
	hashed := tail > MaxStreamIDLen
	if hashed {
		tail = len(run) + len(hashedMarker) + 16
		if len(run) > 0 {
			tail++
		}
	}
	room := MaxStreamIDLen - tail
	if tail > 0 {
		room-- // the separator after the prefix
	}
	if len(prefix) > room {
		prefix = prefix[:max(room, 0)]
	}

	sep := false
	if len(prefix) > 0 {
		dst = appendSlug(dst, prefix)
		sep = true
	}
	if len(run) > 0 {
		if sep {
			dst = append(dst, '-')
		}
		dst = appendSlug(dst, string(run))
		sep = true
	}
	if hashed {
		if sep {
			dst = append(dst, '-')
		}
		dst = append(dst, hashedMarker...)
		return appendHex64(dst, hashParts(parts))
	}
	for _, p := range parts {
		if sep {
			dst = append(dst, '-')
		}
		sep = true
		if p < 0 {
			dst = appendUint(append(dst, 'n'), uint64(-int64(p)))
		} else {
			dst = appendUint(dst, uint64(p))
		}
	}
	return dst
}

// ValidStreamID reports whether s is a slug as AppendStreamID makes them:
// 1 to MaxStreamIDLen characters of [a-z0-9-].
func ValidStreamID(s string) bool {
	if len(s) == 0 || len(s) > MaxStreamIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// appendSlug appends s with A-Z lowered and anything outside [a-z0-9-]
// replaced by '-'.
func appendSlug(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		default:
			c = '-'
		}
		dst = append(dst, c)
	}
	return dst
}

// partLen is the number of characters p takes in a stream id.
func partLen(p int) int {
	n := 1
	u := uint64(p)
	if p < 0 {
		n++ // the 'n'
		u = uint64(-int64(p))
	}
	for u >= 10 {
		u /= 10
		n++
	}
	return n
}

// hashParts is FNV-1a over the parts' 64-bit values.
func hashParts(parts []int) uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, p := range parts {
		v := uint64(p)
		for range 8 {
			h ^= v & 0xff
			h *= 0x100000001b3
			v >>= 8
		}
	}
	return h
}
