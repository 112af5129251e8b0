package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a thresholds file (default ./thresholds.json, else the built-in one)",
		Long: `validate checks a thresholds file: JSON syntax, expression syntax, unknown tests,
unknown metrics, and statistics that do not exist for a metric's type (e.g. value on a
Counter). Each problem is printed with its test, metric and expression. Exit 0 when the
file is valid, 104 otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			data, source, err := readThresholds(path)
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: err}
			}
			f, err := threshold.ParseFile(data)
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("%s: %w", source, err)}
			}
			if errs := f.Validate(scenario.KnownBySection()); len(errs) > 0 {
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
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d thresholds in %d tests, all valid\n", source, n, len(f.Tests))
			return nil
		},
	}
}

// readThresholds reads path, or ./thresholds.json when path is empty and it
// exists, or the built-in defaults.
func readThresholds(path string) (data []byte, source string, err error) {
	if path == "" {
		if _, statErr := os.Stat("thresholds.json"); statErr == nil {
			path = "thresholds.json"
		} else {
			return defaultThresholds(), "built-in thresholds", nil
		}
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, path, fmt.Errorf("thresholds file: %w", err)
	}
	return data, path, nil
}
