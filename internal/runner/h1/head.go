package h1

// A response head without allocating: the status line and fields are
// checked in place (scanHead), the fields the framing decides on are kept
// as spans of the head's bytes, and the http.Header map is built only when
// Response.Header is called, from a copy of the head, by the same parser
// (parseHead) a head scanHead does not take is parsed with at once. The
// framing's changes to the map (a dropped Connection or Transfer-Encoding,
// collapsed Content-Lengths, ...) are recorded as edits and applied to the
// map when it is built, so it is the map net/http would hand back.

import (
	"bytes"
	"net/http"
)

// The fields framing reads, by kind.
const (
	fieldConnection = iota
	fieldTransferEncoding
	fieldContentLength
	fieldTrailer
	fieldContentEncoding
	numFraming
	fieldOther = numFraming
)

var framingNames = [numFraming]string{"Connection", "Transfer-Encoding", "Content-Length", "Trailer", "Content-Encoding"}

// framingKind returns the kind of a field name with no spaces in it.
func framingKind(k []byte) int {
	for kind, name := range framingNames {
		if len(k) == len(name) && asciiEqualFold(k, name) {
			return kind
		}
	}
	return fieldOther
}

// span is the value of one framing field: src[off:end] of its fields.
type span struct {
	kind     int
	off, end int
}

// fields are the values of a head's framing fields, in the head's order.
type fields struct {
	spans []span
	src   []byte
}

func (f *fields) count(kind int) int {
	n := 0
	for _, s := range f.spans {
		if s.kind == kind {
			n++
		}
	}
	return n
}

// first returns the first value of kind ("" when there is none).
func (f *fields) first(kind int) []byte {
	for _, s := range f.spans {
		if s.kind == kind {
			return f.src[s.off:s.end]
		}
	}
	return nil
}

// strings returns the values of kind, for an error message.
func (f *fields) strings(kind int) []string {
	var vs []string
	for _, s := range f.spans {
		if s.kind == kind {
			vs = append(vs, string(f.src[s.off:s.end]))
		}
	}
	return vs
}

// hasToken reports whether a comma-separated list in the values of kind
// holds token (ASCII case-insensitive), like
// httpguts.HeaderValuesContainsToken.
func (f *fields) hasToken(kind int, token string) bool {
	for _, s := range f.spans {
		if s.kind != kind {
			continue
		}
		for part := range bytes.SplitSeq(f.src[s.off:s.end], comma) {
			if asciiEqualFold(trimSpaceTab(part), token) {
				return true
			}
		}
	}
	return false
}

var comma = []byte(",")

// fromHeader sets f to the framing fields of a parsed header map, their
// values copied into buf (returned for reuse).
func (f *fields) fromHeader(h http.Header, buf []byte) []byte {
	f.spans, buf = f.spans[:0], buf[:0]
	for kind, name := range framingNames {
		for _, v := range h[name] {
			f.spans = append(f.spans, span{kind: kind, off: len(buf), end: len(buf) + len(v)})
			buf = append(buf, v...)
		}
	}
	f.src = buf
	return buf
}

// scanHead checks a response head (status line and fields up to the empty
// line) as parseHead would, and sets f to its framing fields, spans of b.
// ok is false for a head it does not take: a folded line, or anything
// parseHead would reject; parseHead then parses it (and words the error).
func scanHead(b []byte, f *fields) (status int, version [2]int, ok bool) {
	f.spans, f.src = f.spans[:0], b
	line, next := scanLine(b, 0)
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return 0, version, false
	}
	proto, st := line[:sp], line[sp+1:]
	for len(st) > 0 && st[0] == ' ' {
		st = st[1:]
	}
	code := st
	if i := bytes.IndexByte(st, ' '); i >= 0 {
		code = st[:i]
	}
	if len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return 0, version, false
	}
	status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	if len(proto) != 8 || string(proto[:5]) != "HTTP/" || !isDigit(proto[5]) || proto[6] != '.' || !isDigit(proto[7]) {
		return 0, version, false
	}
	version = [2]int{int(proto[5] - '0'), int(proto[7] - '0')}
	for {
		start := next
		line, next = scanLine(b, next)
		if len(line) == 0 {
			return status, version, true
		}
		if line[0] == ' ' || line[0] == '\t' {
			return 0, version, false // obs-fold
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, version, false
		}
		k, v := line[:colon], line[colon+1:]
		kind := fieldOther
		switch validKey(k) {
		case keyInvalid:
			return 0, version, false
		case keyToken:
			kind = framingKind(k)
		}
		if !validValue(v) {
			return 0, version, false
		}
		if kind == fieldOther {
			continue
		}
		off := start + colon + 1
		end := off + len(v)
		for off < end && (b[off] == ' ' || b[off] == '\t') {
			off++
		}
		for end > off && (b[end-1] == ' ' || b[end-1] == '\t') {
			end--
		}
		f.spans = append(f.spans, span{kind: kind, off: off, end: end})
	}
}

// scanLine returns the line of b starting at i without its LF and one CR
// before it (as cutLine), and where the next line starts.
func scanLine(b []byte, i int) (line []byte, next int) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		return b[i:], len(b)
	}
	line, next = b[i:i+j], i+j+1
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, next
}

// A field name is, as headerKey decides it: invalid, a token, or one with
// spaces (valid, but never canonicalised).
const (
	keyInvalid = iota
	keyToken
	keySpaces
)

func validKey(k []byte) int {
	if len(k) == 0 {
		return keyInvalid
	}
	kind := keyToken
	for _, c := range k {
		if c == ' ' {
			kind = keySpaces
		} else if !tokenByte[c] {
			return keyInvalid
		}
	}
	return kind
}

// Edits the framing makes to the header map, as net/http's readTransfer
// makes them.
const (
	dropConnection       = 1 << iota // Connection: close
	dropTransferEncoding             // always removed
	oneContentLength                 // equal duplicates collapsed
	dropContentLength                // chunked
	dropTrailer                      // chunked
	dropEncoding                     // decompressed: Content-Encoding and Content-Length
)

// applyEdits makes the framing's edits to h.
func applyEdits(h http.Header, edits int) {
	if edits&oneContentLength != 0 {
		if cl := h["Content-Length"]; len(cl) > 0 {
			h["Content-Length"] = []string{cl[0]}
		}
	}
	if edits&dropConnection != 0 {
		delete(h, "Connection")
	}
	if edits&dropTransferEncoding != 0 {
		delete(h, "Transfer-Encoding")
	}
	if edits&(dropContentLength|dropEncoding) != 0 {
		delete(h, "Content-Length")
	}
	if edits&dropTrailer != 0 {
		delete(h, "Trailer")
	}
	if edits&dropEncoding != 0 {
		delete(h, "Content-Encoding")
	}
}

// Header returns the response's header map, as net/http's Response.Header,
// nil when no head came back. The map is built on the first call, which
// must come before the Conn's next RoundTrip; the map itself stays valid.
func (r *Response) Header() http.Header {
	if !r.built {
		if r.header == nil && r.head != nil {
			// scanHead took this head, so parseHead does too.
			r.header, _ = parseHeadMap(string(r.head))
		}
		if r.header != nil {
			applyEdits(r.header, r.edits)
		}
		r.built = true
	}
	return r.header
}

// parseHeadMap is parseHead's header map.
func parseHeadMap(head string) (http.Header, error) {
	_, _, h, err := parseHead(head)
	return h, err
}
