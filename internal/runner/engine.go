package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// IterationFunc runs one iteration for vu. ctx ends when the VU must stop
// (its graceful period is over, or the run was interrupted); an iteration
// whose ctx ended is not counted. A request already in flight when ctx ends
// still completes and is recorded, so driftload's counts match the
// server's; only an interrupt or an abortOnFail threshold cancels it.
type IterationFunc func(ctx context.Context, vu *VU)

// Options configure one run.
type Options struct {
	Executor  Executor
	Iteration IterationFunc
	Registry  *metrics.Registry
	Builtins  *Builtins
	Client    *Client
	// Seed seeds every VU's RNG (with the VU's id).
	Seed uint64
	// Segment, when set, runs only that execution segment of the plan.
	Segment *ExecutionSegment
	// SetupVU, when set, runs once when a VU is created (attach per-VU state to vu.Data).
	SetupVU func(vu *VU)
	// OnStart, when set, runs once with the instant the run's clock starts
	// (Outcome.Start), before any VU runs.
	OnStart func(start time.Time)
	// Tick is the cadence of OnTick (default 1 s).
	Tick time.Duration
	// OnTick runs every Tick with the time since the start; returning a
	// non-empty reason stops the run at once (abortOnFail thresholds).
	OnTick func(elapsed time.Duration) (stopReason string)
}

// Outcome says how the run went.
type Outcome struct {
	Start, End time.Time
	// Interrupted: the context given to Run ended (a signal).
	Interrupted bool
	// Aborted: OnTick stopped the run; AbortReason says why.
	Aborted     bool
	AbortReason string
	// MaxVUs is the number of VUs allocated.
	MaxVUs int
	// OpenModel is true for arrival-rate runs; then Offered iterations were
	// due, Started ran, Dropped never did, and SchedulerLateP99 is how late
	// the scheduler itself dispatched iterations that found a free VU.
	OpenModel        bool
	Offered          int64
	Started          int64
	Dropped          int64
	SchedulerLateP99 time.Duration
	// CPU is driftload's process CPU time during the run divided by the
	// run's wall time and GOMAXPROCS: 1 means every core was busy.
	CPU float64
}

// Validate checks options and the executor, returning every problem.
func (o *Options) validate() error {
	var errs []error
	if o.Executor == nil {
		errs = append(errs, errors.New("no executor"))
	} else {
		errs = append(errs, o.Executor.Validate()...)
	}
	if o.Iteration == nil {
		errs = append(errs, errors.New("no iteration function"))
	}
	if o.Registry == nil || o.Builtins == nil || o.Client == nil {
		errs = append(errs, errors.New("registry, builtins and client are required"))
	}
	return errors.Join(errs...)
}

type vuSlot struct {
	vu       *VU
	index    int // in engine.slots
	running  bool
	stopping atomic.Bool
	cancel   context.CancelFunc
	timer    *time.Timer
}

type engine struct {
	opts    Options
	plan    Plan
	rec     *metrics.Recorder
	hardCtx context.Context
	// abortCtx ends in-flight requests: only an interrupt or an abort does.
	abortCtx context.Context
	// vus are every VU made, for abortVUs.
	vusMu sync.Mutex
	vus   []*VU

	mu    sync.Mutex
	slots []*vuSlot
	// firstFree is the lowest slot that may not be running: the slots
	// before it all run, so starting 12,500 VUs scans nothing.
	firstFree int
	running   int       // slots whose goroutine runs
	active    []*vuSlot // in activation order
	wg        sync.WaitGroup
	exited    chan struct{} // a VU goroutine ended

	lastSent, lastReceived int64
}

// Run executes the plan of opts.Executor. It returns when every VU has
// stopped. Cancelling ctx interrupts the run: in-flight requests are
// cancelled and the iterations they belong to are not counted.
func Run(ctx context.Context, opts Options) (out Outcome, err error) {
	if err := opts.validate(); err != nil {
		return Outcome{}, err
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	hardCtx, hardStop := context.WithCancel(context.Background())
	defer hardStop()
	abortCtx, abort := context.WithCancel(context.Background())
	defer abort()
	e := &engine{
		opts:     opts,
		plan:     opts.Segment.Apply(opts.Executor.Plan()),
		rec:      opts.Registry.NewRecorder(),
		hardCtx:  hardCtx,
		abortCtx: abortCtx,
		exited:   make(chan struct{}, 1),
	}
	// Unregistered before the deferred abort above: the end of the run
	// aborts nothing.
	defer context.AfterFunc(abortCtx, e.abortVUs)()
	out = Outcome{Start: time.Now()}
	opts.Registry.SetStart(out.Start)
	if opts.OnStart != nil {
		opts.OnStart(out.Start)
	}
	cpu0 := processCPU()
	defer func() {
		if wall := out.End.Sub(out.Start); wall > 0 {
			out.CPU = float64(processCPU()-cpu0) / float64(wall) / float64(runtime.GOMAXPROCS(0))
		}
	}()
	if e.plan.Arrival != nil {
		e.runArrival(ctx, &out, hardStop, abort)
		out.End = time.Now()
		e.recordData()
		e.rec.Flush()
		return out, nil
	}

	ticker := time.NewTicker(opts.Tick)
	defer ticker.Stop()
	stepTimer := time.NewTimer(0)
	defer stepTimer.Stop()
	endTimer := time.NewTimer(e.plan.End)
	defer endTimer.Stop()
	var graceC <-chan time.Time
	next := 0
	ending := false

	stopAll := func(grace time.Duration) {
		if ending {
			return
		}
		ending = true
		e.scale(0, -1)
		if grace <= 0 {
			hardStop()
			return
		}
		graceC = time.After(grace)
	}

loop:
	for {
		if ending && e.idle() {
			break
		}
		if !ending && e.plan.IterationsPerVU > 0 && next >= len(e.plan.Steps) && e.idle() {
			break
		}
		select {
		case <-ctx.Done():
			out.Interrupted = true
			ending = true
			abort()
			hardStop()
			e.scale(0, -1)
			e.wg.Wait()
			break loop
		case <-stepTimer.C:
			elapsed := time.Since(out.Start)
			for next < len(e.plan.Steps) && e.plan.Steps[next].At <= elapsed && !ending {
				e.scale(e.plan.Steps[next].VUs, e.plan.GracefulRampDown)
				next++
			}
			if next < len(e.plan.Steps) && !ending {
				stepTimer.Reset(e.plan.Steps[next].At - elapsed)
			}
		case <-endTimer.C:
			stopAll(e.plan.GracefulStop)
		case <-graceC:
			hardStop()
		case <-e.exited:
		case <-ticker.C:
			e.recordData()
			if opts.OnTick != nil && !ending {
				if reason := opts.OnTick(time.Since(out.Start)); reason != "" {
					out.Aborted, out.AbortReason = true, reason
					abort()
					stopAll(0)
				}
			}
		}
	}
	e.wg.Wait()
	out.End = time.Now()
	e.mu.Lock()
	out.MaxVUs = len(e.slots)
	e.mu.Unlock()
	e.recordVUs()
	e.recordData()
	e.rec.Flush()
	return out, nil
}

// idle reports whether no VU goroutine is running.
func (e *engine) idle() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running == 0
}

// scale sets the number of active VUs to n. VUs beyond n stop after their
// current iteration and are cancelled after grace (grace < 0: only at the
// hard stop).
func (e *engine) scale(n int, grace time.Duration) {
	e.mu.Lock()
	for len(e.active) < n {
		slot := e.freeSlotLocked()
		e.active = append(e.active, slot)
		e.startLocked(slot)
	}
	for len(e.active) > n {
		slot := e.active[len(e.active)-1]
		e.active = e.active[:len(e.active)-1]
		slot.stopping.Store(true)
		if grace >= 0 {
			cancel := slot.cancel
			slot.timer = time.AfterFunc(grace, cancel)
		}
	}
	e.mu.Unlock()
	e.recordVUs()
}

func (e *engine) recordVUs() {
	e.mu.Lock()
	active, allocated := len(e.active), len(e.slots)
	e.mu.Unlock()
	e.rec.Add(e.opts.Builtins.VUs, nil, float64(active))
	if allocated > 0 {
		e.rec.Add(e.opts.Builtins.VUsMax, nil, float64(allocated))
	}
}

// recordData moves the client's byte counts since the last call into
// data_sent and data_received.
func (e *engine) recordData() {
	sent, received := e.opts.Client.BytesSent(), e.opts.Client.BytesReceived()
	if d := sent - e.lastSent; d > 0 {
		e.rec.Add(e.opts.Builtins.DataSent, nil, float64(d))
	}
	if d := received - e.lastReceived; d > 0 {
		e.rec.Add(e.opts.Builtins.DataReceived, nil, float64(d))
	}
	e.lastSent, e.lastReceived = sent, received
}

// freeSlotLocked returns the lowest VU not running, allocating a new one
// when every VU is busy (a removed VU may still be finishing its iteration).
func (e *engine) freeSlotLocked() *vuSlot {
	for ; e.firstFree < len(e.slots); e.firstFree++ {
		if s := e.slots[e.firstFree]; !s.running {
			e.firstFree++
			return s
		}
	}
	vu := e.newVU(e.plan.VUID(len(e.slots)), len(e.slots))
	if e.opts.SetupVU != nil {
		e.opts.SetupVU(vu)
	}
	s := &vuSlot{vu: vu, index: len(e.slots)}
	e.slots = append(e.slots, s)
	e.firstFree = len(e.slots)
	return s
}

// newVU returns a new VU of the run, whose requests the run's abort ends.
func (e *engine) newVU(id, slot int) *VU {
	vu := NewVU(id, e.opts.Seed, e.opts.Client, e.opts.Registry, e.opts.Builtins)
	vu.useSlot(slot)
	vu.abort = e.abortCtx
	vu.h1.runAborts = true
	e.vusMu.Lock()
	e.vus = append(e.vus, vu)
	e.vusMu.Unlock()
	return vu
}

// abortVUs fails the I/O of every request in flight: the run was
// interrupted or aborted. One call for the run, not a context.AfterFunc per
// VU (its bytes times 10,000).
func (e *engine) abortVUs() {
	e.vusMu.Lock()
	defer e.vusMu.Unlock()
	for _, vu := range e.vus {
		vu.h1.abortNow()
	}
}

func (e *engine) startLocked(s *vuSlot) {
	ctx, cancel := context.WithCancel(e.hardCtx)
	s.cancel = cancel
	s.running = true
	e.running++
	s.stopping.Store(false)
	e.wg.Add(1)
	go e.loop(ctx, s)
}

func (e *engine) loop(ctx context.Context, s *vuSlot) {
	defer e.wg.Done()
	vu := s.vu
	b := e.opts.Builtins
	limit := e.plan.IterationsPerVU
	for !s.stopping.Load() && ctx.Err() == nil && (limit == 0 || vu.Iteration < limit) {
		start := time.Now()
		e.opts.Iteration(ctx, vu)
		if ctx.Err() != nil {
			break // interrupted: not a complete iteration
		}
		vu.Recorder.Add(b.Iterations, nil, 1)
		vu.Recorder.Add(b.IterationDuration, nil, ms(time.Since(start)))
		vu.Iteration++
	}
	// What it recorded stays in its recorder for the registry's
	// collector: 12,500 VUs ending at once must not queue on the series.
	s.cancel()
	e.mu.Lock()
	s.running = false
	e.firstFree = min(e.firstFree, s.index)
	e.running--
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	// A VU that ran out of iterations leaves the active set.
	for i, a := range e.active {
		if a == s {
			e.active = append(e.active[:i], e.active[i+1:]...)
			break
		}
	}
	e.mu.Unlock()
	select {
	case e.exited <- struct{}{}:
	default:
	}
}

// String describes a plan for logs.
func (p Plan) String() string {
	return fmt.Sprintf("%d steps, up to %d VUs, end %s (+%s graceful)", len(p.Steps), p.MaxVUs, p.End, p.GracefulStop)
}
