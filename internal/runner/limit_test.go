package runner

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/runner/h1/h1test"
)

// bodyServer is a loopback server that answers each request with head and
// then body's writes, and closes the connection when body returns; body
// may write until the client goes away.
func bodyServer(t testing.TB, head string, body func(w io.Writer)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	headBytes := []byte(head)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				if _, err := c.Write(headBytes); err != nil {
					return
				}
				body(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/x"
}

// endless writes chunk until the client goes away, allocating nothing (a
// memory test counts the whole process's allocations).
func endless(chunk string) func(io.Writer) {
	b := []byte(chunk)
	return func(w io.Writer) {
		for {
			if _, err := w.Write(b); err != nil {
				return
			}
		}
	}
}

func fixed(s string) func(io.Writer) {
	return func(w io.Writer) { _, _ = io.WriteString(w, s) }
}

type bodyCase struct {
	name     string
	method   string
	head     string
	body     func(io.Writer)
	tooLarge bool
}

func bodyCases(limit int) []bodyCase {
	at := strings.Repeat("x", limit)
	chunk := strings.Repeat("c", 1000)
	chunked := "3e8\r\n" + chunk + "\r\n"
	gzHead := func(gz string) string {
		return "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n" + gz
	}
	return []bodyCase{
		{"endless chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", endless(chunked), true},
		{"endless identity", "GET", "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n", endless(chunk), true},
		{"huge content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n", endless(chunk), true},
		{"gzip bomb", "GET", gzHead(h1test.Gzipped(strings.Repeat("\x00", 4*limit))), fixed(""), true},
		{"content-length at the limit", "GET", "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(limit) + "\r\n\r\n", fixed(at), false},
		{"chunked at the limit", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", fixed(strconv.FormatInt(int64(limit), 16) + "\r\n" + at + "\r\n0\r\n\r\n"), false},
		{"identity at the limit", "GET", "HTTP/1.1 200 OK\r\n\r\n", fixed(at), false},
		{"gzip at the limit", "GET", gzHead(h1test.Gzipped(at)), fixed(""), false},
		{"HEAD announcing a huge length", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n", fixed(""), false},
	}
}

// A body over ClientOptions.MaxBodyBytes is not read beyond the limit: the
// request fails with ErrBodyTooLarge and is recorded as failed, on both
// paths; a body exactly at the limit is read.
func TestBodyOverTheLimitFailsTheRequest(t *testing.T) {
	const limit = 64 << 10
	for _, tc := range bodyCases(limit) {
		for _, std := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "", true: "/nethttp"}[std], func(t *testing.T) {
				url := bodyServer(t, tc.head, tc.body)
				f := newFixture()
				f.client = NewClient(ClientOptions{NoFastPath: std, MaxBodyBytes: limit, Timeout: 10 * time.Second})
				defer f.client.Close()
				vu := NewVU(1, 1, f.client, f.reg, f.b)
				r := vu.Do(context.Background(), &Request{Method: tc.method, URL: url, Endpoint: "x"})
				failed, _ := f.reg.Snapshot().Sink("http_req_failed", nil)
				if !tc.tooLarge {
					want := limit
					if tc.method == "HEAD" {
						want = 0
					}
					if r.Err != nil || r.Status != 200 || len(r.Body) != want || failed.Trues != 0 {
						t.Fatalf("status %d, %d body bytes, error %v; want 200 with %d bytes", r.Status, len(r.Body), r.Err, want)
					}
					return
				}
				if !errors.Is(r.Err, ErrBodyTooLarge) || r.TimedOut {
					t.Fatalf("error %v (timed out %v), want ErrBodyTooLarge", r.Err, r.TimedOut)
				}
				if !strings.Contains(r.Err.Error(), strconv.Itoa(limit)) {
					t.Errorf("error %q does not name the limit", r.Err)
				}
				if failed.Count != 1 || failed.Trues != 1 {
					t.Errorf("http_req_failed %d of %d, want the request recorded as failed", failed.Trues, failed.Count)
				}
			})
		}
	}
}

// Whatever the server sends, a VU holds at most about the limit: requests
// against endless bodies allocate a bounded amount each and leave no
// buffer of the limit's size behind.
func TestBodyLimitBoundsMemory(t *testing.T) {
	const limit = 1 << 20
	const rounds = 3
	for _, std := range []bool{false, true} {
		f := newFixture()
		f.client = NewClient(ClientOptions{NoFastPath: std, MaxBodyBytes: limit, Timeout: 10 * time.Second})
		vu := NewVU(1, 1, f.client, f.reg, f.b)
		var urls []string
		for _, tc := range bodyCases(limit)[:4] {
			urls = append(urls, bodyServer(t, tc.head, tc.body))
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range rounds {
			for _, url := range urls {
				if r := vu.Do(context.Background(), &Request{Method: "GET", URL: url}); !errors.Is(r.Err, ErrBodyTooLarge) {
					t.Fatalf("std=%v %s: %v, want ErrBodyTooLarge", std, url, r.Err)
				}
			}
		}
		runtime.ReadMemStats(&after)
		n := uint64(rounds * len(urls))
		if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 3*limit {
			t.Errorf("std=%v: %d bytes allocated per request, want at most %d", std, per, 3*limit)
		}
		var held runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&held)
		if kept := int64(held.HeapAlloc) - int64(before.HeapAlloc); kept > limit/2 {
			t.Errorf("std=%v: %d more bytes on the heap after the requests: the VU kept a body buffer", std, kept)
		}
		runtime.KeepAlive(vu)
		f.client.Close()
		t.Logf("std=%v: %d KiB allocated per request (limit %d KiB)", std, (after.TotalAlloc-before.TotalAlloc)/n>>10, limit>>10)
	}
}

func TestMaxBodyBytesDefault(t *testing.T) {
	for _, tc := range []struct{ set, want int64 }{
		{0, DefaultMaxBodyBytes},
		{-1, DefaultMaxBodyBytes},
		{1, 1},
		{100 << 20, 100 << 20},
	} {
		c := NewClient(ClientOptions{MaxBodyBytes: tc.set})
		if c.maxBody != tc.want || c.h1.MaxBody != tc.want {
			t.Errorf("MaxBodyBytes %d: limits %d (net/http) and %d (fast path), want %d", tc.set, c.maxBody, c.h1.MaxBody, tc.want)
		}
	}
}
