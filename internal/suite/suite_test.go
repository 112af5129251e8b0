package suite

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload"
	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/ratelimit"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func names(tests []*scenario.Test) string {
	var out []string
	for _, t := range tests {
		out = append(out, t.Name)
	}
	return strings.Join(out, ",")
}

func TestSequenceIsTheReleaseOrderWithoutGenericTests(t *testing.T) {
	t.Parallel()
	if got, want := names(Sequence()), "smoke,load,stress,capacity,ratelimit,soak"; got != want {
		t.Fatalf("Sequence() = %s, want %s", got, want)
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		only, skip []string
		want       string // phases, or the error's start
		err        bool
	}{
		{name: "every phase by default", want: "smoke,load,stress,capacity,ratelimit,soak"},
		{name: "only keeps the release order", only: []string{"stress", "load"}, want: "load,stress"},
		{name: "only, named twice", only: []string{"soak", "soak"}, want: "soak"},
		{name: "skip", skip: []string{"soak", "ratelimit"}, want: "smoke,load,stress,capacity"},
		{name: "spaces around names", only: []string{" smoke"}, want: "smoke"},
		{name: "unknown names are listed with the phases", only: []string{"nosuch", "http"}, err: true,
			want: `--only: no phase "nosuch", "http" (the phases: smoke, load, stress, capacity, ratelimit, soak)`},
		{name: "unknown in skip", skip: []string{"x"}, err: true, want: `--skip: no phase "x"`},
		{name: "only and skip exclude each other", only: []string{"load"}, skip: []string{"soak"}, err: true, want: "--only and --skip exclude each other"},
		{name: "skipping everything", skip: []string{"smoke", "load", "stress", "capacity", "ratelimit", "soak"}, err: true, want: "--skip leaves no phase to run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(Sequence(), tc.only, tc.skip)
			switch {
			case tc.err && err == nil:
				t.Fatalf("want an error %q, got %s", tc.want, names(got))
			case tc.err && !strings.HasPrefix(err.Error(), tc.want):
				t.Fatalf("error %q, want it to start with %q", err, tc.want)
			case !tc.err && err != nil:
				t.Fatalf("unexpected error %v", err)
			case !tc.err && names(got) != tc.want:
				t.Fatalf("got %s, want %s", names(got), tc.want)
			}
		})
	}
}

func TestRateLimitFloor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    ratelimit.Options
		want time.Duration
	}{
		{"the default limit: two windows", ratelimit.DefaultOptions(), 2 * time.Minute},
		{"a short window: two windows", ratelimit.Options{Interval: 500 * time.Millisecond, Window: 3 * time.Second, Limit: 2}, 6 * time.Second},
		{"a slow pace: the limit's requests and one window", ratelimit.Options{Interval: 10 * time.Second, Window: time.Minute, Limit: 10}, 110*time.Second + time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RateLimitFloor(tc.o); got != tc.want {
				t.Errorf("RateLimitFloor(%+v) = %s, want %s", tc.o, got, tc.want)
			}
		})
	}
}

// base is the shared configuration of the plan tests: the built-in
// thresholds, an embedded target (so detect phases need no key), time scale 0.02.
func base() harness.Config {
	return harness.Config{
		BaseURL: "http://127.0.0.1:8080", Embedded: true, TimeScale: 0.02, Seed: 1, Timeout: time.Minute,
		DemoRate: 10, Thresholds: driftload.DefaultThresholds, ThresholdsSource: "built-in thresholds",
		Explicit: map[string]bool{"time-scale": true}, Version: "test",
	}
}

func TestPlanOfTheWholeSequence(t *testing.T) {
	t.Parallel()
	p, errs := New(Options{
		Tests: Sequence(), Base: base(), Dir: "driftload-results/20260102-030405-abcdefgh", RunID: "20260102-030405-abcdefgh",
		ExpectedCapacity: 1000, RateLimit: ratelimit.DefaultOptions(),
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := map[string]time.Duration{
		"smoke": 1200 * time.Millisecond, "load": 18 * time.Second, "stress": 12 * time.Second,
		"capacity": 12 * time.Second, "soak": 36 * time.Second,
		// Real-time pacing: never scaled below two windows of 1 minute.
		"ratelimit": 2 * time.Minute,
	}
	for _, ph := range p.Phases {
		if ph.Preview.Length != want[ph.Test.Name] {
			t.Errorf("%s: %s, want %s", ph.Test.Name, ph.Preview.Length, want[ph.Test.Name])
		}
		if ph.Config.Out != filepath.Join(p.Dir, ph.Test.ResultFile) {
			t.Errorf("%s writes %s, want its result file in the suite's directory", ph.Test.Name, ph.Config.Out)
		}
		if !ph.Config.SkipStepSummary {
			t.Errorf("%s would append its own step summary", ph.Test.Name)
		}
	}
	// Load, stress and capacity (42 s) come between smoke and ratelimit:
	// the demo window (1 min) has 18 s left.
	if w := p.Phases[4].Wait; w != 18*time.Second {
		t.Errorf("ratelimit waits %s, want 18s", w)
	}
	if got, want := p.Total(), 1200*time.Millisecond+(18+12+12)*time.Second+18*time.Second+2*time.Minute+36*time.Second; got != want {
		t.Errorf("total %s, want %s", got, want)
	}
	var b bytes.Buffer
	p.PrintPlan(&b)
	golden(t, "plan.txt", b.Bytes())
}

func TestPlanWaitsForTheDemoWindowRightAfterSmoke(t *testing.T) {
	t.Parallel()
	rl := ratelimit.Options{Interval: 500 * time.Millisecond, Window: 3 * time.Second, Limit: 2}
	tests, _ := Select(Sequence(), []string{"ratelimit", "smoke"}, nil)
	p, errs := New(Options{Tests: tests, Base: base(), Dir: "out", RunID: "x", ExpectedCapacity: 1000, RateLimit: rl})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if w := p.Phases[1].Wait; w != 3*time.Second {
		t.Errorf("ratelimit right after smoke waits %s, want the whole 3s window", w)
	}
	if l := p.Phases[1].Preview.Length; l != 6*time.Second {
		t.Errorf("ratelimit %s, want 6s (two windows)", l)
	}
	// Without smoke, nothing has used the demo route: no wait.
	p, _ = New(Options{Tests: tests[1:], Base: base(), Dir: "out", RunID: "x", ExpectedCapacity: 1000, RateLimit: rl})
	if w := p.Phases[0].Wait; w != 0 {
		t.Errorf("ratelimit alone waits %s, want 0", w)
	}
}

func TestNewReportsEveryProblemOnce(t *testing.T) {
	t.Parallel()
	b := base()
	b.TimeScale = -1
	b.Embedded = false
	rl := ratelimit.DefaultOptions()
	rl.Limit = 0
	_, errs := New(Options{
		Tests: Sequence(), Base: b, Dir: "out", RunID: "x", ExpectedCapacity: 0, RateLimit: rl,
		Renamed: map[string]string{"limit": "ratelimit-limit", "window": "ratelimit-window", "interval": "ratelimit-interval"},
	})
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		// Every phase's: said once, without a phase name.
		"--time-scale must be a positive number, got -1",
		"capacity: --expected-capacity must be at least 1, got 0",
		// ratelimit's own flag, named as the suite calls it.
		"ratelimit: --ratelimit-limit must be at least 1, got 0",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}

	// A detect phase without a key is known before anything runs.
	b = base()
	b.Embedded = false
	_, errs = New(Options{Tests: Sequence(), Base: b, Dir: "out", RunID: "x", ExpectedCapacity: 1000, RateLimit: ratelimit.DefaultOptions()})
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "load, stress, capacity, soak: the detect phases send /v1/detect requests: give --api-key") {
		t.Fatalf("errors %v, want one naming the detect phases and --api-key", errs)
	}
}

func TestDur(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 900 * time.Millisecond: "900ms", 1234 * time.Millisecond: "1.2s", 13500 * time.Millisecond: "14s",
		72 * time.Second: "1m12s", 15 * time.Minute: "15m", 90 * time.Minute: "1h30m",
	} {
		if got := Dur(d); got != want {
			t.Errorf("Dur(%s) = %s, want %s", d, got, want)
		}
	}
}
