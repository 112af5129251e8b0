package harness

import (
	"fmt"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
)

// judgeRun says whether driftload itself kept up: an open-model run is
// invalid when the scheduler dispatched late beyond the budget, when
// iterations were dropped while the target answered normally, or when
// driftload's own CPU was saturated (not judged with the embedded target,
// which shares the process).
func judgeRun(cfg Config, out runner.Outcome, snap *metrics.Snapshot, planEnd time.Duration, iv *intervals) report.Run {
	r := report.Run{Model: "closed", Valid: true, CPU: out.CPU}
	wall := out.End.Sub(out.Start).Seconds()
	if iters, ok := snap.Sink("iterations", nil); ok && wall > 0 {
		r.AchievedRate = iters.Sum / wall
	}
	if iv != nil {
		r.IntervalClockLateMs = float64(iv.late) / float64(time.Millisecond)
	}
	if !out.OpenModel {
		return r
	}
	r.Model = "open"
	r.OfferedIterations, r.StartedIterations, r.DroppedIterations = out.Offered, out.Started, out.Dropped
	if planEnd > 0 {
		r.OfferedRate = float64(out.Offered) / planEnd.Seconds()
	}
	r.SchedulerLateP99Ms = float64(out.SchedulerLateP99) / float64(time.Millisecond)

	budget := cfg.LagBudget
	if budget <= 0 {
		budget = DefaultLagBudget
	}
	if out.SchedulerLateP99 > budget {
		r.InvalidReasons = append(r.InvalidReasons, fmt.Sprintf(
			"the scheduler started iterations late (p99 %s, budget %s): driftload could not keep the offered rate",
			out.SchedulerLateP99.Round(10*time.Microsecond), budget))
	}
	failRate := 0.0
	if failed, ok := snap.Sink("http_req_failed", nil); ok && failed.Count > 0 {
		failRate = float64(failed.Trues) / float64(failed.Count)
	}
	slowed, baseP50, dropP50 := false, 0.0, 0.0
	if iv != nil {
		slowed, baseP50, dropP50 = iv.targetSlowed()
	}
	if out.Dropped > 0 && slowed {
		// The VUs were all busy because the target answered slowly: a
		// finding about the target, never held against the run.
		r.TargetSaturated = true
		r.SaturationReason = fmt.Sprintf("target saturated: %d of %d iterations dropped while its median service time rose from %.1f ms to %.1f ms (achieved %.1f of %.1f it/s offered)",
			out.Dropped, out.Offered, baseP50, dropP50, r.AchievedRate, r.OfferedRate)
	}
	if out.Dropped > 0 && !slowed && failRate < healthyFailRate && !out.Interrupted && !out.Aborted {
		r.InvalidReasons = append(r.InvalidReasons, fmt.Sprintf(
			"%d of %d iterations were dropped while the target answered normally (%.2f%% failed): raise --max-vus or --max-backlog, or lower the rate",
			out.Dropped, out.Offered, 100*failRate))
	}
	if out.CPU >= cpuSaturated && !cfg.Embedded {
		r.InvalidReasons = append(r.InvalidReasons, fmt.Sprintf(
			"driftload used %.0f%% of every core: its own timing is suspect", 100*out.CPU))
	}
	r.Valid = len(r.InvalidReasons) == 0
	return r
}
