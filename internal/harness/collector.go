package harness

import (
	"sync"
	"sync/atomic"
	"time"
)

// collector does a run's per-tick work — closing timeline intervals, the
// live view, checkpoints, abortOnFail checks — on a goroutine of its own,
// so that however long a collection takes the engine keeps to its plan:
// the run ends on time and an interrupt is seen at once. A collection can
// take seconds when thousands of VU goroutines share a few cores: it waits
// for locks VUs hold, and a VU preempted while holding one runs again only
// after every other runnable goroutine.
//
// The engine's ticks only wake the collector (a tick that finds it busy is
// merged into the next), and each pass measures the time itself, so the
// intervals' lateness is the collector's own.
type collector struct {
	work    func(elapsed time.Duration) (stopReason string)
	offset  time.Duration
	start   time.Time
	wake    chan struct{}
	done    chan struct{}
	reason  atomic.Pointer[string]
	stopped sync.Once
	// lastTick is the elapsed time of the engine's last tick (offset
	// included): when the run ends, what the collector should have reached.
	lastTick atomic.Int64
}

// newCollector returns a collector whose passes call work with the time
// since the run's start plus offset (a search level's place in the run).
func newCollector(offset time.Duration, work func(elapsed time.Duration) string) *collector {
	return &collector{work: work, offset: offset, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// begin starts the passes; start is the instant the run's time counts from.
func (c *collector) begin(start time.Time) {
	c.start = start
	go c.loop()
}

func (c *collector) loop() {
	defer close(c.done)
	for range c.wake {
		if c.reason.Load() != nil {
			continue
		}
		if reason := c.work(time.Since(c.start) + c.offset); reason != "" {
			c.reason.Store(&reason)
		}
	}
}

// tick wakes the collector and returns why the run must stop, once a pass
// found a reason: it is the engine's OnTick.
func (c *collector) tick(elapsed time.Duration) string {
	c.lastTick.Store(int64(elapsed + c.offset))
	select {
	case c.wake <- struct{}{}:
	default: // a pass is due already
	}
	if r := c.reason.Load(); r != nil {
		return *r
	}
	return ""
}

// stop ends the passes and waits for the one under way; after it the
// run's state is the caller's alone. It is safe to call more than once,
// and when begin never ran.
func (c *collector) stop() {
	c.stopped.Do(func() {
		close(c.wake)
		if !c.start.IsZero() {
			<-c.done
		}
	})
}

// lastTickAt is the elapsed time of the engine's last tick (zero: none).
func (c *collector) lastTickAt() time.Duration {
	return time.Duration(c.lastTick.Load())
}
