package harness

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// The memory limit follows the plan, makes room for a live heap beyond the
// plan's estimate, is lifted when the run ends, and is left alone when the
// user tuned the GC.
func TestLimitMemory(t *testing.T) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Skip("the test binary runs with a memory limit")
	}
	const big = 256 << 20
	for _, tc := range []struct {
		name     string
		env      string // GOGC or GOMEMLIMIT set
		vus      int
		embedded bool
		live     int   // bytes held live during the run
		want     int64 // the limit exactly (the plan), or
		atLeast  int64 // at least this (the live heap's floor)
	}{
		{name: "plan", vus: 10000, want: memBase + 10000*memPerVU},
		{name: "embedded server", vus: 10000, embedded: true, want: memBase + 20000*memPerVU},
		{name: "live heap beyond the plan", vus: 10, live: big, atLeast: big + big/memFloor},
		{name: "GOGC set", env: "GOGC", vus: 1000},
		{name: "GOMEMLIMIT set", env: "GOMEMLIMIT", vus: 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			if tc.env != "" {
				t.Setenv(tc.env, "100")
			}
			held := make([]byte, tc.live)
			for i := range held {
				held[i] = 1
			}
			runtime.GC()
			stop := limitMemory(tc.vus, tc.embedded)
			got := debug.SetMemoryLimit(-1)
			stop()
			runtime.KeepAlive(held)
			if after := debug.SetMemoryLimit(-1); after != math.MaxInt64 {
				t.Errorf("after the run the limit is %d, want none", after)
			}
			if tc.env != "" {
				if got != math.MaxInt64 {
					t.Errorf("with %s set the limit is %d, want none", tc.env, got)
				}
				return
			}
			if tc.want != 0 && got != tc.want {
				t.Errorf("limit %d MiB, want the plan's %d MiB", got>>20, tc.want>>20)
			}
			if got < tc.atLeast || got == math.MaxInt64 {
				t.Errorf("limit %d MiB, want at least %d MiB", got>>20, tc.atLeast>>20)
			}
		})
	}
}
