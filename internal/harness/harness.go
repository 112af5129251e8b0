// Package harness runs one driftload test from start to verdict: it checks
// the configuration, probes the target, drives the runner, evaluates the
// thresholds, writes the result file and the summary, and returns the exit
// code. The command line only fills a Config.
package harness

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// Run executes the test and returns the process exit code. Every problem is
// reported on Stderr in one line.
func Run(ctx context.Context, cfg Config) int {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(cfg.Stderr, "driftload %s: %s\n", cfg.Test.Name, fmt.Sprintf(format, args...))
		return code
	}

	resolved, errs := cfg.resolve()
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return fail(exitcode.InvalidConfig, "%s", strings.Join(msgs, "; "))
	}
	sets, exec, base := resolved.sets, resolved.exec, resolved.base
	cfg.TimeScale = resolved.timeScale
	plan := exec.Plan()

	client := runner.NewClient(runner.ClientOptions{
		Timeout: cfg.Timeout, Insecure: cfg.Insecure, MaxVUs: plan.MaxVUs, UserAgent: "driftload/" + cfg.Version,
		NoFastPath: cfg.StdlibHTTP,
	})
	defer client.Close()
	reg := metrics.NewRegistry()
	builtins := runner.DefineBuiltins(reg)
	env := scenario.Env{
		BaseURL: base, APIKey: cfg.APIKey, Seed: cfg.Seed, Run: gen.NewRunID(),
		DemoRate: cfg.DemoRate, Timeout: cfg.Timeout, Insecure: cfg.Insecure, Embedded: cfg.Embedded, Start: time.Now().UTC().Truncate(time.Second),
		TimeScale: cfg.TimeScale, Endpoint: cfg.Endpoint, MaxEvents: resolved.maxEvents,
		Stages: resolved.stages, Interval: cfg.Interval, Options: cfg.Options, Thresholds: sets,
	}
	inst, err := cfg.Test.New(env, reg)
	if err != nil {
		return fail(exitcode.InvalidConfig, "%v", err)
	}

	pfTimeout := cfg.PreflightTimeout
	if pfTimeout <= 0 {
		pfTimeout = 3 * time.Second
	}
	pf := runner.Preflight
	pfURL := base + "/healthz"
	if cfg.Test.Generic {
		pf, pfURL = runner.PreflightReachable, base
	}
	if err := pf(ctx, client, pfURL, pfTimeout); err != nil {
		if ctx.Err() != nil {
			return fail(exitcode.Interrupted, "interrupted before the test started")
		}
		return fail(exitcode.PreflightFailed, "target not ready: %v", err)
	}

	if st, ok := inst.(scenario.Starter); ok {
		st.Start(ctx)
	}

	if !cfg.Quiet {
		fmt.Fprintf(cfg.Stderr, "driftload %s: %s against %s\n", cfg.Test.Name, exec.Describe(), base)
	}
	progress := newProgress(cfg, reg, plan)
	intervals := newIntervals(inst, reg, plan)
	// Intervals close on a tick, so ticks are a tenth of an interval (at
	// least 50 ms) to keep interval edges within 10 % of where they belong.
	tick := time.Second
	if intervals != nil {
		tick = min(tick, max(intervals.every/10, 50*time.Millisecond))
	}
	out, err := runner.Run(ctx, runner.Options{
		Executor:  exec,
		Iteration: inst.Iteration,
		SetupVU:   inst.SetupVU,
		Registry:  reg,
		Builtins:  builtins,
		Client:    client,
		Seed:      cfg.Seed,
		Tick:      tick,
		OnTick: func(elapsed time.Duration) string {
			progress.tick(elapsed)
			intervals.tick(elapsed)
			if !hasAbortOnFail(sets) {
				return ""
			}
			failed := threshold.AbortCheck(sets, measurer{reg.Snapshot()}, elapsed)
			if len(failed) == 0 {
				return ""
			}
			return fmt.Sprintf("threshold %s %s failed (abortOnFail)", failed[0].Metric, failed[0].Expr)
		},
	})
	if err != nil {
		return fail(exitcode.InvalidConfig, "%v", err)
	}

	intervals.finish(out.End.Sub(out.Start))
	snap := reg.Snapshot()
	snap.Elapsed = out.End.Sub(out.Start)
	results := threshold.Evaluate(sets, measurer{snap})
	findings := inst.Analyse(snap)

	res := &report.Result{
		SchemaVersion:   report.SchemaVersion,
		Tool:            report.Tool{Name: "driftload", Version: cfg.Version},
		Test:            cfg.Test.Name,
		Config:          resolvedConfig(cfg, exec, env, base),
		Target:          report.Target{BaseURL: base, Embedded: cfg.Embedded},
		Share:           "0:1",
		Start:           out.Start.UTC(),
		End:             out.End.UTC(),
		DurationSeconds: snap.Elapsed.Seconds(),
		Thresholds:      report.ThresholdsFromResults(results),
		Checks:          report.ChecksFromSnapshot(snap),
		Interrupted:     out.Interrupted,
		Aborted:         out.Interrupted || out.Aborted,
		Analysis:        findings.Data,
	}
	switch {
	case out.Interrupted:
		res.AbortReason = "interrupted by signal"
	case out.Aborted:
		res.AbortReason = out.AbortReason
	}
	res.Run = judgeRun(cfg, out, snap, plan.End)
	res.Metrics, err = report.MetricsFromSnapshot(snap)
	if err != nil {
		return fail(exitcode.Failure, "%v", err)
	}
	addSubmetrics(res, sets, snap)
	conclude(res, out, threshold.Failed(results), findings)

	code := res.ExitCode
	opts := report.SummaryOptions{Color: cfg.Color, Description: exec.Describe(), Verdict: findings.Lines}
	if err := report.WriteFile(cfg.Out, res); err != nil {
		opts.Notes = append(opts.Notes, "result file NOT written: "+err.Error())
		fmt.Fprintf(cfg.Stderr, "driftload %s: %v\n", cfg.Test.Name, err)
		code = exitcode.Failure
	} else {
		opts.ResultPath = cfg.Out
	}
	opts.Compact = cfg.Quiet
	_ = report.WriteSummary(cfg.Stdout, res, opts)
	return code
}

// conclude sets how the run ended: an interrupt first, then an invalid
// run (the generator could not keep up: its numbers are not a verdict on
// the target), then failed thresholds, an abort or the test's own verdict.
func conclude(res *report.Result, out runner.Outcome, thresholdsFailed bool, f scenario.Findings) {
	stopped := out.Interrupted || out.Aborted
	if f.Failed && !stopped {
		res.Verdict = f.FailReason
	}
	switch {
	case out.Interrupted:
		res.ExitCode = exitcode.Interrupted
	case !res.Run.Valid:
		res.ExitCode = exitcode.InvalidRun
	case out.Aborted || thresholdsFailed || f.Failed:
		res.ExitCode = exitcode.ThresholdsFailed
	default:
		res.ExitCode = exitcode.OK
	}
	res.Passed = res.ExitCode == exitcode.OK
}

func hasAbortOnFail(sets []threshold.Set) bool {
	for _, s := range sets {
		for _, t := range s.Thresholds {
			if t.AbortOnFail {
				return true
			}
		}
	}
	return false
}

// Open-model defaults.
const (
	// DefaultMaxVUs bounds the VUs of an arrival-rate run.
	DefaultMaxVUs = 100
	// DefaultPreAllocatedVUs start before an arrival-rate run (at most MaxVUs).
	DefaultPreAllocatedVUs = 10
	// DefaultLagBudget is how late (p99) the scheduler may dispatch
	// iterations that found a free VU before the run is invalid.
	DefaultLagBudget = 10 * time.Millisecond
	// cpuSaturated is the share of every core driftload may use before its
	// own numbers are suspect.
	cpuSaturated = 0.95
	// healthyFailRate: below it, the target counts as healthy, so dropped
	// iterations are the generator's fault.
	healthyFailRate = 0.01
)

func resolvedConfig(cfg Config, exec runner.Executor, env scenario.Env, base string) map[string]any {
	c := map[string]any{}
	for k, v := range cfg.Flags {
		c[k] = v
	}
	key := ""
	if cfg.APIKey != "" {
		key = "[redacted]"
	}
	c["api_key"] = key
	c["base_url"] = base
	c["executor"] = exec.Describe()
	c["time_scale"] = cfg.TimeScale
	c["seed"] = cfg.Seed
	c["run_id"] = string(env.Run)
	c["thresholds"] = cfg.ThresholdsSource
	c["out"] = cfg.Out
	switch o := cfg.Options.(type) {
	case nil:
	case scenario.ConfigEchoer:
		c["options"] = o.ConfigEcho() // options holding secrets redact themselves
	default:
		c["options"] = o
	}
	return c
}

// addSubmetrics adds each thresholded sub-metric (k6: a metric name with
// tags, e.g. http_req_duration{endpoint:detect}) to the result's metrics.
func addSubmetrics(res *report.Result, sets []threshold.Set, snap *metrics.Snapshot) {
	for _, s := range sets {
		if len(s.Selector.Tags) == 0 {
			continue
		}
		sink, ok := snap.Sink(s.Selector.Metric, s.Selector.Tags)
		if !ok || sink.Count == 0 {
			continue
		}
		m, _ := snap.Metric(s.Selector.Metric)
		res.Metrics[s.Selector.Source] = &report.MetricResult{
			Type: m.Type.String(), Contains: m.Contains.String(), Values: sink.Values(snap.Elapsed),
		}
	}
}

// measurer answers thresholds from a snapshot.
type measurer struct{ snap *metrics.Snapshot }

func (m measurer) Measure(sel threshold.Selector, stat threshold.Stat) (float64, bool) {
	sink, ok := m.snap.Sink(sel.Metric, sel.Tags)
	if !ok {
		return 0, false
	}
	return sink.Stat(stat.Name, stat.P, m.snap.Elapsed)
}
