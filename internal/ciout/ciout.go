// Package ciout renders a finished run's result file for CI systems: a
// JUnit XML report (Jenkins, GitLab, GitHub test reporters) and a
// GitHub-flavoured markdown summary, appended to the job's step summary
// when GitHub Actions asks for one; SuiteJUnit puts the phases of a suite
// into one report. It reads report.Results and nothing else.
package ciout

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/report"
)

// StepSummaryEnv names the file GitHub Actions shows as a job's summary.
const StepSummaryEnv = "GITHUB_STEP_SUMMARY"

// AppendStepSummary appends r's Markdown to the file $GITHUB_STEP_SUMMARY
// names, creating it when missing; it does nothing when the variable is
// unset or empty. Several steps (or runs) append to the same file, so it is
// opened O_APPEND and the summary written in one write.
func AppendStepSummary(r *report.Result) error {
	path := os.Getenv(StepSummaryEnv)
	if path == "" {
		return nil
	}
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("step summary: %w", err)
	}
	_, err = f.Write(b.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("step summary: %w", err)
	}
	return nil
}

// WriteJUnitFile writes r's JUnit report to path atomically, as the result
// file is written (report.WriteFileAtomic).
func WriteJUnitFile(path string, r *report.Result) error {
	return writeFile("JUnit report", path, r, JUnit)
}

// WriteMarkdownFile writes r's Markdown summary to path atomically, as the
// result file is written (report.WriteFileAtomic).
func WriteMarkdownFile(path string, r *report.Result) error {
	return writeFile("markdown summary", path, r, Markdown)
}

func writeFile(what, path string, r *report.Result, render func(io.Writer, *report.Result) error) error {
	if path == "" {
		return fmt.Errorf("write %s: want a file name", what)
	}
	var b bytes.Buffer
	if err := render(&b, r); err != nil {
		return fmt.Errorf("write %s %s: %w", what, path, err)
	}
	if err := report.WriteFileAtomic(path, b.Bytes()); err != nil {
		return fmt.Errorf("write %s %s: %w", what, path, err)
	}
	return nil
}

// exitLine is "exit 99: a threshold or the test's verdict failed"; "" for
// a checkpoint, whose exit code is not yet decided.
func exitLine(r *report.Result) string {
	if !r.Complete {
		return ""
	}
	return fmt.Sprintf("exit %d: %s", r.ExitCode, exitMeaning(r.ExitCode))
}

// exitMeaning is the README's meaning of an exit code.
func exitMeaning(code int) string {
	switch code {
	case exitcode.OK:
		return "every threshold passed"
	case exitcode.Failure:
		return "unexpected failure"
	case exitcode.ThresholdsFailed:
		return "a threshold or the test's verdict failed"
	case exitcode.InvalidConfig:
		return "invalid configuration"
	case exitcode.Interrupted:
		return "interrupted by SIGINT/SIGTERM"
	case exitcode.PreflightFailed:
		return "pre-flight failed: the target was not ready"
	case exitcode.InvalidRun:
		return "invalid run"
	}
	return "unknown exit code"
}

// outcome is how a run ended, in the summary's order of precedence: an
// interrupt, an abort, a checkpoint (the run never finished), an invalid
// run, failed thresholds or the test's own verdict, a pass. Why gives the
// reason, then the failed thresholds and the verdict, whatever came first.
type outcome struct {
	// Word is the one-word status: PASSED, FAILED, INVALID RUN, ...
	Word string
	// Why is the status's reason, one line.
	Why string
}

func outcomeOf(r *report.Result) outcome {
	var o outcome
	switch {
	case r.Interrupted:
		o = outcome{"INTERRUPTED", orDefault(r.AbortReason, "interrupted by signal")}
	case r.Aborted:
		o = outcome{"ABORTED", orDefault(r.AbortReason, "the run stopped early")}
	case !r.Complete:
		return outcome{"INCOMPLETE", "a checkpoint written during the run: metrics so far, no thresholds or verdict"}
	case invalid(r):
		o = outcome{"INVALID RUN", "driftload could not generate the load asked for; its numbers understate what users would see"}
	case failedThresholds(r) > 0 || r.Verdict != "" || !r.Passed:
		o.Word = "FAILED"
	default:
		return outcome{"PASSED", fmt.Sprintf("all %d thresholds passed", len(r.Thresholds))}
	}
	// What else failed, after the reason the run ended as it did.
	var why []string
	if o.Why != "" {
		why = append(why, o.Why)
	}
	if n := failedThresholds(r); n > 0 {
		why = append(why, fmt.Sprintf("%d of %d thresholds failed", n, len(r.Thresholds)))
	}
	if r.Verdict != "" {
		why = append(why, r.Verdict)
	}
	if len(why) == 0 {
		why = append(why, exitMeaning(r.ExitCode))
	}
	o.Why = strings.Join(why, "; ")
	return o
}

// invalid is whether the run was judged invalid. A result without a run
// model (older files) was never judged.
func invalid(r *report.Result) bool {
	return r.Run.Model != "" && !r.Run.Valid
}

func failedThresholds(r *report.Result) int {
	n := 0
	for _, t := range r.Thresholds {
		if !t.OK {
			n++
		}
	}
	return n
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkLine is a check's tally: "2 of 100 failed", "100 of 100 passed".
func checkLine(c report.CheckResult) string {
	total := c.Passes + c.Fails
	if c.Fails > 0 {
		return fmt.Sprintf("%d of %d failed", c.Fails, total)
	}
	return fmt.Sprintf("%d of %d passed", c.Passes, total)
}

// keyFigures are the run's headline numbers, each present only when its
// metric was recorded: "4883 requests", "26.83 req/s", "p95
// http_req_duration 526.34ms", "error rate 0.00%".
func keyFigures(r *report.Result) []string {
	var out []string
	if m := r.Metrics["http_reqs"]; m != nil {
		out = append(out, fmt.Sprintf("%.0f requests", m.Values["count"]), fmt.Sprintf("%.2f req/s", m.Values["rate"]))
	}
	if m := r.Metrics["http_req_duration"]; m != nil {
		if p95, ok := m.Values["p(95)"]; ok {
			out = append(out, "p95 http_req_duration "+report.FormatDuration(p95))
		}
	}
	if m := r.Metrics["http_req_failed"]; m != nil {
		out = append(out, fmt.Sprintf("error rate %.2f%%", 100*m.Values["rate"]))
	}
	return out
}

// loadLine describes an open-model run's load: "open model: offered 157.5
// it/s, achieved 92.76 it/s, 3506 dropped, scheduler late p99 188.42ms"; a
// closed run only says its model and rate.
func loadLine(r *report.Result) string {
	switch r.Run.Model {
	case "open":
		return fmt.Sprintf("open model: offered %s it/s, achieved %s it/s, %d dropped, scheduler late p99 %s",
			num(r.Run.OfferedRate), num(r.Run.AchievedRate), r.Run.DroppedIterations, report.FormatDuration(r.Run.SchedulerLateP99Ms))
	case "":
		return ""
	}
	return fmt.Sprintf("%s model: %s it/s", r.Run.Model, num(r.Run.AchievedRate))
}

// num renders a rate with at most two decimals: "157.5", "92.76", "3".
func num(x float64) string {
	s := fmt.Sprintf("%.2f", x)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
