// Command rusage runs a command and prints what the kernel accounted to it,
// so bench/run.sh needs neither GNU time nor /proc polling:
//
//	rusage -o FILE -- CMD ARGS...
//
// writes "user_us=U sys_us=S maxrss_kib=M wall_us=W exit=E" to FILE (stderr
// without -o). The command's own output goes to this process's stdout and
// stderr; the exit status is the command's.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "", "write the accounting line to this file (default stderr)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: rusage [-o FILE] -- CMD ARGS...")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child gets SIGINT/SIGTERM from the terminal's process group itself;
	// this process only waits for it.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(127)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "rusage: no resource usage on this system")
		os.Exit(127)
	}
	line := fmt.Sprintf("user_us=%d sys_us=%d maxrss_kib=%d wall_us=%d exit=%d\n",
		ru.Utime.Nano()/1e3, ru.Stime.Nano()/1e3, ru.Maxrss, wall.Microseconds(), cmd.ProcessState.ExitCode())
	if *out == "" {
		fmt.Fprint(os.Stderr, line)
	} else if err := os.WriteFile(*out, []byte(line), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(127)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}
