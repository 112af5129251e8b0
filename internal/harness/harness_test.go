package harness

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario/all"
)

// brokenDemo answers every route like a healthy Driftlock except the demo
// detect route, which fails.
func brokenDemo() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz":
			w.Write([]byte(`{"status":"ok"}`))
		case "/v1/demo/detect":
			w.WriteHeader(500)
			w.Write([]byte(`{"error":{"code":"internal","message":"boom"}}`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func smokeConfig(t *testing.T, base, thresholds string) (Config, *bytes.Buffer) {
	t.Helper()
	test, ok := all.Lookup("smoke")
	if !ok {
		t.Fatal("no smoke test")
	}
	var out bytes.Buffer
	return Config{
		Test: test, BaseURL: base, Thresholds: []byte(thresholds), ThresholdsSource: "test",
		Out: filepath.Join(t.TempDir(), "r.json"), VUs: 1, Duration: time.Minute, TimeScale: 1, Seed: 1,
		Timeout: 5 * time.Second, Stdout: &out, Stderr: &out,
	}, &out
}

func TestAbortOnFailStopsTheRunEarly(t *testing.T) {
	srv := brokenDemo()
	defer srv.Close()
	cfg, out := smokeConfig(t, srv.URL, `{"smoke": {"demo_detect_success": [{"threshold": "rate>0.95", "abortOnFail": true}]}}`)
	start := time.Now()
	code := Run(context.Background(), cfg)
	if code != exitcode.ThresholdsFailed {
		t.Fatalf("exit %d, want 99\n%s", code, out)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("took %s: an abortOnFail threshold must stop a 1-minute run within seconds", took)
	}
	r, err := report.ReadFile(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Aborted || !strings.Contains(r.AbortReason, "demo_detect_success") {
		t.Fatalf("aborted %v reason %q, want aborted naming the threshold", r.Aborted, r.AbortReason)
	}
}

func TestDelayAbortEvalHoldsTheAbort(t *testing.T) {
	srv := brokenDemo()
	defer srv.Close()
	cfg, out := smokeConfig(t, srv.URL, `{"smoke": {"demo_detect_success": [{"threshold": "rate>0.95", "abortOnFail": true, "delayAbortEval": "3s"}]}}`)
	cfg.Duration = 5 * time.Second
	start := time.Now()
	code := Run(context.Background(), cfg)
	if code != exitcode.ThresholdsFailed {
		t.Fatalf("exit %d, want 99\n%s", code, out)
	}
	if took := time.Since(start); took < 3*time.Second {
		t.Fatalf("stopped after %s, before the 3 s delayAbortEval", took)
	}
}

func TestInvalidProfilesAreConfigErrors(t *testing.T) {
	srv := brokenDemo()
	defer srv.Close()
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"negative vus", func(c *Config) { c.VUs = -1 }, "vus must be at least 1"},
		{"rate and stages", func(c *Config) { c.Rate = 5; c.RateStages = ""; c.Stages = ""; c.MaxVUs = 1; c.PreAllocatedVUs = 2 }, "must not exceed"},
		{"bad url", func(c *Config) { c.BaseURL = "localhost:8080" }, "--base-url"},
		{"bad thresholds", func(c *Config) { c.Thresholds = []byte(`{"smoke": {"nope": ["rate>1"]}}`) }, "nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, out := smokeConfig(t, srv.URL, `{}`)
			c.mutate(&cfg)
			if code := Run(context.Background(), cfg); code != exitcode.InvalidConfig {
				t.Fatalf("exit %d, want 104\n%s", code, out)
			}
			if !strings.Contains(out.String(), c.want) {
				t.Fatalf("message %q does not mention %q", out, c.want)
			}
		})
	}
}

// The pre-flight waits as long as --timeout when it is given: an endpoint
// slower than the default 3 s can be tested.
func TestPreflightWaitsForTheGivenTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3200 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	test, _ := all.Lookup("http")
	var out bytes.Buffer
	cfg := Config{
		Test: test, Args: []string{"GET", srv.URL}, Options: test.Options(), Thresholds: []byte(`{}`), ThresholdsSource: "test",
		Out: filepath.Join(t.TempDir(), "r.json"), VUs: 1, Duration: 500 * time.Millisecond, TimeScale: 1,
		Timeout: 10 * time.Second, Explicit: map[string]bool{"timeout": true}, Stdout: &out, Stderr: &out,
	}
	if code := Run(context.Background(), cfg); code != exitcode.OK {
		t.Fatalf("exit %d, want 0\n%s", code, out.String())
	}
	if got := preflightTimeout(Config{Timeout: 10 * time.Second}); got != DefaultPreflightTimeout {
		t.Errorf("without --timeout the pre-flight waits %s, want %s", got, DefaultPreflightTimeout)
	}
}
