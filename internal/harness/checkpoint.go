package harness

import (
	"sync"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// DefaultCheckpoint is how often a running test rewrites its result file.
const DefaultCheckpoint = time.Minute

// checkpointer writes the run so far to the result file every `every`, so
// a run killed by OOM, SIGKILL or a reboot keeps what it measured. Writes
// happen off the tick, one at a time; a tick that finds one still running
// skips. A nil *checkpointer does nothing.
type checkpointer struct {
	path  string
	every time.Duration
	head  resultHead
	reg   *metrics.Registry
	last  time.Duration

	mu      sync.Mutex // held by the write in progress
	wg      sync.WaitGroup
	stopped bool
}

func newCheckpointer(path string, every time.Duration, head resultHead, reg *metrics.Registry) *checkpointer {
	if every < 0 {
		return nil
	}
	if every == 0 {
		every = DefaultCheckpoint
	}
	return &checkpointer{path: path, every: every, head: head, reg: reg}
}

func (c *checkpointer) tick(elapsed time.Duration, timeline *report.Timeline) {
	if c == nil || elapsed-c.last < c.every {
		return
	}
	if !c.mu.TryLock() {
		return // the previous checkpoint is still being written
	}
	c.last = elapsed
	snap := c.reg.LiveSnapshot()
	start := c.reg.Start()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.mu.Unlock()
		if c.stopped {
			return
		}
		res, err := c.head.result(snap, start, start.Add(snap.Elapsed))
		if err == nil {
			res.Timeline = timeline
			// A failed checkpoint is not fatal: the final write reports
			// any lasting problem with the file.
			_ = report.WriteFile(c.path, res)
		}
	}()
}

// stop waits for a checkpoint in progress and prevents later ones, so the
// final write is the last.
func (c *checkpointer) stop() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *checkpointer) wait() {
	if c != nil {
		c.wg.Wait()
	}
}
