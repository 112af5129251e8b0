// Package target is driftload's reference Driftlock server (`driftload
// serve`): the routes, limits, response shapes and Prometheus series of the
// real API, with real compression-based detection (package cbad), a tunable
// cost and fault injection, so load tests can be developed and checked
// against a known target. Nothing on the load-generating path imports it.
package target

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/driftload/driftload/internal/target/cbad"
)

// Server is one reference server: its config, limiters, detector cache and
// metrics. Create it with New; serve it with Handler or Start.
type Server struct {
	cfg Config
	// now is the clock of the limiters and of uptime-based degradation;
	// tests replace it. Service times are always measured with time.Now.
	now func() time.Time

	startedAt   time.Time // by now(), for --degrade-per-minute
	startedMono time.Time // by time.Now(), for the freeze window
	devKey      string
	keys        [][]byte

	demo    *demoLimiter
	keyRate *keyLimiter
	cache   *cbad.Cache
	metrics *serverMetrics
	routes  map[string]route

	streamMu     sync.Mutex
	streamParams map[string]streamInfo // by cache key, dropped on eviction

	rngMu sync.Mutex
	rng   *mrand.Rand

	inFlight atomic.Int64
	panics   atomic.Int64
	draining atomic.Bool

	leakMu sync.Mutex
	leaked [][]byte

	srvMu   sync.Mutex
	httpSrv *http.Server
	serveWG sync.WaitGroup
}

// streamInfo remembers the params a stream's detector was created with.
type streamInfo struct {
	det    *cbad.Detector
	params cbad.Params
}

type route struct {
	methods []string
	handle  func(w http.ResponseWriter, r *http.Request, rc *reqContext)
}

// reqContext is what the middleware hands a route handler.
type reqContext struct {
	start     time.Time // monotonic, when the handler started on the request
	requestID string
	route     string
}

// option changes a Server before it is used; only tests use them.
type option func(*Server)

// withClock replaces the limiters' and degradation's clock.
func withClock(now func() time.Time) option { return func(s *Server) { s.now = now } }

// New checks cfg and builds a Server. The error names the bad field.
func New(cfg Config) (*Server, error) { return newServer(cfg) }

func newServer(cfg Config, opts ...option) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		now:          time.Now,
		streamParams: make(map[string]streamInfo),
		rng:          mrand.New(mrand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	for _, o := range opts {
		o(s)
	}
	s.cfg.APIKeys = append([]string(nil), cfg.APIKeys...)
	for _, k := range cfg.APIKeys {
		s.keys = append(s.keys, []byte(k))
	}
	if len(s.keys) == 0 {
		s.devKey = "dlk_" + newUUID() + "." + randomHex(16)
	} else {
		s.devKey = cfg.APIKeys[0]
	}
	s.startedAt = s.now()
	s.startedMono = time.Now()
	s.demo = newDemoLimiter(cfg.DemoLimit, cfg.DemoWindow)
	s.keyRate = newKeyLimiter(cfg.KeyRate)
	s.cache = cbad.NewCache(cfg.DetectorCapacity, s.forgetStream)
	s.metrics = newServerMetrics(s)
	metricsHandler := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	get := []string{http.MethodGet, http.MethodHead}
	post := []string{http.MethodPost}
	s.routes = map[string]route{
		"/healthz":        {get, s.handleHealthz},
		"/readyz":         {get, s.handleReadyz},
		"/v1/version":     {get, s.handleVersion},
		"/v1/profiles":    {get, s.handleProfiles},
		"/metrics":        {get, func(w http.ResponseWriter, r *http.Request, _ *reqContext) { metricsHandler.ServeHTTP(w, r) }},
		"/v1/demo/detect": {post, s.handleDemoDetect},
		"/v1/detect":      {post, s.handleDetect},
	}
	return s, nil
}

// Handler returns the server's HTTP handler (all routes, with metrics).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// DevKey returns an accepted API key: the first configured one, or the dev
// key generated when none is configured.
func (s *Server) DevKey() string { return s.devKey }

// Start listens on addr (which may be "127.0.0.1:0"), serves in a goroutine
// and returns the base URL of the bound address.
func (s *Server) Start(addr string) (string, error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.httpSrv != nil {
		return "", errors.New("target: server already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("target: listen %s: %w", addr, err)
	}
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		// No ReadTimeout: serveHTTP bounds the body (bodyDeadline).
	}
	srv := s.httpSrv
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	}()
	return "http://" + ln.Addr().String(), nil
}

// Shutdown stops accepting connections and waits until in-flight requests
// have been answered or ctx ends. /readyz answers 503 from the start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.srvMu.Lock()
	srv := s.httpSrv
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	s.serveWG.Wait()
	return err
}

// serveHTTP is the middleware shared by every route: /api prefix, request
// ID, routing, 404/405, the freeze, panics and the HTTP metrics.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rc := &reqContext{start: time.Now(), requestID: requestID(r), route: "unmatched"}
	sw := &statusWriter{ResponseWriter: w, s: s, ctx: r.Context()}
	sw.Header().Set("X-Request-Id", rc.requestID)
	defer func() {
		if p := recover(); p != nil {
			s.panics.Add(1)
			if !sw.wroteHeader {
				s.writeError(sw, rc, http.StatusInternalServerError, "internal", "internal error")
			}
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(rc.route, strconv.Itoa(status)).Inc()
		s.metrics.requestDuration.WithLabelValues(rc.route).Observe(time.Since(rc.start).Seconds())
	}()
	s.freezeWait(r.Context())
	s.bodyDeadline(w, r)

	path := r.URL.Path
	if strings.HasPrefix(path, "/api/") {
		path = path[len("/api"):]
	}
	rt, ok := s.routes[path]
	if !ok {
		http.NotFound(sw, r) // plain "404 page not found", as the real Go server
		return
	}
	rc.route = path
	for _, m := range rt.methods {
		if r.Method == m {
			rt.handle(sw, r, rc)
			return
		}
	}
	sw.Header().Set("Allow", strings.Join(rt.methods, ", "))
	s.writeError(sw, rc, http.StatusMethodNotAllowed, "method_not_allowed",
		fmt.Sprintf("method %s is not allowed on %s; use %s", r.Method, path, rt.methods[0]))
}

// bodyDeadline gives the handler ReadTimeout to read the request's body,
// from now: after a freeze hold, which http.Server.ReadTimeout (counted from
// the first header byte) would count too, failing bodies that were sent in
// time. net/http lifts the deadline itself once the body has been read (for
// its background read that watches for the client going away), and keeps it
// while it reads and drops an unread body after the handler. A request
// without a body gets none: that background read is already running, and a
// deadline now would cancel the request's context when it passes.
func (s *Server) bodyDeadline(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	// A ResponseRecorder has no connection: nothing to bound.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
}

// statusWriter remembers the status and holds the first write while the
// freeze is on, so requests in flight when it starts are held too.
type statusWriter struct {
	http.ResponseWriter
	s           *Server
	ctx         context.Context
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.s.freezeWait(w.ctx)
	w.wroteHeader = true
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request, _ *reqContext) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request, _ *reqContext) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "checks": map[string]string{"server": "shutting down"}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ready": true, "checks": map[string]string{"detector_cache": "ok"}})
}

func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request, _ *reqContext) {
	writeJSON(w, http.StatusOK, map[string]any{
		"version":     s.cfg.Version,
		"api_version": "v1",
		"server":      "driftload-reference",
	})
}

// profileJSON is one entry of GET /v1/profiles, in config_override's names.
type profileJSON struct {
	Name                      string  `json:"name"`
	Description               string  `json:"description,omitempty"`
	BaselineSize              int     `json:"baseline_size,omitempty"`
	WindowSize                int     `json:"window_size,omitempty"`
	HopSize                   int     `json:"hop_size,omitempty"`
	NCDThreshold              float64 `json:"ncd_threshold,omitempty"`
	PValueThreshold           float64 `json:"p_value_threshold,omitempty"`
	PermutationCount          int     `json:"permutation_count,omitempty"`
	EffectivePermutationCount int     `json:"effective_permutation_count,omitempty"`
	Compressor                string  `json:"compressor,omitempty"`
	AcceptedOnDetect          *bool   `json:"accepted_on_detect,omitempty"`
	DetectionMinEvents        int     `json:"detection_min_events,omitempty"`
}

func (s *Server) handleProfiles(w http.ResponseWriter, _ *http.Request, _ *reqContext) {
	var out []profileJSON
	for _, name := range []string{"sensitive", "balanced", "strict"} {
		p, ok := cbad.Profile(name)
		if !ok {
			continue
		}
		accepted := p.BaselineSize+3*p.WindowSize <= s.cfg.MaxEvents
		out = append(out, profileJSON{
			Name: name, BaselineSize: p.BaselineSize, WindowSize: p.WindowSize, HopSize: p.HopSize,
			NCDThreshold: p.NCDThreshold, PValueThreshold: p.PValueThreshold,
			PermutationCount: p.Permutations, EffectivePermutationCount: p.WithPermutationCap(s.cfg.Permutations).Permutations,
			Compressor: p.Compressor, AcceptedOnDetect: &accepted, DetectionMinEvents: p.BaselineSize + p.WindowSize,
		})
	}
	out = append(out, profileJSON{Name: "custom", Description: "any numbers in config_override; unset fields take balanced's"})
	writeJSON(w, http.StatusOK, map[string]any{"default": "balanced", "profiles": out})
}

// requestID echoes X-Request-Id (bounded) or makes one up.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" {
		if len(id) > 128 {
			id = id[:128]
		}
		return id
	}
	return "req_" + strconv.FormatUint(mrand.Uint64(), 16)
}

// freezeWait holds the caller while the one-time freeze window
// [InjectFreezeAt, InjectFreezeAt+InjectFreezeFor) of uptime is on.
func (s *Server) freezeWait(ctx context.Context) {
	if s.cfg.InjectFreezeFor <= 0 {
		return
	}
	up := time.Since(s.startedMono)
	end := s.cfg.InjectFreezeAt + s.cfg.InjectFreezeFor
	if up < s.cfg.InjectFreezeAt || up >= end {
		return
	}
	sleepCtx(ctx, end-up)
}

// injectedDelay is the extra service time of one detect request.
func (s *Server) injectedDelay() time.Duration {
	d := s.cfg.InjectLatency
	if s.cfg.InjectJitter > 0 {
		s.rngMu.Lock()
		d += time.Duration(s.rng.Int64N(int64(s.cfg.InjectJitter)))
		s.rngMu.Unlock()
	}
	if s.cfg.DegradePerMinute > 0 {
		if up := s.now().Sub(s.startedAt); up > 0 {
			d += time.Duration(float64(s.cfg.DegradePerMinute) * up.Minutes())
		}
	}
	return d
}

// injectError rolls --inject-error-rate.
func (s *Server) injectError() bool {
	if s.cfg.InjectErrorRate <= 0 {
		return false
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < s.cfg.InjectErrorRate
}

// leak retains LeakBytesPerRequest bytes for good, touching every page so
// they count in the resident set.
func (s *Server) leak() {
	n := s.cfg.LeakBytesPerRequest
	if n <= 0 {
		return
	}
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	s.leakMu.Lock()
	s.leaked = append(s.leaked, b)
	s.leakMu.Unlock()
	s.metrics.leakedBytes.Add(float64(n))
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// forgetStream is the cache's eviction callback.
func (s *Server) forgetStream(key string) {
	s.streamMu.Lock()
	delete(s.streamParams, key)
	s.streamMu.Unlock()
}

// streamSeed gives each stream its own repeatable permutation seed.
func (s *Server) streamSeed(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return h.Sum64() ^ s.cfg.Seed
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b, 4)
}

// formatUUID sets the version and RFC 4122 variant bits and formats b.
func formatUUID(b [16]byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
