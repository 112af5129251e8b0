package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

type fixture struct {
	reg    *metrics.Registry
	b      *Builtins
	client *Client
}

func newFixture() fixture {
	reg := metrics.NewRegistry()
	return fixture{reg: reg, b: DefineBuiltins(reg), client: NewClient(ClientOptions{})}
}

func (f fixture) opts(exec Executor, it IterationFunc) Options {
	return Options{Executor: exec, Iteration: it, Registry: f.reg, Builtins: f.b, Client: f.client, Seed: 7}
}

func (f fixture) count(name string) float64 {
	s, _ := f.reg.Snapshot().Sink(name, nil)
	return s.Sum
}

// sleeper is an iteration that only waits d, counting VUs inside it.
func sleeper(d time.Duration, inside *atomic.Int64) IterationFunc {
	return func(ctx context.Context, vu *VU) {
		inside.Add(1)
		defer inside.Add(-1)
		Sleep(ctx, d)
	}
}

func TestConstantVUsRunsExactIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		var inside atomic.Int64
		exec := NewConstantVUs(5, 10500*time.Millisecond)
		out, err := Run(context.Background(), f.opts(exec, sleeper(time.Second, &inside)))
		if err != nil {
			t.Fatal(err)
		}
		// Each VU starts iterations at 0..10 s; the one started at 10 s finishes
		// within the graceful stop, so 11 per VU.
		if got := f.count("iterations"); got != 55 {
			t.Fatalf("iterations = %g, want 55", got)
		}
		if d := out.End.Sub(out.Start); d != 11*time.Second {
			t.Fatalf("run took %s, want 11s (graceful stop waited for the last iteration)", d)
		}
		if out.MaxVUs != 5 {
			t.Fatalf("MaxVUs = %d, want 5", out.MaxVUs)
		}
	})
}

func TestRampingVUsFollowsThePlan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		var inside atomic.Int64
		exec := NewRampingVUs(0, []Stage{{4 * time.Second, 4}, {2 * time.Second, 4}, {4 * time.Second, 0}})
		plan := exec.Plan()
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := Run(context.Background(), f.opts(exec, sleeper(100*time.Millisecond, &inside))); err != nil {
				t.Error(err)
			}
		}()
		// Observe 150 ms after each second: removed VUs have finished their
		// 100 ms iteration, added ones are inside one.
		start := time.Now()
		for s := 0; s < 10; s++ {
			at := time.Duration(s)*time.Second + 150*time.Millisecond
			time.Sleep(time.Until(start.Add(at)))
			synctest.Wait()
			if got, want := inside.Load(), int64(plan.VUsAt(at)); got != want {
				t.Errorf("at %s: %d VUs active, want %d", at, got, want)
			}
		}
		<-done
	})
}

// A ramp back up reuses the lowest VUs that stopped, so VU numbers (their
// ids, seeds and streams) stay as low and as stable as the plan allows: 3
// VUs, down to 1, up to 3 again run VUs 0, 1 and 2 again, never a fourth.
func TestRampingUpAgainReusesTheLowestVUs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		exec := NewRampingVUs(3, []Stage{{time.Second, 3}, {0, 1}, {2 * time.Second, 1}, {0, 3}, {2 * time.Second, 3}})
		var mu sync.Mutex
		seen := map[int]bool{}
		it := func(ctx context.Context, vu *VU) {
			mu.Lock()
			seen[vu.ID] = true
			mu.Unlock()
			Sleep(ctx, 100*time.Millisecond)
		}
		out, err := Run(context.Background(), f.opts(exec, it))
		if err != nil {
			t.Fatal(err)
		}
		if out.MaxVUs != 3 || len(seen) != 3 {
			t.Fatalf("%d VUs allocated, ids %v; want 3", out.MaxVUs, seen)
		}
	})
}

func TestGracefulRampDownCancelsSlowIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		var canceled atomic.Int64
		it := func(ctx context.Context, vu *VU) {
			if !Sleep(ctx, 10*time.Second) {
				canceled.Add(1)
			}
		}
		exec := NewRampingVUs(0, []Stage{{0, 2}, {time.Second, 2}, {0, 0}, {5 * time.Second, 0}})
		exec.GracefulRampDown = time.Second
		out, err := Run(context.Background(), f.opts(exec, it))
		if err != nil {
			t.Fatal(err)
		}
		if canceled.Load() != 2 {
			t.Fatalf("%d iterations cancelled, want 2", canceled.Load())
		}
		if got := f.count("iterations"); got != 0 {
			t.Fatalf("cancelled iterations must not count, got %g", got)
		}
		if d := out.End.Sub(out.Start); d != 6*time.Second {
			t.Fatalf("run took %s, want 6s", d)
		}
	})
}

func TestPerVUIterationsEndsWhenEveryVUIsDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		var inside atomic.Int64
		out, err := Run(context.Background(), f.opts(NewPerVUIterations(3, 4), sleeper(time.Second, &inside)))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.count("iterations"); got != 12 {
			t.Fatalf("iterations = %g, want 12", got)
		}
		if d := out.End.Sub(out.Start); d != 4*time.Second {
			t.Fatalf("run took %s, want 4s", d)
		}
	})
}

func TestInterruptStopsAtOnceAndKeepsWhatWasMeasured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		var inside atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2500*time.Millisecond, cancel)
		out, err := Run(ctx, f.opts(NewConstantVUs(2, time.Minute), sleeper(time.Second, &inside)))
		if err != nil {
			t.Fatal(err)
		}
		if !out.Interrupted {
			t.Fatal("run must report the interrupt")
		}
		if d := out.End.Sub(out.Start); d != 2500*time.Millisecond {
			t.Fatalf("run took %s, want 2.5s", d)
		}
		if got := f.count("iterations"); got != 4 {
			t.Fatalf("iterations = %g, want the 4 completed", got)
		}
	})
}

func TestOnTickAbortStopsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		var inside atomic.Int64
		opts := f.opts(NewConstantVUs(1, time.Minute), sleeper(100*time.Millisecond, &inside))
		opts.Tick = 2 * time.Second
		opts.OnTick = func(elapsed time.Duration) string {
			if elapsed >= 4*time.Second {
				return "threshold failed"
			}
			return ""
		}
		out, err := Run(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Aborted || out.AbortReason != "threshold failed" {
			t.Fatalf("outcome = %+v, want aborted by the threshold", out)
		}
		if d := out.End.Sub(out.Start); d != 4*time.Second {
			t.Fatalf("run took %s, want 4s", d)
		}
	})
}

func TestVUsHaveTheirOwnSeededRNG(t *testing.T) {
	f := newFixture()
	a := NewVU(1, 42, f.client, f.reg, f.b)
	b := NewVU(1, 42, f.client, f.reg, f.b)
	c := NewVU(2, 42, f.client, f.reg, f.b)
	x, y, z := a.Rand.Uint64(), b.Rand.Uint64(), c.Rand.Uint64()
	if x != y || x == z {
		t.Fatalf("same (seed, id) must repeat and another id must differ: %d %d %d", x, y, z)
	}
}

func TestInvalidOptionsAreRejected(t *testing.T) {
	f := newFixture()
	if _, err := Run(context.Background(), f.opts(ConstantVUs{}, nil)); err == nil {
		t.Fatal("an invalid executor and no iteration must be rejected")
	}
}

// An interrupt ends the requests in flight at once, in both models: the
// run aborts every VU's connection, not only what its context reaches.
func TestInterruptEndsRequestsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name string
		exec Executor
	}{
		{"closed", NewConstantVUs(3, time.Minute)},
		{"open", NewConstantArrivalRate(50, time.Minute, 3, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select { // never answers on its own
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			defer close(release)
			f := newFixture()
			var sent, canceled atomic.Int64
			it := func(ctx context.Context, vu *VU) {
				sent.Add(1)
				if r := vu.Do(ctx, &Request{Method: "GET", URL: srv.URL, Endpoint: "hang"}); r.Canceled {
					canceled.Add(1)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			start := time.Now()
			out, err := Run(ctx, f.opts(tc.exec, it))
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); !out.Interrupted || took > 20*time.Second {
				t.Fatalf("interrupted %v after %s: want the run to end on the interrupt, long before the 60 s request timeout", out.Interrupted, took)
			}
			if sent.Load() == 0 || canceled.Load() != sent.Load() {
				t.Fatalf("%d requests sent, %d came back canceled: want all", sent.Load(), canceled.Load())
			}
		})
	}
}
