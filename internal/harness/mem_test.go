package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario/all"
)

// childEnv makes the test binary one side of BenchmarkPeakRSS in a process
// of its own: "server" (a loopback HTTP/1.1 server answering every request
// with "ok") or "load VUS MILLISECONDS URL" (one `driftload http GET URL`
// run through Run).
const childEnv = "DRIFTLOAD_HARNESS_MEM_CHILD"

func TestMain(m *testing.M) {
	switch spec := os.Getenv(childEnv); {
	case spec == "server":
		os.Exit(serveOK())
	case strings.HasPrefix(spec, "load "):
		os.Exit(loadChild(strings.Fields(spec)[1:]))
	}
	os.Exit(m.Run())
}

// BenchmarkPeakRSS is issue 17's memory measurement through the code
// `driftload http GET URL --vus N --duration 5s` runs: a fresh process per
// run, against a server in another process, at 1000 and 10,000 VUs. It
// reports the run's peak RSS (getrusage maxrss, bench/run.sh's number), the
// bytes each VU adds ((RSS at 10,000 − RSS at 1000) / 9000) and CPU per
// request, with the harness's memory limit ("limit") and without it
// ("GOGC=100", which turns the limit off), medians of the runs. With
// taskset and two CPUs the server runs on CPU 0 and each load on CPU 1, as
// bench/run.sh pins them. 10,000 VUs need an open-files hard limit above
// 10,064; each iteration is two 5 s runs:
//
//	go test -run '^$' -bench PeakRSS -benchtime 3x ./internal/harness
func BenchmarkPeakRSS(b *testing.B) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Max < 10000+reservedFiles {
		b.Skipf("10,000 VUs need 10,064 open files; the hard limit is %d", lim.Max)
	}
	base := startServer(b)
	for _, gc := range []struct{ name, env string }{{"limit", ""}, {"GOGC=100", "GOGC=100"}} {
		b.Run(gc.name, func(b *testing.B) {
			var small, big, cpu1, cpu2, gcs1, gcs2, gcCPU2 []float64
			for b.Loop() {
				r1 := runLoadChild(b, gc.env, 1000, base)
				r2 := runLoadChild(b, gc.env, 10000, base)
				small, big = append(small, r1.rss), append(big, r2.rss)
				cpu1, cpu2 = append(cpu1, r1.cpuPerReq), append(cpu2, r2.cpuPerReq)
				gcs1, gcs2, gcCPU2 = append(gcs1, r1.gcs), append(gcs2, r2.gcs), append(gcCPU2, r2.gcCPU)
			}
			b.Logf("peak RSS MiB at 1000 VUs %.1f, at 10,000 %.1f; CPU µs/req %.1f and %.1f; GCs %.0f and %.0f; GC CPU s at 10,000 %.2f",
				small, big, cpu1, cpu2, gcs1, gcs2, gcCPU2)
			b.ReportMetric(median(small), "MiB-1000VUs")
			b.ReportMetric(median(big), "MiB-10000VUs")
			b.ReportMetric((median(big)-median(small))*(1<<20)/9000, "B/VU")
			b.ReportMetric(median(cpu1), "cpu-µs/req-1000VUs")
			b.ReportMetric(median(cpu2), "cpu-µs/req-10000VUs")
			b.ReportMetric(median(gcs2), "GCs-10000VUs")
			b.ReportMetric(median(gcCPU2)*1e3, "GC-cpu-ms-10000VUs")
		})
	}
}

// pinned is the command name args, on cpu when taskset is there and the
// machine has two CPUs (taskset execs it: the process and its usage are
// the command's).
func pinned(cpu string, name string, args ...string) *exec.Cmd {
	if ts, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() >= 2 {
		return exec.Command(ts, append([]string{"-c", cpu, name}, args...)...)
	}
	return exec.Command(name, args...)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// startServer runs the "server" child and returns its base URL.
func startServer(b *testing.B) string {
	cmd := pinned("0", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=server")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		b.Fatalf("server child: %q %v", line, err)
	}
	return strings.TrimSpace(line)
}

// loadResult is what one load child used: peak RSS in MiB, CPU per request
// in µs, GC cycles and the GC's CPU in seconds (runtime/metrics'
// /cpu/classes/gc/total, an estimate).
type loadResult struct{ rss, cpuPerReq, gcs, gcCPU float64 }

// runLoadChild runs one 5 s load child.
func runLoadChild(b *testing.B, env string, vus int, base string) loadResult {
	cmd := pinned("1", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=load %d %d %s", childEnv, vus, 5000, base))
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	out, err := cmd.CombinedOutput()
	var reqs, cycles int64
	var gcCPU float64
	if _, serr := fmt.Sscanf(string(out), "reqs=%d gcs=%d gccpu=%g", &reqs, &cycles, &gcCPU); err != nil || serr != nil || reqs == 0 {
		b.Fatalf("load child (%d VUs): %v: %s", vus, err, out)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		b.Fatal("load child: no resource usage")
	}
	cpu := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e3
	return loadResult{float64(ru.Maxrss) / 1024, cpu / float64(reqs), float64(cycles), gcCPU}
}

// loadChild is the "load" child: a `driftload http GET URL` run of VUS VUs
// for MILLISECONDS. It prints "reqs=N gcs=M gccpu=S": the run's http_reqs,
// the process's GC cycles and the GC's CPU seconds.
func loadChild(args []string) int {
	if len(args) != 3 {
		fmt.Println("want: load VUS MILLISECONDS URL")
		return 2
	}
	vus, err1 := strconv.Atoi(args[0])
	ms, err2 := strconv.Atoi(args[1])
	test, ok := all.Lookup("http")
	if err1 != nil || err2 != nil || !ok {
		fmt.Println("bad arguments", args, err1, err2)
		return 2
	}
	dir, err := os.MkdirTemp("", "driftload-mem")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	var msgs bytes.Buffer
	cfg := Config{
		Test: test, Args: []string{"GET", args[2]}, Options: test.Options(), Thresholds: []byte(`{}`), ThresholdsSource: "test",
		Out: filepath.Join(dir, "r.json"), VUs: vus, Duration: time.Duration(ms) * time.Millisecond, TimeScale: 1,
		Timeout: 60 * time.Second, Quiet: true, Stdout: io.Discard, Stderr: &msgs,
	}
	if code := Run(context.Background(), cfg); code != exitcode.OK && code != exitcode.ThresholdsFailed {
		fmt.Printf("exit %d: %s\n", code, msgs.String())
		return 1
	}
	r, err := report.ReadFile(cfg.Out)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	fmt.Printf("reqs=%d gcs=%d gccpu=%g\n", int64(r.Metrics["http_reqs"].Values["count"]), s[0].Value.Uint64(), s[1].Value.Float64())
	return 0
}

// serveOK is the "server" child: it answers every request on a loopback
// port with a 2-byte body until its stdin closes.
func serveOK() int {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Printf("http://%s\n", ln.Addr())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go answerOK(c)
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

var okResponse = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nok")

// answerOK answers each request head on c (requests without a body) with okResponse.
func answerOK(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
		}
		if _, err := c.Write(okResponse); err != nil {
			return
		}
	}
}
