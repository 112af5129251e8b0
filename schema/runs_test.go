package schema_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/driftload/driftload"
	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/scenario/all"
	"github.com/driftload/driftload/internal/scenario/capacity"
	"github.com/driftload/driftload/internal/scenario/ratelimit"
	"github.com/driftload/driftload/internal/scenario/stress"
	"github.com/driftload/driftload/internal/target"
)

// server starts a reference target with cfg changed by tune; it stops with
// the test.
func server(t *testing.T, tune func(*target.Config)) (base, key string) {
	t.Helper()
	cfg := target.DefaultConfig()
	cfg.Seed = 1
	cfg.Version = "test"
	cfg.KeyRate = 1_000_000 // as the embedded target: no per-key 429s
	if tune != nil {
		tune(&cfg)
	}
	srv, err := target.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base, err = srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return base, srv.DevKey()
}

// runConfig is a short run of test against base: 2 VUs for 2 s, the
// shipped thresholds, the result file in a temporary directory.
func runConfig(t *testing.T, test, base, key string) harness.Config {
	t.Helper()
	tt, ok := all.Lookup(test)
	if !ok {
		t.Fatalf("no test %q", test)
	}
	cfg := harness.Config{
		Test: tt, BaseURL: base, APIKey: key, Thresholds: driftload.DefaultThresholds, ThresholdsSource: "built-in thresholds",
		Out: filepath.Join(t.TempDir(), tt.ResultFile), VUs: 2, Duration: 2 * time.Second, TimeScale: 1, Seed: 1,
		Timeout: 5 * time.Second, Version: "test", Quiet: true,
	}
	if tt.Options != nil {
		cfg.Options = tt.Options()
	}
	return cfg
}

// runFile runs cfg and returns the result file it wrote. Any exit code
// that comes with a result file is fine: short runs against a small
// machine fail thresholds or are invalid, and those files must match the
// schema too.
func runFile(t *testing.T, ctx context.Context, cfg harness.Config) []byte {
	t.Helper()
	// The command line echoes every flag; a few of them, as it would.
	cfg.Flags = map[string]any{"vus": int64(cfg.VUs), "duration": cfg.Duration.String(), "quiet": cfg.Quiet}
	code := harness.Run(ctx, cfg)
	switch code {
	case exitcode.InvalidConfig, exitcode.PreflightFailed, exitcode.Failure:
		t.Fatalf("%s: exit %d: no result to validate", cfg.Test.Name, code)
	}
	data, err := os.ReadFile(cfg.Out)
	if err != nil {
		t.Fatalf("%s (exit %d): %v", cfg.Test.Name, code, err)
	}
	return data
}

// checkpointDuring runs cfg with a checkpoint every 300 ms and returns the
// first checkpoint seen in the result file (complete: false) and the
// final file.
func checkpointDuring(t *testing.T, cfg harness.Config) (checkpoint, final []byte) {
	t.Helper()
	cfg.Checkpoint = 300 * time.Millisecond
	done := make(chan struct{})
	seen := make(chan []byte, 1)
	go func() {
		defer close(seen)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			data, err := os.ReadFile(cfg.Out) // written atomically: whole or absent
			if err != nil {
				continue
			}
			var head struct {
				Complete bool `json:"complete"`
			}
			if json.Unmarshal(data, &head) == nil && !head.Complete {
				seen <- data
				return
			}
		}
	}()
	final = runFile(t, context.Background(), cfg)
	close(done)
	checkpoint = <-seen
	if checkpoint == nil {
		t.Fatalf("%s: no checkpoint (complete: false) seen during the run", cfg.Test.Name)
	}
	return checkpoint, final
}

// resultRun is one run whose result file the tests read.
type resultRun struct {
	name string
	cfg  harness.Config
	// stopAfter interrupts the run (0: never); checkpoint also keeps the
	// first checkpoint written during the run, as name + " checkpoint".
	stopAfter  time.Duration
	checkpoint bool
}

// resultFiles are real result files of every test, from short in-process
// runs against reference targets (in parallel), by a name that starts
// with the test's and says what the run exercises.
func resultFiles(t *testing.T) map[string][]byte {
	t.Helper()
	base, key := server(t, nil)
	faulty, faultyKey := server(t, func(c *target.Config) { c.InjectErrorRate = 0.2 })
	// The demo route's limit is per client and server: each ratelimit run
	// has its own.
	limited, _ := server(t, func(c *target.Config) { c.DemoLimit, c.DemoWindow = 3, 2*time.Second })
	unlimited, _ := server(t, nil)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	t.Cleanup(slow.Close)

	var runs []resultRun
	add := func(name string, cfg harness.Config) *resultRun {
		runs = append(runs, resultRun{name: name, cfg: cfg})
		return &runs[len(runs)-1]
	}

	smoke := runConfig(t, "smoke", base, key)
	smoke.VUs, smoke.Duration = 1, time.Second
	add("smoke", smoke)

	// abortOnFail: an impossible limit stops the run at once.
	abort := runConfig(t, "smoke", base, key)
	abort.Thresholds = []byte(`{"smoke": {"http_req_duration": [{"threshold": "p(95)<0.001", "abortOnFail": true}]}}`)
	add("smoke aborted", abort)

	// Windowed thresholds ("over", "for"), a sub-metric, and a checkpoint.
	load := runConfig(t, "load", base, key)
	load.MaxEvents = 50
	load.Thresholds = []byte(`{"load": {
		"http_req_duration": ["p(95)<500", "p(99)<1000 over 1s", "p(95)<0.001 for 500ms"],
		"http_req_duration{endpoint:detect}": ["p(99)<1000"],
		"http_req_failed": ["rate<0.01 for 1s"]}}`)
	add("load windowed", load).checkpoint = true

	// Open model: a constant arrival rate, some requests failing.
	open := runConfig(t, "load", faulty, faultyKey)
	open.MaxEvents, open.Rate, open.MaxVUs, open.PreAllocatedVUs = 50, 20, 10, 2
	add("load open model", open)

	// Open model beyond its VUs: a 20 ms target, one VU, 200 it/s offered.
	drop := runConfig(t, "http", "", "")
	drop.Args = []string{"GET", slow.URL}
	drop.Rate, drop.MaxVUs, drop.PreAllocatedVUs, drop.MaxBacklog = 200, 1, 1, 1
	add("http open model dropping", drop)

	httpRun := runConfig(t, "http", "", "")
	httpRun.Args, httpRun.Duration = []string{"GET", base + "/healthz"}, time.Second
	add("http", httpRun)

	interrupted := runConfig(t, "http", "", "")
	interrupted.Args, interrupted.Duration = []string{"GET", base + "/healthz"}, 10*time.Second
	add("http interrupted", interrupted).stopAfter = 1500 * time.Millisecond

	// Stress, closed model, with failures: breaking_point and failures_by_status.
	st := runConfig(t, "stress", faulty, faultyKey)
	st.MaxEvents, st.Stages, st.Interval = 50, "1s:2,1s:4,1s:2", 250*time.Millisecond
	add("stress", st)

	// Stress, max-rate search: 2 levels of 1 s.
	search := runConfig(t, "stress", base, key)
	search.MaxEvents, search.VUs, search.Duration, search.Interval = 50, 0, 0, 250*time.Millisecond
	search.Options = &stress.Options{FindMaxRate: true, SearchStart: 5, SearchMax: 100, SearchHold: time.Second, SearchLevels: 2}
	add("stress max-rate search", search)

	capCfg := runConfig(t, "capacity", base, key)
	capCfg.VUs, capCfg.Duration, capCfg.Interval = 4, 3*time.Second, 500*time.Millisecond
	capCfg.Options = &capacity.Options{ExpectedCapacity: 20, SentinelEvery: 2}
	add("capacity", capCfg)

	rl := runConfig(t, "ratelimit", limited, "")
	rl.VUs, rl.Duration = 1, 3*time.Second
	rl.Options = &ratelimit.Options{Limit: 3, Window: 2 * time.Second, Interval: 200 * time.Millisecond}
	add("ratelimit", rl)

	// No 429 at all: 3 requests against a limit of 10 a minute.
	calm := runConfig(t, "ratelimit", unlimited, "")
	calm.VUs, calm.Duration = 1, 1500*time.Millisecond
	calm.Options = &ratelimit.Options{Limit: 10, Window: time.Minute, Interval: 500 * time.Millisecond}
	add("ratelimit never limited", calm)

	soak := runConfig(t, "soak", base, key)
	soak.MaxEvents, soak.VUs, soak.Duration, soak.Interval = 50, 12, 5*time.Second, 500*time.Millisecond
	add("soak", soak)

	var mu sync.Mutex
	files := map[string][]byte{}
	keep := func(name string, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		files[name] = data
	}
	t.Run("runs", func(t *testing.T) {
		for _, r := range runs {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				if r.stopAfter > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, r.stopAfter)
					defer cancel()
				}
				if r.checkpoint {
					cp, final := checkpointDuring(t, r.cfg)
					keep(r.name+" checkpoint", cp)
					keep(r.name, final)
					return
				}
				keep(r.name, runFile(t, ctx, r.cfg))
			})
		}
	})
	return files
}
