package runner

import (
	"context"
	"math/rand/v2"
	"net"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// VU is one virtual user: its id, its iteration counter, its own RNG and
// its own metrics recorder. A VU is used by one goroutine at a time.
type VU struct {
	// ID is 1-based and stable for the run.
	ID int
	// Iteration is the number of iterations this VU completed before the current one.
	Iteration int64
	// Rand is the VU's own random source, seeded from the run's seed and ID.
	Rand *rand.Rand
	// Recorder records this VU's samples.
	Recorder *metrics.Recorder
	// Data holds per-VU state a scenario attaches in its VU setup.
	Data any

	// openModel: iterations have an intended start; lag is how late the
	// current one started, added to every request's http_req_latency.
	openModel bool
	lag       time.Duration
	// abort cancels in-flight requests (interrupt, abort); nil: never.
	abort      context.Context
	client     *Client
	dialer     *net.Dialer // its --local-ips address's (useSlot); nil: the client's
	reg        *metrics.Registry
	builtins   *Builtins
	tracer     *tracer
	resp       Response
	bodyBuf    []byte
	bodyReader bodyReader
	tagBuf     metrics.Tags
	checkBuf   metrics.Tags
	httpCache  httpSeriesCache
	h1         h1VU
}

// NewVU returns a VU with its own RNG seeded from (seed, id).
func NewVU(id int, seed uint64, client *Client, reg *metrics.Registry, b *Builtins) *VU {
	return &VU{
		ID:       id,
		Rand:     rand.New(rand.NewPCG(seed, uint64(id))),
		Recorder: reg.NewRecorder(),
		client:   client,
		reg:      reg,
		builtins: b,
		tracer:   &tracer{},
	}
}

// Check records one check (k6's `checks` Rate, tagged with the check's
// name and any extra tags) and returns ok.
func (vu *VU) Check(name string, ok bool, tags ...metrics.Tag) bool {
	t := append(vu.checkBuf[:0], metrics.Tag{Key: "check", Value: name})
	t = append(t, tags...)
	vu.checkBuf = t
	vu.Recorder.AddBool(vu.builtins.Checks, t, ok)
	return ok
}

// Sleep waits d, or less if ctx ends first; it reports whether it slept fully.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Think pauses like a user between actions, for d. In an open-model
// (arrival-rate) run it does not pause: the schedule is the pacing, and a
// think time would only hold a VU the schedule needs.
func (vu *VU) Think(ctx context.Context, d time.Duration) bool {
	if vu.openModel {
		return ctx.Err() == nil
	}
	return Sleep(ctx, d)
}

// Between returns a uniformly random duration in [lo, hi] from the VU's RNG.
func (vu *VU) Between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(vu.Rand.Int64N(int64(hi-lo)+1))
}

// IntBetween returns a uniformly random int in [lo, hi].
func (vu *VU) IntBetween(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + vu.Rand.IntN(hi-lo+1)
}
