package harness

import (
	"fmt"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
)

// progressEvery is how often a running test prints one status line.
const progressEvery = 10 * time.Second

// progress prints a status line every progressEvery on Stderr, unless quiet.
type progress struct {
	cfg  Config
	reg  *metrics.Registry
	plan runner.Plan
	last time.Duration
	// lastIters is the iterations completed at last, for the achieved rate.
	lastIters float64
}

func newProgress(cfg Config, reg *metrics.Registry, plan runner.Plan) *progress {
	return &progress{cfg: cfg, reg: reg, plan: plan}
}

func (p *progress) tick(elapsed time.Duration) {
	if p.cfg.Quiet || elapsed-p.last < progressEvery {
		return
	}
	since := elapsed - p.last
	p.last = elapsed
	snap := p.reg.LiveSnapshot()
	reqs, _ := snap.Sink("http_reqs", nil)
	failed, _ := snap.Sink("http_req_failed", nil)
	rate, _ := failed.Stat("rate", 0, elapsed)
	load := fmt.Sprintf("%d VUs", p.plan.VUsAt(elapsed))
	if p.plan.Arrival != nil {
		iters, _ := snap.Sink("iterations", nil)
		achieved := 0.0
		if since > 0 {
			achieved = (iters.Sum - p.lastIters) / since.Seconds()
		}
		p.lastIters = iters.Sum
		load = fmt.Sprintf("offered %.1f it/s, achieved %.1f it/s", p.plan.Arrival.RateAt(elapsed), achieved)
	}
	note := ""
	if p.cfg.ProgressNote != nil {
		note = "  " + p.cfg.ProgressNote(elapsed)
	}
	fmt.Fprintf(p.cfg.Stderr, "driftload %s: %s/%s  %s  %d requests  %.2f%% failed%s\n",
		p.cfg.Test.Name, elapsed.Round(time.Second), p.plan.End, load, int64(reqs.Sum), 100*rate, note)
}
