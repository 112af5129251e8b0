package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/ciout"
	"github.com/driftload/driftload/internal/compare"
	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/htmlreport"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario/all"
	"github.com/driftload/driftload/internal/threshold"
)

// compareFlags are `driftload compare`'s flags.
type compareFlags struct {
	maxP50, maxP95, maxP99 string
	maxErrorRate           string
	minThroughput          string
	minLatencyChange       string
	metrics                []string
	thresholds             string
	confidence             float64
	resamples              int
	seed                   uint64
	force                  bool
	json, junit, summaryMD string
	html                   string
	noColor, quiet         bool
}

func newCompareCmd() *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json",
		Short: "Compare two result files of one test: did the new run regress, beyond noise?",
		Long: `compare judges NEW.json against BASE.json, two result files of the same test and load:
for every Trend metric and endpoint the change of p50, p95 and p99, and the change of error
rate and throughput, each with a confidence interval (a paired bootstrap over the timeline's
intervals, else a bootstrap of the whole histogram; Newcombe's interval for the error rate), so
that run-to-run noise is not called a regression. A change is a regression only when its whole
interval lies beyond its budget.

Budgets come from the "compare" section of the thresholds file (--thresholds, else
./thresholds.json, else the built-in file; a file without the section keeps the built-in
budgets); each flag overrides its key, "off" turns one off. The percentile budgets apply to
--metric (default http_req_duration and http_req_latency) and each of their endpoints.

Exit 0 when nothing regressed, 99 on a regression, 104 when the runs are not comparable
(different test, target kind or load: profile, VUs, duration, rate, endpoint, options ...) —
one line says what differs; --force compares them anyway — or on bad input.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.maxP50, "max-p50-regression", "", `largest rise of p50, e.g. "10%" ("off": not judged)`)
	fs.StringVar(&f.maxP95, "max-p95-regression", "", `largest rise of p95, e.g. "10%"`)
	fs.StringVar(&f.maxP99, "max-p99-regression", "", `largest rise of p99, e.g. "25%"`)
	fs.StringVar(&f.maxErrorRate, "max-error-rate-increase", "", `largest rise of the error rate in percentage points, e.g. "0.5pp"`)
	fs.StringVar(&f.minThroughput, "min-throughput-ratio", "", "smallest new/base ratio of requests per second, e.g. 0.95")
	fs.StringVar(&f.minLatencyChange, "min-latency-change", "", `smallest rise of a percentile that can be a regression, e.g. "1ms"`)
	fs.StringSliceVar(&f.metrics, "metric", nil, "Trend metric whose percentiles are judged (repeatable; default http_req_duration,http_req_latency)")
	fs.StringVar(&f.thresholds, "thresholds", "", "thresholds file with the compare section (default ./thresholds.json if present, else the built-in one)")
	fs.Float64Var(&f.confidence, "confidence", compare.DefaultConfidence, "confidence level of the intervals")
	fs.IntVar(&f.resamples, "resamples", compare.DefaultResamples, "bootstrap resamples")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the resampling (the same seed gives the same intervals)")
	fs.BoolVar(&f.force, "force", false, "compare runs that are not comparable, with a warning")
	fs.StringVar(&f.json, "json", "", `also write the comparison document (JSON) to this file ("-": stdout, instead of the table)`)
	fs.StringVar(&f.junit, "junit", "", "also write a JUnit XML report (one test case per judged change) for CI")
	fs.StringVar(&f.summaryMD, "summary-md", "", "also write a markdown summary; appended to $GITHUB_STEP_SUMMARY too when that is set")
	fs.StringVar(&f.html, "html", "", "also write an HTML page of the comparison (self-contained, opens offline): both runs, the verdict, every change, both timelines overlaid on each chart")
	fs.BoolVar(&f.noColor, "no-color", false, "plain output without colours (also NO_COLOR)")
	fs.BoolVar(&f.quiet, "quiet", false, "leave out the other Trends and endpoints without news")
	return cmd
}

// budgetFlag is one budget flag: its name, its text and how to read it.
type budgetFlag struct {
	name  string
	text  string
	parse func(string) (float64, error)
	dst   *compare.Override
}

// overrides reads the budget flags that were given; every problem is one
// error.
func (f *compareFlags) overrides(fs *pflag.FlagSet) (compare.Overrides, []error) {
	var o compare.Overrides
	ms := func(s string) (float64, error) {
		d, err := threshold.ParseMinChange(s)
		return float64(d) / float64(time.Millisecond), err
	}
	flags := []budgetFlag{
		{"max-p50-regression", f.maxP50, threshold.ParseRegression, &o.MaxP50Regression},
		{"max-p95-regression", f.maxP95, threshold.ParseRegression, &o.MaxP95Regression},
		{"max-p99-regression", f.maxP99, threshold.ParseRegression, &o.MaxP99Regression},
		{"max-error-rate-increase", f.maxErrorRate, threshold.ParsePoints, &o.MaxErrorRateIncrease},
		{"min-throughput-ratio", f.minThroughput, threshold.ParseRatio, &o.MinThroughputRatio},
		{"min-latency-change", f.minLatencyChange, ms, &o.MinLatencyChangeMs},
	}
	var errs []error
	for _, bf := range flags {
		if !fs.Changed(bf.name) {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(bf.text), "off") {
			*bf.dst = compare.Override{Set: true, Off: true}
			continue
		}
		v, err := bf.parse(bf.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s %w", bf.name, err))
			continue
		}
		*bf.dst = compare.Override{Set: true, Value: v}
	}
	return o, errs
}

// section resolves the thresholds file's compare section (the built-in
// file's when it has none).
func (f *compareFlags) section() (*threshold.CompareSection, error) {
	data, source, err := harness.ReadThresholds(f.thresholds, defaultThresholds())
	if err != nil {
		return nil, err
	}
	file, errs := harness.ParseThresholds(data)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("thresholds %s: %s", source, strings.Join(msgs, "; "))
	}
	if file.Compare != nil {
		return file.Compare, nil
	}
	builtin, errs := harness.ParseThresholds(defaultThresholds())
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return builtin.Compare, nil
}

func (f *compareFlags) run(cmd *cobra.Command, args []string) error {
	stderr, stdout := cmd.ErrOrStderr(), cmd.OutOrStdout()
	// fail reports err in one line, "driftload compare: ...", as a test
	// reports its own problems.
	fail := func(code int, err error) error {
		fmt.Fprintf(stderr, "driftload compare: %v\n", err)
		return &exitError{code: code, err: err, silent: true}
	}
	invalid := func(err error) error { return fail(exitcode.InvalidConfig, err) }
	var errs []error
	if len(args) != 2 {
		errs = append(errs, errors.New("want BASE.json and NEW.json, e.g. driftload compare yesterday.json today.json"))
	}
	over, oerrs := f.overrides(cmd.Flags())
	errs = append(errs, oerrs...)
	if !(f.confidence > 0 && f.confidence < 1) {
		errs = append(errs, fmt.Errorf("--confidence must be in (0, 1), got %g", f.confidence))
	}
	if f.resamples < 100 || f.resamples > 1_000_000 {
		errs = append(errs, fmt.Errorf("--resamples must be in [100, 1000000], got %d", f.resamples))
	}
	errs = append(errs, checkTrends(f.metrics)...)
	for _, o := range []struct{ flag, path string }{{"--json", f.json}, {"--junit", f.junit}, {"--summary-md", f.summaryMD}, {"--html", f.html}} {
		if cmd.Flags().Changed(strings.TrimPrefix(o.flag, "--")) && o.path == "" {
			errs = append(errs, fmt.Errorf("%s \"\": want a file name", o.flag))
		}
	}
	errs = append(errs, f.checkOutputs(args)...)
	if len(errs) > 0 {
		return invalid(joinLine(errs))
	}
	sec, err := f.section()
	if err != nil {
		return invalid(err)
	}
	metricsJudged := f.metrics
	if len(metricsJudged) == 0 && sec != nil {
		metricsJudged = sec.Metrics
	}
	var runs [2]*report.Result
	for i, path := range args {
		r, err := report.ReadFile(path)
		switch {
		case err != nil:
			errs = append(errs, err)
		case r.SchemaVersion == 0 || r.Test == "":
			errs = append(errs, fmt.Errorf("%s: not a driftload result file (no schema_version or test)", path))
		case r.SchemaVersion > report.SchemaVersion:
			errs = append(errs, fmt.Errorf("%s: schema_version %d is newer than this driftload reads (%d)", path, r.SchemaVersion, report.SchemaVersion))
		default:
			runs[i] = r
		}
	}
	if len(errs) > 0 {
		return invalid(joinLine(errs))
	}

	c, err := compare.Compare(runs[0], runs[1], compare.Options{
		Budgets: over.Apply(compare.BudgetsFrom(sec)), Metrics: metricsJudged,
		Confidence: f.confidence, Resamples: f.resamples, Seed: f.seed, Force: f.force,
		BaseFile: args[0], NewFile: args[1], Version: version,
	})
	if err != nil {
		return invalid(err)
	}
	if err := f.writeOutputs(c, runs, stdout); err != nil {
		return fail(exitcode.Failure, err)
	}
	if c.Verdict == compare.OutcomeNotComparable {
		return invalid(fmt.Errorf("not comparable: %s (--force compares anyway)", strings.Join(c.Differences, "; ")))
	}
	if c.Forced {
		fmt.Fprintf(stderr, "driftload compare: warning: not comparable: %s; compared anyway (--force)\n", strings.Join(c.Differences, "; "))
	}
	if f.json != "-" {
		opts := compare.TextOptions{Color: !f.noColor && !color.NoColor && os.Getenv("NO_COLOR") == "", Compact: f.quiet}
		_ = compare.WriteText(stdout, c, opts) // a closed stdout must not hide the exit code
	}
	if c.ExitCode != exitcode.OK {
		return &exitError{code: c.ExitCode, silent: true}
	}
	return nil
}

// checkOutputs checks, before the comparison, that every file asked for
// can be written: not over one of the files compared, and into a directory
// that takes a new file. The HTML page is never written to stdout; the
// others may be ("-").
func (f *compareFlags) checkOutputs(args []string) []error {
	var errs []error
	for _, o := range []struct{ flag, path string }{{"--json", f.json}, {"--junit", f.junit}, {"--summary-md", f.summaryMD}, {"--html", f.html}} {
		switch {
		case o.path == "":
			continue
		case o.path == "-" && o.flag == "--html":
			errs = append(errs, errors.New(`--html -: want a file name, not stdout`))
			continue
		case o.path == "-":
			continue
		}
		if slices.ContainsFunc(args, func(in string) bool { return filepath.Clean(in) == filepath.Clean(o.path) }) {
			errs = append(errs, fmt.Errorf("%s %s: is one of the result files compared", o.flag, o.path))
			continue
		}
		if err := report.CheckWritable(o.flag, o.path); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// writeOutputs writes the files asked for: the document, JUnit, markdown
// (and appends the markdown to $GITHUB_STEP_SUMMARY when set), and the
// HTML page when the runs were compared.
func (f *compareFlags) writeOutputs(c *compare.Comparison, runs [2]*report.Result, stdout io.Writer) error {
	render := func(fn func(io.Writer, *compare.Comparison) error) ([]byte, error) {
		var b bytes.Buffer
		err := fn(&b, c)
		return b.Bytes(), err
	}
	var errs []error
	write := func(what, path string, fn func(io.Writer, *compare.Comparison) error) {
		if path == "" {
			return
		}
		data, err := render(fn)
		if err == nil {
			if path == "-" {
				_, err = stdout.Write(data)
			} else {
				err = report.WriteFileAtomic(path, data)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("write %s %s: %w", what, path, err))
		}
	}
	write("comparison document", f.json, compare.WriteJSON)
	write("JUnit report", f.junit, compare.JUnit)
	write("markdown summary", f.summaryMD, compare.Markdown)
	if f.html != "" && c.Verdict != compare.OutcomeNotComparable {
		if err := htmlreport.WriteComparisonFile(f.html, runs[0], runs[1], c); err != nil {
			errs = append(errs, err)
		}
	}
	if path := os.Getenv(ciout.StepSummaryEnv); path != "" {
		data, err := render(compare.Markdown)
		if err == nil {
			err = appendFile(path, data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("step summary: %w", err))
		}
	}
	if len(errs) > 0 {
		return joinLine(errs)
	}
	return nil
}

// appendFile appends data to path in one write, creating it when missing,
// as a run appends its step summary.
func appendFile(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkTrends checks --metric names: each a Trend of some test.
func checkTrends(names []string) []error {
	trends := map[string]bool{}
	for _, ms := range all.Vocabulary() {
		for name, typ := range ms {
			if typ == metrics.Trend {
				trends[name] = true
			}
		}
	}
	var errs []error
	for _, n := range names {
		if !trends[n] {
			known := make([]string, 0, len(trends))
			for k := range trends {
				known = append(known, k)
			}
			sort.Strings(known)
			errs = append(errs, fmt.Errorf("--metric %q: not a trend of any test (trends: %s)", n, strings.Join(known, ", ")))
		}
	}
	return errs
}

// joinLine joins errors into one line, "; "-separated.
func joinLine(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}
