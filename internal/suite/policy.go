package suite

import (
	"fmt"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/smoke"
)

// Phase statuses in suite_results.json.
const (
	StatusPassed      = "passed"
	StatusFailed      = "failed"      // exit 99: a threshold or the test's verdict failed
	StatusInvalid     = "invalid"     // exit 110: driftload could not generate the load asked for
	StatusInterrupted = "interrupted" // exit 105
	StatusError       = "error"       // exit 1, 104, 108: the phase could not be judged
	StatusNotRun      = "not_run"     // the suite stopped before it
)

// statusOf is the status of a phase that ended with code.
func statusOf(code int) string {
	switch code {
	case exitcode.OK:
		return StatusPassed
	case exitcode.ThresholdsFailed:
		return StatusFailed
	case exitcode.InvalidRun:
		return StatusInvalid
	case exitcode.Interrupted:
		return StatusInterrupted
	}
	return StatusError
}

// Policy says in one line when the suite stops, as the plan prints it.
func Policy(continueOnFail bool) string {
	if continueOnFail {
		return "--continue-on-fail: go on after every failed phase (an interrupt or a configuration error still stops)"
	}
	return "stop after a failed smoke or an unreachable target; go on after other failed phases"
}

// stopAfter says whether the suite stops after a phase of test t ended with
// code, and why. An interrupt, a configuration error and an unexpected
// failure always stop it; without continueOnFail, so do a failed smoke (the
// sequence's "fix before going on") and an unreachable target; every other
// failed phase is reported and the suite goes on.
func stopAfter(t *scenario.Test, code int, continueOnFail bool) (bool, string) {
	switch code {
	case exitcode.OK:
		return false, ""
	case exitcode.Interrupted:
		return true, "the suite was interrupted"
	case exitcode.InvalidConfig:
		return true, fmt.Sprintf("%s's configuration was refused", t.Name)
	case exitcode.Failure:
		return true, fmt.Sprintf("%s failed unexpectedly", t.Name)
	}
	if continueOnFail {
		return false, ""
	}
	switch {
	case code == exitcode.PreflightFailed:
		return true, fmt.Sprintf("the target was not ready for %s", t.Name)
	case t == smoke.Test:
		return true, "smoke failed: fix it before going on (--continue-on-fail runs the rest)"
	}
	return false, ""
}

// severity orders exit codes for ExitCode: the suite exits with the most
// severe of its phases'.
var severity = map[int]int{
	exitcode.OK:               0,
	exitcode.ThresholdsFailed: 1,
	exitcode.InvalidRun:       2,
	exitcode.PreflightFailed:  3,
	exitcode.InvalidConfig:    4,
	exitcode.Interrupted:      5,
	exitcode.Failure:          6,
}

// ExitCode combines the phases' exit codes into the suite's: 0 when every
// phase passed, else the most severe, in the order 1 (unexpected failure,
// e.g. a result file not written) > 105 (interrupted) > 104 > 108 > 110
// (invalid run) > 99 (a threshold or a verdict failed) — as a single run
// puts an invalid run before its thresholds. Unknown codes count as 1.
func ExitCode(codes []int) int {
	out := exitcode.OK
	for _, c := range codes {
		s, ok := severity[c]
		if !ok {
			c, s = exitcode.Failure, severity[exitcode.Failure]
		}
		if s > severity[out] {
			out = c
		}
	}
	return out
}
