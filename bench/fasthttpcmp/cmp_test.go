package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/runner/h1"
)

// The clients compared, each doing what one VU does: one request after the
// other on its own keep-alive connection, a 60 s timeout, the status checked.
//
//   - fasthttp: one fasthttp.HostClient with MaxConns = VUs shared by the
//     VUs, DoTimeout, the request and response objects reused. It measures
//     no phase: fasthttp has no hook for when the request was written or
//     the first byte came back, and a shared HostClient does not say which
//     connection served a request.
//   - fasthttp-phases: what it takes to get the phases driftload reports
//     out of fasthttp: a HostClient per VU (MaxConns 1, so the connection is
//     known) whose Dial wraps the connection to take the instants of the
//     last write and the first read after it.
//   - h1: driftload's own HTTP/1.1 connection (internal/runner/h1), the
//     protocol code fasthttp would replace, with the same phases
//     (RoundTrip returns WroteRequest and FirstByte).
//   - driftload: the runner's VU.Do (h1 underneath): the phases, the
//     built-in HTTP metrics recorded into HDR series, the failure reason, and
//     a check, as `driftload http` does per request.
//   - driftload-nethttp: VU.Do through net/http's Transport (--stdlib-http),
//     for reference.
var clients = []string{"fasthttp", "fasthttp-phases", "h1", "driftload", "driftload-nethttp"}

const (
	timeout   = 60 * time.Second
	postBytes = 20 << 10
	// Environment of the child processes: the server, and the load of one
	// peak-RSS measurement ("CLIENT VUS SECONDS BASE").
	serverEnv = "FASTHTTPCMP_SERVER"
	loadEnv   = "FASTHTTPCMP_LOAD"
)

var postBody = bytes.Repeat([]byte("x"), postBytes)

// phases are the instants every client but fasthttp takes; sink keeps them
// from being optimised away.
type phases struct{ start, wrote, firstByte, end time.Time }

var sink atomic.Int64

func (p *phases) keep() {
	sink.Add(int64(p.wrote.Sub(p.start) + p.firstByte.Sub(p.wrote) + p.end.Sub(p.firstByte)))
}

// worker is one VU's next request.
type worker func() error

// setup returns a constructor of the VUs' workers for client, sending GET
// /healthz or (post) 20 KB POST /upload to base, and a close function.
func setup(client, base string, vus int, post bool) (func(id int) worker, func(), error) {
	method, path := "GET", "/healthz"
	var body []byte
	var header http.Header
	if post {
		method, path, body = "POST", "/upload", postBody
		header = http.Header{"Content-Type": {"application/octet-stream"}}
	}
	url := base + path
	addr := strings.TrimPrefix(base, "http://")
	status := func(got int) error {
		if got != 200 {
			return fmt.Errorf("status %d", got)
		}
		return nil
	}
	switch client {
	case "fasthttp":
		hc := &fasthttp.HostClient{Addr: addr, MaxConns: vus, MaxIdleConnDuration: time.Minute, Dial: dial}
		return func(int) worker {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI(url)
			req.Header.SetMethod(method)
			if post {
				req.Header.SetContentType("application/octet-stream")
				req.SetBodyRaw(body)
			}
			return func() error {
				if err := hc.DoTimeout(req, resp, timeout); err != nil {
					return err
				}
				return status(resp.StatusCode())
			}
		}, hc.CloseIdleConnections, nil
	case "fasthttp-phases":
		var mu sync.Mutex
		var hcs []*fasthttp.HostClient
		return func(int) worker {
				var p phases
				hc := &fasthttp.HostClient{Addr: addr, MaxConns: 1, MaxIdleConnDuration: time.Minute,
					Dial: func(a string) (net.Conn, error) {
						nc, err := dial(a)
						if err != nil {
							return nil, err
						}
						return &phaseConn{Conn: nc, p: &p}, nil
					}}
				mu.Lock()
				hcs = append(hcs, hc)
				mu.Unlock()
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				req.SetRequestURI(url)
				req.Header.SetMethod(method)
				if post {
					req.Header.SetContentType("application/octet-stream")
					req.SetBodyRaw(body)
				}
				return func() error {
					p = phases{start: time.Now()}
					err := hc.DoTimeout(req, resp, timeout)
					p.end = time.Now()
					if err != nil {
						return err
					}
					p.keep()
					return status(resp.StatusCode())
				}
			}, func() {
				for _, hc := range hcs {
					hc.CloseIdleConnections()
				}
			}, nil
	case "h1":
		u, ok := h1.ParseURL(url)
		if !ok {
			return nil, nil, fmt.Errorf("h1 cannot send %s", url)
		}
		cfg := &h1.Config{MaxBody: runner.DefaultMaxBodyBytes}
		var mu sync.Mutex
		var conns []*h1.Conn
		return func(int) worker {
				var conn *h1.Conn
				hreq := h1.Request{Method: method, URL: u, UserAgent: "driftload", Header: header, Body: body}
				return func() error {
					p := phases{start: time.Now()}
					if conn != nil && !conn.Acquire() {
						conn = nil
					}
					if conn == nil {
						nc, err := net.DialTimeout("tcp", u.Addr(), 10*time.Second)
						if err != nil {
							return err
						}
						conn = h1.NewConn(nc, u, cfg, nil)
						mu.Lock()
						conns = append(conns, conn)
						mu.Unlock()
					}
					if err := conn.SetDeadline(p.start.Add(timeout)); err != nil {
						return err
					}
					r := conn.RoundTrip(&hreq)
					p.end = time.Now()
					if r.HeadErr != nil || r.BodyErr != nil {
						return errors.Join(r.HeadErr, r.BodyErr)
					}
					if !r.Keep || !conn.Release() {
						conn.Close()
						conn = nil
					}
					p.wrote, p.firstByte = r.WroteRequest, r.FirstByte
					p.keep()
					return status(r.Status)
				}
			}, func() {
				for _, c := range conns {
					c.Close()
				}
			}, nil
	case "driftload", "driftload-nethttp":
		c := runner.NewClient(runner.ClientOptions{MaxVUs: vus, NoFastPath: client == "driftload-nethttp"})
		reg := metrics.NewRegistry()
		b := runner.DefineBuiltins(reg)
		return func(id int) worker {
			vu := runner.NewVU(id, 1, c, reg, b)
			req := runner.Request{Method: method, URL: url, Header: header, Body: body, Endpoint: "bench", Scenario: "http"}
			ctx := context.Background()
			return func() error {
				r := vu.Do(ctx, &req)
				vu.Check("status is 200", r.Err == nil && r.Status == 200)
				if r.Err != nil {
					return r.Err
				}
				return status(r.Status)
			}
		}, c.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown client %q", client)
}

// dial is fasthttp's dialer with driftload's connect timeout, 10 s
// (fasthttp.Dial's is 3 s).
func dial(addr string) (net.Conn, error) { return fasthttp.DialTimeout(addr, 10*time.Second) }

// phaseConn takes the instants fasthttp does not report: the end of the
// last write of a request and the first read that returns data after it.
type phaseConn struct {
	net.Conn
	p       *phases
	reading bool
}

func (c *phaseConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.p.wrote, c.reading = time.Now(), false
	return n, err
}

func (c *phaseConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if !c.reading && n > 0 {
		c.p.firstByte, c.reading = time.Now(), true
	}
	return n, err
}

// load runs vus workers until n requests are done (n > 0) or, with
// n <= 0, until d has passed; the first error stops it. It returns the
// requests done.
func load(newWorker func(int) worker, vus int, n int64, d time.Duration) (int64, error) {
	workers := make([]worker, vus)
	for i := range workers {
		workers[i] = newWorker(i + 1)
	}
	return loadWorkers(workers, n, d, false)
}

// loadWorkers is load on workers made already; with keepGoing a failed
// request is counted in the error (the last one) and the worker goes on.
func loadWorkers(workers []worker, n int64, d time.Duration, keepGoing bool) (int64, error) {
	var left, done, failed atomic.Int64
	left.Store(n)
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	var lastErr atomic.Value
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if n > 0 && left.Add(-1) < 0 || n <= 0 && time.Now().After(stop) {
					return
				}
				if err := w(); err != nil {
					lastErr.Store(err)
					failed.Add(1)
					if !keepGoing {
						return
					}
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := lastErr.Load().(error); err != nil {
		return done.Load(), fmt.Errorf("%d requests failed, the last: %w", failed.Load(), err)
	}
	return done.Load(), nil
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClient is b.N requests spread over 50 VUs against the net/http
// server in a child process. cpu-µs/req is this process's CPU (user +
// system, from getrusage) per request: the client's alone, the number
// bench/run.sh compares. Run it pinned to one core with -cpu 1, as
// bench/run.sh runs the tools (see main.go).
func BenchmarkClient(b *testing.B) {
	base := server(b)
	const vus = 50
	for _, kind := range []string{"GET", "POST20KB"} {
		for _, client := range clients {
			b.Run(kind+"/"+client, func(b *testing.B) {
				newWorker, closeFn, err := setup(client, base, vus, kind != "GET")
				if err != nil {
					b.Fatal(err)
				}
				defer closeFn()
				// One warm-up request per VU opens the connections.
				if _, err := load(newWorker, vus, vus, 0); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				cpu0 := processCPU()
				b.ResetTimer()
				if _, err := load(newWorker, vus, int64(b.N), 0); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/req")
			})
		}
	}
}

// BenchmarkPeakRSS runs each client in a fresh child process with 1000 and
// 10,000 VUs, each holding its connection (see runLoad), doing GETs for 3 s
// against the server child, and reports the child's peak RSS (getrusage
// maxrss: runtime, test binary and the VUs; bench/run.sh's number) and its
// CPU per request, start-up and the connects included.
func BenchmarkPeakRSS(b *testing.B) {
	base := server(b)
	for _, vus := range []int{1000, 10000} {
		for _, client := range clients {
			b.Run(fmt.Sprintf("%d/%s", vus, client), func(b *testing.B) {
				var rss, cpu, reqs float64
				for b.Loop() {
					r, c, n := loadChild(b, client, vus, 3*time.Second, base)
					rss, cpu, reqs = rss+r, cpu+c, reqs+n
				}
				k := float64(b.N)
				b.ReportMetric(rss/k/1024, "peak-RSS-MiB")
				b.ReportMetric(cpu/reqs, "cpu-µs/req")
				b.ReportMetric(reqs/k, "reqs")
			})
		}
	}
}

// loadChild runs one peak-RSS load in a child process and returns its
// maxrss in KiB, its CPU in µs and the requests it did.
func loadChild(b *testing.B, client string, vus int, d time.Duration, base string) (float64, float64, float64) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %s", loadEnv, client, vus, d.Milliseconds(), base))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("load child: %v: %s", err, out)
	}
	var reqs int64
	if _, err := fmt.Sscanf(string(out), "reqs=%d", &reqs); err != nil {
		b.Fatalf("load child said %q", out)
	}
	if i := strings.Index(string(out), "errors:"); i >= 0 {
		b.Logf("%s %d: %s", client, vus, strings.TrimSpace(string(out[i:])))
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil || reqs == 0 {
		b.Fatalf("load child: no usage or no requests: %q", out)
	}
	return float64(ru.Maxrss), float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e3, float64(reqs)
}

// runLoad is the peak-RSS child: "CLIENT VUS MILLISECONDS BASE". Every VU
// first does one request (so all VUs hold a connection whatever the accept
// backlog did to the connects; failed ones try again, for at most 30 s),
// then all of them loop for the duration. It prints "reqs=N" and, when
// requests failed, the error.
func runLoad(spec string) error {
	f := strings.Fields(spec)
	if len(f) != 4 {
		return fmt.Errorf("bad %s %q", loadEnv, spec)
	}
	vus, err1 := strconv.Atoi(f[1])
	ms, err2 := strconv.Atoi(f[2])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	newWorker, closeFn, err := setup(f[0], f[3], vus, false)
	if err != nil {
		return err
	}
	defer closeFn()
	workers := make([]worker, vus)
	for i := range workers {
		workers[i] = newWorker(i + 1)
	}
	var wg sync.WaitGroup
	var warm atomic.Int64
	giveUp := time.Now().Add(30 * time.Second)
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w() != nil && time.Now().Before(giveUp) {
			}
			warm.Add(1)
		}()
	}
	wg.Wait()
	n, err := loadWorkers(workers, 0, time.Duration(ms)*time.Millisecond, true)
	fmt.Printf("reqs=%d\n", n+warm.Load())
	if err != nil {
		fmt.Printf("errors: %v\n", err)
	}
	return nil
}

var (
	serverOnce sync.Once
	serverBase string
	serverErr  error
	serverCmd  *exec.Cmd
)

// server starts the net/http server child once (on CPU 0 through taskset
// when there is more than one CPU and taskset is installed) and returns its
// base URL; TestMain stops it.
func server(tb testing.TB) string {
	serverOnce.Do(func() {
		args := []string{os.Args[0], "-test.run=^$"}
		if p, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() > 1 {
			args = append([]string{p, "-c", "0"}, args...)
		}
		serverCmd = exec.Command(args[0], args[1:]...)
		serverCmd.Env = append(os.Environ(), serverEnv+"=1")
		serverCmd.Stderr = os.Stderr
		stdout, err := serverCmd.StdoutPipe()
		if err != nil {
			serverErr = err
			return
		}
		if serverErr = serverCmd.Start(); serverErr != nil {
			return
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			serverErr = fmt.Errorf("server child: %q %v", line, err)
			return
		}
		serverBase = "http://" + strings.TrimSpace(line)
	})
	if serverErr != nil {
		tb.Fatal(serverErr)
	}
	return serverBase
}

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) == "1" {
		if err := serve("127.0.0.1:0"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if spec := os.Getenv(loadEnv); spec != "" {
		if err := runLoad(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if serverCmd != nil && serverCmd.Process != nil {
		_ = serverCmd.Process.Kill()
		_ = serverCmd.Wait()
	}
	os.Exit(code)
}

// TestClients sends a few GETs and POSTs with every client, so go test
// without -bench checks that each one works against the server.
func TestClients(t *testing.T) {
	base := server(t)
	for _, client := range clients {
		for _, post := range []bool{false, true} {
			newWorker, closeFn, err := setup(client, base, 4, post)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := load(newWorker, 4, 40, 0); err != nil || n != 40 {
				t.Errorf("%s post=%v: %d requests, %v", client, post, n, err)
			}
			closeFn()
		}
	}
}
