package harness

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/livemetrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/all"
	"github.com/driftload/driftload/internal/threshold"
)

// Config is one test run as the user asked for it: the command line's
// values, unchecked. Validate (or Run) checks all of it in one pass.
type Config struct {
	Test    *scenario.Test
	BaseURL string
	APIKey  string
	// Thresholds is the thresholds file's content; ThresholdsSource names it
	// in messages ("thresholds.json", "built-in thresholds").
	Thresholds       []byte
	ThresholdsSource string
	// Out is the result file path; JUnit, SummaryMD and HTML, when set, are
	// further files the run writes from it (a JUnit report, a markdown
	// summary, the HTML report).
	Out                    string
	JUnit, SummaryMD, HTML string
	// VUs and Duration override a constant profile (0: the test's default,
	// unless Explicit says the user gave 0).
	VUs      int
	Duration time.Duration
	// Stages, as typed ("30s:25,1m:50"), override the profile with a ramp.
	Stages string
	// TimeScale multiplies every stage duration and graceful period (1: real time).
	TimeScale float64
	Seed      uint64
	Timeout   time.Duration
	Insecure  bool
	DemoRate  float64
	Quiet     bool
	Color     bool
	// Embedded is true when the target is driftload's own in-process server.
	Embedded bool
	// Endpoint is the detect route: "detect" (default) or "demo".
	Endpoint string
	// MaxEvents is the most events the target accepts per request (0: 1000,
	// 200 on the demo route).
	MaxEvents int
	// Interval is the analysis interval of tests that have one (0: the test's default).
	Interval time.Duration
	// Options are the test's own options (from Test.Options, filled by its
	// flags) and Args the command line's positional arguments.
	Options scenario.Options
	Args    []string
	// Rate, when > 0, runs the test open-model at Rate iterations per second;
	// RateStages (as typed) ramp the rate instead. MaxVUs bounds the VUs
	// that serve the schedule (PreAllocatedVUs start up front), MaxBacklog
	// the due iterations that may wait for one.
	Rate            int
	RateStages      string
	MaxVUs          int
	PreAllocatedVUs int
	MaxBacklog      int
	// StdlibHTTP sends every request through net/http instead of driftload's
	// own HTTP/1.1 client (an escape hatch; slower).
	StdlibHTTP bool
	// HTTP2 sends https requests through net/http negotiating HTTP/2 when
	// the server offers it (default: HTTP/1.1 on driftload's own client).
	HTTP2 bool
	// MaxBodyBytes bounds every response body read (0: the runner's
	// default); a larger body fails the request ("body too large").
	MaxBodyBytes int64
	// LocalIPs, as typed (k6's --local-ips: "127.0.0.2-127.0.0.9,10.0.0.0/30"),
	// are the source addresses the VUs dial from, round-robin ("": the
	// system's choice).
	LocalIPs string
	// Segment and SegmentSequence are k6's --execution-segment and
	// --execution-segment-sequence; SegmentShort is --segment I/N. At most
	// one of the two forms is given; none runs the whole test.
	Segment, SegmentSequence, SegmentShort string
	// StartAt, when set, is the instant the run begins (after the
	// pre-flight, driftload waits for it), so segments on several machines
	// start together; StartIn is the same relative to now.
	StartAt time.Time
	StartIn time.Duration
	// CACert, Cert and Key are PEM files: CAs to trust beyond the system's,
	// and a client certificate with its key (mutual TLS).
	CACert, Cert, Key string
	// LagBudget is how late the scheduler may dispatch iterations (p99)
	// before the run is invalid (default DefaultLagBudget).
	LagBudget time.Duration
	Version   string
	// Flags echoes the command line's flags into the result file.
	Flags map[string]any
	// Explicit names the flags the user gave: for those, 0 is a value to
	// check, not "the test's default".
	Explicit map[string]bool
	// PreflightTimeout bounds the pre-flight check (default: --timeout when
	// given, else DefaultPreflightTimeout).
	PreflightTimeout time.Duration
	// Checkpoint is how often the result file is written during the run,
	// marked complete: false (0: DefaultCheckpoint, or never when
	// Explicit["checkpoint"]; negative: never, an error when explicit).
	Checkpoint     time.Duration
	Stdout, Stderr io.Writer
	// ProgressNote, when set, is appended to every progress line and live
	// line, given the run's elapsed time (driftload suite: the phase and the
	// suite's remaining time).
	ProgressNote func(elapsed time.Duration) string
	// SkipStepSummary leaves $GITHUB_STEP_SUMMARY alone: the caller appends
	// its own (driftload suite, once for all its phases).
	SkipStepSummary bool
	// OnFinish, when set, receives the finished run's result and the test's
	// verdict lines once its files are written. It is not called for a run
	// that ended before measuring (a bad configuration, a failed pre-flight).
	OnFinish func(res *report.Result, verdict []string)
	// OnError, when set, receives the one-line message (secrets masked) of
	// a run that ended before measuring, with its exit code.
	OnError func(code int, msg string)

	// MetricsAddr, when set, serves the live run in Prometheus format on
	// this HOST:PORT; a host that is not loopback needs MetricsAllowRemote.
	MetricsAddr        string
	MetricsAllowRemote bool
}

// plan is a validated Config, ready to run.
type plan struct {
	sets      []threshold.Set
	exec      runner.Executor
	base      string
	timeScale float64
	maxEvents int
	// tls is the base TLS configuration (nil: the defaults).
	tls *tls.Config
	// localIPs are the VUs' source addresses (nil: the system's choice).
	localIPs *runner.LocalIPs
	// segment is the part of the test this process runs (nil: all of it).
	segment *runner.ExecutionSegment
	// search, when set, replaces the profile with a max-rate search; exec is
	// then its first level. describe is the profile in one line.
	search   *scenario.RateSearch
	describe string
	// stages are the executed stages of a ramping profile, VUs or arrival
	// rate (for the test's own analysis); nil otherwise.
	stages []runner.Stage
}

// maxScaledProfile bounds a profile after --time-scale: beyond it the
// durations overflow or the run would never end.
const maxScaledProfile = 366 * 24 * time.Hour

// Validate checks the whole configuration and returns every problem, so a
// command line is fixed in one round.
func (c *Config) Validate() []error {
	_, errs := c.resolve()
	return errs
}

// resolve checks c and turns it into a plan; on any problem it returns them all.
func (c *Config) resolve() (*plan, []error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	given := func(name string) bool { return c.Explicit[name] }
	t := c.Test
	p := &plan{timeScale: c.TimeScale}

	if len(c.Args) != len(t.Args) {
		want := "no arguments"
		if len(t.Args) > 0 {
			want = strings.Join(t.Args, " and ")
			if t.Example != "" {
				want += ", e.g. " + t.Example
			}
		}
		bad("want %s", want)
	} else if c.Options != nil {
		errs = append(errs, c.Options.Resolve(c.Args)...)
	}

	base, name := c.BaseURL, "--base-url"
	if tg, ok := c.Options.(scenario.Targeter); ok && tg.Target() != "" {
		base, name = tg.Target(), "URL"
	}
	if b, err := scenario.CheckURL(name, base); err != nil {
		errs = append(errs, err)
	} else {
		p.base = b
	}

	switch {
	case c.TimeScale == 0 && !given("time-scale"):
		p.timeScale = 1
	case !finite(c.TimeScale) || c.TimeScale <= 0:
		bad("--time-scale must be a positive number, got %g", c.TimeScale)
	}
	switch {
	case given("vus") && c.VUs < 1, c.VUs < 0:
		bad("--vus must be at least 1, got %d", c.VUs)
	}
	if (given("duration") && c.Duration <= 0) || c.Duration < 0 {
		bad("--duration must be positive, got %s", c.Duration)
	}
	if c.Timeout < 0 || (given("timeout") && c.Timeout == 0) {
		bad("--timeout must be positive, got %s", c.Timeout)
	}
	if !finite(c.DemoRate) || c.DemoRate < 0 || (given("demo-rate") && c.DemoRate == 0) {
		bad("--demo-rate must be a positive number, got %g", c.DemoRate)
	}
	if c.MaxEvents < 0 {
		bad("--max-events must not be negative, got %d", c.MaxEvents)
	}
	// A test with its own --interval option (ratelimit) has no shared one.
	if c.Interval < 0 || (t.DefaultInterval > 0 && given("interval") && c.Interval == 0) {
		bad("--interval must be positive, got %s", c.Interval)
	}
	if given("checkpoint") && c.Checkpoint < 0 {
		bad("--checkpoint must not be negative, got %s (0 turns checkpoints off)", c.Checkpoint)
	}
	switch c.Endpoint {
	case "", "detect":
	case "demo":
	default:
		bad("--endpoint %q: want detect or demo", c.Endpoint)
	}
	p.maxEvents = c.MaxEvents
	if c.Endpoint == "demo" && c.MaxEvents == 0 {
		p.maxEvents = 200
	}
	if (given("rate") && c.Rate < 1) || c.Rate < 0 {
		bad("--rate must be at least 1, got %d", c.Rate)
	}
	if (given("max-vus") && c.MaxVUs < 1) || c.MaxVUs < 0 {
		bad("--max-vus must be at least 1, got %d", c.MaxVUs)
	}
	if c.LagBudget < 0 || (given("lag-budget") && c.LagBudget == 0) {
		bad("--lag-budget must be positive, got %s", c.LagBudget)
	}
	if c.PreAllocatedVUs < 0 || c.MaxBacklog < 0 {
		bad("--pre-allocated-vus and --max-backlog must not be negative")
	}
	stages := parseStages(&errs, "--stages", c.Stages)
	rateStages := parseStages(&errs, "--rate-stages", c.RateStages)
	if c.Rate > 0 && c.RateStages != "" {
		bad("--rate and --rate-stages exclude each other")
	}
	if (c.Rate > 0 || c.RateStages != "") && c.Stages != "" {
		bad("--stages (VUs) and --rate/--rate-stages (arrival rate) exclude each other")
	}

	switch {
	case c.SegmentShort != "" && (c.Segment != "" || c.SegmentSequence != ""):
		bad("--segment and --execution-segment/--execution-segment-sequence exclude each other")
	case c.SegmentShort != "":
		if seg, err := runner.ParseSegmentShorthand(c.SegmentShort); err != nil {
			errs = append(errs, err)
		} else {
			p.segment = seg
		}
	case c.Segment != "":
		if seg, err := runner.ParseExecutionSegment(c.Segment, c.SegmentSequence); err != nil {
			errs = append(errs, err)
		} else {
			p.segment = seg
		}
	case c.SegmentSequence != "":
		bad("--execution-segment-sequence needs --execution-segment")
	}
	if !c.StartAt.IsZero() && c.StartIn != 0 {
		bad("--start-at and --start-in exclude each other")
	}
	if c.StartIn < 0 {
		bad("--start-in must not be negative, got %s", c.StartIn)
	}
	if c.MaxBodyBytes < 0 || (given("max-body-bytes") && c.MaxBodyBytes == 0) {
		bad("--max-body-bytes must be positive, got %d", c.MaxBodyBytes)
	}
	if c.LocalIPs != "" {
		p.localIPs = checkLocalIPs(&errs, c.LocalIPs, p.base)
	}
	if c.MetricsAddr != "" {
		if err := livemetrics.CheckAddr(c.MetricsAddr, c.MetricsAllowRemote); err != nil {
			errs = append(errs, err)
		}
	}
	if tc, err := loadTLS(c.CACert, c.Cert, c.Key); err != nil {
		errs = append(errs, err)
	} else {
		p.tls = tc
	}
	sets, err := LoadThresholds(c.Thresholds, c.ThresholdsSource, t)
	if err != nil {
		errs = append(errs, err)
	}
	p.sets = sets

	if rs, ok := c.Options.(scenario.RateSearcher); ok && rs.RateSearch() != nil {
		p.search = rs.RateSearch()
		if c.Stages != "" || c.RateStages != "" || c.Rate > 0 || given("vus") || given("duration") {
			bad("--find-max-rate chooses the rates itself: drop --stages, --rate, --rate-stages, --vus and --duration")
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if p.search != nil {
		e := levelExecutor(*c, p.search.Start, p.search.Hold, p.timeScale)
		if es := e.Validate(); len(es) > 0 {
			return nil, []error{fmt.Errorf("invalid search level: %v", errors.Join(es...))}
		}
		p.exec = e
		p.describe = fmt.Sprintf("max-rate search: levels of %s from %g it/s, at most %d levels up to %g it/s (%d–%d VUs)",
			e.Duration, p.search.Start, p.search.MaxLevels, p.search.Max, e.PreAllocatedVUs, e.MaxVUs)
		return p, nil
	}
	if err := checkScaledLength(c, stages, rateStages, p.timeScale); err != nil {
		return nil, []error{err}
	}
	p.exec = buildExecutor(c, stages, rateStages, p.timeScale)
	if es := p.exec.Validate(); len(es) > 0 {
		msgs := make([]string, len(es))
		for i, e := range es {
			msgs[i] = e.Error()
		}
		return nil, []error{errors.New("invalid profile: " + strings.Join(msgs, "; "))}
	}
	p.describe = p.exec.Describe()
	switch e := p.exec.(type) {
	case runner.RampingVUs:
		p.stages = e.Stages
	case runner.RampingArrivalRate:
		p.stages = e.Stages
	}
	return p, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// parseStages parses a stage list flag; "" is none.
func parseStages(errs *[]error, flag, s string) []runner.Stage {
	if s == "" {
		return nil
	}
	stages, err := runner.ParseStages(s)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %s", flag, strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	return stages
}

// checkLocalIPs parses --local-ips; every bad entry is one problem, and so
// is each entry of another family than the target's address (a target
// named by host is dialled at addresses of the source's family).
func checkLocalIPs(errs *[]error, s, base string) *runner.LocalIPs {
	pool, perr := runner.ParseLocalIPs(s)
	if joined, ok := perr.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			*errs = append(*errs, fmt.Errorf("--local-ips %w", e))
		}
	}
	if pool == nil {
		return nil
	}
	if u, err := url.Parse(base); err == nil {
		if host, err := netip.ParseAddr(u.Hostname()); err == nil {
			checkFamily(errs, pool, host)
		}
	}
	if perr != nil {
		return nil
	}
	return pool
}

// checkFamily adds a problem for each entry of pool of another family
// than host's.
func checkFamily(errs *[]error, pool *runner.LocalIPs, host netip.Addr) {
	want, other := "IPv4", "IPv6"
	if !host.Unmap().Is4() {
		want, other = other, want
	}
	for _, e := range pool.OtherFamily(host) {
		*errs = append(*errs, fmt.Errorf("--local-ips %q is %s, but the target %s is %s", e, other, host, want))
	}
}

// profileLength is the unscaled length of the profile c asks for.
func profileLength(c *Config, stages, rateStages []runner.Stage) time.Duration {
	switch {
	case len(stages) > 0:
		return runner.StagesDuration(stages)
	case len(rateStages) > 0:
		return runner.StagesDuration(rateStages)
	case c.Duration > 0:
		return c.Duration
	}
	return c.Test.DefaultLength()
}

// checkScaledLength refuses a --time-scale that would overflow the profile's
// durations (1e300 would otherwise turn a 3 s test into 1 ms).
func checkScaledLength(c *Config, stages, rateStages []runner.Stage, scale float64) error {
	d := profileLength(c, stages, rateStages) + runner.DefaultGracefulStop + runner.DefaultGracefulRampDown
	if float64(d)*scale > float64(maxScaledProfile) {
		return fmt.Errorf("--time-scale %g makes the profile longer than %s", scale, maxScaledProfile)
	}
	return nil
}

// openModelVUs are the arrival-rate executors' VU bounds and backlog, with
// their defaults.
func (c *Config) openModelVUs() (maxVUs, pre, backlog int) {
	maxVUs, pre, backlog = c.MaxVUs, c.PreAllocatedVUs, c.MaxBacklog
	if maxVUs == 0 {
		maxVUs = DefaultMaxVUs
	}
	if pre == 0 {
		pre = min(maxVUs, DefaultPreAllocatedVUs)
	}
	if backlog == 0 {
		backlog = runner.DefaultMaxBacklog
	}
	return maxVUs, pre, backlog
}

// buildExecutor resolves the profile: --stages, else --rate/--rate-stages,
// else --vus/--duration, else the test's default, all scaled by --time-scale.
func buildExecutor(c *Config, stages, rateStages []runner.Stage, scale float64) runner.Executor {
	graceful := runner.ScaleDuration(runner.DefaultGracefulStop, scale)
	rampDown := runner.ScaleDuration(runner.DefaultGracefulRampDown, scale)
	t := c.Test
	maxVUs, pre, backlog := c.openModelVUs()
	switch {
	case c.Rate > 0:
		d := c.Duration
		if d == 0 {
			d = t.DefaultLength()
		}
		e := runner.NewConstantArrivalRate(c.Rate, runner.ScaleDuration(d, scale), pre, maxVUs)
		e.MaxBacklog, e.GracefulStop = backlog, graceful
		return e
	case len(rateStages) > 0:
		e := runner.NewRampingArrivalRate(0, runner.ScaleStages(rateStages, scale), pre, maxVUs)
		e.MaxBacklog, e.GracefulStop = backlog, graceful
		return e
	case len(stages) > 0:
		e := runner.NewRampingVUs(0, runner.ScaleStages(stages, scale))
		e.GracefulStop, e.GracefulRampDown = graceful, rampDown
		return e
	case len(t.DefaultStages) > 0 && c.VUs == 0 && c.Duration == 0:
		e := runner.NewRampingVUs(0, runner.ScaleStages(t.DefaultStages, scale))
		e.GracefulStop, e.GracefulRampDown = graceful, rampDown
		return e
	}
	vus, d := c.VUs, c.Duration
	if vus == 0 {
		vus = t.DefaultVUs
	}
	if d == 0 {
		d = t.DefaultDuration
	}
	e := runner.NewConstantVUs(vus, runner.ScaleDuration(d, scale))
	e.GracefulStop = graceful
	return e
}

// LoadThresholds parses and validates a whole thresholds file against every
// test's metrics and returns test's section (test nil: none). It is the one
// place a thresholds file is read, for runs and for `driftload validate`.
func LoadThresholds(data []byte, source string, test *scenario.Test) ([]threshold.Set, error) {
	f, errs := ParseThresholds(data)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("thresholds %s: %s", source, strings.Join(msgs, "; "))
	}
	if test == nil {
		return nil, nil
	}
	return f.Tests[test.Section()], nil
}

// ParseThresholds parses data and validates it against every test's
// metrics; each problem is one error.
func ParseThresholds(data []byte) (*threshold.File, []error) {
	f, err := threshold.ParseFile(data)
	if err != nil {
		// ParseFile joins the problems of several expressions into one
		// error; kept apart, each is one line of validate's report and one
		// "; "-separated part of a test's one-line message.
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			return nil, joined.Unwrap()
		}
		return nil, []error{err}
	}
	if errs := f.Validate(all.Vocabulary()); len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// ReadThresholds reads path, or ./thresholds.json when path is empty and it
// exists, or else returns builtin.
func ReadThresholds(path string, builtin []byte) (data []byte, source string, err error) {
	if path == "" {
		if _, statErr := os.Stat("thresholds.json"); statErr != nil {
			return builtin, "built-in thresholds", nil
		}
		path = "thresholds.json"
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, path, fmt.Errorf("thresholds file: %w", err)
	}
	return data, path, nil
}

// loadTLS builds the base TLS configuration from PEM files; nil when none
// is given.
func loadTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert %s: %v", caFile, unwrapPath(err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in the file", caFile)
		}
		c.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("--cert %s / --key %s: %v", certFile, keyFile, unwrapPath(err))
		}
		c.Certificates = []tls.Certificate{pair}
	case certFile != "" || keyFile != "":
		return nil, errors.New("--cert and --key go together: give both for a client certificate")
	}
	return c, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
