package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// sourceLog is a loopback server that records the source address of every
// connection it accepts, in order.
type sourceLog struct {
	mu    sync.Mutex
	hosts []string
}

func newSourceLog(t *testing.T) (*sourceLog, string) {
	t.Helper()
	l := &sourceLog{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st != http.StateNew {
			return
		}
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		l.mu.Lock()
		l.hosts = append(l.hosts, host)
		l.mu.Unlock()
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return l, srv.URL
}

func (l *sourceLog) connections() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.hosts...)
}

// --local-ips 127.0.0.2-127.0.0.3 with 4 VUs: the pre-flight dials from the
// first address, and VUs 1 and 3 from 127.0.0.2, VUs 2 and 4 from 127.0.0.3,
// one keep-alive connection each; the flag is echoed in the result file.
func TestHTTPLocalIPsSpreadTheVUs(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"fast path", "net/http"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			log, url := newSourceLog(t)
			args := []string{"http", "GET", url + "/", "--local-ips", "127.0.0.2-127.0.0.3", "--vus", "4", "--duration", "1s", "--quiet"}
			if path == "net/http" {
				args = append(args, "--stdlib-http")
			}
			res := runBinary(t, dir, 60*time.Second, args...)
			if res.code != 0 {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			conns := log.connections()
			count := map[string]int{}
			for _, h := range conns {
				count[h]++
			}
			if len(conns) == 0 || conns[0] != "127.0.0.2" {
				t.Fatalf("connections from %v: the first (the pre-flight) must come from 127.0.0.2", conns)
			}
			switch path {
			case "fast path":
				// Each VU holds its own connection: the pre-flight's stays
				// with net/http.
				if len(conns) != 5 || count["127.0.0.2"] != 3 || count["127.0.0.3"] != 2 {
					t.Fatalf("connections from %v, want the pre-flight's and two VUs' from 127.0.0.2, two VUs' from 127.0.0.3", conns)
				}
			case "net/http":
				// net/http's pool lends the pre-flight's idle connection to
				// the first VU that asks; every other VU dials its own.
				if count["127.0.0.2"] < 2 || count["127.0.0.3"] < 1 || len(count) != 2 {
					t.Fatalf("connections from %v, want both addresses used (and no other)", conns)
				}
			}
			r := readResult(t, filepath.Join(dir, "http_test_results.json"))
			if got := r["config"].(map[string]any)["local_ips"]; got != "127.0.0.2-127.0.0.3" {
				t.Fatalf("config.local_ips = %v, want the flag as given", got)
			}
		})
	}
}
