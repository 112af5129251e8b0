package runner

import (
	"context"
	"sync"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// arrivalVU is a VU of an open-model run: it waits for due iterations.
type arrivalVU struct {
	vu   *VU
	work chan time.Time // intended starts
}

// arrival runs an ArrivalPlan: a scheduler starts each iteration at its
// intended instant on a free VU; when none is free and MaxVUs is reached,
// the iteration waits in a bounded backlog keeping its intended start, so
// the wait is measured (coordinated-omission correction, as wrk2 does).
type arrival struct {
	e    *engine
	plan *ArrivalPlan
	max  int

	mu        sync.Mutex
	idle      []*arrivalVU
	all       []*arrivalVU
	backlog   []time.Time
	busy      int
	schedOver bool
	dropped   int64
	started   int64
	drained   chan struct{} // closed once the schedule is over and nothing is left to run
	wg        sync.WaitGroup

	// lateness is how late the scheduler dispatched iterations that found a
	// free VU: the generator's own delay, not the target's. Only the
	// scheduler goroutine writes it.
	lateness *metrics.Sink
}

func (e *engine) runArrival(ctx context.Context, out *Outcome, hardStop, abort context.CancelFunc) {
	p := e.plan
	a := &arrival{e: e, plan: p.Arrival, max: p.MaxVUs, drained: make(chan struct{}), lateness: metrics.NewSink(metrics.Trend)}
	a.mu.Lock()
	for i := 0; i < a.plan.PreAllocatedVUs; i++ {
		a.idle = append(a.idle, a.newVULocked())
	}
	a.mu.Unlock()
	e.recordArrivalVUs(a)

	schedCtx, stopSched := context.WithCancel(context.Background())
	defer stopSched()
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		a.schedule(schedCtx, out.Start)
	}()

	ticker := time.NewTicker(e.opts.Tick)
	defer ticker.Stop()
	var graceC <-chan time.Time
	sd := (<-chan struct{})(schedDone)
loop:
	for {
		select {
		case <-ctx.Done():
			out.Interrupted = true
			stopSched()
			abort()
			hardStop()
			break loop
		case <-sd:
			sd = nil
			a.mu.Lock()
			a.schedOver = true
			a.maybeDrainedLocked()
			a.mu.Unlock()
			graceC = time.After(p.GracefulStop)
		case <-a.drained:
			break loop
		case <-graceC:
			hardStop()
			break loop
		case <-ticker.C:
			e.recordData()
			e.recordArrivalVUs(a)
			if e.opts.OnTick != nil {
				if reason := e.opts.OnTick(time.Since(out.Start)); reason != "" {
					out.Aborted, out.AbortReason = true, reason
					stopSched()
					abort()
					hardStop()
					break loop
				}
			}
		}
	}
	stopSched()
	<-schedDone
	a.mu.Lock()
	a.schedOver = true
	for _, av := range a.all {
		close(av.work)
	}
	a.mu.Unlock()
	a.wg.Wait()

	a.mu.Lock()
	if left := len(a.backlog); left > 0 { // due but never run: the run ended first
		a.dropped += int64(left)
		e.rec.Add(e.opts.Builtins.DroppedIterations, nil, float64(left))
	}
	a.backlog = nil
	out.Offered, out.Started, out.Dropped = a.plan.Total, a.started, a.dropped
	out.MaxVUs = len(a.all)
	a.mu.Unlock()
	if a.lateness.Count > 0 {
		out.SchedulerLateP99 = time.Duration(a.lateness.Percentile(99) * float64(time.Millisecond))
	}
	out.OpenModel = true
}

// schedule dispatches iteration k at start+At(k), for every k, until the
// plan's end or ctx ends.
func (a *arrival) schedule(ctx context.Context, start time.Time) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for k := int64(0); ; k++ {
		at, ok := a.plan.At(k)
		if !ok {
			break
		}
		intended := start.Add(at)
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		} else if ctx.Err() != nil {
			return
		}
		a.dispatch(intended)
	}
	// The schedule lasts until the plan's end even after its last iteration.
	if wait := time.Until(start.Add(a.e.plan.End)); wait > 0 {
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}

func (a *arrival) dispatch(intended time.Time) {
	a.mu.Lock()
	var av *arrivalVU
	switch n := len(a.idle); {
	case n > 0:
		av = a.idle[n-1]
		a.idle = a.idle[:n-1]
	case len(a.all) < a.max:
		av = a.newVULocked()
	case len(a.backlog) < a.plan.MaxBacklog:
		a.backlog = append(a.backlog, intended)
		a.mu.Unlock()
		return
	default:
		a.dropped++
		a.mu.Unlock()
		a.e.rec.Add(a.e.opts.Builtins.DroppedIterations, nil, 1)
		return
	}
	a.busy++
	a.started++
	a.mu.Unlock()
	a.lateness.Add(ms(time.Since(intended)))
	av.work <- intended
}

func (a *arrival) newVULocked() *arrivalVU {
	e := a.e
	vu := e.newVU(e.plan.VUID(len(a.all)), len(a.all))
	vu.openModel = true
	if e.opts.SetupVU != nil {
		e.opts.SetupVU(vu)
	}
	av := &arrivalVU{vu: vu, work: make(chan time.Time, 1)}
	a.all = append(a.all, av)
	a.wg.Add(1)
	go a.worker(av)
	return av
}

func (a *arrival) worker(av *arrivalVU) {
	defer a.wg.Done()
	for intended := range av.work {
		for {
			a.runOne(av.vu, intended)
			a.mu.Lock()
			if len(a.backlog) > 0 && a.e.hardCtx.Err() == nil {
				intended = a.backlog[0]
				a.backlog = a.backlog[1:]
				a.started++
				a.mu.Unlock()
				continue
			}
			a.busy--
			a.idle = append(a.idle, av)
			a.maybeDrainedLocked()
			a.mu.Unlock()
			break
		}
	}
}

func (a *arrival) maybeDrainedLocked() {
	if a.schedOver && a.busy == 0 && len(a.backlog) == 0 {
		select {
		case <-a.drained:
		default:
			close(a.drained)
		}
	}
}

// runOne runs one iteration that was due at intended.
func (a *arrival) runOne(vu *VU, intended time.Time) {
	ctx := a.e.hardCtx
	if ctx.Err() != nil {
		return
	}
	b := a.e.opts.Builtins
	start := time.Now()
	vu.lag = start.Sub(intended)
	vu.Recorder.Add(b.ScheduleLag, nil, ms(vu.lag))
	a.e.opts.Iteration(ctx, vu)
	if ctx.Err() != nil {
		return
	}
	vu.Recorder.Add(b.Iterations, nil, 1)
	vu.Recorder.Add(b.IterationDuration, nil, ms(time.Since(start)))
	vu.Iteration++
}

func (e *engine) recordArrivalVUs(a *arrival) {
	a.mu.Lock()
	busy, all := a.busy, len(a.all)
	a.mu.Unlock()
	e.rec.Add(e.opts.Builtins.VUs, nil, float64(busy))
	if all > 0 {
		e.rec.Add(e.opts.Builtins.VUsMax, nil, float64(all))
	}
}
