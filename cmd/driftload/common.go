package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

// defaultBaseURL is the target when neither --base-url nor BASE_URL is given.
const defaultBaseURL = "http://localhost:8080"

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
	apiKeyFile      string
	checkpoint      time.Duration
	maxBodyBytes    int64
	segment         string
	segmentFull     string
	segmentSequence string
	startAt         string
	startIn         time.Duration
	lagBudget       time.Duration
	http2           bool
	html            string
	junit           string
	summaryMD       string
	caCert          string
	cert            string
	key             string
	metricsAddr     string
	metricsRemote   bool
	localIPs        string
}

func (f *commonFlags) bind(fs *pflag.FlagSet, t *scenario.Test) {
	// Environment values are read when the test runs, not shown as
	// defaults: --help must never print a key or a URL's password.
	fs.StringVar(&f.baseURL, "base-url", "", fmt.Sprintf("target base URL (env BASE_URL; default %s)", defaultBaseURL))
	fs.StringVar(&f.apiKey, "api-key", "", "API key for /v1/detect (env API_KEY)")
	fs.StringVar(&f.apiKeyFile, "api-key-file", "", "read the API key from this file (first line), so it need not sit in the environment or the command line")
	fs.DurationVar(&f.checkpoint, "checkpoint", harness.DefaultCheckpoint, "rewrite the result file this often during the run, marked complete: false, so a killed run keeps its data (0: never)")
	fs.StringVar(&f.thresholds, "thresholds", "", "thresholds file (default ./thresholds.json if present, else the built-in one)")
	fs.StringVar(&f.out, "out", t.ResultFile, "result file")
	fs.StringVar(&f.html, "html", "", "also write the HTML report of the run (self-contained, opens offline; the same page as driftload report)")
	fs.StringVar(&f.junit, "junit", "", "also write a JUnit XML report (one test case per threshold and check, one for the verdict) for CI")
	fs.StringVar(&f.summaryMD, "summary-md", "", "also write a markdown summary (verdict, thresholds table); appended to $GITHUB_STEP_SUMMARY too when that is set")
	fs.IntVar(&f.vus, "vus", 0, fmt.Sprintf("virtual users for a constant profile (default %d)", t.DefaultVUs))
	fs.DurationVar(&f.duration, "duration", 0, fmt.Sprintf("test duration for a constant profile (default %s)", t.DefaultDuration))
	fs.StringVar(&f.stages, "stages", "", `ramp profile overriding the default, e.g. "30s:25,1m:50,30s:0"`)
	fs.Float64Var(&f.timeScale, "time-scale", 1, "multiply every stage duration and graceful period by this factor (think times unchanged)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for reproducible payloads")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "per-request timeout")
	fs.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification")
	fs.StringVar(&f.caCert, "ca-cert", "", "PEM file of CA certificates to trust beside the system's")
	fs.StringVar(&f.cert, "cert", "", "PEM client certificate (mutual TLS; with --key)")
	fs.StringVar(&f.key, "key", "", "PEM private key of --cert")
	fs.Int64Var(&f.maxBodyBytes, "max-body-bytes", runner.DefaultMaxBodyBytes, "most bytes of a response body driftload reads; a longer body fails the request (reason: body too large)")
	fs.BoolVar(&f.noColor, "no-color", false, "plain output without colours (also NO_COLOR)")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the verdict, no progress or metric table")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve the live run in Prometheus format on HOST:PORT, e.g. 127.0.0.1:9464 (default off; loopback only unless --metrics-allow-remote)")
	fs.BoolVar(&f.metricsRemote, "metrics-allow-remote", false, "let --metrics-addr listen on an address other machines can reach")
	fs.BoolVar(&f.embedded, "embedded-target", false, "start the reference server in-process on a loopback port and test it")
	fs.Float64Var(&f.demoRate, "demo-rate", 10, "the demo route's limit per minute; demo calls are paced under it")
	fs.BoolVar(&f.http2, "http2", false, "https: negotiate HTTP/2 when the server offers it (through Go's net/http; default HTTP/1.1 on driftload's own client)")
	fs.BoolVar(&f.stdlibHTTP, "stdlib-http", false, "send every request through Go's net/http client instead of driftload's own HTTP/1.1 client (slower; an escape hatch for unusual servers)")
	fs.StringVar(&f.localIPs, "local-ips", "", `source addresses the VUs dial from, round-robin by VU (the i-th VU of this process takes the i-th): IPs, ranges and CIDRs, e.g. "127.0.0.2-127.0.0.9,10.0.0.0/30"`)
	fs.StringVar(&f.segment, "segment", "", `run the I-th of N equal parts of the test, "I/N" from "0/N" (several machines together make one run; merge their result files)`)
	fs.StringVar(&f.segmentFull, "execution-segment", "", `run this part of the test, k6 syntax: "1/3:2/3"`)
	fs.StringVar(&f.segmentSequence, "execution-segment-sequence", "", `the parts the test is cut into, k6 syntax: "0,1/3,2/3,1"`)
	fs.StringVar(&f.startAt, "start-at", "", "start the run at this instant (RFC 3339, e.g. 2026-12-01T12:00:00Z) after the pre-flight, so machines begin together")
	fs.DurationVar(&f.startIn, "start-in", 0, "start the run this long from now (after the pre-flight)")
	fs.IntVar(&f.rate, "rate", 0, "open model: start this many iterations per second, whatever the latency (with --duration)")
	fs.StringVar(&f.rateStages, "rate-stages", "", `open model: ramp the arrival rate, e.g. "1m:50,2m:200" (iterations per second)`)
	fs.IntVar(&f.maxVUs, "max-vus", 0, fmt.Sprintf("open model: most VUs serving the schedule (default %d)", harness.DefaultMaxVUs))
	fs.IntVar(&f.preAllocatedVUs, "pre-allocated-vus", 0, fmt.Sprintf("open model: VUs started up front (default %d, at most --max-vus)", harness.DefaultPreAllocatedVUs))
	fs.DurationVar(&f.lagBudget, "lag-budget", harness.DefaultLagBudget, "open model: how late (p99) the scheduler may start iterations before the run is invalid (raise it on a shared machine)")
	fs.IntVar(&f.maxBacklog, "max-backlog", 0, fmt.Sprintf("open model: due iterations that may wait for a free VU before being dropped (default %d)", runner.DefaultMaxBacklog))
	scenario.MarkSecret(fs, "api-key")
	if t.DefaultInterval > 0 {
		fs.DurationVar(&f.interval, "interval", 0, fmt.Sprintf("analysis interval (default %s, time-scaled)", t.DefaultInterval))
	}
	if t.SendsDetect {
		fs.StringVar(&f.endpoint, "endpoint", "detect", `detect route: "detect" (/v1/detect with the API key) or "demo" (/v1/demo/detect, paced under --demo-rate)`)
		fs.IntVar(&f.maxEvents, "max-events", 0, "most events the target accepts per request; batches and profiles are clamped to it (default 1000, 200 on the demo route)")
	}
	if t.Generic {
		// The URL is the target: these shared flags have no meaning here.
		for _, name := range []string{"base-url", "api-key", "demo-rate", "embedded-target"} {
			_ = fs.MarkHidden(name)
		}
	}
}

// newTestCmd builds the subcommand of a declared test: its shared flags,
// its own options' flags, and a run through the harness.
func newTestCmd(t *scenario.Test) *cobra.Command {
	var f commonFlags
	var opts scenario.Options
	if t.Options != nil {
		opts = t.Options()
	}
	use := t.Name
	if len(t.Args) > 0 {
		use += " " + strings.Join(t.Args, " ")
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: t.Short,
		Long:  t.Long,
		// The harness checks the arguments with everything else.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.runTest(cmd, t, opts, args)
		},
	}
	f.bind(cmd.Flags(), t)
	if opts != nil {
		opts.Bind(cmd.Flags())
	}
	return cmd
}

// runTest turns the flags into a harness run and maps the outcome to an exit code.
func (f *commonFlags) runTest(cmd *cobra.Command, t *scenario.Test, opts scenario.Options, args []string) error {
	fs := cmd.Flags()
	explicit := map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { explicit[fl.Name] = true })
	if t.Generic && f.embedded {
		return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("%s: --embedded-target is not supported; give the URL", t.Name)}
	}
	if err := f.resolveTarget(t.Name, explicit); err != nil {
		return err
	}
	cfg := harness.Config{
		Test: t, BaseURL: f.baseURL, APIKey: f.apiKey, Out: f.out, JUnit: f.junit, SummaryMD: f.summaryMD, HTML: f.html, LagBudget: f.lagBudget, HTTP2: f.http2, VUs: f.vus, Duration: f.duration, Stages: f.stages,
		TimeScale: f.timeScale, Seed: f.seed, Timeout: f.timeout, Insecure: f.insecure, DemoRate: f.demoRate,
		Quiet: f.quiet, Version: version, Endpoint: f.endpoint, MaxEvents: f.maxEvents, Interval: f.interval,
		Options: opts, Args: args, StdlibHTTP: f.stdlibHTTP, MaxBodyBytes: f.maxBodyBytes,
		CACert: f.caCert, Cert: f.cert, Key: f.key, LocalIPs: f.localIPs,
		SegmentShort: f.segment, Segment: f.segmentFull, SegmentSequence: f.segmentSequence, StartIn: f.startIn,
		Rate: f.rate, RateStages: f.rateStages, MaxVUs: f.maxVUs, PreAllocatedVUs: f.preAllocatedVUs, MaxBacklog: f.maxBacklog,
		Explicit: explicit, Flags: echoFlags(fs), Checkpoint: f.checkpoint,
		MetricsAddr: f.metricsAddr, MetricsAllowRemote: f.metricsRemote,
		Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(),
		Color: !f.noColor && !color.NoColor && os.Getenv("NO_COLOR") == "",
	}
	if f.startAt != "" {
		at, err := time.Parse(time.RFC3339Nano, f.startAt)
		if err != nil {
			return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("%s: --start-at %q: want an RFC 3339 instant such as 2026-12-01T12:00:00Z", t.Name, f.startAt)}
		}
		cfg.StartAt = at
	}
	data, source, err := harness.ReadThresholds(f.thresholds, defaultThresholds())
	if err != nil {
		return &exitError{code: exitcode.InvalidConfig, err: err}
	}
	cfg.Thresholds, cfg.ThresholdsSource = data, source

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if f.embedded {
		// A configuration error is reported before a server is started.
		if errs := cfg.Validate(); len(errs) > 0 {
			return &exitError{code: harness.Run(ctx, cfg), silent: true}
		}
		srv, base, err := startEmbedded(f.seed)
		if err != nil {
			return &exitError{code: exitcode.Failure, err: err}
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

// resolveTarget fills the base URL and the API key the user did not give
// from the environment (BASE_URL, API_KEY) or reads --api-key-file; name
// prefixes the messages.
func (f *commonFlags) resolveTarget(name string, explicit map[string]bool) error {
	if !explicit["base-url"] {
		f.baseURL = envOr("BASE_URL", defaultBaseURL)
	}
	if f.apiKeyFile != "" {
		if explicit["api-key"] {
			return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("%s: --api-key and --api-key-file exclude each other", name)}
		}
		key, err := readKeyFile(f.apiKeyFile)
		if err != nil {
			return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("%s: %w", name, err)}
		}
		f.apiKey = key
	} else if !explicit["api-key"] {
		f.apiKey = os.Getenv("API_KEY")
	}
	return nil
}

// startEmbedded starts the reference server on a loopback port; tune, when
// given, adjusts its configuration first (driftload suite sizes it to what
// the suite expects).
func startEmbedded(seed uint64, tune ...func(*target.Config)) (*target.Server, string, error) {
	tcfg := target.DefaultConfig()
	tcfg.Seed = seed
	tcfg.Version = version
	// The real per-key limit (60/s) would turn every load or stress test
	// of the embedded server into a 429 test; the demo limit stays.
	tcfg.KeyRate = embeddedKeyRate
	for _, f := range tune {
		f(&tcfg)
	}
	srv, err := target.New(tcfg)
	if err != nil {
		return nil, "", fmt.Errorf("embedded target: %w", err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("embedded target: %w", err)
	}
	return srv, base, nil
}

// echoFlags is every flag of the command with its value as the run used
// it, for the result file: names with underscores, numbers and booleans
// typed, durations as strings; secret flags show "[redacted]" when set.
func echoFlags(fs *pflag.FlagSet) map[string]any {
	out := map[string]any{}
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Name == "help" {
			return
		}
		key := strings.ReplaceAll(fl.Name, "-", "_")
		if _, secret := fl.Annotations[scenario.SecretFlag]; secret {
			if fl.Value.String() != "" && fl.Value.String() != "[]" {
				out[key] = "[redacted]"
			} else {
				out[key] = ""
			}
			return
		}
		out[key] = flagValue(fl)
	})
	return out
}

func flagValue(fl *pflag.Flag) any {
	s := fl.Value.String()
	switch fl.Value.Type() {
	case "bool":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case "int", "int64":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case "uint64":
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n
		}
	case "float64":
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v
		}
	}
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	return s
}

// readKeyFile reads an API key: the file's first line, trimmed.
func readKeyFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("--api-key-file %s: %v", path, err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	key := strings.TrimSpace(line)
	if key == "" {
		return "", fmt.Errorf("--api-key-file %s: the file holds no key", path)
	}
	return key, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
