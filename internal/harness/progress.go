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
}

func newProgress(cfg Config, reg *metrics.Registry, plan runner.Plan) *progress {
	return &progress{cfg: cfg, reg: reg, plan: plan}
}

func (p *progress) tick(elapsed time.Duration) {
	if p.cfg.Quiet || elapsed-p.last < progressEvery {
		return
	}
	p.last = elapsed
	snap := p.reg.Snapshot()
	reqs, _ := snap.Sink("http_reqs", nil)
	failed, _ := snap.Sink("http_req_failed", nil)
	rate, _ := failed.Stat("rate", 0, elapsed)
	fmt.Fprintf(p.cfg.Stderr, "driftload %s: %s/%s  %d VUs  %d requests  %.2f%% failed\n",
		p.cfg.Test.Name, elapsed.Round(time.Second), p.plan.End, p.plan.VUsAt(elapsed), int64(reqs.Sum), 100*rate)
}
