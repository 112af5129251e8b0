package target

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/target/cbad"
)

var fuzzSeeds = []string{
	``,
	`{}`,
	`null`,
	`[]`,
	`{"events":[{"a":1}]}`,
	`{"stream_id":"s","events":[{"level":"INFO","message":"hi"}],"config_override":{"baseline_size":2,"window_size":1,"hop_size":1,"permutation_count":3}}`,
	`{"stream_id":null,"events":[null]}`,
	`{"events":["x",1,true,[],{}]}`,
	`{"events":[{"a":1}],"config_override":{"baseline_size":1e30}}`,
	`{"events":[{"a":1}],"config_override":{"ncd_threshold":"x","compressor":7}}`,
	`{"events":[{"a":"\ud800"}]} `,
	`{"events":[{"a":1}]}{"events":[]}`,
	`{"stream_id":"2D3E4F5A-6B7C-4D8E-9F0A-1B2C3D4E5F6A","events":[{"a":{"b":[1,2,{"c":null}]}}]}`,
	`{"events":[{"a":1}],"stream_id":7,"events":[null],"x":[{"y":"z"}]}`,
	`{"events":[{"a":1},null,{}],"config_override":{"hop_size":1},"stream_id":"s"} x`,
	`[[[[{"events":[]}]]]]`,
	`{"events":{"a":[1,{"b":2}]}}`,
	`"body"`,
	` true `,
	"\t{\"events\" :\n[ { \"a\" : [ 1 , 2 ] } ]\r}\n",
	body("", repeat(`{"a":1}`, 50), ""),
	body("s", repeat(`{"a":1}`, 51), ""),
	body("s", repeat(`{"a":1}`, 51), "") + "garbage",
	`{"events":[` + strings.Repeat(`{"a":1},`, 51) + `oops`,
}

// FuzzDecodeDetectRequest: no body makes decoding panic, what it accepts
// satisfies the route's rules, and it decides as the whole-body decoder did
// (decodeWhole) except where it now stops early at too many events.
func FuzzDecodeDetectRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, withStream := range []bool{true, false} {
			req, rerr := decodeDetectRequest(bytes.NewReader(body), 50, withStream)
			if (req == nil) == (rerr == nil) {
				t.Fatalf("want exactly one of request and error, got %v %v", req, rerr)
			}
			sameAsWhole(t, body, withStream, req, rerr)
			if rerr != nil {
				if rerr.status != http.StatusBadRequest || rerr.code != "invalid_argument" || rerr.message == "" {
					t.Fatalf("bad error %+v", rerr)
				}
				continue
			}
			if len(req.events) == 0 || len(req.events) > 50 {
				t.Fatalf("accepted %d events", len(req.events))
			}
			for i, e := range req.events {
				if len(e) < 3 || e[0] != '{' {
					t.Fatalf("accepted event %d %q", i, e)
				}
			}
			if withStream && req.streamID != "" && strings.TrimSpace(req.streamID) == "" {
				t.Fatalf("accepted blank stream_id")
			}
			if req.override != nil {
				balanced, _ := cbad.Profile("balanced")
				_, _ = req.override.params(balanced, 1000, 10)
				_, _ = demoParams(req.override, 10)
			}
		}
	})
}

// sameAsWhole compares a streaming decode with decodeWhole's of the same
// body: the same request, or the same error. Exceptions: a batch over the
// limit is rejected as soon as that is known (the whole-body decoder let a
// later duplicate "events" win, or reported malformed JSON after it first);
// syntax errors are worded by another part of encoding/json; and a body of
// only Unicode spaces was "empty" (bytes.TrimSpace), which JSON calls
// malformed.
func sameAsWhole(t *testing.T, body []byte, withStream bool, req *detectRequest, rerr *requestError) {
	t.Helper()
	wreq, werr := decodeWhole(body, 50, withStream)
	if rerr != nil && strings.HasPrefix(rerr.message, "too many events: ") {
		if werr == nil && wreq != nil && len(wreq.events) > 50 {
			t.Fatalf("whole decoder accepted %d events", len(wreq.events))
		}
		return
	}
	switch {
	case rerr == nil && werr == nil:
		if req.streamID != wreq.streamID || !reflect.DeepEqual(req.events, wreq.events) || !reflect.DeepEqual(req.override, wreq.override) {
			t.Fatalf("streaming decoded %q %q %+v, whole %q %q %+v", req.streamID, req.events, req.override, wreq.streamID, wreq.events, wreq.override)
		}
	case rerr == nil || werr == nil:
		t.Fatalf("streaming: %v, whole: %v", rerr, werr)
	case strings.HasPrefix(werr.message, "malformed JSON") || strings.HasPrefix(werr.message, "request body is empty"):
		if !strings.HasPrefix(rerr.message, "malformed JSON") && rerr.message != werr.message {
			t.Fatalf("streaming: %q, whole: %q", rerr.message, werr.message)
		}
	case rerr.message != werr.message:
		t.Fatalf("streaming: %q, whole: %q", rerr.message, werr.message)
	}
}

// decodeWhole is the decoder that took the whole body at once, kept as the
// reference the streaming decoder is checked against.
func decodeWhole(body []byte, maxEvents int, withStream bool) (*detectRequest, *requestError) {
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

// FuzzHandler sends each input to both detect routes: the server never
// panics and answers only 200, 400 or 413.
func FuzzHandler(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	s := testServer(f, func(c *Config) {
		c.NoRateLimit = true
		c.Permutations = 5
		c.MaxEvents = 100
		c.MaxBodyBytes = 64 << 10
		c.DetectorCapacity = 50
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/detect", "/v1/demo/detect"} {
			rec := call(s, "POST", path, string(body), "X-Api-Key", s.DevKey())
			switch rec.Code {
			case 200, 400, 413:
			default:
				t.Fatalf("%s: status %d for %q: %s", path, rec.Code, body, rec.Body.String())
			}
			if rec.Code != 200 {
				decodeErr(t, rec)
			}
		}
		if n := s.panics.Load(); n != 0 {
			t.Fatalf("%d panics", n)
		}
	})
}
