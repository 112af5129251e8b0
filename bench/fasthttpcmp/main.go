// Command fasthttpcmp is the loopback server of the fasthttp comparison
// (issue 17): github.com/valyala/fasthttp's client weighed against
// driftload's own HTTP/1.1 client (internal/runner/h1) and the runner's
// VU.Do on the same requests. The benchmarks are in cmp_test.go; they start
// this server in a child process (pinned to CPU 0 when taskset is there), so
// the benchmark process's CPU and memory are the client's alone:
//
//	taskset -c 1 go test -run '^$' -bench . -cpu 1 -count 5 ./bench/fasthttpcmp
//
// Run by hand it serves until killed:
//
//	go run ./bench/fasthttpcmp -addr 127.0.0.1:8080
//
//	GET  /healthz → "ok"
//	POST /upload  → reads the body, answers its length
//
// It prints the address it listens on as its first line.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

// serve listens on addr, prints the address and serves /healthz and /upload
// with net/http until the process ends.
func serve(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	flag.Parse()
	log.Fatal(serve(*addr))
}
