package harness

import (
	"testing"
	"testing/synctest"
	"time"
)

// The engine's ticks never wait for a collection: a pass stuck for a
// while (waiting for the VUs' samples) delays nothing but itself, ticks
// that come meanwhile are merged into one pass, and a reason to stop found
// by a pass is what the following ticks return.
func TestCollectorNeverHoldsUpTheEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var seen []time.Duration
		c := newCollector(time.Minute, func(elapsed time.Duration) string {
			seen = append(seen, elapsed)
			switch len(seen) {
			case 1:
				<-release // a slow collection
			case 2:
				return "threshold failed"
			}
			return ""
		})
		c.begin(time.Now())
		for i := range 5 {
			if r := c.tick(time.Duration(i) * time.Second); r != "" {
				t.Fatalf("tick %d returned %q with no reason found yet", i, r)
			}
			time.Sleep(time.Second)
		}
		close(release)
		synctest.Wait()
		if len(seen) != 2 {
			t.Fatalf("%d passes for 5 ticks during one stuck pass, want 2 (the stuck one, then one for the ticks it missed)", len(seen))
		}
		if want := time.Minute; seen[0] != want {
			t.Errorf("first pass at %s, want the offset %s", seen[0], want)
		}
		if got := c.tick(6 * time.Second); got != "threshold failed" {
			t.Errorf("tick after a pass found a reason returned %q", got)
		}
		if got := c.lastTickAt(); got != time.Minute+6*time.Second {
			t.Errorf("last tick at %s, want 1m6s", got)
		}
		c.stop()
		c.stop()
	})
}

// A collector stopped before its run began does not wait for a pass.
func TestCollectorStopsWithoutARun(t *testing.T) {
	c := newCollector(0, func(time.Duration) string { return "" })
	c.stop()
	if c.lastTickAt() != 0 {
		t.Fatal("no tick, yet a last tick")
	}
}
