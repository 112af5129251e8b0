package main

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// served is a reference server running as its own process (the real
// binary, built without the race detector, so its service times are real).
type served struct {
	base, key string
	cmd       *exec.Cmd
}

// startServe runs `driftload serve --addr 127.0.0.1:0 args...` and waits for
// its address and dev key; the process is killed when the test ends.
func startServe(t *testing.T, args ...string) served {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cmd.Environ(), "DRIFTLOCK_API_KEYS=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody listens any more; keep draining
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		close(lines)
	}()
	var s served
	s.cmd = cmd
	deadline := time.After(15 * time.Second)
	for s.base == "" || s.key == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve exited before listening")
			}
			if u, found := strings.CutPrefix(l, "driftload serve: listening on "); found {
				s.base = u
			}
			if k, found := strings.CutPrefix(l, "driftload serve: dev API key: "); found {
				s.key = k
			}
		case <-deadline:
			t.Fatalf("serve printed no address and dev key (base %q key %q)", s.base, s.key)
		}
	}
	return s
}
