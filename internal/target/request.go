package target

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// readBody reads at most limit bytes; more is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *requestError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
				message: fmt.Sprintf("request body is larger than %d bytes", limit)}
		}
		return nil, badRequest("could not read request body: %v", err)
	}
	return body, nil
}

// decodeDetectRequest parses and checks a detect body. maxEvents bounds the
// batch; withStream says whether stream_id is read (the demo route ignores it).
func decodeDetectRequest(body []byte, maxEvents int, withStream bool) (*detectRequest, *requestError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("request body is empty; expected a JSON object with an events array")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, badRequest("request body must be a JSON object, got %s", typeErr.Value)
		}
		return nil, badRequest("malformed JSON: %v", err)
	}
	if top == nil {
		return nil, badRequest("request body must be a JSON object, got null")
	}
	req := &detectRequest{}

	if withStream {
		if raw, ok := top["stream_id"]; ok {
			if isNull(raw) {
				return nil, badRequest("stream_id must be a string, got null (omit it for the default stream)")
			}
			if err := json.Unmarshal(raw, &req.streamID); err != nil {
				return nil, badRequest("stream_id must be a string, got %s", jsonKind(raw))
			}
			switch {
			case strings.TrimSpace(req.streamID) == "":
				return nil, badRequest("stream_id must not be empty")
			case len(req.streamID) > maxStreamIDLen:
				return nil, badRequest("stream_id is longer than %d bytes", maxStreamIDLen)
			}
		}
	}

	raw, ok := top["events"]
	if !ok {
		return nil, badRequest("events is required: a non-empty array of JSON objects")
	}
	if isNull(raw) {
		return nil, badRequest("events must be an array of JSON objects, got null")
	}
	var events []json.RawMessage
	if err := json.Unmarshal(raw, &events); err != nil {
		return nil, badRequest("events must be an array of JSON objects, got %s", jsonKind(raw))
	}
	switch {
	case len(events) == 0:
		return nil, badRequest("events must not be empty")
	case len(events) > maxEvents:
		return nil, badRequest("too many events: %d, at most %d per request", len(events), maxEvents)
	}
	req.events = make([][]byte, len(events))
	for i, e := range events {
		e = bytes.TrimSpace(e)
		if kind := jsonKind(e); kind != "object" {
			if kind == "null" {
				return nil, badRequest("events[%d] is null", i)
			}
			return nil, badRequest("events[%d] must be a JSON object, got %s", i, kind)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, e); err != nil {
			return nil, badRequest("events[%d]: %v", i, err)
		}
		if compact.Len() == 2 {
			return nil, badRequest("events[%d] is an empty object", i)
		}
		req.events[i] = compact.Bytes()
	}

	if raw, ok := top["config_override"]; ok && !isNull(raw) {
		var o configOverride
		if err := json.Unmarshal(raw, &o); err != nil {
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
