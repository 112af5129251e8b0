package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/htmlreport"
	"github.com/driftload/driftload/internal/report"
)

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report RESULT.json",
		Short: "Render a result file as a self-contained HTML page",
		Long: `report renders a driftload result file as one HTML page that opens offline and
requests nothing from any host: the run's header and configuration, the verdict and exit
code, thresholds (measured against their limits, the worst window of windowed ones),
checks, every endpoint, latency, request rate, load and failures over time, and the
test's own charts (stress: latency and errors against the load level with the knee and
the breaking point; soak: interval p95 with its trend, server and driftload memory;
capacity: streams against the server's detectors, the probes; ratelimit: allowed and
limited requests against the window). The page is written beside the result file
(RESULT.html) unless -o names another file; "-o -" writes it to stdout. Exit 0 when
written, 104 for a missing, unreadable or non-result input, 1 when the page cannot be
written.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: exitcode.InvalidConfig, err: errors.New("want one result file, e.g. driftload report smoke_test_results.json")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			in := args[0]
			r, err := readResultFile(in)
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: err}
			}
			if out == "-" {
				if err := htmlreport.Write(cmd.OutOrStdout(), r); err != nil {
					return &exitError{code: exitcode.Failure, err: err}
				}
				return nil
			}
			dest := out
			if dest == "" {
				dest = strings.TrimSuffix(in, filepath.Ext(in)) + ".html"
			}
			if err := checkReportOut(in, dest); err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: err}
			}
			if err := htmlreport.WriteFile(dest, r); err != nil {
				return &exitError{code: exitcode.Failure, err: err}
			}
			size := ""
			if fi, err := os.Stat(dest); err == nil {
				size = fmt.Sprintf(" (%d KiB)", (fi.Size()+1023)/1024)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report written to %s%s\n", dest, size)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", `the HTML file to write (default: the result file's name with .html; "-" for stdout)`)
	return cmd
}

// readResultFile reads a result file, telling a missing file, a file that is
// not JSON and JSON that is not a driftload result apart, in one line.
func readResultFile(path string) (*report.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	if !json.Valid(data) {
		var syn *json.SyntaxError
		var v any
		if err := json.Unmarshal(data, &v); errors.As(err, &syn) {
			return nil, fmt.Errorf("report %s: not JSON (%s at byte %d)", path, syn.Error(), syn.Offset)
		}
		return nil, fmt.Errorf("report %s: not JSON", path)
	}
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.SchemaVersion == nil {
		return nil, fmt.Errorf("report %s: not a driftload result file (no schema_version)", path)
	}
	if v := *head.SchemaVersion; v < 1 || v > report.SchemaVersion {
		return nil, fmt.Errorf("report %s: not a driftload result file this version reads (schema_version %d, want 1 to %d)", path, v, report.SchemaVersion)
	}
	r, err := report.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("report %s: not a driftload result file (%v)", path, err)
	}
	return r, nil
}

// checkReportOut refuses an output that would replace the input or that
// cannot be a file: a directory, or one in a directory that does not exist.
func checkReportOut(in, out string) error {
	if filepath.Clean(in) == filepath.Clean(out) {
		return fmt.Errorf("-o %s: is the result file itself", out)
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return fmt.Errorf("-o %s: is a directory", out)
	}
	dir := filepath.Dir(out)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("-o %s: directory %s missing", out, dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("-o %s: %s is not a directory", out, dir)
	}
	return nil
}
