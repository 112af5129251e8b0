package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ptyCols is the width of the pseudo-terminal the live line is drawn on.
const ptyCols = 120

// runOnTerminal runs driftload with stdin, stdout and stderr on a
// pseudo-terminal ptyCols wide and returns everything it printed there.
func runOnTerminal(t *testing.T, limit time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: ptyCols})
	if err != nil {
		t.Fatalf("starting driftload on a pty: %v", err)
	}
	defer tty.Close()
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		// Reading ends with EIO once driftload has exited and closed its side.
		_, _ = io.Copy(&out, tty)
		close(read)
	}()
	err = cmd.Wait()
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("the pty was not closed after driftload exited")
	}
	if ctx.Err() != nil {
		t.Fatalf("driftload %v did not stop within %s:\n%q", args, limit, out.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	// The terminal turns every \n into \r\n; undo it so a lone \r is a redraw.
	return code, strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// summaryHeader starts the summary on stdout.
const summaryHeader = "driftload smoke  ·"

func TestLiveLineOnATerminal(t *testing.T) {
	t.Parallel()
	code, out := runOnTerminal(t, 60*time.Second, "smoke", "--embedded-target", "--duration", "3s", "--vus", "2")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%q", code, out)
	}
	summary := strings.Index(out, summaryHeader)
	if summary < 0 {
		t.Fatalf("no summary:\n%q", out)
	}
	before := out[:summary]
	// Each redraw returns to the line's start and clears what is left of
	// the previous one.
	var draws []string
	for _, d := range strings.Split(before, "\r")[1:] {
		line, ok := strings.CutSuffix(strings.TrimRight(d, "\n "), "\x1b[K")
		if !ok {
			t.Fatalf("a redraw must end with clear-to-end-of-line: %q", d)
		}
		draws = append(draws, line)
	}
	if len(draws) < 2 {
		t.Fatalf("%d redraws in a 3 s run, want one a second:\n%q", len(draws), before)
	}
	for _, d := range draws {
		for _, want := range []string{"smoke [", "] ", "s left", "2 VUs", " req/s", "p95 ", "% err", "thresholds failing"} {
			if !strings.Contains(d, want) {
				t.Errorf("redraw %q lacks %q", d, want)
			}
		}
		if n := len([]rune(d)); n >= ptyCols {
			t.Errorf("redraw %q is %d columns on a %d-column terminal: it would wrap", d, n, ptyCols)
		}
	}
	if !strings.Contains(before, "p95 ") || strings.Count(before, "p95 -") == len(draws) {
		t.Errorf("no redraw shows a measured p95:\n%q", before)
	}
	// The line is ended before the summary starts.
	if !strings.Contains(before[strings.LastIndex(before, "\x1b[K"):], "\n") {
		t.Errorf("the live line is not ended before the summary:\n%q", before)
	}
	if strings.Contains(before, "requests  ") {
		t.Errorf("the plain progress line is for non-terminals only:\n%q", before)
	}
}

func TestQuietPrintsNothingBeforeTheSummaryOnATerminal(t *testing.T) {
	t.Parallel()
	code, out := runOnTerminal(t, 60*time.Second, "smoke", "--embedded-target", "--duration", "3s", "--vus", "2", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%q", code, out)
	}
	summary := strings.Index(out, summaryHeader)
	if summary < 0 {
		t.Fatalf("no summary:\n%q", out)
	}
	if before := out[:summary]; strings.TrimSpace(before) != "" {
		t.Errorf("--quiet printed before the summary: %q", before)
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\x1b[K") {
		t.Errorf("--quiet drew a live line:\n%q", out)
	}
}

// freePort is a loopback address nothing listens on (as long as no one
// takes it between this call and its use).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrapeLive reads url's metrics; ok is false while nothing answers.
func scrapeLive(t *testing.T, url string) (map[string]*dto.MetricFamily, bool) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: not the Prometheus text format: %v", url, err)
	}
	return fams, true
}

// requestsTotal sums driftload_http_requests_total over its labels.
func requestsTotal(fams map[string]*dto.MetricFamily) float64 {
	sum := 0.0
	for _, m := range fams["driftload_http_requests_total"].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum
}

// checkHistogram asserts a histogram's buckets are cumulative and its +Inf
// bucket holds its count.
func checkHistogram(t *testing.T, f *dto.MetricFamily) {
	t.Helper()
	if f == nil || len(f.GetMetric()) == 0 {
		t.Fatal("no driftload_http_request_duration_seconds")
	}
	for _, m := range f.GetMetric() {
		h := m.GetHistogram()
		var prev uint64
		inf := false
		for _, b := range h.GetBucket() {
			if b.GetCumulativeCount() < prev {
				t.Errorf("%v: bucket le=%g holds %d, less than the bucket below (%d)", m.GetLabel(), b.GetUpperBound(), b.GetCumulativeCount(), prev)
			}
			prev = b.GetCumulativeCount()
			if math.IsInf(b.GetUpperBound(), 1) {
				inf = true
				if b.GetCumulativeCount() != h.GetSampleCount() {
					t.Errorf("%v: +Inf bucket %d, count %d", m.GetLabel(), b.GetCumulativeCount(), h.GetSampleCount())
				}
			}
		}
		if !inf && prev > h.GetSampleCount() {
			t.Errorf("%v: buckets hold %d, more than the count %d", m.GetLabel(), prev, h.GetSampleCount())
		}
		if h.GetSampleCount() > 0 && h.GetSampleSum() <= 0 {
			t.Errorf("%v: %d samples summing to %g s", m.GetLabel(), h.GetSampleCount(), h.GetSampleSum())
		}
	}
}

// lockedBuffer is a bytes.Buffer a running command writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMetricsAddrServesTheLiveRun(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	url := "http://" + addr + "/metrics"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "smoke", "--embedded-target", "--duration", "4s", "--vus", "3", "--metrics-addr", addr)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	running := func() {
		select {
		case err := <-exited:
			t.Fatalf("driftload ended (%v) before the scrapes:\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		default:
		}
	}

	// The first scrape that saw requests, then one a second later.
	var first map[string]*dto.MetricFamily
	for deadline := time.Now().Add(10 * time.Second); first == nil; {
		running()
		if time.Now().After(deadline) {
			t.Fatalf("%s showed no request within 10 s\nstderr:\n%s", url, stderr.String())
		}
		if fams, ok := scrapeLive(t, url); ok && requestsTotal(fams) > 0 {
			first = fams
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	running()
	second, ok := scrapeLive(t, url)
	if !ok {
		t.Fatalf("%s stopped answering during the run", url)
	}
	running()
	if a, b := requestsTotal(first), requestsTotal(second); b <= a {
		t.Errorf("driftload_http_requests_total went from %g to %g in a second of a live run", a, b)
	}
	checkHistogram(t, second["driftload_http_request_duration_seconds"])
	for _, name := range []string{"driftload_vus", "driftload_vus_max", "driftload_iterations_total", "driftload_dropped_iterations_total", "driftload_achieved_iterations_per_second", "driftload_thresholds_failing", "driftload_http_request_failures_total"} {
		if second[name] == nil {
			t.Errorf("%s missing from the scrape", name)
		}
	}
	if v := second["driftload_vus"].GetMetric()[0].GetGauge().GetValue(); v != 3 {
		t.Errorf("driftload_vus = %g during the run, want 3", v)
	}
	for _, m := range second["driftload_http_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["endpoint"] == "" || labels["status"] == "" || labels["scenario"] == "" || labels["method"] == "" {
			t.Errorf("request series without endpoint, method, status or scenario: %v", labels)
		}
	}

	if err := <-exited; err != nil {
		t.Fatalf("driftload: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if want := fmt.Sprintf("Prometheus metrics on %s\n", url); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not say where the metrics are (%q):\n%s", want, stderr.String())
	}
	if _, ok := scrapeLive(t, url); ok {
		t.Errorf("%s still answers after driftload exited", url)
	}
}

func TestMetricsAddrBeyondLoopbackNeedsAllowRemote(t *testing.T) {
	t.Parallel()
	res := runBinary(t, t.TempDir(), 30*time.Second, "smoke", "--base-url", "http://127.0.0.1:1", "--metrics-addr", "0.0.0.0:9464")
	want := "driftload smoke: --metrics-addr 0.0.0.0:9464: 0.0.0.0 is not a loopback address; add --metrics-allow-remote to serve the run's metrics to other machines\n"
	if res.code != 104 || res.stderr != want || res.stdout != "" {
		t.Errorf("exit %d, stderr %q, stdout %q; want 104 and the one line %q", res.code, res.stderr, res.stdout, want)
	}
}
