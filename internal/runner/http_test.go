package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

func TestDoTimesPhasesAndTagsEveryRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(20 * time.Millisecond)
		}
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	f := newFixture()
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	ctx := context.Background()

	resp := vu.Do(ctx, &Request{Method: "GET", URL: srv.URL + "/slow", Endpoint: "slow", Scenario: "s"})
	if !resp.OK(200) || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("resp = %d %q %v", resp.Status, resp.Body, resp.Err)
	}
	if resp.Timings.Waiting < 20*time.Millisecond || resp.Timings.Duration < resp.Timings.Waiting {
		t.Fatalf("timings %+v: waiting must cover the 20 ms the server took", resp.Timings)
	}
	if resp.Timings.Connecting <= 0 {
		t.Errorf("first request must show a connect phase: %+v", resp.Timings)
	}
	second := vu.Do(ctx, &Request{Method: "GET", URL: srv.URL + "/fast", Endpoint: "fast"})
	if second.Timings.Connecting != 0 {
		t.Errorf("keep-alive: second request must reuse the connection, got connecting %s", second.Timings.Connecting)
	}
	vu.Do(ctx, &Request{Method: "GET", URL: srv.URL + "/missing", Endpoint: "missing", Expect: []int{404}})
	vu.Do(ctx, &Request{Method: "GET", URL: srv.URL + "/missing", Endpoint: "missing"})

	snap := f.reg.Snapshot()
	reqs, _ := snap.Sink("http_reqs", nil)
	if reqs.Sum != 4 {
		t.Fatalf("http_reqs = %g, want 4", reqs.Sum)
	}
	slow, _ := snap.Sink("http_req_duration", metrics.NewTags("endpoint", "slow", "status", "200", "method", "GET", "scenario", "s"))
	if slow.Count != 1 || slow.Min < 20 {
		t.Fatalf("slow series = %+v, want one sample ≥ 20 ms", slow)
	}
	failed, _ := snap.Sink("http_req_failed", nil)
	if failed.Trues != 1 {
		t.Fatalf("failed = %d, want 1 (the unexpected 404 only)", failed.Trues)
	}
	if f.client.BytesSent() == 0 || f.client.BytesReceived() == 0 {
		t.Fatalf("wire bytes not counted")
	}
}

func TestDoReportsTimeoutsAndKeepsCancelledRequestsOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	f := newFixture()
	vu := NewVU(1, 1, f.client, f.reg, f.b)

	resp := vu.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Endpoint: "x", Timeout: 30 * time.Millisecond})
	if !resp.TimedOut || resp.Err == nil || resp.Canceled {
		t.Fatalf("resp = %+v, want a timeout", resp)
	}
	// An abort (interrupt) cancels a request in flight.
	abort, cancelAbort := context.WithCancel(context.Background())
	vu.abort = abort
	time.AfterFunc(30*time.Millisecond, cancelAbort)
	resp = vu.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Endpoint: "x"})
	if !resp.Canceled {
		t.Fatalf("resp = %+v, want cancelled", resp)
	}
	// A VU told to stop sends nothing more.
	stopped, stop := context.WithCancel(context.Background())
	stop()
	if resp = vu.Do(stopped, &Request{Method: "GET", URL: srv.URL, Endpoint: "x"}); !resp.Canceled {
		t.Fatalf("resp = %+v, want nothing sent", resp)
	}
	snap := f.reg.Snapshot()
	reqs, _ := snap.Sink("http_reqs", nil)
	failed, _ := snap.Sink("http_req_failed", metrics.NewTags("status", "0"))
	if reqs.Sum != 1 || failed.Trues != 1 {
		t.Fatalf("http_reqs = %g failed = %d: want only the timeout recorded, as a failure with status 0", reqs.Sum, failed.Trues)
	}
}

func TestInFlightRequestOutlivesTheIterationContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
	}))
	defer srv.Close()
	f := newFixture()
	vu := NewVU(1, 1, f.client, f.reg, f.b)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	resp := vu.Do(ctx, &Request{Method: "GET", URL: srv.URL, Endpoint: "x"})
	if resp.Canceled || !resp.OK(200) {
		t.Fatalf("resp = %+v: a request in flight when its VU is told to stop must complete", resp)
	}
	reqs, _ := f.reg.Snapshot().Sink("http_reqs", nil)
	if reqs.Sum != 1 {
		t.Fatalf("http_reqs = %g, want the completed request recorded", reqs.Sum)
	}
}

func TestPreflight(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	c := NewClient(ClientOptions{})
	if err := Preflight(context.Background(), c, ok.URL, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := Preflight(context.Background(), c, down.URL, time.Second); err == nil {
		t.Fatal("503 must fail the pre-flight")
	}
	start := time.Now()
	if err := Preflight(context.Background(), c, "http://127.0.0.1:1/healthz", time.Second); err == nil {
		t.Fatal("nothing listening must fail the pre-flight")
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("pre-flight must give up within its timeout")
	}
}

// VUs share the resolved series of the built-in HTTP metrics, and a VU
// going round more distinct requests than it keeps at hand still records
// each into its own series.
func TestVUsShareHTTPSeries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, endpoints := range []int{1, len(httpSeriesCache{}.recent), len(httpSeriesCache{}.recent) + 2} {
		t.Run(fmt.Sprint(endpoints), func(t *testing.T) {
			f := newFixture()
			vus := []*VU{NewVU(1, 1, f.client, f.reg, f.b), NewVU(2, 1, f.client, f.reg, f.b)}
			for round := range 3 {
				for e := range endpoints {
					for _, vu := range vus {
						req := Request{Method: "GET", URL: srv.URL, Endpoint: fmt.Sprint("e", e), Scenario: "s"}
						if r := vu.Do(context.Background(), &req); !r.OK(200) {
							t.Fatalf("round %d: %d %v", round, r.Status, r.Err)
						}
					}
				}
			}
			for e := range endpoints {
				req := Request{Method: "GET", Endpoint: fmt.Sprint("e", e), Scenario: "s"}
				if a, b := vus[0].httpSeriesFor(&req, 200, ""), vus[1].httpSeriesFor(&req, 200, ""); a != b {
					t.Errorf("endpoint e%d: the VUs hold different entries", e)
				}
				s, _ := f.reg.Snapshot().Sink("http_reqs", metrics.NewTags("endpoint", fmt.Sprint("e", e)))
				if s.Sum != 6 {
					t.Errorf("endpoint e%d: http_reqs %g, want 6", e, s.Sum)
				}
			}
		})
	}
}
