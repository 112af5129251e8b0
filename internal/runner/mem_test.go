package runner

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// rawServerEnv makes the test binary a raw loopback server (serveRaw) in a
// child process, so a memory benchmark measures the client alone.
const rawServerEnv = "DRIFTLOAD_RUNNER_RAW_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(rawServerEnv) == "1" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(ln.Addr().String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go serveRaw(c, okResponse)
			}
		}()
		// The parent closes stdin when it is done.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childServer starts the raw server in a child process and returns its base URL.
func childServer(tb testing.TB) string {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rawServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "error") {
		tb.Fatalf("raw server: %q %v", line, err)
	}
	return "http://" + strings.TrimSpace(line)
}

// BenchmarkVUMemory runs N VUs looping GETs through the engine against a
// raw server in another process and reports the peak heap and stack bytes
// per VU (runtime.MemStats, above the idle baseline), and the GC's peak
// heap goal per VU, which is what RSS follows. N is bounded by the open
// files limit (each VU holds one connection); bench/run.sh measures RSS at
// 10,000 VUs.
func BenchmarkVUMemory(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			base := childServer(b)
			var heap, stack, goal, sys float64
			for b.Loop() {
				h, s, g, y := vuMemory(b, base, n)
				heap, stack, goal, sys = heap+h, stack+s, goal+g, sys+y
			}
			k := float64(b.N)
			b.ReportMetric(heap/k, "heap-B/VU")
			b.ReportMetric(stack/k, "stack-B/VU")
			b.ReportMetric(goal/k, "heapgoal-B/VU")
			b.ReportMetric(sys/k, "sys-B/VU")
		})
	}
}

func vuMemory(b *testing.B, base string, n int) (heap, stack, goal, sys float64) {
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f := newFixture()
	f.client = NewClient(ClientOptions{MaxVUs: n})
	defer f.client.Close()
	req := Request{Method: "GET", URL: base + "/healthz", Endpoint: "healthz", Scenario: "http"}
	it := func(ctx context.Context, vu *VU) { vu.Do(ctx, &req) }
	done := make(chan struct{})
	var peakHeap, peakStack, peakGoal, peakSys uint64
	go func() {
		defer close(done)
		if _, err := Run(context.Background(), f.opts(NewConstantVUs(n, 2*time.Second), it)); err != nil {
			b.Error(err)
		}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	if path := os.Getenv("VUMEM_HEAPPROFILE"); path != "" {
		// A heap profile in the middle of the run: go tool pprof -sample_index=inuse_space.
		time.AfterFunc(1500*time.Millisecond, func() {
			if f, err := os.Create(path); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		})
	}
	for {
		select {
		case <-done:
			per := func(v, v0 uint64) float64 { return float64(int64(v)-int64(v0)) / float64(n) }
			return per(peakHeap, m0.HeapInuse), per(peakStack, m0.StackInuse), per(peakGoal, m0.NextGC), per(peakSys, m0.Sys)
		case <-tick.C:
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peakHeap, peakStack = max(peakHeap, m.HeapInuse), max(peakStack, m.StackInuse)
			peakGoal, peakSys = max(peakGoal, m.NextGC), max(peakSys, m.Sys)
		}
	}
}

// BenchmarkEngine is b.N GET iterations (vu.Do and a check) spread over 50
// VUs through the engine, against a raw server in another process: its CPU
// profile is driftload's side alone, the closest to bench/run.sh's
// measurement. Run it with -cpu 1 (bench/run.sh pins driftload to one core)
// and compare -benchtime runs, not ns/op alone: ns/op is wall time per
// request with 50 requests in flight.
func BenchmarkEngine(b *testing.B) {
	for _, bc := range []struct {
		name string
		std  bool
	}{{"GET", false}, {"GET-nethttp", true}} {
		b.Run(bc.name, func(b *testing.B) {
			base := childServer(b)
			const vus = 50
			f := newFixture()
			f.client = NewClient(ClientOptions{MaxVUs: vus, NoFastPath: bc.std})
			defer f.client.Close()
			req := Request{Method: "GET", URL: base + "/healthz", Endpoint: "http", Scenario: "http"}
			it := func(ctx context.Context, vu *VU) {
				r := vu.Do(ctx, &req)
				vu.Check("status is 200", r.Err == nil && r.Status == 200)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := Run(context.Background(), f.opts(NewPerVUIterations(vus, int64(max(1, b.N/vus))), it)); err != nil {
				b.Fatal(err)
			}
		})
	}
}
