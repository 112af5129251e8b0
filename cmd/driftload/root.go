package main

import (
	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/scenario/all"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "driftload",
		Short: "Prove a Driftlock anomaly-detection API is ready for production",
		Long: `driftload load-tests a Driftlock API: each subcommand is a complete test with its
own default profile, thresholds and result file; serve runs a Driftlock-compatible reference
server to test against. Exit codes: 0 passed, 1 unexpected failure (e.g. the result file could not
be written), 99 a threshold or the test's verdict failed, 104 invalid configuration, 105 interrupted,
108 target not reachable, 110 invalid run (driftload could not generate the load asked for).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitcode.InvalidConfig, err: err}
	})
	for _, t := range all.Tests {
		root.AddCommand(newTestCmd(t))
	}
	root.AddCommand(newSuiteCmd(), newValidateCmd(), newVersionCmd(), newServeCmd(), newMergeCmd(), newReportCmd(), newCompareCmd())
	return root
}
