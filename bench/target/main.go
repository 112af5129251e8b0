// Command target is the loopback server bench/run.sh measures load
// generators against. It is deliberately minimal: a tiny GET, a POST that
// reads its body, and a GET that sleeps a fixed service time and records how
// long each of its requests took inside the handler, so a tool's median
// latency can be compared with the server's own.
//
//	GET  /healthz  → "ok"
//	POST /upload   → reads the body, answers its length
//	GET  /slow     → sleeps -service (default 10 ms), answers "ok"
//	GET  /stats    → "requests=N slow_p50_us=X slow_count=M"
//	POST /reset    → clears the counters
//
// It prints "listening on http://ADDR" once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxSamples bounds the memory of /slow's timing record.
const maxSamples = 4 << 20

type server struct {
	service  time.Duration
	requests atomic.Int64

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

func (s *server) stats(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	samples := slices.Clone(s.slow)
	s.mu.Unlock()
	var p50 float64
	if len(samples) > 0 {
		slices.Sort(samples)
		p50 = float64(samples[(len(samples)-1)/2]) / 1e3
	}
	fmt.Fprintf(w, "requests=%d slow_p50_us=%.1f slow_count=%d\n", s.requests.Load(), p50, len(samples))
}

func (s *server) reset(w http.ResponseWriter, _ *http.Request) {
	s.requests.Store(0)
	s.mu.Lock()
	s.slow = s.slow[:0]
	s.mu.Unlock()
	_, _ = io.WriteString(w, "reset\n")
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	service := flag.Duration("service", 10*time.Millisecond, "service time of /slow")
	flag.Parse()

	s := &server{service: *service}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /upload", s.upload)
	mux.HandleFunc("GET /slow", s.slowHandler)
	mux.HandleFunc("GET /stats", s.stats)
	mux.HandleFunc("POST /reset", s.reset)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
