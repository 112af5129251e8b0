package livemetrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// CheckAddr checks a --metrics-addr value: HOST:PORT, and a loopback host
// (127.0.0.0/8, ::1, localhost) unless allowRemote.
func CheckAddr(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
			err = errors.New("bad port")
		}
	}
	if err != nil {
		return fmt.Errorf("--metrics-addr %q: want HOST:PORT, e.g. 127.0.0.1:9464", addr)
	}
	if allowRemote || IsLoopback(host) {
		return nil
	}
	what := host + " is not a loopback address"
	if host == "" {
		what = "no host means every interface"
	}
	return fmt.Errorf("--metrics-addr %s: %s; add --metrics-allow-remote to serve the run's metrics to other machines", addr, what)
}

// IsLoopback reports whether host names this machine only: localhost or a
// loopback IP. An empty host (every interface) is not.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server serves a collector on /metrics.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr and serves c on /metrics from a private registry (no Go
// or process collectors: those would describe driftload, not the run).
func Listen(addr string, c *Collector) (*Server, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err // "bind: address already in use", without the address again
		}
		return nil, fmt.Errorf("--metrics-addr %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	s := &Server{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is where the metrics are served.
func (s *Server) URL() string {
	return "http://" + s.ln.Addr().String() + "/metrics"
}

// Close stops serving; a nil Server is already closed.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	return s.srv.Close()
}
