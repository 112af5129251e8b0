package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/harness"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a thresholds file (default ./thresholds.json, else the built-in one)",
		Long: `validate checks a thresholds file: JSON syntax, expression syntax, unknown tests,
unknown metrics, and statistics that do not exist for a metric's type (e.g. value on a
Counter); and the "compare" section, the budgets of driftload compare ("10%", "0.5pp",
a ratio, a duration; metrics that are trends), each bad value with its line and column.
Each problem is printed with its test, metric and expression. Exit 0 when the file is
valid, 104 otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			data, source, err := harness.ReadThresholds(path, defaultThresholds())
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: err}
			}
			f, errs := harness.ParseThresholds(data)
			if len(errs) > 0 {
				for _, e := range errs {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", source, e)
				}
				return &exitError{code: exitcode.InvalidConfig, err: errors.New("invalid thresholds"), silent: true}
			}
			n := 0
			for _, sets := range f.Tests {
				for _, s := range sets {
					n += len(s.Thresholds)
				}
			}
			budgets := ""
			if f.Compare != nil {
				budgets = " and the compare budgets"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d thresholds in %d tests%s, all valid\n", source, n, len(f.Tests), budgets)
			return nil
		},
	}
}
