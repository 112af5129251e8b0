package target

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/driftload/driftload/internal/target/cbad"
)

// maxStreamIDLen bounds stream_id; longer ones are a 400.
const maxStreamIDLen = 256

// detectRequest is a decoded, checked body of either detect route.
type detectRequest struct {
	streamID string // "" when absent
	events   [][]byte
	override *configOverride
}

// configOverride holds the fields of config_override the client set.
type configOverride struct {
	BaselineSize     *int     `json:"baseline_size"`
	WindowSize       *int     `json:"window_size"`
	HopSize          *int     `json:"hop_size"`
	NCDThreshold     *float64 `json:"ncd_threshold"`
	PValueThreshold  *float64 `json:"p_value_threshold"`
	PermutationCount *int     `json:"permutation_count"`
	Compressor       *string  `json:"compressor"`
}

// requestError is a 4xx answer with the envelope's code and message.
type requestError struct {
	status  int
	code    string
	message string
}

func (e *requestError) Error() string { return e.message }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: "invalid_argument", message: fmt.Sprintf(format, args...)}
}

// readDetectRequest decodes the body of a detect request as it arrives, so
// what is held is bounded by the body limit and maxEvents, not by what the
// client sends. A body over the limit is a 413 (at once when Content-Length
// says so) and one not received within the read timeout a 408; both win over
// what the body holds and close the connection. After any other error the
// rest of the body is read and dropped, up to the limit: a body over it is
// still a 413, and a smaller one leaves the connection reusable.
func (s *Server) readDetectRequest(w http.ResponseWriter, r *http.Request, maxEvents int, withStream bool) (*detectRequest, *requestError) {
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		return nil, tooLarge(limit)
	}
	src := r.Body
	if src == nil {
		src = http.NoBody
	}
	body := &errReader{r: http.MaxBytesReader(w, src, limit)}
	req, rerr := decodeDetectRequest(body, maxEvents, withStream)
	if rerr != nil && body.err == nil {
		_, _ = io.Copy(io.Discard, body)
	}
	if body.err == nil {
		return req, rerr
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(body.err, &tooBig):
		rerr = tooLarge(limit)
	case errors.Is(body.err, os.ErrDeadlineExceeded):
		rerr = &requestError{status: http.StatusRequestTimeout, code: "request_timeout",
			message: fmt.Sprintf("request body not received within %s (--read-timeout)", s.cfg.ReadTimeout)}
	default:
		return nil, badRequest("could not read request body: %v", body.err)
	}
	w.Header().Set("Connection", "close")
	return nil, rerr
}

func tooLarge(limit int64) *requestError {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
		message: fmt.Sprintf("request body is larger than %d bytes", limit)}
}

// errReader keeps the first read error other than io.EOF, so that a body
// that could not be read is told apart from one that is not valid JSON.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// decodeDetectRequest parses and checks a detect body while reading it from
// r. maxEvents bounds the batch: decoding stops at event maxEvents+1,
// whatever follows it. Below that, errors come in a fixed order whatever
// their place in the body: malformed JSON, then stream_id, events and
// config_override. withStream says whether stream_id is read (the demo route
// ignores it).
func decodeDetectRequest(r io.Reader, maxEvents int, withStream bool) (*detectRequest, *requestError) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, badRequest("request body is empty; expected a JSON object with an events array")
	}
	if err != nil {
		return nil, malformed(err)
	}
	if tok != json.Delim('{') {
		if err := skipValue(dec, tok); err != nil {
			return nil, malformed(err)
		}
		if rerr := atEnd(dec, r); rerr != nil {
			return nil, rerr
		}
		return nil, badRequest("request body must be a JSON object, got %s", topLevelKind(tok))
	}

	// Duplicate keys: the last one counts, as when decoding into a map.
	var (
		streamRaw, overrideRaw json.RawMessage
		sawStream, sawOverride bool
		events                 *eventsField
		skip                   json.RawMessage
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		switch key, _ := tok.(string); {
		case key == "events":
			var rerr *requestError
			if events, rerr = decodeEvents(dec, maxEvents); rerr != nil {
				return nil, rerr
			}
			continue
		case key == "stream_id" && withStream:
			streamRaw, sawStream = nil, true
			err = dec.Decode(&streamRaw)
		case key == "config_override":
			overrideRaw, sawOverride = nil, true
			err = dec.Decode(&overrideRaw)
		default:
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, malformed(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, malformed(err)
	}
	if rerr := atEnd(dec, r); rerr != nil {
		return nil, rerr
	}

	req := &detectRequest{}
	if sawStream {
		if isNull(streamRaw) {
			return nil, badRequest("stream_id must be a string, got null (omit it for the default stream)")
		}
		if err := json.Unmarshal(streamRaw, &req.streamID); err != nil {
			return nil, badRequest("stream_id must be a string, got %s", jsonKind(streamRaw))
		}
		switch {
		case strings.TrimSpace(req.streamID) == "":
			return nil, badRequest("stream_id must not be empty")
		case len(req.streamID) > maxStreamIDLen:
			return nil, badRequest("stream_id is longer than %d bytes", maxStreamIDLen)
		}
	}

	switch {
	case events == nil:
		return nil, badRequest("events is required: a non-empty array of JSON objects")
	case events.err != nil:
		return nil, events.err
	}
	req.events = events.events

	if sawOverride && !isNull(overrideRaw) {
		var o configOverride
		if err := json.Unmarshal(overrideRaw, &o); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				return nil, badRequest("config_override.%s must be %s, got %s", typeErr.Field, kindOfGoType(typeErr.Type.Kind().String()), typeErr.Value)
			}
			return nil, badRequest("config_override must be an object of numbers: %v", err)
		}
		req.override = &o
	}
	return req, nil
}

// eventsField is one decoded "events" value: the compacted events, or the
// first problem found in it.
type eventsField struct {
	events [][]byte
	err    *requestError
}

// fail records the field's problem; its events are no longer kept.
func (f *eventsField) fail(err *requestError) { f.events, f.err = nil, err }

// decodeEvents reads the value of "events". More than maxEvents events is
// returned as an error at once; other problems are kept in the field while
// the rest of the value is read, so that malformed JSON later in the body
// still comes first.
func decodeEvents(dec *json.Decoder, maxEvents int) (*eventsField, *requestError) {
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	f := &eventsField{}
	if tok != json.Delim('[') {
		if err := skipValue(dec, tok); err != nil {
			return nil, malformed(err)
		}
		if tok == nil {
			f.err = badRequest("events must be an array of JSON objects, got null")
		} else {
			f.err = badRequest("events must be an array of JSON objects, got %s", tokenKind(tok))
		}
		return f, nil
	}
	var (
		raw     json.RawMessage // reused: Decode appends into it
		compact bytes.Buffer
	)
	for n := 0; dec.More(); n++ {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed(err)
		}
		if n == maxEvents {
			// Event maxEvents+1: say how many only when the array ends here.
			if !dec.More() {
				if tok, err := dec.Token(); err == nil && tok == json.Delim(']') {
					return nil, badRequest("too many events: %d, at most %d per request", n+1, maxEvents)
				}
			}
			return nil, badRequest("too many events: %d or more, at most %d per request", n+1, maxEvents)
		}
		if f.err != nil {
			continue
		}
		if kind := jsonKind(raw); kind != "object" {
			if kind == "null" {
				f.fail(badRequest("events[%d] is null", n))
			} else {
				f.fail(badRequest("events[%d] must be a JSON object, got %s", n, kind))
			}
			continue
		}
		compact.Reset()
		if err := json.Compact(&compact, raw); err != nil {
			f.fail(badRequest("events[%d]: %v", n, err))
			continue
		}
		if compact.Len() == 2 {
			f.fail(badRequest("events[%d] is an empty object", n))
			continue
		}
		f.events = append(f.events, bytes.Clone(compact.Bytes()))
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, malformed(err)
	}
	if f.err == nil && len(f.events) == 0 {
		f.err = badRequest("events must not be empty")
	}
	return f, nil
}

// skipValue reads the rest of a value whose first token was tok. Nested
// values are read whole by Decode, whose scanner bounds their depth; the
// decoder's own token stack then never grows past two levels.
func skipValue(dec *json.Decoder, tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar is one token
	}
	var skip json.RawMessage
	for dec.More() {
		skip = skip[:0]
		if d == '{' {
			if _, err := dec.Token(); err != nil {
				return err
			}
		}
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// atEnd checks that only whitespace follows the top-level value.
func atEnd(dec *json.Decoder, r io.Reader) *requestError {
	rest := io.MultiReader(dec.Buffered(), r)
	var buf [512]byte
	for {
		n, err := rest.Read(buf[:])
		for _, c := range buf[:n] {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return badRequest("malformed JSON: invalid character %s after top-level value", quoteChar(c))
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return badRequest("could not read request body: %v", err)
		}
	}
}

// malformed is the 400 for a decoder error, worded like json.Unmarshal's.
func malformed(err error) *requestError {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest("malformed JSON: unexpected end of JSON input")
	}
	return badRequest("malformed JSON: %v", err)
}

// quoteChar formats c as encoding/json does in its syntax errors.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// tokenKind names the JSON type of a decoder token, as jsonKind names raw
// values.
func tokenKind(tok json.Token) string {
	switch tok := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		if tok == '{' {
			return "object"
		}
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	}
	return "invalid JSON"
}

// topLevelKind names a top-level non-object as json.Unmarshal into a map did.
func topLevelKind(tok json.Token) string {
	if _, ok := tok.(bool); ok {
		return "bool"
	}
	return tokenKind(tok)
}

// params merges the override onto the balanced profile, checks it and caps
// its permutations. maxEvents > 0 enables the real server's rule that
// baseline + 3*window must fit in one request.
func (o *configOverride) params(base cbad.Params, maxEvents, permCap int) (cbad.Params, *requestError) {
	p := base
	if o != nil {
		setInt := func(dst *int, v *int) {
			if v != nil {
				*dst = *v
			}
		}
		setInt(&p.BaselineSize, o.BaselineSize)
		setInt(&p.WindowSize, o.WindowSize)
		setInt(&p.HopSize, o.HopSize)
		setInt(&p.Permutations, o.PermutationCount)
		if o.NCDThreshold != nil {
			p.NCDThreshold = *o.NCDThreshold
		}
		if o.PValueThreshold != nil {
			p.PValueThreshold = *o.PValueThreshold
		}
		if o.Compressor != nil {
			c := strings.ToLower(strings.TrimSpace(*o.Compressor))
			if c != "zstd" && c != "gzip" {
				return p, badRequest("config_override.compressor %q is not supported; use zstd or gzip", *o.Compressor)
			}
			p.Compressor = c
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"baseline_size", p.BaselineSize}, {"window_size", p.WindowSize}, {"hop_size", p.HopSize}} {
		if f.v < 1 {
			return p, badRequest("config_override.%s must be at least 1, got %d", f.name, f.v)
		}
	}
	if p.Permutations < 0 {
		return p, badRequest("config_override.permutation_count must not be negative, got %d", p.Permutations)
	}
	// Bound sizes before the sum below can overflow.
	if p.BaselineSize > 1_000_000 || p.WindowSize > 1_000_000 || p.HopSize > 1_000_000 {
		return p, badRequest("config_override sizes must be at most 1000000")
	}
	if maxEvents > 0 && p.BaselineSize+3*p.WindowSize > maxEvents {
		return p, badRequest("config_override: baseline_size + 3*window_size = %d exceeds the server's max events per request (%d)",
			p.BaselineSize+3*p.WindowSize, maxEvents)
	}
	if err := p.Validate(); err != nil {
		return p, badRequest("config_override: %v", err)
	}
	return p.WithPermutationCap(permCap), nil
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonKind names the JSON type of a valid value by its first byte.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	if r, _ := utf8.DecodeRune(raw); r == '-' || (r >= '0' && r <= '9') {
		return "number"
	}
	return "invalid JSON"
}

func kindOfGoType(kind string) string {
	switch kind {
	case "int":
		return "an integer"
	case "float64":
		return "a number"
	case "string":
		return "a string"
	}
	return kind
}
