// Package scenario holds driftload's Driftlock tests: for each, its default
// executor, its request mix, checks, custom metrics and post-run analysis.
// It knows nothing about terminals or files.
package scenario

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
)

// Env is what a test instance needs from the command line.
type Env struct {
	// BaseURL is the target without a trailing slash.
	BaseURL string
	// APIKey authenticates /v1/detect; empty skips authenticated requests
	// where a test can do without them.
	APIKey string
	// Seed makes payloads reproducible.
	Seed uint64
	// Run makes stream ids unique to this run.
	Run gen.RunID
	// DemoRate is the demo route's limit per minute that pacing stays under.
	DemoRate float64
	// Timeout is the per-request timeout (0: the client's default).
	Timeout time.Duration
	// Insecure skips TLS verification (also for /metrics scrapes).
	Insecure bool
	// Embedded is true when the target is driftload's own server in this
	// process: its memory is driftload's memory.
	Embedded bool
	// Start is the base of event timestamps.
	Start time.Time
	// TimeScale is the --time-scale factor (1 = real time).
	TimeScale float64
	// Endpoint is "detect" (default, /v1/detect with the API key) or "demo".
	Endpoint string
	// MaxEvents is the most events the target accepts per request (0: 1000).
	MaxEvents int
	// Interval is the analysis interval asked for on the command line (0:
	// the test's default, time-scaled).
	Interval time.Duration
	// Options holds the test's own options (a pointer to the struct its
	// command fills from flags, e.g. *CapacityOptions); nil: defaults.
	Options any
	// Stages are the ramping stages as executed (time-scaled); nil for a
	// constant profile.
	Stages []runner.Stage
}

func (e Env) maxEvents() int {
	if e.MaxEvents > 0 {
		return e.MaxEvents
	}
	return 1000
}

// Instance is one configured run of a test.
type Instance interface {
	// SetupVU prepares a VU's own state (vu.Data).
	SetupVU(vu *runner.VU)
	// Iteration is one iteration of a VU.
	Iteration(ctx context.Context, vu *runner.VU)
	// Analyse turns the finished run into the test's own findings; it may
	// return nil findings.
	Analyse(snap *metrics.Snapshot) Findings
}

// Starter is implemented by instances that need the target before the
// first iteration (after the pre-flight passed): e.g. a baseline read of
// its /metrics. New must not touch the network, so a bad configuration is
// reported before the target is.
type Starter interface {
	Start(ctx context.Context)
}

// Interval is what happened during one closed interval of the run.
type Interval struct {
	// Start and End are offsets from the start of the run.
	Start, End time.Duration
	// VUs is the planned number of active VUs at End.
	VUs int
	// Snap holds only the samples recorded during the interval.
	Snap *metrics.Snapshot
}

// IntervalObserver is implemented by instances that analyse the run
// interval by interval (breaking point, soak trends).
type IntervalObserver interface {
	// Interval is the length of one interval (already time-scaled).
	Interval() time.Duration
	// Observe receives each closed interval, in order, and the last partial one.
	Observe(iv Interval)
}

// Findings are a test's own verdicts beyond thresholds.
type Findings struct {
	// Lines are printed in the summary's VERDICT section.
	Lines []string
	// Data goes to the result file's `analysis`.
	Data any
	// Failed makes the run fail (exit 99) even when every threshold passed;
	// FailReason says why in one line.
	Failed     bool
	FailReason string
}

// Test describes one of driftload's tests.
type Test struct {
	// Name is the subcommand and the thresholds file section ("smoke").
	Name string
	// ThresholdsKey is the thresholds file section, when it differs from Name.
	ThresholdsKey string
	// Short is the one-line description for --help.
	Short string
	// ResultFile is the default result file name.
	ResultFile string
	// Metrics are the test's custom metrics.
	Metrics map[string]metrics.Type
	// DefaultVUs and DefaultDuration describe a constant-VUs profile; when
	// DefaultStages is set the profile ramps instead.
	DefaultVUs      int
	DefaultDuration time.Duration
	DefaultStages   []runner.Stage
	// DefaultInterval, when set, is the test's analysis interval at real
	// time; the test takes --interval.
	DefaultInterval time.Duration
	// PreflightReachable makes the pre-flight accept any answer from the base
	// URL itself instead of demanding 200 from /healthz (generic targets).
	PreflightReachable bool
	// SendsDetect marks tests whose traffic is mostly detect requests; they
	// take --endpoint and --max-events.
	SendsDetect bool
	// New builds an instance, defining its custom metrics on reg.
	New func(env Env, reg *metrics.Registry) (Instance, error)
}

// Section is the test's key in the thresholds file.
func (t *Test) Section() string {
	if t.ThresholdsKey != "" {
		return t.ThresholdsKey
	}
	return t.Name
}

// KnownMetrics returns every metric a test can record (built-ins and its own).
func (t *Test) KnownMetrics() map[string]metrics.Type {
	return withBuiltins(t.Metrics)
}

func withBuiltins(custom map[string]metrics.Type) map[string]metrics.Type {
	out := make(map[string]metrics.Type, len(runner.BuiltinMetrics)+len(custom))
	for _, d := range runner.BuiltinMetrics {
		out[d.Name] = d.Type
	}
	for k, v := range custom {
		out[k] = v
	}
	return out
}

var registry = map[string]*Test{}

func register(t *Test) { registry[t.Name] = t }

// Lookup returns the test called name.
func Lookup(name string) (*Test, bool) {
	t, ok := registry[name]
	return t, ok
}

// All returns every test, by name.
func All() []*Test {
	out := make([]*Test, 0, len(registry))
	for _, t := range registry {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// defineAll defines a test's custom metrics on reg.
func defineAll(reg *metrics.Registry, defs map[string]metrics.Type, timeMetrics ...string) (map[string]*metrics.Metric, error) {
	isTime := map[string]bool{}
	for _, n := range timeMetrics {
		isTime[n] = true
	}
	out := make(map[string]*metrics.Metric, len(defs))
	for name, typ := range defs {
		vt := metrics.Default
		if isTime[name] {
			vt = metrics.Time
		}
		m, err := reg.Define(name, typ, vt)
		if err != nil {
			return nil, err
		}
		out[name] = m
	}
	return out, nil
}

// jsonHeader returns the headers of a JSON request, with the API key when given.
func jsonHeader(apiKey string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	if apiKey != "" {
		h.Set("X-Api-Key", apiKey)
	}
	return h
}

func url(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
