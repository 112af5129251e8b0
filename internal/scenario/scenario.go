// Package scenario defines what a driftload test is — one declaration (Test)
// holding its name, help, default profile, metrics, options and thresholds
// section — and what the Driftlock tests share: the detect client, status
// helpers and the /metrics scraper. Each test lives in its own package below
// this one; package all lists them. It knows nothing about terminals or files.
package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/threshold"
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
	// Options holds the test's own options (the value its Test.Options
	// returned, filled from flags); nil when the test has none.
	Options Options
	// Stages are the ramping stages as executed (time-scaled): VU targets,
	// or arrival rates in the open model; nil for a constant profile.
	Stages []runner.Stage
	// Thresholds are the test's section of the thresholds file, so a test's
	// own verdict uses the limits the user set (see threshold.Limit).
	Thresholds []threshold.Set
}

// EventLimit is the most events one request may carry (MaxEvents, default 1000).
func (e Env) EventLimit() int {
	if e.MaxEvents > 0 {
		return e.MaxEvents
	}
	return 1000
}

// ScaledInterval is the analysis interval: --interval when given, else def
// scaled by --time-scale, never below floor.
func (e Env) ScaledInterval(def, floor time.Duration) time.Duration {
	if e.Interval > 0 {
		return e.Interval
	}
	return max(floor, runner.ScaleDuration(def, e.TimeScale))
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
	// VUs is the planned number of active VUs at End (closed model).
	VUs int
	// OfferedRate is the arrival rate the schedule offered over the
	// interval, iterations/s; 0 in the closed model.
	OfferedRate float64
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

// Options are a test's own flags and positional arguments.
type Options interface {
	// Bind registers the options' flags.
	Bind(fs *pflag.FlagSet)
	// Resolve checks the parsed flags and the positional arguments (as
	// many as Test.Args names) and returns every problem at once.
	Resolve(args []string) []error
}

// SecretFlag is the pflag annotation of flags whose value the result file
// must not show (the API key, request headers and bodies): options mark
// theirs with MarkSecret.
const SecretFlag = "driftload_secret"

// MarkSecret marks the named flags of fs as secret.
func MarkSecret(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		_ = fs.SetAnnotation(n, SecretFlag, []string{"true"})
	}
}

// RateSearch asks for a search of the highest offered arrival rate that
// still meets the test's thresholds, instead of one profile: levels held for
// Hold each (at real time; --time-scale scales it), from Start up to Max, at
// most MaxLevels of them.
type RateSearch struct {
	Start, Max float64
	Hold       time.Duration
	MaxLevels  int
}

// RateSearcher is implemented by options that can ask for a max-rate search;
// RateSearch returns nil when the user did not.
type RateSearcher interface {
	RateSearch() *RateSearch
}

// RateSearchObserver is implemented by instances that report a max-rate
// search in their findings: the harness hands it over before Analyse.
type RateSearchObserver interface {
	SearchDone(s *analysis.RateSearch)
}

// Targeter is implemented by options that name the target themselves (the
// http test's URL): it replaces --base-url.
type Targeter interface {
	Target() string
}

// ConfigEchoer is implemented by options that hold secrets: the result file
// shows ConfigEcho instead of the options themselves.
type ConfigEchoer interface {
	ConfigEcho() map[string]any
}

// Test declares one of driftload's tests: everything the command tree,
// the thresholds validation and a run need to know about it.
type Test struct {
	// Name is the subcommand ("smoke").
	Name string
	// ThresholdsKey is the thresholds file section, when it differs from Name.
	ThresholdsKey string
	// Short is the one-line description for --help; Long the full one.
	Short, Long string
	// Args names the positional arguments ("METHOD", "URL"); Example shows
	// a command line using them.
	Args    []string
	Example string
	// ResultFile is the default result file name.
	ResultFile string
	// Metrics are the test's own metrics: exactly what New defines.
	Metrics []metrics.Def
	// DefaultVUs and DefaultDuration describe a constant-VUs profile; when
	// DefaultStages is set the profile ramps instead.
	DefaultVUs      int
	DefaultDuration time.Duration
	DefaultStages   []runner.Stage
	// DefaultInterval, when set, is the test's analysis interval at real
	// time; the test takes --interval.
	DefaultInterval time.Duration
	// Generic marks a test of any HTTP target (not a Driftlock API): the
	// pre-flight accepts any answer from the target itself instead of
	// demanding 200 from /healthz, and the Driftlock flags (--base-url,
	// --api-key, --demo-rate, --embedded-target) do not apply.
	Generic bool
	// SendsDetect marks tests whose traffic is mostly detect requests; they
	// take --endpoint and --max-events.
	SendsDetect bool
	// Options returns the test's own options with their defaults; nil when
	// the test has none.
	Options func() Options
	// New builds an instance, defining the test's Metrics on reg.
	New func(env Env, reg *metrics.Registry) (Instance, error)
	// Merged re-runs the test's own analysis on a run merged from its
	// segments' result files (driftload merge); Findings.Data becomes the
	// merged file's analysis beside every part's own. Nil: the test has no
	// analysis of its own to re-run.
	Merged func(run MergedRun) (Findings, error)
}

// MergedRun is a run merged from the result files of its segments, as a
// test's Merged hook reads it.
type MergedRun struct {
	// Parts are the segments' result files, as read.
	Parts []*report.Result
	// Result is the merge: metrics, timeline (counts added, histograms
	// merged per interval), run; not yet thresholds or verdict.
	Result *report.Result
	// Snapshot holds the merged series (every metric by tag set).
	Snapshot *metrics.Snapshot
	// Thresholds are the test's section of the thresholds file judged on
	// the merged data, as Env.Thresholds in a run.
	Thresholds []threshold.Set
}

// PartAnalysis decodes a part's own analysis into v (a pointer to the
// test's analysis type); false when the part has none or it does not decode.
func PartAnalysis(p *report.Result, v any) bool {
	if p.Analysis == nil {
		return false
	}
	data, err := json.Marshal(p.Analysis)
	if err != nil {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

// Late is how far p's own offsets (a test's rows, scrapes, send instants)
// lie behind the merged run's start: the part's late_seconds, by which its
// timeline is already shifted. Parts started without a shared instant
// (--start-at) count from their own starts, as their timelines do.
func Late(p *report.Result) time.Duration {
	return time.Duration(p.LateSeconds * float64(time.Second))
}

// Section is the test's key in the thresholds file.
func (t *Test) Section() string {
	if t.ThresholdsKey != "" {
		return t.ThresholdsKey
	}
	return t.Name
}

// DefaultLength is the default profile's length at real time.
func (t *Test) DefaultLength() time.Duration {
	if len(t.DefaultStages) > 0 {
		return runner.StagesDuration(t.DefaultStages)
	}
	return t.DefaultDuration
}

// Vocabulary maps each thresholds-file section of tests to every metric its
// test records (built-ins and its own): what a thresholds file is validated
// against.
func Vocabulary(tests []*Test) map[string]map[string]metrics.Type {
	out := make(map[string]map[string]metrics.Type, len(tests))
	for _, t := range tests {
		known := make(map[string]metrics.Type, len(runner.BuiltinMetrics)+len(t.Metrics))
		for _, d := range runner.BuiltinMetrics {
			known[d.Name] = d.Type
		}
		for _, d := range t.Metrics {
			known[d.Name] = d.Type
		}
		out[t.Section()] = known
	}
	return out
}

// Join concatenates metric declarations (a shared family and a test's own).
func Join(groups ...[]metrics.Def) []metrics.Def {
	var out []metrics.Def
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// JSONHeader returns the headers of a JSON request, with the API key when given.
func JSONHeader(apiKey string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	if apiKey != "" {
		h.Set("X-Api-Key", apiKey)
	}
	return h
}

// GetHeader is the header of a plain GET of a JSON API.
func GetHeader() http.Header { return http.Header{"Accept": {"application/json"}} }

// URL joins the target's base URL and a path; a query or fragment of the
// base (e.g. a gateway's key parameter) stays at the end.
func URL(base, path string) string {
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		return strings.TrimRight(base[:i], "/") + path + base[i:]
	}
	return strings.TrimRight(base, "/") + path
}

// CheckURL checks that raw is an absolute http:// or https:// URL with a
// host and returns it without a trailing slash; name is the flag or argument
// in the error ("--base-url", "URL").
func CheckURL(name, raw string) (string, error) {
	u, err := neturl.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s %q: want an http:// or https:// URL with a host", name, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
