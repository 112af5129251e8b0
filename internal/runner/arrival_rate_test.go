package runner

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestArrivalPlanStartsOnAnExactSchedule(t *testing.T) {
	p := NewConstantArrivalRate(10, time.Second, 1, 1).Plan().Arrival
	if p.Total != 10 {
		t.Fatalf("total = %d, want 10", p.Total)
	}
	for k := int64(0); k < 10; k++ {
		if at, _ := p.At(k); at != time.Duration(k)*100*time.Millisecond {
			t.Errorf("iteration %d at %s, want %s", k, at, time.Duration(k)*100*time.Millisecond)
		}
	}
	if _, ok := p.At(10); ok {
		t.Error("iteration 10 must not exist")
	}

	// 0 → 10/s over 2 s: N(t) = 2.5 t², so 10 iterations, the k-th at √(k/2.5) s.
	r := NewRampingArrivalRate(0, []Stage{{2 * time.Second, 10}}, 1, 1).Plan().Arrival
	if r.Total != 10 {
		t.Fatalf("ramp total = %d, want 10", r.Total)
	}
	for k := int64(0); k < 10; k++ {
		at, _ := r.At(k)
		want := time.Duration(math.Sqrt(float64(k)/2.5) * float64(time.Second))
		if d := at - want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("ramp iteration %d at %s, want %s", k, at, want)
		}
	}
}

func TestArrivalPlanDoesNotDriftOverLongRuns(t *testing.T) {
	// 3 iterations per second for 10 hours: the last start is exact, not the
	// sum of 108 000 rounded intervals.
	p := NewConstantArrivalRate(3, time.Second, 1, 1)
	p.Duration = 10 * time.Hour
	a := p.Plan().Arrival
	if a.Total != 108_000 {
		t.Fatalf("total = %d", a.Total)
	}
	at, _ := a.At(107_999)
	want := 10*time.Hour - time.Second/3
	if d := at - want; d < -time.Microsecond || d > time.Microsecond {
		t.Fatalf("last start %s, want %s", at, want)
	}
}

func TestRampingArrivalRateAcrossStages(t *testing.T) {
	// 10/s for 1 s, then 10 → 30/s over 1 s (20 more), then 0 for 1 s.
	p := NewRampingArrivalRate(10, []Stage{{time.Second, 10}, {time.Second, 30}, {time.Second, 0}}, 1, 1).Plan()
	// Third stage ramps 30 → 0 over 1 s: 15 more.
	if p.Arrival.Total != 45 {
		t.Fatalf("total = %d, want 45", p.Arrival.Total)
	}
	if p.End != 3*time.Second {
		t.Fatalf("end = %s", p.End)
	}
	prev := time.Duration(-1)
	for k := int64(0); k < p.Arrival.Total; k++ {
		at, ok := p.Arrival.At(k)
		if !ok || at <= prev || at > p.End {
			t.Fatalf("iteration %d at %s (ok %v) after %s", k, at, ok, prev)
		}
		prev = at
	}
	if at, _ := p.Arrival.At(10); at != time.Second {
		t.Errorf("iteration 10 at %s, want 1s (the start of stage 2)", at)
	}
}

func TestArrivalExecutorsValidate(t *testing.T) {
	good := NewConstantArrivalRate(10, time.Second, 2, 5)
	if errs := good.Validate(); len(errs) != 0 {
		t.Fatal(errs)
	}
	bad := ConstantArrivalRate{Rate: 0, TimeUnit: 0, Duration: 0, PreAllocatedVUs: 9, MaxVUs: 0, MaxBacklog: -1}
	if errs := bad.Validate(); len(errs) != 5 {
		t.Fatalf("want 5 problems, got %d: %v", len(errs), errs)
	}
	over := NewConstantArrivalRate(10, time.Second, 9, 5)
	if errs := over.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "must not exceed") {
		t.Fatalf("got %v", errs)
	}
	ramp := NewRampingArrivalRate(-1, []Stage{{-time.Second, -1}}, 1, 1)
	if errs := ramp.Validate(); len(errs) != 4 {
		t.Fatalf("want 4 problems, got %v", errs)
	}
}

func TestConstantArrivalRateStartsIterationsOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		var mu sync.Mutex
		var starts []time.Duration
		begin := time.Now()
		it := func(ctx context.Context, vu *VU) {
			mu.Lock()
			starts = append(starts, time.Since(begin))
			mu.Unlock()
			Sleep(ctx, 250*time.Millisecond)
		}
		exec := NewConstantArrivalRate(10, time.Second, 2, 5)
		exec.Duration = 2 * time.Second
		out, err := Run(context.Background(), f.opts(exec, it))
		if err != nil {
			t.Fatal(err)
		}
		if len(starts) != 20 || out.Offered != 20 || out.Started != 20 || out.Dropped != 0 {
			t.Fatalf("%d starts, outcome %+v; want 20 started, none dropped", len(starts), out)
		}
		for k, s := range starts {
			if want := time.Duration(k) * 100 * time.Millisecond; s != want {
				t.Errorf("iteration %d started at %s, want %s", k, s, want)
			}
		}
		// 250 ms iterations every 100 ms need 3 VUs at once: 2 pre-allocated + 1.
		if out.MaxVUs != 3 {
			t.Errorf("MaxVUs = %d, want 3", out.MaxVUs)
		}
		if got := f.count("iterations"); got != 20 {
			t.Errorf("iterations = %g", got)
		}
		lag, _ := f.reg.Snapshot().Sink("schedule_lag", nil)
		if lag.Count != 20 || lag.Max != 0 {
			t.Errorf("schedule lag = %+v, want 20 samples of 0", lag)
		}
	})
}

func TestArrivalRateWaitsThenDropsWhenVUsRunOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		it := func(ctx context.Context, vu *VU) { Sleep(ctx, time.Second) }
		exec := NewConstantArrivalRate(10, time.Second, 1, 1)
		exec.MaxBacklog = 2
		out, err := Run(context.Background(), f.opts(exec, it))
		if err != nil {
			t.Fatal(err)
		}
		// Due at 0, 0.1, ..., 0.9 s with one 1-second VU: the first runs at
		// once, 0.1 and 0.2 wait in the backlog and run at 1 s and 2 s
		// keeping their intended start, the other 7 are dropped.
		if out.Started != 3 || out.Dropped != 7 {
			t.Fatalf("started %d dropped %d, want 3 and 7", out.Started, out.Dropped)
		}
		if got := f.count("dropped_iterations"); got != 7 {
			t.Fatalf("dropped_iterations = %g, want 7", got)
		}
		lag, _ := f.reg.Snapshot().Sink("schedule_lag", nil)
		if lag.Count != 3 || lag.Sum != 900+1800 {
			t.Fatalf("schedule lag = count %d sum %g ms, want lags 0, 900, 1800", lag.Count, lag.Sum)
		}
		if d := out.End.Sub(out.Start); d != 3*time.Second {
			t.Fatalf("run took %s, want 3s (the backlog drains within the graceful stop)", d)
		}
	})
}

func TestArrivalRateInterruptStopsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		it := func(ctx context.Context, vu *VU) { Sleep(ctx, 50*time.Millisecond) }
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(1070*time.Millisecond, cancel)
		exec := NewConstantArrivalRate(10, time.Second, 1, 5)
		exec.Duration = time.Minute
		out, err := Run(ctx, f.opts(exec, it))
		if err != nil {
			t.Fatal(err)
		}
		if !out.Interrupted || out.End.Sub(out.Start) != 1070*time.Millisecond {
			t.Fatalf("outcome %+v, want interrupted at 1.07s", out)
		}
		if got := f.count("iterations"); got != 11 {
			t.Fatalf("iterations = %g, want 11", got)
		}
	})
}
