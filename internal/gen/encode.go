package gen

import (
	"math/rand/v2"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// jsonSafe[b] reports whether the ASCII byte b may appear unescaped inside a
// JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// AppendJSONString appends s to dst as a quoted JSON string and returns the
// extended slice. Quotes, backslashes and control characters are escaped,
// as are U+2028 and U+2029 (for JavaScript consumers); each byte of invalid
// UTF-8 becomes \ufffd, as encoding/json does. HTML characters are left as
// they are. Plain ASCII is copied in runs, so vocabulary-like strings cost
// little more than a copy.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendTimestamp appends t in UTC as RFC 3339 with milliseconds, e.g.
// 2025-01-02T15:04:05.123Z, without quotes. Years outside 0000–9999 fall back
// to time.Time.AppendFormat.
func AppendTimestamp(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	days := sec / 86400
	rem := sec - days*86400
	if rem < 0 {
		days--
		rem += 86400
	}
	y, m, d := civilFromDays(days)
	if y < 0 || y > 9999 {
		return t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	ms := t.Nanosecond() / 1e6
	hh, mm, ss := int(rem/3600), int(rem/60%60), int(rem%60)
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+hh/10), byte('0'+hh%10), ':',
		byte('0'+mm/10), byte('0'+mm%10), ':',
		byte('0'+ss/10), byte('0'+ss%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (H. Hinnant's days-to-civil algorithm).
func civilFromDays(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// appendUint appends v in decimal.
func appendUint(dst []byte, v uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

// appendInt appends v in decimal.
func appendInt(dst []byte, v int) []byte {
	if v < 0 {
		return appendUint(append(dst, '-'), uint64(-int64(v)))
	}
	return appendUint(dst, uint64(v))
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// appendFixed appends v / 10^dec as a decimal number with exactly dec
// fraction digits (dec in 1..9): appendFixed(dst, 12345, 2) writes 123.45.
// Values are generated as integers so no float formatting is needed.
func appendFixed(dst []byte, v uint64, dec int) []byte {
	p := pow10[dec]
	dst = appendUint(dst, v/p)
	dst = append(dst, '.')
	frac := v % p
	for q := p / 10; q > 0; q /= 10 {
		dst = append(dst, byte('0'+frac/q%10))
	}
	return dst
}

// appendHex64 appends x as 16 lower-case hex digits.
func appendHex64(dst []byte, x uint64) []byte {
	return append(dst,
		hexDigits[x>>60], hexDigits[x>>56&0xf], hexDigits[x>>52&0xf], hexDigits[x>>48&0xf],
		hexDigits[x>>44&0xf], hexDigits[x>>40&0xf], hexDigits[x>>36&0xf], hexDigits[x>>32&0xf],
		hexDigits[x>>28&0xf], hexDigits[x>>24&0xf], hexDigits[x>>20&0xf], hexDigits[x>>16&0xf],
		hexDigits[x>>12&0xf], hexDigits[x>>8&0xf], hexDigits[x>>4&0xf], hexDigits[x&0xf])
}

const alnum = "abcdefghijklmnopqrstuvwxyz234567" // 32 symbols: 5 bits each

// appendAlnum appends n random characters from [a-z2-7], twelve per
// r.Uint64.
func appendAlnum(dst []byte, r *rand.Rand, n int) []byte {
	for n > 0 {
		x := r.Uint64()
		k := min(n, 12)
		for range k {
			dst = append(dst, alnum[x&31])
			x >>= 5
		}
		n -= k
	}
	return dst
}

// between returns a uniform integer in [lo, hi].
func between(r *rand.Rand, lo, hi int) int {
	return lo + r.IntN(hi-lo+1)
}

// pick returns a uniformly chosen element of list.
func pick(r *rand.Rand, list []string) string {
	return list[r.IntN(len(list))]
}
