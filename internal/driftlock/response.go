package driftlock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DetectResult is what a detect response told us. Each *Known flag says
// whether the server sent the corresponding field(s); unknown is not an error.
type DetectResult struct {
	// Success is the body's "success" flag.
	Success bool
	// SuccessKnown is false when the body has no "success" field.
	SuccessKnown bool
	// Events is the number of events the server processed in this request.
	Events int
	// EventsKnown is false when no event count was sent.
	EventsKnown bool
	// Anomalies is the number of anomalies in this batch.
	Anomalies int
	// AnomaliesKnown is false when neither anomaly_count nor an anomalies array was sent.
	AnomaliesKnown bool
	// ServerTime is the server-side detection time.
	ServerTime time.Duration
	// ServerTimeKnown is false when no server time was sent.
	ServerTimeKnown bool
	// Status is "calibrating", "ready" or "" when absent (other values are passed through).
	Status string
	// Ready reports whether the stream's detector is analysing (not calibrating).
	Ready bool
	// ReadyKnown is false when neither detection_ready nor status was sent.
	ReadyKnown bool
	// StreamID is the server's stream ID (a UUID, not necessarily the slug sent).
	StreamID string
	// RequestID is the server's request ID.
	RequestID string
	// BatchID is the batch UUID, absent while calibrating.
	BatchID string
	// DemoRemaining is the demo route's remaining calls in the current window.
	DemoRemaining int
	// DemoLimit is the demo route's calls allowed per window.
	DemoLimit int
	// DemoKnown is true when the body carried demo quota information.
	DemoKnown bool
}

// detectWire is the union of every detect response shape. encoding/json
// matches keys case-insensitively, so "success" also reads "Success"; keys
// whose Go (PascalCase) spelling drops the underscore need a second field.
// Everything is kept raw so that a field of an unexpected type only makes
// that field unknown instead of failing the whole body.
type detectWire struct {
	Success          json.RawMessage `json:"success"`
	TotalEvents      json.RawMessage `json:"total_events"`
	TotalEventsP     json.RawMessage `json:"TotalEvents"`
	Processed        json.RawMessage `json:"processed"`
	AnomalyCount     json.RawMessage `json:"anomaly_count"`
	AnomalyCountP    json.RawMessage `json:"AnomalyCount"`
	Anomalies        json.RawMessage `json:"anomalies"`
	ProcessingTime   json.RawMessage `json:"processing_time"`
	ProcessingTimeP  json.RawMessage `json:"ProcessingTime"`
	DetectionTimeMS  json.RawMessage `json:"detection_time_ms"`
	DetectionTimeMSP json.RawMessage `json:"DetectionTimeMs"`
	Status           json.RawMessage `json:"status"`
	DetectionReady   json.RawMessage `json:"detection_ready"`
	DetectionReadyP  json.RawMessage `json:"DetectionReady"`
	StreamID         json.RawMessage `json:"stream_id"`
	StreamIDP        json.RawMessage `json:"StreamID"`
	RequestID        json.RawMessage `json:"request_id"`
	RequestIDP       json.RawMessage `json:"RequestID"`
	BatchID          json.RawMessage `json:"batch_id"`
	BatchIDP         json.RawMessage `json:"BatchID"`
	Metrics          json.RawMessage `json:"metrics"`
	Demo             json.RawMessage `json:"demo"`
}

type metricsWire struct {
	Processed   json.RawMessage `json:"processed"`
	DurationMS  json.RawMessage `json:"duration_ms"`
	DurationMSP json.RawMessage `json:"DurationMs"`
}

type demoWire struct {
	RemainingCalls  json.RawMessage `json:"remaining_calls"`
	RemainingCallsP json.RawMessage `json:"RemainingCalls"`
	LimitPerMinute  json.RawMessage `json:"limit_per_minute"`
	LimitPerMinuteP json.RawMessage `json:"LimitPerMinute"`
}

// ErrNotObject is returned (wrapped) when a body is not a JSON object.
var ErrNotObject = errors.New("driftlock: response body is not a JSON object")

// ParseDetectResponse reads a detect response body of any known shape:
//   - events from total_events, else processed, else metrics.processed;
//   - server time from processing_time (a Go duration string such as
//     "245.3ms", "850µs"), else detection_time_ms, else metrics.duration_ms;
//   - anomalies from anomaly_count, else the length of the anomalies array;
//   - readiness from detection_ready, else status == "ready";
//   - demo quota from demo.remaining_calls and demo.limit_per_minute;
//
// each also under its PascalCase key (TotalEvents, AnomalyCount, ...). A
// missing field, or one of an unexpected type, is unknown rather than an
// error; the error is ErrNotObject when the body is not a JSON object.
func ParseDetectResponse(body []byte) (DetectResult, error) {
	var r DetectResult
	var w detectWire
	if err := decodeObject(body, &w); err != nil {
		return r, err
	}

	r.Success, r.SuccessKnown = rawBool(w.Success)
	r.Events, r.EventsKnown = firstInt(w.TotalEvents, w.TotalEventsP, w.Processed)
	r.Anomalies, r.AnomaliesKnown = firstInt(w.AnomalyCount, w.AnomalyCountP)
	if !r.AnomaliesKnown {
		r.Anomalies, r.AnomaliesKnown = arrayLen(w.Anomalies)
	}
	for _, raw := range [...]json.RawMessage{w.ProcessingTime, w.ProcessingTimeP} {
		if s, ok := rawString(raw); ok {
			if d, err := ParseDuration(s); err == nil && d >= 0 {
				r.ServerTime, r.ServerTimeKnown = d, true
				break
			}
		}
	}
	if !r.ServerTimeKnown {
		r.ServerTime, r.ServerTimeKnown = firstMillis(w.DetectionTimeMS, w.DetectionTimeMSP)
	}
	if !r.EventsKnown || !r.ServerTimeKnown {
		var m metricsWire
		if isObject(w.Metrics) && json.Unmarshal(w.Metrics, &m) == nil {
			if !r.EventsKnown {
				r.Events, r.EventsKnown = rawInt(m.Processed)
			}
			if !r.ServerTimeKnown {
				r.ServerTime, r.ServerTimeKnown = firstMillis(m.DurationMS, m.DurationMSP)
			}
		}
	}

	r.Status, _ = rawString(w.Status)
	if r.Ready, r.ReadyKnown = rawBool(w.DetectionReady); !r.ReadyKnown {
		r.Ready, r.ReadyKnown = rawBool(w.DetectionReadyP)
	}
	if !r.ReadyKnown && r.Status != "" {
		r.Ready, r.ReadyKnown = r.Status == "ready", true
	}

	r.StreamID = firstString(w.StreamID, w.StreamIDP)
	r.RequestID = firstString(w.RequestID, w.RequestIDP)
	r.BatchID = firstString(w.BatchID, w.BatchIDP)

	var d demoWire
	if isObject(w.Demo) && json.Unmarshal(w.Demo, &d) == nil {
		var okRemaining, okLimit bool
		r.DemoRemaining, okRemaining = firstInt(d.RemainingCalls, d.RemainingCallsP)
		r.DemoLimit, okLimit = firstInt(d.LimitPerMinute, d.LimitPerMinuteP)
		r.DemoKnown = okRemaining || okLimit
	}
	return r, nil
}

// decodeObject unmarshals body, which must be a JSON object, into v.
func decodeObject(body []byte, v any) error {
	if !isObject(body) {
		return ErrNotObject
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	return nil
}

// isObject reports whether raw starts (after white space) with '{'.
func isObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// rawBool reads a JSON boolean.
func rawBool(raw json.RawMessage) (bool, bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// rawString reads a JSON string.
func rawString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// rawFloat reads a finite JSON number, or a string holding one.
func rawFloat(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	text := string(raw)
	if raw[0] == '"' {
		s, ok := rawString(raw)
		if !ok {
			return 0, false
		}
		text = strings.TrimSpace(s)
	} else if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// rawInt reads a non-negative whole number (1e2 and "12" are accepted).
func rawInt(raw json.RawMessage) (int, bool) {
	f, ok := rawFloat(raw)
	if !ok || f < 0 || f != math.Trunc(f) || f > 1<<53 {
		return 0, false
	}
	return int(f), true
}

func firstInt(raws ...json.RawMessage) (int, bool) {
	for _, raw := range raws {
		if n, ok := rawInt(raw); ok {
			return n, true
		}
	}
	return 0, false
}

func firstString(raws ...json.RawMessage) string {
	for _, raw := range raws {
		if s, ok := rawString(raw); ok {
			return s
		}
	}
	return ""
}

// firstMillis reads a non-negative number of milliseconds as a duration.
func firstMillis(raws ...json.RawMessage) (time.Duration, bool) {
	for _, raw := range raws {
		if ms, ok := rawFloat(raw); ok && ms >= 0 && ms < float64(math.MaxInt64/int64(time.Millisecond)) {
			return time.Duration(math.Round(ms * float64(time.Millisecond))), true
		}
	}
	return 0, false
}

// arrayLen counts the elements of a JSON array without decoding them. raw
// comes from a successful Unmarshal, so it is valid JSON.
func arrayLen(raw json.RawMessage) (int, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '[' {
		return 0, false
	}
	n, depth, inString, empty := 0, 0, false, true
	for i := 1; i < len(raw)-1; i++ {
		c := raw[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				n++
			}
		}
		empty = false
	}
	if empty {
		return 0, true
	}
	return n + 1, true
}

// ParseDuration parses a server time: a Go duration string such as "245.3ms",
// "1.2s", "850µs" (micro sign or Greek mu), "850us" or "0ms"; surrounding
// white space is ignored.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("driftlock: invalid duration %q", s)
	}
	return d, nil
}

// ErrorBody is a Driftlock error response.
type ErrorBody struct {
	// Code is the machine-readable code ("unauthorized", "rate_limit_exceeded", "payment_required", ...).
	Code string
	// Message is the human-readable message.
	Message string
	// RequestID is the server's request ID, when sent.
	RequestID string
	// RetryAfterSeconds is the body's retry_after_seconds, valid when HasRetryAfter.
	RetryAfterSeconds float64
	// HasRetryAfter reports whether the body carried retry_after_seconds.
	HasRetryAfter bool
}

type errorWire struct {
	Error              json.RawMessage `json:"error"`
	Code               json.RawMessage `json:"code"`
	Message            json.RawMessage `json:"message"`
	RequestID          json.RawMessage `json:"request_id"`
	RequestIDP         json.RawMessage `json:"RequestID"`
	RetryAfterSeconds  json.RawMessage `json:"retry_after_seconds"`
	RetryAfterSecondsP json.RawMessage `json:"RetryAfterSeconds"`
}

// ParseError reads an error body in either shape: the envelope
// {"error":{"code","message","request_id","retry_after_seconds"}} or the flat
// billing shape {"error":"message","code":"..."}. It returns false when the
// body is not a JSON object (plain text, empty) or carries neither an
// "error" nor a "code" field.
func ParseError(body []byte) (ErrorBody, bool) {
	var e ErrorBody
	var w errorWire
	if decodeObject(body, &w) != nil {
		return e, false
	}
	found := false
	if isObject(w.Error) {
		var inner errorWire
		if json.Unmarshal(w.Error, &inner) == nil {
			found = true
			e.fill(&inner)
		}
	} else if msg, ok := rawString(w.Error); ok {
		found = true
		e.Message = msg
	}
	// Flat fields fill what the envelope did not say.
	if c, ok := rawString(w.Code); ok {
		found = true
		if e.Code == "" {
			e.Code = c
		}
	}
	if found {
		var outer ErrorBody
		outer.fill(&w)
		if e.Message == "" {
			e.Message = outer.Message
		}
		if e.RequestID == "" {
			e.RequestID = outer.RequestID
		}
		if !e.HasRetryAfter {
			e.RetryAfterSeconds, e.HasRetryAfter = outer.RetryAfterSeconds, outer.HasRetryAfter
		}
	}
	return e, found
}

func (e *ErrorBody) fill(w *errorWire) {
	e.Code, _ = rawString(w.Code)
	e.Message, _ = rawString(w.Message)
	e.RequestID = firstString(w.RequestID, w.RequestIDP)
	for _, raw := range [...]json.RawMessage{w.RetryAfterSeconds, w.RetryAfterSecondsP} {
		if f, ok := rawFloat(raw); ok && f >= 0 {
			e.RetryAfterSeconds, e.HasRetryAfter = f, true
			break
		}
	}
}

// Sources of a retry delay, as returned by RetryAfter.
const (
	RetrySourceHeader = "header"
	RetrySourceBody   = "body"
	RetrySourceBoth   = "both"
	RetrySourceNone   = "none"
)

// RetryAfter returns how long to wait before retrying a rejected request and
// where that came from: the Retry-After header (delta-seconds, or an HTTP
// date taken relative to now; a past date is 0), the body's
// retry_after_seconds, or both. When both exist the header's value wins. A
// header that cannot be parsed counts as absent. source is "header", "body",
// "both" or "none" (then d is 0).
func RetryAfter(h http.Header, body []byte, now time.Time) (d time.Duration, source string) {
	hd, hasHeader := retryAfterHeader(h.Get("Retry-After"), now)
	var bd time.Duration
	hasBody := false
	if e, ok := ParseError(body); ok && e.HasRetryAfter {
		bd, hasBody = secondsToDuration(e.RetryAfterSeconds)
	}
	switch {
	case hasHeader && hasBody:
		return hd, RetrySourceBoth
	case hasHeader:
		return hd, RetrySourceHeader
	case hasBody:
		return bd, RetrySourceBody
	}
	return 0, RetrySourceNone
}

func retryAfterHeader(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if c := v[0]; c >= '0' && c <= '9' {
		// RFC 9110 says whole seconds; fractional values are read too.
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		return secondsToDuration(secs)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

func secondsToDuration(secs float64) (time.Duration, bool) {
	if math.IsNaN(secs) || secs < 0 || secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, false
	}
	return time.Duration(math.Round(secs * float64(time.Second))), true
}

// Accounts reports whether r is a successful detect response for a batch of
// sent events: "success" is not false, and the event count, when the server
// gives one, is the number sent. This is the one definition of a valid detect
// response every test uses.
func (r DetectResult) Accounts(sent int) bool {
	return (r.Success || !r.SuccessKnown) && (!r.EventsKnown || r.Events == sent)
}
