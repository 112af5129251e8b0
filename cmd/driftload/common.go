package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/driftload/driftload"
	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/target"
)

// embeddedKeyRate is the per-key rate limit of the embedded target: far
// above what one machine can send.
const embeddedKeyRate = 1_000_000

func defaultThresholds() []byte { return driftload.DefaultThresholds }

// commonFlags are the flags every test subcommand shares.
type commonFlags struct {
	baseURL         string
	apiKey          string
	thresholds      string
	out             string
	vus             int
	duration        time.Duration
	stages          string
	timeScale       float64
	seed            uint64
	timeout         time.Duration
	insecure        bool
	noColor         bool
	quiet           bool
	embedded        bool
	demoRate        float64
	endpoint        string
	maxEvents       int
	interval        time.Duration
	rate            int
	rateStages      string
	maxVUs          int
	preAllocatedVUs int
	maxBacklog      int
	stdlibHTTP      bool
	// options is the test's own options struct, filled by its command's flags.
	options any
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func (f *commonFlags) bind(cmd *cobra.Command, t *scenario.Test) {
	fs := cmd.Flags()
	fs.StringVar(&f.baseURL, "base-url", envOr("BASE_URL", "http://localhost:8080"), "target base URL (env BASE_URL)")
	fs.StringVar(&f.apiKey, "api-key", os.Getenv("API_KEY"), "API key for /v1/detect (env API_KEY)")
	fs.StringVar(&f.thresholds, "thresholds", "", "thresholds file (default ./thresholds.json if present, else the built-in one)")
	fs.StringVar(&f.out, "out", t.ResultFile, "result file")
	fs.IntVar(&f.vus, "vus", 0, fmt.Sprintf("virtual users for a constant profile (default %d)", t.DefaultVUs))
	fs.DurationVar(&f.duration, "duration", 0, fmt.Sprintf("test duration for a constant profile (default %s)", t.DefaultDuration))
	fs.StringVar(&f.stages, "stages", "", `ramp profile overriding the default, e.g. "30s:25,1m:50,30s:0"`)
	fs.Float64Var(&f.timeScale, "time-scale", 1, "multiply every stage duration and graceful period by this factor (think times unchanged)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for reproducible payloads")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "per-request timeout")
	fs.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification")
	fs.BoolVar(&f.noColor, "no-color", false, "plain output without colours (also NO_COLOR)")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the verdict, no progress or metric table")
	fs.BoolVar(&f.embedded, "embedded-target", false, "start the reference server in-process on a loopback port and test it")
	fs.Float64Var(&f.demoRate, "demo-rate", 10, "the demo route's limit per minute; demo calls are paced under it")
	fs.BoolVar(&f.stdlibHTTP, "stdlib-http", false, "send every request through Go's net/http client instead of driftload's own HTTP/1.1 client (slower; an escape hatch for unusual servers)")
	fs.IntVar(&f.rate, "rate", 0, "open model: start this many iterations per second, whatever the latency (with --duration)")
	fs.StringVar(&f.rateStages, "rate-stages", "", `open model: ramp the arrival rate, e.g. "1m:50,2m:200" (iterations per second)`)
	fs.IntVar(&f.maxVUs, "max-vus", 0, fmt.Sprintf("open model: most VUs serving the schedule (default %d)", harness.DefaultMaxVUs))
	fs.IntVar(&f.preAllocatedVUs, "pre-allocated-vus", 0, fmt.Sprintf("open model: VUs started up front (default %d, at most --max-vus)", harness.DefaultPreAllocatedVUs))
	fs.IntVar(&f.maxBacklog, "max-backlog", 0, fmt.Sprintf("open model: due iterations that may wait for a free VU before being dropped (default %d)", runner.DefaultMaxBacklog))
	if t.DefaultInterval > 0 {
		fs.DurationVar(&f.interval, "interval", 0, fmt.Sprintf("analysis interval (default %s, time-scaled)", t.DefaultInterval))
	}
	if t.SendsDetect {
		fs.StringVar(&f.endpoint, "endpoint", "detect", `detect route: "detect" (/v1/detect with the API key) or "demo" (/v1/demo/detect, paced under --demo-rate)`)
		fs.IntVar(&f.maxEvents, "max-events", 0, "most events the target accepts per request; batches and profiles are clamped to it (default 1000, 200 on the demo route)")
	}
}

// runTest turns the flags into a harness run and maps the outcome to an exit code.
func (f *commonFlags) runTest(cmd *cobra.Command, t *scenario.Test) error {
	cfg := harness.Config{
		Test: t, BaseURL: f.baseURL, APIKey: f.apiKey, Out: f.out, VUs: f.vus, Duration: f.duration,
		TimeScale: f.timeScale, Seed: f.seed, Timeout: f.timeout, Insecure: f.insecure, DemoRate: f.demoRate,
		Quiet: f.quiet, Version: version, Endpoint: f.endpoint, MaxEvents: f.maxEvents, Interval: f.interval, Options: f.options,
		StdlibHTTP: f.stdlibHTTP,
		Rate:       f.rate, MaxVUs: f.maxVUs, PreAllocatedVUs: f.preAllocatedVUs, MaxBacklog: f.maxBacklog, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(),
		Color: !f.noColor && !color.NoColor && os.Getenv("NO_COLOR") == "",
	}
	if f.timeScale <= 0 {
		return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("--time-scale must be positive, got %g", f.timeScale)}
	}
	if err := f.checkValues(cmd); err != nil {
		return &exitError{code: exitcode.InvalidConfig, err: err}
	}
	if f.interval < 0 {
		return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("--interval must be positive, got %s", f.interval)}
	}
	if f.endpoint != "" && f.endpoint != "detect" && f.endpoint != "demo" {
		return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("--endpoint %q: want detect or demo", f.endpoint)}
	}
	if f.endpoint == "demo" && f.maxEvents == 0 {
		cfg.MaxEvents = 200
	}
	if f.rate < 0 || f.maxVUs < 0 || f.preAllocatedVUs < 0 || f.maxBacklog < 0 {
		return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("--rate, --max-vus, --pre-allocated-vus and --max-backlog must not be negative")}
	}
	if f.rateStages != "" {
		stages, err := runner.ParseStages(f.rateStages)
		if err != nil {
			return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("--rate-stages: %w", flattenErr(err))}
		}
		cfg.RateStages = stages
	}
	if f.stages != "" {
		stages, err := runner.ParseStages(f.stages)
		if err != nil {
			return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("--stages: %w", flattenErr(err))}
		}
		cfg.Stages = stages
	}
	data, source, err := readThresholds(f.thresholds)
	if err != nil {
		return &exitError{code: exitcode.InvalidConfig, err: err}
	}
	cfg.Thresholds, cfg.ThresholdsSource = data, source
	cfg.Flags = map[string]any{
		"vus": f.vus, "duration": f.duration.String(), "stages": f.stages, "timeout": f.timeout.String(),
		"insecure": f.insecure, "embedded_target": f.embedded, "demo_rate": f.demoRate,
		"endpoint": f.endpoint, "max_events": cfg.MaxEvents, "interval": f.interval.String(),
		"rate": f.rate, "rate_stages": f.rateStages, "stdlib_http": f.stdlibHTTP, "max_vus": f.maxVUs, "max_backlog": f.maxBacklog,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if f.embedded {
		tcfg := target.DefaultConfig()
		tcfg.Seed = f.seed
		tcfg.Version = version
		// The real per-key limit (60/s) would turn every load or stress test
		// of the embedded server into a 429 test; the demo limit stays.
		tcfg.KeyRate = embeddedKeyRate
		srv, err := target.New(tcfg)
		if err != nil {
			return &exitError{code: exitcode.Failure, err: fmt.Errorf("embedded target: %w", err)}
		}
		base, err := srv.Start("127.0.0.1:0")
		if err != nil {
			return &exitError{code: exitcode.Failure, err: fmt.Errorf("embedded target: %w", err)}
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		cfg.BaseURL, cfg.Embedded = base, true
		if cfg.APIKey == "" {
			cfg.APIKey = srv.DevKey()
		}
	}

	code := harness.Run(ctx, cfg)
	if code != exitcode.OK {
		return &exitError{code: code, silent: true}
	}
	return nil
}

// checkValues rejects values no test can run with. Zero means "the test's
// default" only while a flag is unset; given explicitly, it is an error.
func (f *commonFlags) checkValues(cmd *cobra.Command) error {
	changed := cmd.Flags().Changed
	switch {
	case changed("vus") && f.vus < 1:
		return fmt.Errorf("--vus must be at least 1, got %d", f.vus)
	case changed("duration") && f.duration <= 0:
		return fmt.Errorf("--duration must be positive, got %s", f.duration)
	case f.timeout <= 0:
		return fmt.Errorf("--timeout must be positive, got %s", f.timeout)
	case f.demoRate <= 0:
		return fmt.Errorf("--demo-rate must be positive, got %g", f.demoRate)
	case f.maxEvents < 0:
		return fmt.Errorf("--max-events must not be negative, got %d", f.maxEvents)
	case changed("rate") && f.rate < 1:
		return fmt.Errorf("--rate must be at least 1, got %d", f.rate)
	case changed("max-vus") && f.maxVUs < 1:
		return fmt.Errorf("--max-vus must be at least 1, got %d", f.maxVUs)
	}
	return nil
}

func flattenErr(err error) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
}

// newTestCmd builds the subcommand of a registered test. A test with its
// own flags binds them on the returned command and sets flags.options.
func newTestCmd(name string) *cobra.Command {
	cmd, _ := newTestCmdWithFlags(name)
	return cmd
}

// newTestCmdWithFlags is newTestCmd that also returns the shared flags.
func newTestCmdWithFlags(name string) (*cobra.Command, *commonFlags) {
	t, ok := scenario.Lookup(name)
	if !ok {
		panic("unknown test " + name)
	}
	var f commonFlags
	cmd := &cobra.Command{
		Use:   name,
		Short: t.Short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.runTest(cmd, t)
		},
	}
	f.bind(cmd, t)
	return cmd, &f
}
