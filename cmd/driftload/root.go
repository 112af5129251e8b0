package main

import (
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "driftload",
		Short: "Prove a Driftlock anomaly-detection API is ready for production",
		Long: `driftload load-tests a Driftlock API: each subcommand is a complete test with its
own default profile, thresholds and result file. Exit codes: 0 passed, 99 a threshold
failed, 104 invalid configuration, 105 interrupted, 108 target not reachable.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: 104, err: err}
	})
	root.AddCommand(newSmokeCmd(), newLoadCmd(), newStressCmd(), newSoakCmd(), newCapacityCmd(), newValidateCmd(), newVersionCmd(), newServeCmd(), newRateLimitCmd(), newHTTPCmd())
	return root
}
