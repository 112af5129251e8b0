// Package exitcode lists driftload's process exit codes in one place.
// They follow k6 where k6 has one.
package exitcode

// Exit codes.
const (
	// OK: the run completed and every threshold passed.
	OK = 0
	// Failure: an unexpected error (writing the result file, a bug).
	Failure = 1
	// ThresholdsFailed: at least one threshold failed (k6: 99).
	ThresholdsFailed = 99
	// InvalidConfig: a bad flag, an unreadable or invalid thresholds file, a bad URL (k6: 104).
	InvalidConfig = 104
	// Interrupted: stopped by SIGINT or SIGTERM (k6: 105).
	Interrupted = 105
	// PreflightFailed: the target was unreachable or /healthz was not 200 before the test started.
	PreflightFailed = 108
	// InvalidRun: the load generator could not keep the offered schedule, so its numbers cannot be trusted.
	InvalidRun = 110
)
