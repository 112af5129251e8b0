package harness

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// runSearch holds the levels of a max-rate search one after another, each a
// constant arrival rate for the hold window, and judges each level on its
// own intervals: the test's thresholds (http_req_duration read as
// http_req_latency, from the intended start: what a user arriving on
// schedule waited), and achieved/offered ≥ 0.99. A level driftload itself
// could not offer (late scheduler, saturated CPU, iterations dropped while
// the target kept its pace) ends the search without blaming the target.
//
// It returns the combined outcome, the search, and the thresholds as judged
// at the highest passing level (what the result file shows).
func runSearch(cfg Config, p *plan, iv *intervals, drive func(runner.Executor, time.Duration) (runner.Outcome, error)) (runner.Outcome, *analysis.RateSearch, []threshold.Result, error) {
	spec := p.search
	s := analysis.NewRateSearch(analysis.RateSearchOptions{Start: spec.Start, Max: spec.Max, MaxLevels: spec.MaxLevels})
	total := runner.Outcome{OpenModel: true}
	var level []*metrics.Snapshot
	iv.onClose = append(iv.onClose, func(si scenario.Interval) { level = append(level, si.Snap) })
	var offset time.Duration
	baseP50 := 0.0
	var best []threshold.Result
	for {
		rate, done := s.Next()
		if done {
			break
		}
		exec := levelExecutor(cfg, rate, spec.Hold, p.timeScale)
		iv.retarget(exec.Plan(), offset)
		level = level[:0]
		out, err := drive(exec, offset)
		if err != nil {
			return total, s, nil, err
		}
		if total.Start.IsZero() {
			total.Start = out.Start
		}
		total.End = out.End
		end := offset + out.End.Sub(out.Start)
		iv.finish(end)
		snap := mergeSnapshots(level)
		snap.Elapsed = end - offset
		l, p50, results := judgeLevel(cfg, p.sets, snap, rate, exec.Duration, out, baseP50)
		l.StartSeconds, l.EndSeconds = offset.Seconds(), end.Seconds()
		if l.Verdict == analysis.LevelPass && baseP50 == 0 {
			baseP50 = p50
		}
		if l.Verdict == analysis.LevelPass && l.Offered > s.MaxSustainableRate {
			best = results
		}
		s.Record(l)
		total.Offered += out.Offered
		total.Started += out.Started
		total.Dropped += out.Dropped
		total.SchedulerLateP99 = max(total.SchedulerLateP99, out.SchedulerLateP99)
		total.MaxVUs = max(total.MaxVUs, out.MaxVUs)
		total.CPU = max(total.CPU, out.CPU)
		offset = end
		if out.Interrupted || out.Aborted {
			total.Interrupted, total.Aborted, total.AbortReason = out.Interrupted, out.Aborted, out.AbortReason
			break
		}
	}
	return total, s, best, nil
}

// levelExecutor is one level: rate iterations/s for hold (time-scaled),
// with a graceful stop of at most half the hold so a slow target cannot
// stretch a level far.
func levelExecutor(cfg Config, rate float64, hold time.Duration, scale float64) runner.ConstantArrivalRate {
	maxVUs, pre, backlog := cfg.openModelVUs()
	d := runner.ScaleDuration(hold, scale)
	// Rates below 10 it/s keep their tenth: 2.5 it/s is 25 per 10 s.
	n, unit := int(math.Round(rate)), time.Second
	if rate < 10 {
		n, unit = int(math.Round(rate*10)), 10*time.Second
	}
	e := runner.NewConstantArrivalRate(max(n, 1), d, pre, maxVUs)
	e.TimeUnit = unit
	e.MaxBacklog = backlog
	e.GracefulStop = min(runner.ScaleDuration(runner.DefaultGracefulStop, scale), d/2)
	return e
}

// judgeLevel judges one level from its own samples; it also returns the
// level's median service time, the baseline that tells a slowed target
// from a generator short of VUs.
func judgeLevel(cfg Config, sets []threshold.Set, snap *metrics.Snapshot, rate float64, hold time.Duration, out runner.Outcome, baseP50 float64) (analysis.RateLevel, float64, []threshold.Result) {
	l := analysis.RateLevel{Offered: rate, Verdict: analysis.LevelPass}
	if it, ok := snap.Sink("iterations", nil); ok && hold > 0 {
		l.Achieved = it.Sum / hold.Seconds()
	}
	if lat, ok := snap.Sink("http_req_latency", nil); ok && lat.Count > 0 {
		l.P95, l.P99 = lat.Percentile(95), lat.Percentile(99)
	}
	if f, ok := snap.Sink("http_req_failed", nil); ok && f.Count > 0 {
		l.ErrorRate = float64(f.Trues) / float64(f.Count)
		l.Requests = f.Count
	}
	p50 := 0.0
	if d, ok := snap.Sink("http_req_duration", nil); ok && d.Count > 0 {
		p50 = d.Percentile(50)
	}

	budget := cfg.LagBudget
	if budget <= 0 {
		budget = DefaultLagBudget
	}
	slowed := baseP50 > 0 && p50 > 2*baseP50+5
	var invalid []string
	if out.SchedulerLateP99 > budget {
		invalid = append(invalid, fmt.Sprintf("scheduler late p99 %s", out.SchedulerLateP99.Round(10*time.Microsecond)))
	}
	if out.CPU >= cpuSaturated && !cfg.Embedded {
		invalid = append(invalid, fmt.Sprintf("driftload used %.0f%% of every core", 100*out.CPU))
	}
	if out.Dropped > 0 && !slowed && l.ErrorRate < healthyFailRate {
		invalid = append(invalid, fmt.Sprintf("%d iterations dropped while the target kept its pace (raise --max-vus)", out.Dropped))
	}
	if len(invalid) > 0 {
		l.Verdict, l.Signals = analysis.LevelInvalid, invalid
		return l, p50, nil
	}

	if l.Achieved < 0.99*l.Offered {
		l.Signals = append(l.Signals, fmt.Sprintf("achieved %.1f of %.1f it/s", l.Achieved, l.Offered))
	}
	results := threshold.Evaluate(levelSets(sets), measurer{snap}, nil)
	for _, r := range results {
		if !r.OK {
			measured := "no data"
			if m, ok := snap.Metric(r.Metric[:strings.IndexAny(r.Metric+"{", "{")]); ok && r.HasData {
				measured = "measured " + report.FormatMeasuredAs(m.Type.String(), m.Contains.String(), r.Expr, r.Measured)
			}
			l.Signals = append(l.Signals, fmt.Sprintf("%s %s: %s", r.Metric, r.Expr, measured))
		}
	}
	if len(l.Signals) > 0 {
		l.Verdict = analysis.LevelFail
	}
	return l, p50, results
}

// levelSets are the whole-run thresholds a level is judged on, with
// http_req_duration read as http_req_latency (from the intended start).
func levelSets(sets []threshold.Set) []threshold.Set {
	var out []threshold.Set
	for _, s := range sets {
		var ths []threshold.Threshold
		for _, th := range s.Thresholds {
			if th.Expr.Mode == threshold.WholeRun {
				ths = append(ths, th)
			}
		}
		if len(ths) == 0 {
			continue
		}
		sel := s.Selector
		if sel.Metric == "http_req_duration" {
			sel.Metric = "http_req_latency"
			sel.Source = "http_req_latency" + strings.TrimPrefix(sel.Source, "http_req_duration")
		}
		out = append(out, threshold.Set{Selector: sel, Thresholds: ths})
	}
	return out
}

// judgeSearch sets how a search run ended: invalid when driftload itself
// could not offer a level (the answer is only a lower bound), failed when no
// level passed.
func judgeSearch(run *report.Run, s *analysis.RateSearch, f *scenario.Findings) {
	run.InvalidReasons = nil
	run.TargetSaturated, run.SaturationReason = s.Saturated == "target", ""
	if run.TargetSaturated {
		// The whole run's reason (drops against service time) does not
		// apply to levels held one by one: the failing level says it.
		run.SaturationReason = fmt.Sprintf("max-rate search: target saturated at %g it/s offered: %s", s.BandHigh, s.FirstSignal)
	}
	if s.Saturated == "driftload" {
		run.InvalidReasons = []string{"max-rate search: " + s.Stopped}
	}
	run.Valid = len(run.InvalidReasons) == 0
	if s.MaxSustainableRate == 0 && s.Saturated != "driftload" && !f.Failed {
		f.Failed, f.FailReason = true, "no sustainable rate: "+s.Stopped
	}
}

// mergeSnapshots merges interval snapshots into one: series by metric and
// tag set, sinks merged exactly.
func mergeSnapshots(snaps []*metrics.Snapshot) *metrics.Snapshot {
	out := &metrics.Snapshot{}
	index := map[string]int{}
	for _, sn := range snaps {
		if len(out.Metrics) == 0 {
			out.Metrics = sn.Metrics
		}
		for _, ser := range sn.Series {
			key := ser.Metric.Name + "{" + ser.Tags.String() + "}"
			if i, ok := index[key]; ok {
				out.Series[i].Sink.Merge(ser.Sink)
				continue
			}
			index[key] = len(out.Series)
			out.Series = append(out.Series, metrics.SeriesSnapshot{Metric: ser.Metric, Tags: ser.Tags, Sink: ser.Sink.Clone()})
		}
	}
	return out
}
