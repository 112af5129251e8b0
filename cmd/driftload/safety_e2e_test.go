package main

import (
	"bufio"
	"bytes"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A result file that cannot be written is known before the pre-flight:
// nothing listens on port 1, so reaching the pre-flight would exit 108.
func TestUnwritableOutExits104BeforeThePreflight(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, out := range []string{"/proc/x.json", filepath.Join(dir, "missing", "r.json"), dir, ""} {
		res := runBinary(t, dir, 30*time.Second, "smoke", "--base-url", "http://127.0.0.1:1", "--out", out)
		if res.code != 104 {
			t.Errorf("--out %q: exit %d, want 104\n%s", out, res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, "--out") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
			t.Errorf("--out %q: want one line naming --out, got:\n%s", out, res.stderr)
		}
		if res.took > 5*time.Second {
			t.Errorf("--out %q: took %s", out, res.took)
		}
	}
}

// A character device named by --out is written through, never replaced.
func TestOutToADeviceKeepsTheDevice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, int(1<<8|3)); err != nil {
		t.Skip("mknod needs root:", err)
	}
	res := runBinary(t, dir, time.Minute, "smoke", "--embedded-target", "--duration", "1s", "--vus", "1", "--quiet", "--out", dev)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	fi, err := os.Lstat(dev)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a character device (%v, %v)", dev, fi.Mode(), err)
	}
}

// Neither --help nor any output or result field shows a key or a password.
func TestSecretsNeverShow(t *testing.T) {
	t.Parallel()
	const key, pw, qkey = "dlk_topsecret_key", "hunter2pw", "qsecretvalue"
	dir := t.TempDir()
	cmd := exec.Command(binary, "smoke", "--help")
	cmd.Env = append(os.Environ(), "API_KEY="+key, "BASE_URL=http://me:"+pw+"@127.0.0.1:1")
	help, _ := cmd.CombinedOutput()
	if bytes.Contains(help, []byte(key)) || bytes.Contains(help, []byte(pw)) {
		t.Errorf("--help shows a secret:\n%s", help)
	}

	// Pre-flight error against nothing.
	res := runBinary(t, dir, 30*time.Second, "smoke", "--base-url", "http://me:"+pw+"@127.0.0.1:1/?api_key="+qkey, "--api-key", key)
	if res.code != 108 {
		t.Fatalf("exit %d, want 108\n%s", res.code, res.stderr)
	}
	for _, s := range []string{key, pw, qkey} {
		if strings.Contains(res.stderr, s) {
			t.Errorf("pre-flight error shows %q:\n%s", s, res.stderr)
		}
	}

	// A real run: summary, progress and result file.
	srv := startServe(t)
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(srv.key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := strings.Replace(srv.base, "http://", "http://me:"+pw+"@", 1) + "/?token=" + qkey
	res = runBinary(t, dir, time.Minute, "smoke", "--base-url", base, "--api-key-file", keyFile, "--duration", "1s", "--vus", "1")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "smoke_test_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{srv.key, pw, qkey} {
		for where, text := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "result file": string(data)} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows %q", where, s)
			}
		}
	}
	if !strings.Contains(string(data), "[redacted]") {
		t.Error("the result file should say where a secret was redacted")
	}
}

// A closed stdout and stderr (driftload smoke | head -1) do not end the run
// or lose the result file.
func TestClosedOutputKeepsTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(binary, "smoke", "--embedded-target", "--duration", "3s", "--vus", "1")
	cmd.Dir = dir
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	r.Close() // like head -1: read one line, then go away
	if line == "" {
		t.Fatal("no first line")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("did not end")
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d (141 would be SIGPIPE), want 0", code)
	}
	if res := readResult(t, filepath.Join(dir, "smoke_test_results.json")); res["complete"] != true {
		t.Errorf("result file not complete: %v", res["complete"])
	}
}

// More VUs than open files allow are refused before the run.
func TestTooManyVUsAreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"smoke", "--vus", "10000000", "--duration", "3s"},
		{"smoke", "--rate", "10", "--max-vus", "10000000", "--pre-allocated-vus", "10000000", "--duration", "3s"},
		{"smoke", "--time-scale", "NaN"},
		{"smoke", "--time-scale", "1e300"},
		{"smoke", "--demo-rate", "Inf"},
	} {
		res := runBinary(t, dir, 30*time.Second, append(args, "--base-url", "http://127.0.0.1:1")...)
		if res.code != 104 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, want 104 with one line:\n%s", args, res.code, res.stderr)
		}
	}
}

// kill -9 in the middle of a run leaves the last checkpoint: a valid result
// file marked complete: false with what was measured.
func TestKilledRunKeepsItsCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(binary, "smoke", "--embedded-target", "--duration", "40s", "--vus", "2", "--checkpoint", "5s", "--quiet")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Second)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	r := readResult(t, filepath.Join(dir, "smoke_test_results.json"))
	if r["complete"] != false {
		t.Fatalf("complete = %v, want false", r["complete"])
	}
	reqs := r["metrics"].(map[string]any)["http_reqs"].(map[string]any)["values"].(map[string]any)["count"].(float64)
	if reqs == 0 {
		t.Fatal("the checkpoint holds no requests")
	}
	if d := r["duration_seconds"].(float64); d < 14 {
		t.Errorf("checkpoint covers %.1f s of a run killed at 20 s", d)
	}
}

// A server that answers every request with an endless body: each request
// fails with "body too large" at the limit, memory stays bounded, and the
// result file is written with the failures counted by reason.
func TestEndlessBodyKeepsMemoryBounded(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	cmd := exec.Command(binary, "http", "GET", "http://"+ln.Addr().String()+"/", "--vus", "4", "--duration", "30s", "--max-body-bytes", "1048576")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); cmd.ProcessState == nil {
		t.Fatal(err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 99 {
		t.Fatalf("exit %d, want 99 (every request failed)\n%s\n%s", code, stdout.String(), stderr.String())
	}
	maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
	t.Logf("peak RSS %d MiB", maxRSS>>20)
	// The server writes an endless body as fast as loopback takes it (about
	// 1 GB/s): a client that kept it would pass gigabytes in 30 s. Bounded,
	// the run peaks at 31-44 MiB on a quiet machine; a loaded CI machine,
	// whose GC runs late, once reached 100 MiB, hence the margin.
	if maxRSS > 200<<20 {
		t.Errorf("peak RSS %d MiB, want under 200 MiB", maxRSS>>20)
	}
	r := readResult(t, filepath.Join(dir, "http_test_results.json"))
	byReason, _ := r["failures"].(map[string]any)["by_reason"].(map[string]any)
	if n, _ := byReason["body too large"].(float64); n == 0 {
		t.Errorf("failures by reason %v, want body too large", byReason)
	}
	if !strings.Contains(stdout.String(), "body too large") {
		t.Errorf("the summary must name the reason:\n%s", stdout.String())
	}
}

// --ca-cert trusts a target's private CA; without it the pre-flight names
// the TLS failure. A --cert without --key is a configuration error.
func TestCACertTrustsAPrivateTarget(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runBinary(t, dir, time.Minute, "http", "GET", srv.URL+"/", "--vus", "1", "--duration", "1s", "--ca-cert", ca, "--quiet")
	if res.code != 0 {
		t.Fatalf("with --ca-cert: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	res = runBinary(t, dir, time.Minute, "http", "GET", srv.URL+"/", "--vus", "1", "--duration", "1s", "--quiet")
	if res.code != 108 || !strings.Contains(res.stderr, "certificate") {
		t.Errorf("without --ca-cert: exit %d, want 108 naming the certificate\n%s", res.code, res.stderr)
	}
	res = runBinary(t, dir, time.Minute, "http", "GET", srv.URL+"/", "--cert", ca)
	if res.code != 104 || !strings.Contains(res.stderr, "--key") {
		t.Errorf("--cert alone: exit %d\n%s", res.code, res.stderr)
	}
}
