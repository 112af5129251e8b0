package suite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/ciout"
	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/redact"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario/ratelimit"
)

// run is a suite under way: its results so far and each phase's result.
type run struct {
	p       *Plan
	res     *Results
	results []*report.Result
	codes   []int
	// writeErr is the last failure to write suite_results.json.
	writeErr error
}

// Run prints the plan, runs the phases in order as the policy allows,
// writes suite_results.json (after every phase, and at the end), the JUnit
// report and the markdown summary, prints the suite's summary and returns
// its exit code (see ExitCode). A phase interrupted by ctx keeps its result
// file, as every finished phase does; the phases after it are not run.
func (p *Plan) Run(ctx context.Context) int {
	stdout, stderr := orDiscard(p.Base.Stdout), orDiscard(p.Base.Stderr)
	r := &run{p: p, res: p.newResults(p.now()), results: make([]*report.Result, len(p.Phases))}
	p.PrintPlan(stdout)
	r.checkpoint()

	var demoDone time.Time
	for i := range p.Phases {
		ph := &p.Phases[i]
		pr := &r.res.Phases[i]
		if r.res.StopReason != "" {
			pr.Status, pr.Reason = StatusNotRun, r.res.StopReason
			continue
		}
		code := exitcode.OK
		if ph.Test == ratelimit.Test && !demoDone.IsZero() {
			code = r.waitForWindow(ctx, demoDone, pr, stderr)
		}
		if code == exitcode.OK {
			code = r.runPhase(ctx, i, stderr)
		}
		if usesDemo(ph.Test) {
			demoDone = p.now()
		}
		r.codes = append(r.codes, code)
		if stop, why := stopAfter(ph.Test, code, p.ContinueOnFail); stop {
			r.res.StoppedAfter, r.res.StopReason = ph.Test.Name, why
		}
		r.checkpoint()
	}

	res := r.finish(p.now())
	code := res.ExitCode
	var notes []string
	for _, w := range r.writers() {
		if err := w.write(); err != nil {
			notes = append(notes, fmt.Sprintf("%s NOT written: %v", w.name, err))
			fmt.Fprintf(stderr, "driftload suite: %s: %v\n", w.name, err)
			code = exitcode.Failure
		}
	}
	if err := r.appendStepSummary(); err != nil {
		notes = append(notes, "$"+ciout.StepSummaryEnv+" NOT written: "+err.Error())
	}
	_ = WriteSummary(stdout, res, SummaryOptions{Color: p.Base.Color, Dir: p.Dir, Notes: notes})
	return code
}

// finish closes the suite's results at end: its exit code, verdict and
// every phase against the baseline.
func (r *run) finish(end time.Time) *Results {
	res := r.res
	res.End, res.DurationSeconds = end.UTC(), end.Sub(res.Start).Seconds()
	res.ExitCode = ExitCode(r.codes)
	res.Passed = res.ExitCode == exitcode.OK
	res.Complete = true
	r.compare()
	return res
}

// waitForWindow waits until ratelimit's window has passed since smoke's
// demo calls ended, so its first window starts empty; on an interrupt it
// marks the phase and returns 105.
func (r *run) waitForWindow(ctx context.Context, demoDone time.Time, pr *PhaseResult, stderr io.Writer) int {
	d := demoDone.Add(r.p.RateLimit.Window).Sub(r.p.now())
	if d <= 0 {
		return exitcode.OK
	}
	if !r.p.Base.Quiet {
		fmt.Fprintf(stderr, "driftload suite: waiting %s for smoke's demo calls to leave ratelimit's %s window\n", Dur(d), Dur(r.p.RateLimit.Window))
	}
	if runner.Sleep(ctx, d) {
		return exitcode.OK
	}
	code := exitcode.Interrupted
	pr.Status, pr.ExitCode, pr.Reason = StatusInterrupted, &code, "interrupted before it started (nothing measured)"
	return code
}

// runPhase runs phase i through the harness and records how it ended.
func (r *run) runPhase(ctx context.Context, i int, stderr io.Writer) int {
	p := r.p
	ph := &p.Phases[i]
	if !p.Base.Quiet {
		fmt.Fprintf(stderr, "driftload suite: phase %d/%d %s, %s (suite %s left)\n",
			i+1, len(p.Phases), ph.Test.Name, Dur(ph.Preview.Length), Dur(p.remaining(i, 0)))
	}
	cfg := ph.Config
	errLine := ""
	cfg.OnError = func(_ int, msg string) { errLine = msg }
	cfg.ProgressNote = func(elapsed time.Duration) string {
		return fmt.Sprintf("· suite %d/%d, %s left", i+1, len(p.Phases), Dur(p.remaining(i, elapsed)))
	}
	var verdict []string
	cfg.OnFinish = func(res *report.Result, lines []string) {
		r.results[i], verdict = res, lines
	}
	start := p.now()
	code := harness.Run(ctx, cfg)
	r.record(i, code, verdict, errLine, p.now().Sub(start), written(cfg.Out))
	r.res.Phases[i].Report = written(cfg.HTML)
	return code
}

// record books how phase i ended: its exit code, its result (r.results[i],
// nil when it measured nothing), the test's verdict lines, its one-line
// error (a run that ended before measuring), how long it took and its
// result file ("" when none).
func (r *run) record(i, code int, verdict []string, errLine string, took time.Duration, file string) {
	ph, pr := &r.p.Phases[i], &r.res.Phases[i]
	pr.ExitCode = &code
	pr.Status = statusOf(code)
	pr.File = file
	pr.DurationSeconds = took.Seconds()
	res := r.results[i]
	if res == nil {
		// Ended before measuring: the harness's one-line error says why.
		pr.Reason = errLine
		return
	}
	pr.DurationSeconds = res.DurationSeconds
	pr.Figures = figuresOf(res)
	pr.FailedThresholds = failedThresholds(res)
	pr.Verdict = res.Verdict
	pr.Findings = verdict
	pr.Reason = reasonOf(code, res, errLine)
	if ph.Test == Baseline && !res.Interrupted {
		r.res.Baseline, r.res.BaselineFigures = ph.Test.Name, pr.Figures
	}
}

// written is path's base name when the file exists, else "".
func written(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return filepath.Base(path)
}

// reasonOf says in one line why a phase with a result did not pass ("" when
// it did); errLine is the harness's error, if any (a file not written).
func reasonOf(code int, res *report.Result, errLine string) string {
	switch code {
	case exitcode.OK:
		return ""
	case exitcode.Interrupted:
		return orDefault(res.AbortReason, "interrupted by signal")
	case exitcode.InvalidRun:
		return "invalid run: " + orDefault(strings.Join(res.Run.InvalidReasons, "; "), "driftload could not generate the load asked for")
	case exitcode.ThresholdsFailed:
		var why []string
		if res.Aborted && res.AbortReason != "" {
			why = append(why, "aborted: "+res.AbortReason)
		}
		if n := len(failedThresholds(res)); n > 0 {
			why = append(why, fmt.Sprintf("%d of %d thresholds failed", n, len(res.Thresholds)))
		}
		if res.Verdict != "" {
			why = append(why, res.Verdict)
		}
		return strings.Join(why, "; ")
	}
	return orDefault(errLine, "unexpected failure: a file of the run was not written (its summary says which)")
}

// remaining is the suite's planned time left at elapsed into phase i.
func (p *Plan) remaining(i int, elapsed time.Duration) time.Duration {
	d := max(0, p.Phases[i].Preview.Length-elapsed)
	for _, ph := range p.Phases[i+1:] {
		d += ph.Wait + ph.Preview.Length
	}
	return d
}

// newResults is suite_results.json before the first phase.
func (p *Plan) newResults(start time.Time) *Results {
	res := &Results{
		SchemaVersion:  SchemaVersion,
		Tool:           report.Tool{Name: "driftload", Version: p.Base.Version},
		RunID:          p.RunID,
		Target:         report.Target{BaseURL: redact.URL(p.Base.BaseURL), Embedded: p.Base.Embedded},
		Config:         p.Base.Flags,
		TimeScale:      p.timeScale(),
		Policy:         Policy(p.ContinueOnFail),
		Start:          start.UTC(),
		PlannedSeconds: p.Total().Seconds(),
		Files:          SuiteFiles{Results: ResultsFile, JUnit: JUnitFile, Summary: SummaryFile, Page: PageFile},
	}
	for _, ph := range p.Phases {
		res.Phases = append(res.Phases, PhaseResult{
			Test: ph.Test.Name, Status: StatusNotRun, Profile: ph.Preview.Describe, PlannedSeconds: ph.Preview.Length.Seconds(),
		})
	}
	return res
}

// compare reads every phase against the baseline's figures.
func (r *run) compare() {
	b := r.res.BaselineFigures
	for i := range r.res.Phases {
		pr := &r.res.Phases[i]
		pr.VsBaseline = nil
		if b != nil && pr.Figures != nil && pr.Test != r.res.Baseline {
			pr.VsBaseline = compare(pr.Figures, b)
		}
	}
	r.res.Interrupted = false
	for _, c := range r.codes {
		if c == exitcode.Interrupted {
			r.res.Interrupted = true
		}
	}
}

// checkpoint rewrites suite_results.json as it stands (complete: false).
func (r *run) checkpoint() {
	r.compare()
	r.writeErr = r.writeResults()
}

func (r *run) writeResults() error {
	data, err := r.res.encode()
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(r.p.Dir, ResultsFile), data)
}

// suiteWriter is one of the suite's files.
type suiteWriter struct {
	name  string
	write func() error
}

func (r *run) writers() []suiteWriter {
	render := func(name string, f func(io.Writer) error) func() error {
		return func() error {
			var b bytes.Buffer
			if err := f(&b); err != nil {
				return err
			}
			return report.WriteFileAtomic(filepath.Join(r.p.Dir, name), b.Bytes())
		}
	}
	return []suiteWriter{
		{ResultsFile, r.writeResults},
		{JUnitFile, render(JUnitFile, r.junit)},
		{SummaryFile, render(SummaryFile, r.markdown)},
		{PageFile, render(PageFile, func(w io.Writer) error { return WritePage(w, r.res) })},
	}
}

// junit is the suite's JUnit report: a test suite a phase.
func (r *run) junit(w io.Writer) error {
	var phases []ciout.SuitePhase
	for i, pr := range r.res.Phases {
		ph := ciout.SuitePhase{Test: pr.Test, Result: r.results[i], DurationSeconds: pr.DurationSeconds}
		if ph.Result == nil {
			switch pr.Status {
			case StatusNotRun:
				ph.NotRun = pr.Reason
			default:
				ph.Error = orDefault(pr.Reason, "ended before measuring")
				ph.ExitCode = *pr.ExitCode
			}
		}
		phases = append(phases, ph)
	}
	return ciout.SuiteJUnit(w, "driftload suite", phases)
}

func (r *run) markdown(w io.Writer) error { return WriteMarkdown(w, r.res, r.results) }

// appendStepSummary appends the suite's markdown to $GITHUB_STEP_SUMMARY
// when set; the phases left it alone.
func (r *run) appendStepSummary() error {
	path := os.Getenv(ciout.StepSummaryEnv)
	if path == "" {
		return nil
	}
	var b bytes.Buffer
	if err := r.markdown(&b); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
