package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingTarget answers status to every request and counts the requests
// that carry exactly the method, body and X-Tag header the test sends.
func countingTarget(t *testing.T, status int, method string, body []byte) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var matching atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == method && bytes.Equal(b, body) && r.Header.Get("X-Tag") == "e2e" && r.URL.Path == "/items" {
			matching.Add(1)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &matching
}

// Every request driftload reports is one the server received as described
// (method, body from @file, header), and a healthy run exits 0.
func TestHTTPPostWithBodyFilePasses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	body := bytes.Repeat([]byte("0123456789"), 2048) // 20 KB
	if err := os.WriteFile(filepath.Join(dir, "body.bin"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, matching := countingTarget(t, http.StatusCreated, http.MethodPost, body)
	res := runBinary(t, dir, 60*time.Second, "http", "POST", srv.URL+"/items",
		"--body", "@body.bin", "-H", "X-Tag: e2e", "-H", "Content-Type: application/octet-stream",
		"--vus", "4", "--duration", "2s")
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	r := readResult(t, filepath.Join(dir, "http_test_results.json"))
	if r["test"] != "http" || r["exit_code"].(float64) != 0 {
		t.Fatalf("result: test %v exit %v, want http 0", r["test"], r["exit_code"])
	}
	ms := r["metrics"].(map[string]any)
	reqs := int64(ms["http_reqs"].(map[string]any)["values"].(map[string]any)["count"].(float64))
	// In-flight requests run to completion when the run stops, so the
	// server and the result file count the same requests (the pre-flight is
	// a GET and does not match).
	if reqs == 0 || reqs != matching.Load() {
		t.Fatalf("driftload recorded %d requests, the server received %d matching ones", reqs, matching.Load())
	}
	failed := ms["http_req_failed"].(map[string]any)["values"].(map[string]any)["rate"].(float64)
	if failed != 0 {
		t.Errorf("http_req_failed rate %v, want 0 (201 is a success)", failed)
	}
	sent := ms["data_sent"].(map[string]any)["values"].(map[string]any)["count"].(float64)
	if sent < float64(reqs)*float64(len(body)) {
		t.Errorf("data_sent %v bytes for %d requests of %d bytes", sent, reqs, len(body))
	}
	if !strings.Contains(res.stdout, "status 2xx/3xx") || !strings.Contains(res.stdout, "PASSED") {
		t.Errorf("summary must show the status check and PASSED:\n%s", res.stdout)
	}
}

func TestHTTPBadInputExits104(t *testing.T) {
	t.Parallel()
	const u = "http://127.0.0.1:1/"
	cases := []struct {
		name string
		args []string
		want string // in the one-line error
	}{
		{"bad method", []string{"http", "GE T", u}, "method"},
		{"relative URL", []string{"http", "GET", "/healthz"}, "URL"},
		{"missing body file", []string{"http", "POST", u, "--body", "@does-not-exist.json"}, "does-not-exist.json"},
		{"bad header", []string{"http", "GET", u, "-H", "no colon"}, "-H"},
		{"bad expect", []string{"http", "GET", u, "--expect", "ok"}, "--expect"},
		{"one argument", []string{"http", "GET"}, "METHOD and URL"},
		{"embedded target", []string{"http", "GET", u, "--embedded-target"}, "embedded"},
		{"bad duration", []string{"http", "GET", u, "--duration", "soon"}, "duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := runBinary(t, t.TempDir(), 30*time.Second, c.args...)
			if res.code != 104 {
				t.Fatalf("exit %d, want 104\nstderr:\n%s", res.code, res.stderr)
			}
			msg := strings.TrimSpace(res.stderr)
			if strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) {
				t.Errorf("want a one-line error naming %q, got:\n%s", c.want, res.stderr)
			}
		})
	}
}

func TestHTTPNothingListeningExits108(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	res := runBinary(t, dir, 30*time.Second, "http", "GET", "http://"+addr+"/healthz", "--duration", "5s")
	if res.code != 108 {
		t.Fatalf("exit %d, want 108\nstderr:\n%s", res.code, res.stderr)
	}
	if res.took > 15*time.Second {
		t.Errorf("took %s to report an unreachable target", res.took)
	}
	if _, err := os.Stat(filepath.Join(dir, "http_test_results.json")); err == nil {
		t.Errorf("no result file expected when the test never started")
	}
}

// A failing status with an http threshold on http_req_failed exits 99. The
// thresholds catalog must know the "http" section; until it does, the
// thresholds file is rejected and the test is skipped.
func TestHTTPThresholdFailureExits99(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	th := filepath.Join(dir, "th.json")
	if err := os.WriteFile(th, []byte(`{"http": {"http_req_failed": ["rate<0.01"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := runBinary(t, dir, 30*time.Second, "validate", th); v.code != 0 {
		t.Skipf("thresholds catalog has no http section yet: %s", strings.TrimSpace(v.stderr))
	}
	srv, _ := countingTarget(t, http.StatusInternalServerError, http.MethodGet, nil)
	res := runBinary(t, dir, 60*time.Second, "http", "GET", srv.URL+"/items", "--thresholds", th,
		"--vus", "2", "--duration", "1s", "--quiet")
	if res.code != 99 {
		t.Fatalf("exit %d, want 99\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	// --expect makes the same answers a success.
	res = runBinary(t, dir, 60*time.Second, "http", "GET", srv.URL+"/items", "--thresholds", th,
		"--vus", "2", "--duration", "1s", "--quiet", "--expect", "500")
	if res.code != 0 {
		t.Fatalf("with --expect 500: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
}
