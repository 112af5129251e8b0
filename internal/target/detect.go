package target

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/target/cbad"
)

// Demo detector shape: balanced's thresholds on a history scaled to fit a
// 200-event request (see README).
const (
	demoBaseline = 40
	demoWindow   = 10
	demoHop      = 10
)

// defaultStreamSlug names the stream of a /v1/detect request without stream_id.
const defaultStreamSlug = "default"

var devKeyPattern = regexp.MustCompile(`^dlk_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\.[A-Za-z0-9_-]+$`)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// detectResponse is the 200 body of both detect routes, with the real API's
// field names; fields a route does not send are left empty.
type detectResponse struct {
	Success               bool             `json:"success"`
	BatchID               string           `json:"batch_id,omitempty"`
	StreamID              string           `json:"stream_id,omitempty"`
	TotalEvents           int              `json:"total_events"`
	AnomalyCount          int              `json:"anomaly_count"`
	ProcessingTime        string           `json:"processing_time"`
	CompressionAlgo       string           `json:"compression_algo"`
	Anomalies             []anomalyJSON    `json:"anomalies"`
	RequestID             string           `json:"request_id"`
	Status                string           `json:"status,omitempty"`
	DetectionReady        *bool            `json:"detection_ready,omitempty"`
	DetectionEventsNeeded *int             `json:"detection_events_needed,omitempty"`
	Calibration           *calibrationJSON `json:"calibration,omitempty"`
	Demo                  *demoJSON        `json:"demo,omitempty"`
}

type anomalyJSON struct {
	ID       string          `json:"id"`
	Index    int             `json:"index"`
	Metrics  metricsJSON     `json:"metrics"`
	Event    json.RawMessage `json:"event"`
	Why      string          `json:"why"`
	Detected bool            `json:"detected"`
}

type metricsJSON struct {
	NCD                        float64 `json:"ncd"`
	PValue                     float64 `json:"p_value"`
	ConfidenceLevel            float64 `json:"confidence_level"`
	CompressionRatio           float64 `json:"compression_ratio"`
	CompressionRatioChange     float64 `json:"compression_ratio_change"`
	IsStatisticallySignificant bool    `json:"is_statistically_significant"`
}

type calibrationJSON struct {
	EventsIngested        int64  `json:"events_ingested"`
	DetectionReady        bool   `json:"detection_ready"`
	DetectionEventsNeeded int    `json:"detection_events_needed"`
	DetectionMinEvents    int    `json:"detection_min_events"`
	ProgressPercent       int    `json:"progress_percent"`
	Message               string `json:"message"`
}

type demoJSON struct {
	Message             string `json:"message"`
	RemainingCalls      int    `json:"remaining_calls"`
	LimitPerMinute      int    `json:"limit_per_minute"`
	WindowSeconds       int    `json:"window_seconds"`
	MaxEventsPerRequest int    `json:"max_events_per_request"`
	DetectionMinEvents  int    `json:"detection_min_events"`
}

// handleDetect serves POST /v1/detect.
func (s *Server) handleDetect(w http.ResponseWriter, r *http.Request, rc *reqContext) {
	key, ok := s.authenticate(r)
	if !ok {
		s.writeError(w, rc, http.StatusUnauthorized, "unauthorized", "authentication failed")
		return
	}
	if !s.cfg.NoRateLimit {
		allowed, remaining, wait := s.keyRate.allow(key, s.now())
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.keyRate.limit()))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		if !allowed {
			secs := ceilSeconds(wait)
			h.Set("Retry-After", strconv.Itoa(secs))
			h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Duration(secs)*time.Second).Unix(), 10))
			s.writeErrorRetry(w, rc, http.StatusTooManyRequests, "rate_limit_exceeded", "rate limit exceeded for this API key", secs)
			return
		}
	}
	if !s.enter(w, rc) {
		return
	}
	defer s.exit()
	s.leak()

	req, rerr := s.readDetectRequest(w, r, s.cfg.MaxEvents, true)
	if rerr != nil {
		s.writeRequestError(w, rc, rerr)
		return
	}
	s.detectStream(w, r, rc, key, req)
}

func (s *Server) detectStream(w http.ResponseWriter, r *http.Request, rc *reqContext, key string, req *detectRequest) {
	balanced, _ := cbad.Profile("balanced")
	params, rerr := req.override.params(balanced, s.cfg.MaxEvents, s.cfg.Permutations)
	if rerr != nil {
		s.writeRequestError(w, rc, rerr)
		return
	}
	if s.serviceFaults(w, r, rc) {
		return
	}
	slug := req.streamID
	if slug == "" {
		slug = defaultStreamSlug
	}
	streamUUID := streamUUID(key, slug)
	cacheKey := key + "\x00" + streamUUID
	det, _, err := s.cache.Get(cacheKey, func() (*cbad.Detector, error) {
		d, err := cbad.NewDetector(params, s.streamSeed(cacheKey))
		if err == nil {
			s.streamMu.Lock()
			s.streamParams[cacheKey] = streamInfo{det: d, params: params}
			s.streamMu.Unlock()
		}
		return d, err
	})
	if err != nil {
		s.writeRequestError(w, rc, badRequest("config_override: %v", err))
		return
	}
	// A stream keeps the params it was created with; a later override is
	// ignored. (The info can be missing if an eviction raced a re-creation;
	// then this request's params are reported.)
	s.streamMu.Lock()
	if info, ok := s.streamParams[cacheKey]; ok && info.det == det {
		params = info.params
	}
	s.streamMu.Unlock()

	res := s.ingest(det, req.events, rc.route)
	resp := detectResponse{
		Success:         true,
		StreamID:        streamUUID,
		TotalEvents:     len(req.events),
		CompressionAlgo: params.Compressor,
		RequestID:       rc.requestID,
		DetectionReady:  &res.Ready,
	}
	if res.Ready {
		resp.Status = "ready"
		resp.BatchID = newUUID()
	} else {
		resp.Status = "calibrating"
		needed := res.EventsNeeded
		minEvents := params.BaselineSize + params.WindowSize
		resp.DetectionEventsNeeded = &needed
		resp.Calibration = &calibrationJSON{
			EventsIngested:        res.EventsIngested,
			DetectionEventsNeeded: needed,
			DetectionMinEvents:    minEvents,
			ProgressPercent:       int(min(100, res.EventsIngested*100/int64(max(1, minEvents)))),
			Message:               "Collecting baseline",
		}
	}
	resp.Anomalies = anomaliesJSON(res.Anomalies, req.events)
	resp.AnomalyCount = len(resp.Anomalies)
	s.finish(w, r, rc, &resp)
}

// handleDemoDetect serves POST /v1/demo/detect: no auth, a per-IP rolling
// window, and a throwaway detector per request.
func (s *Server) handleDemoDetect(w http.ResponseWriter, r *http.Request, rc *reqContext) {
	remaining := s.cfg.DemoLimit
	if !s.cfg.NoRateLimit {
		allowed, left, wait := s.demo.allow(clientIP(r), s.now())
		if !allowed {
			secs := ceilSeconds(wait)
			if !s.cfg.NoRetryAfterHeader {
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
			s.writeErrorRetry(w, rc, http.StatusTooManyRequests, "rate_limit_exceeded",
				"Demo rate limit exceeded. Sign up for unlimited access.", secs)
			return
		}
		remaining = left
	}
	if !s.enter(w, rc) {
		return
	}
	defer s.exit()
	s.leak()

	req, rerr := s.readDetectRequest(w, r, DemoMaxEvents, false)
	var params cbad.Params
	if rerr == nil {
		params, rerr = demoParams(req.override, s.cfg.Permutations)
	}
	if rerr != nil {
		s.writeRequestError(w, rc, rerr)
		return
	}
	if s.serviceFaults(w, r, rc) {
		return
	}
	det, err := cbad.NewDetector(params, s.streamSeed("demo"))
	if err != nil {
		s.writeRequestError(w, rc, badRequest("config_override: %v", err))
		return
	}
	res := s.ingest(det, req.events, rc.route)
	resp := detectResponse{
		Success:         true,
		TotalEvents:     len(req.events),
		CompressionAlgo: params.Compressor,
		RequestID:       rc.requestID,
		Anomalies:       anomaliesJSON(res.Anomalies, req.events),
		Demo: &demoJSON{
			Message:             "This is a demo response from the driftload reference server.",
			RemainingCalls:      remaining,
			LimitPerMinute:      s.cfg.DemoLimit,
			WindowSeconds:       ceilSeconds(s.cfg.DemoWindow),
			MaxEventsPerRequest: DemoMaxEvents,
			DetectionMinEvents:  params.BaselineSize + params.WindowSize,
		},
	}
	resp.AnomalyCount = len(resp.Anomalies)
	s.finish(w, r, rc, &resp)
}

// demoParams is balanced scaled down to a 50-event history; an override may
// change the thresholds, the permutation count and the compressor, and the
// sizes as long as baseline + window fits in one demo request.
func demoParams(o *configOverride, permCap int) (cbad.Params, *requestError) {
	base, _ := cbad.Profile("balanced")
	base.BaselineSize, base.WindowSize, base.HopSize = demoBaseline, demoWindow, demoHop
	p, rerr := o.params(base, 0, permCap)
	if rerr == nil && p.BaselineSize+p.WindowSize > DemoMaxEvents {
		rerr = badRequest("config_override: baseline_size + window_size = %d exceeds the demo's %d events per request",
			p.BaselineSize+p.WindowSize, DemoMaxEvents)
	}
	return p, rerr
}

// ingest runs the detector and records the detection metrics.
func (s *Server) ingest(det *cbad.Detector, events [][]byte, route string) cbad.BatchResult {
	start := time.Now()
	res := det.Ingest(events)
	s.metrics.detectionLatency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	s.metrics.eventsProcessed.WithLabelValues(route).Add(float64(len(events)))
	n := 0
	for _, a := range res.Anomalies {
		if a.Anomaly {
			n++
		}
	}
	s.metrics.anomalies.WithLabelValues(route).Add(float64(n))
	return res
}

func anomaliesJSON(results []cbad.Result, events [][]byte) []anomalyJSON {
	out := make([]anomalyJSON, 0, len(results))
	for _, a := range results {
		if !a.Anomaly {
			continue
		}
		var event json.RawMessage
		if a.Index >= 0 && a.Index < len(events) {
			event = events[a.Index]
		}
		out = append(out, anomalyJSON{
			ID:    newUUID(),
			Index: a.Index,
			Metrics: metricsJSON{
				NCD: a.NCD, PValue: a.PValue, ConfidenceLevel: a.ConfidenceLevel,
				CompressionRatio: a.CompressionRatio, CompressionRatioChange: a.CompressionRatioChange,
				IsStatisticallySignificant: a.Anomaly,
			},
			Event:    event,
			Why:      a.Why,
			Detected: true,
		})
	}
	return out
}

// enter counts a detect request in flight, answering 503 beyond MaxInFlight.
func (s *Server) enter(w http.ResponseWriter, rc *reqContext) bool {
	n := s.inFlight.Add(1)
	if s.cfg.MaxInFlight > 0 && n > int64(s.cfg.MaxInFlight) {
		s.inFlight.Add(-1)
		w.Header().Set("Retry-After", "1")
		s.writeError(w, rc, http.StatusServiceUnavailable, "service_unavailable",
			"server is at its limit of "+strconv.Itoa(s.cfg.MaxInFlight)+" concurrent detect requests")
		return false
	}
	s.metrics.inFlight.Set(float64(n))
	return true
}

func (s *Server) exit() { s.metrics.inFlight.Set(float64(s.inFlight.Add(-1))) }

// serviceFaults adds the injected service time and rolls the injected
// error; it reports whether the request was answered (500).
func (s *Server) serviceFaults(w http.ResponseWriter, r *http.Request, rc *reqContext) bool {
	sleepCtx(r.Context(), s.injectedDelay())
	if s.injectError() {
		s.metrics.injectedErrors.Inc()
		s.writeError(w, rc, http.StatusInternalServerError, "internal", "injected error (--inject-error-rate)")
		return true
	}
	return false
}

// processingTimeMark stands in for processing_time while the response is
// encoded, so the time stamped covers the encoding too.
const processingTimeMark = "__driftload_processing_time__"

// finish waits out a freeze, encodes resp, stamps processing_time as late
// as possible (everything but writing the bytes) and writes it.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, rc *reqContext, resp *detectResponse) {
	s.freezeWait(r.Context())
	resp.ProcessingTime = processingTimeMark
	body, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encoding response"}}`, http.StatusInternalServerError)
		return
	}
	// processing_time precedes anomalies (struct order), so the first
	// occurrence is the field even if an echoed event holds the mark.
	stamp := strconv.Quote(formatDuration(time.Since(rc.start)))
	body = bytes.Replace(body, []byte(`"`+processingTimeMark+`"`), []byte(stamp), 1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// formatDuration is time.Duration.String to the microsecond below a second
// (a client compares it with its own timing): "850µs", "10.2345ms", "1.234s".
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		d = d.Round(time.Millisecond)
	case d >= time.Microsecond:
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

// authenticate returns the request's API key when it is accepted.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	key := strings.TrimSpace(r.Header.Get("X-Api-Key"))
	if key == "" {
		auth := strings.TrimSpace(r.Header.Get("Authorization"))
		if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
			key = strings.TrimSpace(auth[7:])
		}
	}
	if key == "" {
		return "", false
	}
	if len(s.keys) == 0 {
		return key, devKeyPattern.MatchString(key)
	}
	ok := 0
	for _, k := range s.keys {
		ok |= subtle.ConstantTimeCompare([]byte(key), k)
	}
	return key, ok == 1
}

// clientIP keys the demo limit like the real server: the first
// X-Forwarded-For entry, else X-Real-IP, else the socket address.
func clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if first = strings.TrimSpace(first); first != "" {
			return first
		}
	}
	if ip := strings.TrimSpace(r.Header.Get("X-Real-IP")); ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// streamUUID is the stream's id in responses: a UUID as sent, or a name-based
// (version 5 style) UUID of the tenant and slug.
func streamUUID(tenant, slug string) string {
	if uuidPattern.MatchString(slug) {
		return strings.ToLower(slug)
	}
	sum := sha1.Sum([]byte("driftload-stream\x00" + tenant + "\x00" + slug))
	var b [16]byte
	copy(b[:], sum[:16])
	return formatUUID(b, 5)
}

// writeJSON writes v as a JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encoding response"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

type errorEnvelope struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code              string `json:"code"`
	Message           string `json:"message"`
	RequestID         string `json:"request_id"`
	RetryAfterSeconds int    `json:"retry_after_seconds,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, rc *reqContext, status int, code, msg string) {
	s.writeErrorRetry(w, rc, status, code, msg, 0)
}

func (s *Server) writeErrorRetry(w http.ResponseWriter, rc *reqContext, status int, code, msg string, retryAfter int) {
	writeJSON(w, status, errorEnvelope{Error: errorBody{Code: code, Message: msg, RequestID: rc.requestID, RetryAfterSeconds: retryAfter}})
}

func (s *Server) writeRequestError(w http.ResponseWriter, rc *reqContext, e *requestError) {
	s.writeError(w, rc, e.status, e.code, e.message)
}
