// Command driftload proves that a Driftlock anomaly-detection API is ready
// for production: smoke, load, stress, soak, capacity and rate-limit tests,
// plus a Driftlock-compatible reference server (`driftload serve`).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/driftload/driftload/internal/exitcode"
)

func main() {
	// A closed stdout or stderr (driftload soak | head -1) must not end the
	// run: with SIGPIPE notified, writes to it fail with EPIPE instead, which
	// the summary and progress writers ignore, and the result file is kept.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit code.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitcode.OK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && !ee.silent {
			fmt.Fprintln(os.Stderr, "driftload:", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown flag, bad flag value, unknown command.
	fmt.Fprintln(os.Stderr, "driftload:", err)
	return exitcode.InvalidConfig
}

// exitError carries an exit code with the error that caused it.
type exitError struct {
	code   int
	err    error
	silent bool // already reported to the user
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }
