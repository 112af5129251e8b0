package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// The tests below run the binary built by TestMain (e2e_test.go).

func TestServeHelpListsEveryFlag(t *testing.T) {
	res := runBinary(t, t.TempDir(), 10*time.Second, "serve", "--help")
	if res.code != 0 {
		t.Fatalf("serve --help: exit %d\n%s", res.code, res.stderr)
	}
	want := []string{"addr", "api-key", "demo-limit", "demo-window", "no-retry-after-header", "key-rate",
		"no-rate-limit", "max-events", "max-body-bytes", "detector-capacity", "permutations", "seed",
		"read-header-timeout", "read-timeout", "idle-timeout",
		"inject-latency", "inject-jitter", "inject-error-rate", "degrade-per-minute", "leak-bytes-per-request",
		"max-in-flight", "inject-freeze-at", "inject-freeze-for", "shutdown-timeout"}
	var defined []string
	newServeCmd().Flags().VisitAll(func(f *pflag.Flag) { defined = append(defined, f.Name) })
	for _, name := range append(want, defined...) {
		if !slices.Contains(defined, name) {
			t.Errorf("flag --%s is not defined", name)
		}
		if !strings.Contains(res.stdout, "--"+name+" ") {
			t.Errorf("serve --help does not document --%s", name)
		}
	}
	if !strings.Contains(res.stdout, "DRIFTLOCK_API_KEYS") {
		t.Errorf("serve --help does not mention DRIFTLOCK_API_KEYS")
	}
}

func TestServeBadFlagsExit104(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the one-line error
	}{
		{[]string{"--demo-limit", "0"}, "--demo-limit"},
		{[]string{"--demo-limit", "many"}, "demo-limit"},
		{[]string{"--inject-error-rate", "2"}, "--inject-error-rate"},
		{[]string{"--inject-freeze-at", "1s"}, "--inject-freeze-for"},
		{[]string{"--addr", "nowhere"}, "--addr"},
		{[]string{"--shutdown-timeout", "0s"}, "--shutdown-timeout"},
		{[]string{"--read-timeout", "0s"}, "--read-timeout"},
		{[]string{"--read-header-timeout", "-1s"}, "--read-header-timeout"},
		{[]string{"--idle-timeout", "0s"}, "--idle-timeout"},
		{[]string{"extra-arg"}, "extra-arg"},
	}
	for _, tt := range tests {
		res := runBinary(t, t.TempDir(), 10*time.Second, append([]string{"serve"}, tt.args...)...)
		if res.code != 104 {
			t.Errorf("%v: exit %d, want 104\n%s", tt.args, res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, tt.want) || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
			t.Errorf("%v: want one line naming %s, got:\n%s", tt.args, tt.want, res.stderr)
		}
	}
}

// TestServeSIGINTFinishesInFlightAndExits0 starts the server, keeps a slow
// request in flight, sends SIGINT and expects the request answered and exit 0.
func TestServeSIGINTFinishesInFlightAndExits0(t *testing.T) {
	srv := startServe(t, "--inject-latency", "700ms")
	base, key, cmd := srv.base, srv.key, srv.cmd

	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/v1/detect", strings.NewReader(`{"events":[{"a":1}]}`))
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	// Wait until the request is in its injected latency on the server.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if inflight := scrape(t, base, "driftlock_detect_in_flight"); inflight[""] >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow request never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGINT: %v, want exit 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not exit after SIGINT")
	}
	if code := <-status; code != 200 {
		t.Fatalf("in-flight request got %d, want 200", code)
	}
}

func TestServeEnvKeys(t *testing.T) {
	tests := []struct {
		env  string
		want []string
	}{
		{"", nil},
		{"k1", []string{"k1"}},
		{" k1 , ,k2,", []string{"k1", "k2"}},
	}
	for _, tt := range tests {
		if got := serveEnvKeys(tt.env); !slices.Equal(got, tt.want) {
			t.Errorf("serveEnvKeys(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// TestServeReadTimeoutAnswersSlowBody408: --read-timeout reaches the server.
// A body dribbled a byte per 100 ms gets 408 request_timeout after about
// the timeout, and the connection is closed.
func TestServeReadTimeoutAnswersSlowBody408(t *testing.T) {
	const timeout = 500 * time.Millisecond
	srv := startServe(t, "--read-timeout", timeout.String())
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	start := time.Now()
	head := "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Api-Key: " + srv.key + "\r\nContent-Length: 1000\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte("{")); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"request_timeout"`) || !resp.Close {
		t.Fatalf("= %d %s (close %v), want 408 request_timeout and close", resp.StatusCode, body, resp.Close)
	}
	if took < timeout || took > timeout+5*time.Second {
		t.Errorf("answered after %v, want about %v", took, timeout)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("connection still open after the 408")
	}
}
