// Command target is the loopback server bench/run.sh measures load
// generators against. It is deliberately minimal: a tiny GET, a POST that
// reads its body, and a GET that sleeps a fixed service time and records how
// long each of its requests took inside the handler, so a tool's median
// latency can be compared with the server's own.
//
//	GET  /healthz  → "ok"
//	POST /upload   → reads the body, answers its length
//	GET  /slow     → sleeps -service (default 10 ms), answers "ok"
//	GET  /stats    → "requests=N slow_p50_us=X slow_count=M conns=C conns_peak=P"
//	POST /reset    → clears the counters (not the connection counts)
//
// conns is the connections open now, conns_peak the most open at once. On
// SIGINT or SIGTERM it prints the /stats line and exits 0. With -reuseport
// several targets listen on one port (SO_REUSEPORT; the kernel spreads the
// connections over them), so one machine holds more connections than one
// process's open-files limit allows; each prints its own line at exit.
//
// It prints "listening on http://ADDR" once it accepts connections. With
// -tls-addr it also serves the same handlers over TLS on a second port,
// with a self-signed certificate for 127.0.0.1 and localhost made at start
// (ECDSA P-256), HTTP/1.1 only so every tool speaks the same protocol; it
// then prints "listening on https://ADDR" as well. Both ports share the
// counters.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxSamples bounds the memory of /slow's timing record.
const maxSamples = 4 << 20

type server struct {
	service  time.Duration
	requests atomic.Int64
	// conns are the connections open, peak the most at once.
	conns, peak atomic.Int64

	mu   sync.Mutex
	slow []int64 // service times in ns, at most maxSamples
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	s.requests.Add(1)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}

func (s *server) upload(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
}

// slowHandler's recorded time runs from handler entry to after the response
// is written and flushed: everything the server does for the request except
// parsing it.
func (s *server) slowHandler(w http.ResponseWriter, _ *http.Request) {
	start := time.Now()
	s.requests.Add(1)
	time.Sleep(s.service)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	d := time.Since(start)
	s.mu.Lock()
	if len(s.slow) < maxSamples {
		s.slow = append(s.slow, int64(d))
	}
	s.mu.Unlock()
}

// connState counts open connections, as http.Server.ConnState.
func (s *server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		n := s.conns.Add(1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

func (s *server) stats(w http.ResponseWriter, _ *http.Request) { s.writeStats(w) }

func (s *server) writeStats(w io.Writer) {
	s.mu.Lock()
	samples := slices.Clone(s.slow)
	s.mu.Unlock()
	var p50 float64
	if len(samples) > 0 {
		slices.Sort(samples)
		p50 = float64(samples[(len(samples)-1)/2]) / 1e3
	}
	fmt.Fprintf(w, "requests=%d slow_p50_us=%.1f slow_count=%d conns=%d conns_peak=%d\n",
		s.requests.Load(), p50, len(samples), s.conns.Load(), s.peak.Load())
}

func (s *server) reset(w http.ResponseWriter, _ *http.Request) {
	s.requests.Store(0)
	s.mu.Lock()
	s.slow = s.slow[:0]
	s.mu.Unlock()
	_, _ = io.WriteString(w, "reset\n")
}

// selfSigned returns a certificate for 127.0.0.1, ::1 and localhost, valid
// for a day, signed by its own key.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "driftload bench target"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	service := flag.Duration("service", 10*time.Millisecond, "service time of /slow")
	tlsAddr := flag.String("tls-addr", "", "also serve over TLS (self-signed, HTTP/1.1) on this address, e.g. 127.0.0.1:0")
	reusePort := flag.Bool("reuseport", false, "listen with SO_REUSEPORT, so several targets share -addr's port")
	flag.Parse()

	s := &server{service: *service}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /upload", s.upload)
	mux.HandleFunc("GET /slow", s.slowHandler)
	mux.HandleFunc("GET /stats", s.stats)
	mux.HandleFunc("POST /reset", s.reset)

	var lc net.ListenConfig
	if *reusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *tlsAddr != "" {
		cert, err := selfSigned()
		if err != nil {
			log.Fatal(err)
		}
		tln, err := lc.Listen(context.Background(), "tcp", *tlsAddr)
		if err != nil {
			log.Fatal(err)
		}
		tsrv := &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
			// A non-nil empty map turns HTTP/2 off: wrk speaks HTTP/1.1 only,
			// so every tool is measured on HTTP/1.1 over TLS.
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
			ConnState:    s.connState,
		}
		fmt.Printf("listening on https://%s\n", tln.Addr())
		go func() { log.Fatal(tsrv.Serve(tls.NewListener(tln, tsrv.TLSConfig))) }()
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ConnState: s.connState}
	go func() { log.Fatal(srv.Serve(ln)) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	s.writeStats(os.Stdout)
}
