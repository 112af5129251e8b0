package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/capacity"
	"github.com/driftload/driftload/internal/scenario/ratelimit"
	"github.com/driftload/driftload/internal/suite"
	"github.com/driftload/driftload/internal/target"
)

// suiteShared are the shared test flags that mean the same for every phase
// of a suite; the profile flags (--vus, --stages, --rate, ...) and the
// single-run outputs (--out, --junit, --summary-md) do not.
var suiteShared = []string{
	"base-url", "api-key", "api-key-file", "thresholds", "time-scale", "seed", "timeout", "checkpoint",
	"insecure", "ca-cert", "cert", "key", "max-body-bytes", "max-events", "demo-rate", "stdlib-http",
	"embedded-target", "no-color", "quiet",
}

// ratelimitPrefix keeps ratelimit's own flags (--interval, --window,
// --limit) apart from the suite's: --ratelimit-window.
const ratelimitPrefix = "ratelimit-"

// suiteFlags are the suite's own flags.
type suiteFlags struct {
	only, skip     []string
	continueOnFail bool
	outDir         string
}

// newSuiteCmd builds `driftload suite`: the release sequence in one command.
func newSuiteCmd() *cobra.Command {
	var f commonFlags
	var sf suiteFlags
	capOpts := capacity.Test.Options().(*capacity.Options)
	rlOpts := ratelimit.Test.Options().(*ratelimit.Options)
	renamed := map[string]string{}
	var names []string
	for _, t := range suite.Sequence() {
		names = append(names, t.Name)
	}
	cmd := &cobra.Command{
		Use:   "suite",
		Short: "the release sequence " + strings.Join(names, " → ") + ": one verdict, one report",
		Long: `suite runs the recommended release sequence against one target: validate (smoke; a
failed smoke stops the suite — fix it before going on), baseline (load: its p95/p99 and
throughput are what every other phase is read against), limits (stress, capacity, ratelimit)
and stability (soak, last). Each phase is the test as its own command runs it, with the suite's
shared flags; --only and --skip choose phases, the release order stays.

Before it starts it prints the plan, each phase's length and the total at --time-scale
(ratelimit is paced in real time and is never scaled below two of its windows). Every phase
writes its result file and HTML report into --out-dir (default ./driftload-results/<run-id>/),
beside suite_results.json (per phase: status, exit code, key figures against load's, files),
suite_junit.xml (a test suite a phase), suite_summary.md and suite_report.html (linking each
phase's report). With --embedded-target one
reference server serves the whole suite, sized to what it expects (--expected-capacity
detectors, --ratelimit-limit per --ratelimit-window on the demo route).

Exit 0 when every phase passed; otherwise the most severe phase's code: 1 > 105 (interrupted:
every finished phase is kept) > 104 > 108 > 110 (invalid run) > 99 (a threshold or verdict failed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSuite(cmd, &f, &sf, capOpts, rlOpts, renamed)
		},
	}
	fs := cmd.Flags()
	// The shared flags as every test binds them, keeping only those a
	// whole suite shares.
	shared := pflag.NewFlagSet("shared", pflag.ContinueOnError)
	f.bind(shared, &scenario.Test{Name: "suite", SendsDetect: true})
	for _, name := range suiteShared {
		fs.AddFlag(shared.Lookup(name))
	}
	fs.StringSliceVar(&sf.only, "only", nil, "run only these phases, e.g. load,stress (in the release order)")
	fs.StringSliceVar(&sf.skip, "skip", nil, "leave out these phases, e.g. soak")
	fs.BoolVar(&sf.continueOnFail, "continue-on-fail", false, "go on after a failed smoke or an unreachable target (by default the suite stops there; it always goes on after other failed phases)")
	fs.StringVar(&sf.outDir, "out-dir", "", "directory of every phase's result file and the suite's files (default ./driftload-results/<run-id>/)")
	own := pflag.NewFlagSet("capacity", pflag.ContinueOnError)
	capOpts.Bind(own)
	fs.AddFlag(own.Lookup("expected-capacity"))
	rl := pflag.NewFlagSet("ratelimit", pflag.ContinueOnError)
	rlOpts.Bind(rl)
	rl.VisitAll(func(fl *pflag.Flag) { renamed[fl.Name] = ratelimitPrefix + fl.Name })
	rl.VisitAll(func(fl *pflag.Flag) {
		usage := fl.Usage
		for from, to := range renamed {
			usage = strings.ReplaceAll(usage, "--"+from, "--"+to)
		}
		fs.Var(fl.Value, ratelimitPrefix+fl.Name, "ratelimit: "+usage)
	})
	return cmd
}

// runSuite turns the flags into a suite plan, starts the embedded target
// when asked, and runs it.
func runSuite(cmd *cobra.Command, f *commonFlags, sf *suiteFlags, capOpts *capacity.Options, rlOpts *ratelimit.Options, renamed map[string]string) error {
	fs := cmd.Flags()
	explicit := map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { explicit[fl.Name] = true })
	fail := func(err error) error { return &exitError{code: exitcode.InvalidConfig, err: err} }
	if err := f.resolveTarget("suite", explicit); err != nil {
		return err
	}
	tests, err := suite.Select(suite.Sequence(), sf.only, sf.skip)
	if err != nil {
		return fail(fmt.Errorf("suite: %w", err))
	}
	// --demo-rate and ratelimit's expected limit say the same thing: the
	// demo route's limit. Unless given, the pacing follows the limit.
	if !explicit["demo-rate"] && rlOpts.Window > 0 {
		f.demoRate = float64(rlOpts.Limit) * float64(time.Minute) / float64(rlOpts.Window)
	}
	start := time.Now()
	runID := start.UTC().Format("20060102-150405") + "-" + string(gen.NewRunID())
	dir := sf.outDir
	if !explicit["out-dir"] {
		dir = filepath.Join("driftload-results", runID)
	}
	flags := echoFlags(fs)
	flags["out_dir"] = dir
	base := harness.Config{
		BaseURL: f.baseURL, APIKey: f.apiKey, TimeScale: f.timeScale, Seed: f.seed, Timeout: f.timeout,
		Insecure: f.insecure, DemoRate: f.demoRate, Quiet: f.quiet, Version: version, MaxEvents: f.maxEvents,
		StdlibHTTP: f.stdlibHTTP, MaxBodyBytes: f.maxBodyBytes, CACert: f.caCert, Cert: f.cert, Key: f.key,
		Explicit: explicit, Flags: flags, Checkpoint: f.checkpoint, Embedded: f.embedded,
		Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(),
		Color: !f.noColor && !color.NoColor && os.Getenv("NO_COLOR") == "",
	}
	data, source, err := harness.ReadThresholds(f.thresholds, defaultThresholds())
	if err != nil {
		return fail(err)
	}
	base.Thresholds, base.ThresholdsSource = data, source
	plan, errs := suite.New(suite.Options{
		Tests: tests, Base: base, Dir: dir, RunID: runID, ExpectedCapacity: capOpts.ExpectedCapacity,
		RateLimit: *rlOpts, Renamed: renamed, ContinueOnFail: sf.continueOnFail,
	})
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return fail(fmt.Errorf("suite: %s", strings.Join(msgs, "; ")))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(fmt.Errorf("suite: --out-dir %s: %v", dir, unwrapPathErr(err)))
	}
	if err := report.CheckWritable("--out-dir", filepath.Join(dir, suite.ResultsFile)); err != nil {
		return fail(fmt.Errorf("suite: %v", err))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.embedded {
		srv, url, err := startEmbedded(f.seed, func(c *target.Config) {
			// The reference server is built to what the suite expects.
			c.DetectorCapacity = capOpts.ExpectedCapacity
			c.DemoLimit, c.DemoWindow = rlOpts.Limit, rlOpts.Window
		})
		if err != nil {
			return &exitError{code: exitcode.Failure, err: err}
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		plan.UseTarget(url, srv.DevKey(), true)
	}
	if code := plan.Run(ctx); code != exitcode.OK {
		return &exitError{code: code, silent: true}
	}
	return nil
}

// unwrapPathErr is a path error's cause alone: the message names the path.
func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
