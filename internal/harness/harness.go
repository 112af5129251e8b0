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

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/ciout"
	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/htmlreport"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/redact"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// Run executes the test and returns the process exit code. Every problem is
// reported on Stderr in one line, with every secret of the configuration
// (API key, URL passwords, secret query parameters) masked.
func Run(ctx context.Context, cfg Config) int {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	secrets := redact.Secrets([]string{cfg.BaseURL, targetOf(cfg)}, cfg.APIKey)
	fail := func(code int, format string, args ...any) int {
		msg := redact.Text(fmt.Sprintf(format, args...), secrets)
		fmt.Fprintf(cfg.Stderr, "driftload %s: %s\n", cfg.Test.Name, msg)
		if cfg.OnError != nil {
			cfg.OnError(code, msg)
		}
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
	plan := resolved.segment.Apply(exec.Plan())
	startAt := cfg.StartAt
	if cfg.StartIn > 0 {
		startAt = time.Now().Add(cfg.StartIn)
	}
	for _, o := range outputs(cfg) {
		if err := report.CheckWritable(o.flag, o.path); err != nil {
			return fail(exitcode.InvalidConfig, "%v", err)
		}
	}
	if err := checkResources(plan.MaxVUs, cfg.Embedded); err != nil {
		return fail(exitcode.InvalidConfig, "%v", err)
	}
	defer limitMemory(plan.MaxVUs, cfg.Embedded)()

	client := runner.NewClient(runner.ClientOptions{
		Timeout: cfg.Timeout, Insecure: cfg.Insecure, MaxVUs: plan.MaxVUs, UserAgent: "driftload/" + cfg.Version,
		NoFastPath: cfg.StdlibHTTP, HTTP2: cfg.HTTP2, MaxBodyBytes: cfg.MaxBodyBytes, TLS: resolved.tls,
		LocalIPs: resolved.localIPs,
	})
	defer client.Close()
	reg := metrics.NewRegistry()
	builtins := runner.DefineBuiltins(reg)
	metricsSrv, prom, err := startMetrics(cfg, reg)
	if err != nil {
		return fail(exitcode.InvalidConfig, "%v", err)
	}
	defer metricsSrv.Close()
	env := resolved.env(&cfg)
	inst, err := cfg.Test.New(env, reg)
	if err != nil {
		return fail(exitcode.InvalidConfig, "%v", err)
	}

	if err := client.CheckLocalIPs(); err != nil {
		return fail(exitcode.InvalidConfig, "%v", err)
	}
	pfTimeout := preflightTimeout(cfg)
	pf := runner.Preflight
	pfURL := scenario.URL(base, "/healthz")
	if cfg.Test.Generic {
		pf, pfURL = runner.PreflightReachable, base
	}
	if err := pf(ctx, client, pfURL, pfTimeout); err != nil {
		if ctx.Err() != nil {
			return fail(exitcode.Interrupted, "interrupted before the test started (nothing measured, no result file)")
		}
		hint := ""
		if timedOut := strings.Contains(err.Error(), "timeout") || strings.Contains(err.Error(), "deadline"); timedOut && !cfg.Explicit["timeout"] && pfTimeout == DefaultPreflightTimeout {
			hint = fmt.Sprintf(" (the pre-flight waits %s; a slower target needs --timeout)", pfTimeout)
		}
		return fail(exitcode.PreflightFailed, "target not ready: %v%s", err, hint)
	}

	if st, ok := inst.(scenario.Starter); ok {
		st.Start(ctx)
	}
	late, err := waitForStart(ctx, startAt)
	if err != nil {
		return fail(exitcode.Interrupted, "interrupted before the test started (nothing measured, no result file)")
	}
	if late > 0 && !cfg.Quiet {
		fmt.Fprintf(cfg.Stderr, "driftload %s: joining %s late: the run was to start at %s\n", cfg.Test.Name, late.Round(time.Millisecond), startAt.UTC().Format(time.RFC3339Nano))
	}

	shown := redact.URL(base)
	if !cfg.Quiet {
		fmt.Fprintf(cfg.Stderr, "driftload %s: %s against %s\n", cfg.Test.Name, resolved.describe, shown)
	}
	head := resultHead{cfg: cfg, config: resolvedConfig(cfg, resolved.describe, env, shown), target: report.Target{BaseURL: shown, Embedded: cfg.Embedded},
		share: resolved.segment.String(), sequence: resolved.segment.Sequence(), startAt: startAt, late: late, model: "closed"}
	if plan.Arrival != nil {
		head.model = "open"
	}
	intervals := newIntervals(inst, reg, plan)
	windows := threshold.NewWindows(sets, intervals.every)
	intervals.onClose = append(intervals.onClose, func(iv scenario.Interval) {
		windows.Observe(iv.Start, iv.End, func(sel threshold.Selector) (*metrics.Sink, bool) {
			return iv.Snap.Sink(sel.Metric, sel.Tags)
		})
	})
	live := newLive(cfg, reg, intervals, sets, windows, resolved.search != nil, prom)
	every := cfg.Checkpoint
	if every == 0 && cfg.Explicit["checkpoint"] {
		every = -1 // --checkpoint 0: never
	}
	checkpoint := newCheckpointer(cfg.Out, every, head, reg)
	defer checkpoint.wait()
	// Intervals close on a tick, so ticks are a tenth of an interval (at
	// least 50 ms) to keep interval edges within 10 % of where they belong.
	tick := min(time.Second, max(intervals.every/10, 50*time.Millisecond))
	// drive runs one executor; offset places it in the whole run (a max-rate
	// search holds its levels one after another).
	drive := func(exec runner.Executor, offset time.Duration) (runner.Outcome, error) {
		col := newCollector(offset, func(elapsed time.Duration) string {
			intervals.tick(elapsed)
			live.tick(elapsed)
			checkpoint.tick(elapsed, intervals.snapshot())
			if !hasAbortOnFail(sets) {
				return ""
			}
			failed := append(windows.Breached(elapsed), threshold.AbortCheck(sets, measurer{reg.LiveSnapshot()}, elapsed)...)
			if len(failed) == 0 {
				return ""
			}
			return fmt.Sprintf("threshold %s %s failed (abortOnFail)", failed[0].Metric, failed[0].Expr)
		})
		defer func() {
			col.stop()
			// A pass that never got to the intervals the engine's last
			// tick asked for was that late at least.
			intervals.overdue(col.lastTickAt())
		}()
		return runner.Run(ctx, runner.Options{
			Executor:  exec,
			Iteration: inst.Iteration,
			SetupVU:   inst.SetupVU,
			Registry:  reg,
			Builtins:  builtins,
			Client:    client,
			Seed:      cfg.Seed,
			Segment:   resolved.segment,
			Tick:      tick,
			OnStart: func(start time.Time) {
				intervals.begin(start)
				col.begin(start)
			},
			OnTick: col.tick,
		})
	}
	var out runner.Outcome
	var search *analysis.RateSearch
	var best []threshold.Result
	if resolved.search != nil {
		out, search, best, err = runSearch(cfg, resolved, intervals, drive)
	} else {
		out, err = drive(exec, 0)
	}
	live.finish()
	if err != nil {
		return fail(exitcode.InvalidConfig, "%v", err)
	}
	checkpoint.stop()

	intervals.finish(out.End.Sub(out.Start))
	windows.Finish()
	snap := reg.Snapshot()
	snap.Elapsed = out.End.Sub(out.Start)
	results := threshold.Evaluate(sets, measurer{snap}, windows)
	if search != nil {
		if so, ok := inst.(scenario.RateSearchObserver); ok {
			so.SearchDone(search)
		}
	}
	findings := inst.Analyse(snap)

	res, err := head.result(snap, out.Start, out.End)
	if err != nil {
		return fail(exitcode.Failure, "%v", err)
	}
	res.Complete = true
	res.Thresholds = report.ThresholdsFromResults(results)
	res.Interrupted = out.Interrupted
	res.Aborted = out.Interrupted || out.Aborted
	res.Analysis = findings.Data
	switch {
	case out.Interrupted:
		res.AbortReason = "interrupted by signal"
	case out.Aborted:
		res.AbortReason = out.AbortReason
	}
	res.Run = judgeRun(cfg, out, snap, plan.End, intervals)
	if search != nil {
		judgeSearch(&res.Run, search, &findings)
		// Thresholds judge each level; the file shows them at the highest
		// level that held.
		res.Thresholds = report.ThresholdsFromResults(best)
		results = nil
	}
	if intervals.err != nil {
		return fail(exitcode.Failure, "timeline: %v", intervals.err)
	}
	res.Timeline = intervals.snapshot()
	if late > 0 {
		// Offsets count from the shared start instant, so the intervals of
		// segments that began at different moments line up.
		for i := range res.Timeline.Intervals {
			res.Timeline.Intervals[i].StartSeconds += late.Seconds()
			res.Timeline.Intervals[i].EndSeconds += late.Seconds()
		}
	}
	res.Failures = report.FailuresOf(snap)
	addSubmetrics(res, sets, snap)
	conclude(res, out, threshold.Failed(results), findings)

	code := res.ExitCode
	opts := report.SummaryOptions{Color: cfg.Color, Description: resolved.describe, Verdict: findings.Lines}
	if err := report.WriteFile(cfg.Out, res); err != nil {
		opts.Notes = append(opts.Notes, "result file NOT written: "+err.Error())
		fmt.Fprintf(cfg.Stderr, "driftload %s: %v\n", cfg.Test.Name, err)
		code = exitcode.Failure
	} else {
		opts.ResultPath = cfg.Out
	}
	for _, o := range outputs(cfg)[1:] {
		if err := o.write(o.path, res); err != nil {
			opts.Notes = append(opts.Notes, o.flag+" NOT written: "+err.Error())
			fmt.Fprintf(cfg.Stderr, "driftload %s: %s: %v\n", cfg.Test.Name, o.flag, err)
			code = exitcode.Failure
		}
	}
	if !cfg.SkipStepSummary {
		if err := ciout.AppendStepSummary(res); err != nil {
			opts.Notes = append(opts.Notes, "$"+ciout.StepSummaryEnv+" NOT written: "+err.Error())
		}
	}
	opts.Compact = cfg.Quiet
	_ = report.WriteSummary(cfg.Stdout, res, opts)
	if cfg.OnFinish != nil {
		cfg.OnFinish(res, findings.Lines)
	}
	return code
}

// output is a file a run writes from its result.
type output struct {
	flag, path string
	write      func(path string, r *report.Result) error
}

// outputs are the files the run writes: the result file first, then those
// asked for.
func outputs(cfg Config) []output {
	out := []output{{"--out", cfg.Out, report.WriteFile}}
	for _, o := range []output{
		{"--junit", cfg.JUnit, ciout.WriteJUnitFile},
		{"--summary-md", cfg.SummaryMD, ciout.WriteMarkdownFile},
		{"--html", cfg.HTML, htmlreport.WriteFile},
	} {
		if o.path != "" {
			out = append(out, o)
		}
	}
	return out
}

// DefaultPreflightTimeout is how long the pre-flight waits for the target
// unless --timeout is given.
const DefaultPreflightTimeout = 3 * time.Second

// preflightTimeout: Config.PreflightTimeout, else --timeout when the user
// gave it (an endpoint slower than 3 s can then be tested), else 3 s.
func preflightTimeout(cfg Config) time.Duration {
	switch {
	case cfg.PreflightTimeout > 0:
		return cfg.PreflightTimeout
	case cfg.Explicit["timeout"] && cfg.Timeout > 0:
		return cfg.Timeout
	}
	return DefaultPreflightTimeout
}

// targetOf is the target as typed: the test's own (the http URL) or --base-url.
func targetOf(cfg Config) string {
	if tg, ok := cfg.Options.(scenario.Targeter); ok {
		return tg.Target()
	}
	return cfg.BaseURL
}

// resultHead is what every result file of a run carries, checkpoint or final.
type resultHead struct {
	cfg             Config
	config          map[string]any
	target          report.Target
	share, sequence string
	startAt         time.Time
	late            time.Duration
	// model is the run's load model, known before it starts: a
	// checkpoint's run says it (the rest of run is judged at the end).
	model string
}

// result is the result file of the run so far: its metrics and checks
// between start and end.
func (h resultHead) result(snap *metrics.Snapshot, start, end time.Time) (*report.Result, error) {
	ms, err := report.MetricsFromSnapshot(snap)
	if err != nil {
		return nil, err
	}
	return &report.Result{
		SchemaVersion:   report.SchemaVersion,
		Tool:            report.Tool{Name: "driftload", Version: h.cfg.Version},
		Test:            h.cfg.Test.Name,
		Config:          h.config,
		Target:          h.target,
		Share:           h.share,
		ShareSequence:   h.sequence,
		Start:           start.UTC(),
		End:             end.UTC(),
		DurationSeconds: snap.Elapsed.Seconds(),
		Metrics:         ms,
		Thresholds:      []report.ThresholdResult{},
		Checks:          report.ChecksFromSnapshot(snap),
		Run:             report.Run{Model: h.model, Valid: true},
		StartAt:         startAtOf(h.startAt),
		LateSeconds:     h.late.Seconds(),
	}, nil
}

func startAtOf(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// waitForStart sleeps until at (zero: no wait) and returns how late the run
// starts when at has passed; an interrupt while waiting is an error.
func waitForStart(ctx context.Context, at time.Time) (time.Duration, error) {
	if at.IsZero() {
		return 0, nil
	}
	wait := time.Until(at)
	if wait <= 0 {
		return -wait, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return 0, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
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

func resolvedConfig(cfg Config, describe string, env scenario.Env, base string) map[string]any {
	c := map[string]any{}
	for k, v := range cfg.Flags {
		c[k] = v
	}
	key := ""
	if cfg.APIKey != "" {
		key = "[redacted]"
	}
	c["api_key"] = key
	c["base_url"] = base // already redacted
	c["executor"] = describe
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
