package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/merge"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario/all"
)

// newMergeCmd is `driftload merge PART.json… -o merged.json`: the segments of
// one test, run on several machines, judged as one run.
func newMergeCmd() *cobra.Command {
	var out, thresholds string
	var force, noColor bool
	cmd := &cobra.Command{
		Use:   "merge PART.json... [-o merged.json]",
		Short: "Merge the result files of a test's segments into one result, judged centrally",
		Long: `merge joins the result files of the segments of one test (--segment I/N on N machines)
into the result of the whole run: counters add, HDR histograms merge exactly per metric, series and
timeline interval, and the thresholds file's section for the test is judged on the merged data
(windowed thresholds on the merged timeline), as is the test's own analysis (stress's breaking point,
soak's trends, capacity's estimate, ratelimit's enforcement). The exit code is the merged verdict
(0, 99, 110), so a CI step or a Kubernetes Job can wait on it. Files of
different tests or configurations, overlapping segments, a missing segment or an unfinished
checkpoint are refused (exit 104, one line each) unless --force.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{code: exitcode.InvalidConfig, err: errors.New("merge: want the result files of the segments, e.g. driftload merge part-0.json part-1.json part-2.json -o merged.json")}
			}
			var parts []*report.Result
			for _, a := range args {
				r, err := report.ReadFile(a)
				if err != nil {
					return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: %s: %v", a, oneLine(err))}
				}
				if r.SchemaVersion != report.SchemaVersion {
					return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: %s is not a driftload result file (schema_version %d)", a, r.SchemaVersion)}
				}
				parts = append(parts, r)
			}
			if errs := merge.Check(parts); len(errs) > 0 {
				if !force {
					msgs := make([]string, len(errs))
					for i, e := range errs {
						msgs[i] = e.Error()
					}
					return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: %s (--force merges anyway)", strings.Join(msgs, "; "))}
				}
				for _, e := range errs {
					fmt.Fprintf(cmd.ErrOrStderr(), "driftload merge: warning: %v\n", e)
				}
			}
			test, ok := all.Lookup(parts[0].Test)
			if !ok {
				return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: unknown test %q", parts[0].Test)}
			}
			data, source, err := harness.ReadThresholds(thresholds, defaultThresholds())
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: %w", err)}
			}
			sets, err := harness.LoadThresholds(data, source, test)
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: %w", err)}
			}
			if out == "" {
				out = "merged_" + test.ResultFile
			}
			if err := report.CheckOut(out); err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: %w", err)}
			}
			m, err := merge.Run(parts, test, sets)
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("merge: %v", err)}
			}
			harness.Judge(m.Result, m.Snapshot, sets, m.Windows, m.Findings)
			opts := report.SummaryOptions{
				Color:       !noColor && !color.NoColor,
				Description: fmt.Sprintf("merged from %d segments (%s)", len(parts), parts[0].ShareSequence),
				Verdict:     m.Findings.Lines,
			}
			code := m.Result.ExitCode
			if err := report.WriteFile(out, m.Result); err != nil {
				opts.Notes = append(opts.Notes, "result file NOT written: "+err.Error())
				code = exitcode.Failure
			} else {
				opts.ResultPath = out
			}
			_ = report.WriteSummary(cmd.OutOrStdout(), m.Result, opts)
			if code != exitcode.OK {
				return &exitError{code: code, silent: true}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&out, "out", "o", "", "merged result file (default merged_<test's result file>)")
	fs.StringVar(&thresholds, "thresholds", "", "thresholds file judged on the merged data (default ./thresholds.json if present, else the built-in one)")
	fs.BoolVar(&force, "force", false, "merge files that are not the complete, matching segments of one run, with a warning each")
	fs.BoolVar(&noColor, "no-color", false, "plain output without colours")
	return cmd
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
