// Package suite runs driftload's recommended release sequence against one
// target in one go: validate (smoke), baseline (load), limits (stress,
// capacity, ratelimit), stability (soak). It plans the phases from the
// suite's shared configuration and each test's declaration, prints the plan,
// runs each phase through the harness, and ends with one verdict, one exit
// code, suite_results.json, one JUnit report (a test suite a phase) and one
// markdown summary that reads every phase against load's baseline.
//
// It sits beside cmd above the harness: cmd only parses flags into Options.
package suite

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/all"
	"github.com/driftload/driftload/internal/scenario/capacity"
	"github.com/driftload/driftload/internal/scenario/load"
	"github.com/driftload/driftload/internal/scenario/ratelimit"
	"github.com/driftload/driftload/internal/scenario/smoke"
)

// The suite's own files in its directory.
const (
	ResultsFile = "suite_results.json"
	JUnitFile   = "suite_junit.xml"
	SummaryFile = "suite_summary.md"
	PageFile    = "suite_report.html"
)

// Baseline is the test whose figures every phase is read against.
var Baseline = load.Test

// Sequence is the release sequence: every Driftlock test in the order of
// package all (smoke, load, stress, capacity, ratelimit, soak); generic
// tests of any URL (http) are not part of it.
func Sequence() []*scenario.Test {
	var seq []*scenario.Test
	for _, t := range all.Tests {
		if !t.Generic {
			seq = append(seq, t)
		}
	}
	return seq
}

// Select returns the phases of seq that only and skip leave, in seq's
// order: every phase when both are empty, only those named in only, or all
// but those named in skip. Names are checked against seq; only and skip
// exclude each other.
func Select(seq []*scenario.Test, only, skip []string) ([]*scenario.Test, error) {
	if len(only) > 0 && len(skip) > 0 {
		return nil, errors.New("--only and --skip exclude each other")
	}
	flag, names := "--only", only
	if len(skip) > 0 {
		flag, names = "--skip", skip
	}
	known := make([]string, len(seq))
	for i, t := range seq {
		known[i] = t.Name
	}
	named := map[string]bool{}
	var bad []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if !slices.Contains(known, n) {
			bad = append(bad, fmt.Sprintf("%q", n))
			continue
		}
		named[n] = true
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: no phase %s (the phases: %s)", flag, strings.Join(bad, ", "), strings.Join(known, ", "))
	}
	var out []*scenario.Test
	for _, t := range seq {
		if len(names) == 0 || named[t.Name] == (flag == "--only") {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s leaves no phase to run", flag)
	}
	return out, nil
}

// Options are what the suite was asked for.
type Options struct {
	// Tests are the phases, in the release order (see Select).
	Tests []*scenario.Test
	// Base is the part of every phase's run the suite's flags give: target,
	// key, thresholds, time scale, seed, timeouts, TLS, output style,
	// Explicit, Flags (echoed into every result file), Stdout and Stderr.
	// Its Test, Out and Options are set per phase.
	Base harness.Config
	// Dir is the directory of every file the suite writes.
	Dir string
	// RunID names the suite run (its default directory).
	RunID string
	// ExpectedCapacity is capacity's --expected-capacity.
	ExpectedCapacity int
	// RateLimit are ratelimit's options.
	RateLimit ratelimit.Options
	// Renamed maps a test option's flag to the suite flag that sets it
	// ("interval" → "ratelimit-interval"), so messages name the suite's.
	Renamed map[string]string
	// ContinueOnFail goes on after a failed smoke (see Policy).
	ContinueOnFail bool
}

// Phase is one planned test of the suite.
type Phase struct {
	Test *scenario.Test
	// Config is the phase's harness run.
	Config harness.Config
	// Preview is the run as planned.
	Preview harness.Preview
	// Notes qualify the plan line.
	Notes []string
	// Wait is the longest the suite waits before the phase: ratelimit waits
	// for smoke's demo calls to leave the limit's window.
	Wait time.Duration
}

// Plan is a validated suite, ready to run.
type Plan struct {
	Options
	Phases []Phase
	// now is the clock (tests fix it).
	now func() time.Time
}

// New builds and checks every phase's run; it returns every problem at
// once, each said once (prefixed with the phases it concerns when not all).
func New(o Options) (*Plan, []error) {
	if len(o.Tests) == 0 {
		return nil, []error{errors.New("no phase to run")}
	}
	p := &Plan{Options: o, now: time.Now}
	var msgs []string
	where := map[string][]string{}
	for _, t := range o.Tests {
		ph, errs := p.phase(t)
		for _, e := range errs {
			if errors.Is(e, scenario.ErrNoAPIKey) {
				e = errNoAPIKey
			}
			m := o.rename(e.Error())
			if _, seen := where[m]; !seen {
				msgs = append(msgs, m)
			}
			where[m] = append(where[m], t.Name)
		}
		p.Phases = append(p.Phases, ph)
	}
	if len(msgs) > 0 {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			if names := where[m]; len(names) < len(o.Tests) {
				m = strings.Join(names, ", ") + ": " + m
			}
			errs[i] = errors.New(m)
		}
		return nil, errs
	}
	p.planWaits()
	return p, nil
}

// errNoAPIKey replaces scenario.ErrNoAPIKey, whose --endpoint the suite
// does not have.
var errNoAPIKey = errors.New("the detect phases send /v1/detect requests: give --api-key (or API_KEY, --api-key-file), or use --embedded-target")

// phase builds test t's run from the suite's options and previews it.
func (p *Plan) phase(t *scenario.Test) (Phase, []error) {
	cfg := p.Base
	cfg.Test = t
	cfg.Out = filepath.Join(p.Dir, t.ResultFile)
	// Each phase writes its HTML report beside its result file; the
	// suite's page links them.
	cfg.JUnit, cfg.SummaryMD = "", ""
	cfg.HTML = filepath.Join(p.Dir, htmlName(t.ResultFile))
	cfg.SkipStepSummary = true
	cfg.Flags = maps.Clone(p.Base.Flags)
	if cfg.Flags == nil {
		cfg.Flags = map[string]any{}
	}
	cfg.Flags["suite_run_id"] = p.RunID
	switch {
	case t == capacity.Test:
		cfg.Options = &capacity.Options{ExpectedCapacity: p.ExpectedCapacity}
	case t == ratelimit.Test:
		o := p.RateLimit
		cfg.Options = &o
	case t.Options != nil:
		cfg.Options = t.Options()
	}
	ph := Phase{Test: t, Config: cfg}
	pv, errs := preview(cfg)
	if len(errs) > 0 {
		return ph, errs
	}
	ph.Preview = pv
	switch t {
	case capacity.Test:
		ph.Notes = append(ph.Notes, fmt.Sprintf("expecting a cache of %d streams", p.ExpectedCapacity))
	case ratelimit.Test:
		o := p.RateLimit
		ph.Notes = append(ph.Notes, fmt.Sprintf("expecting %d per %s", o.Limit, Dur(o.Window)))
		if floor := RateLimitFloor(o); pv.Length < floor {
			// Its pacing and window are real time: a scaled-down run would
			// never reach the limit. Duration is scaled, so ask for floor/scale.
			scale := cfg.TimeScale
			if scale <= 0 {
				scale = 1
			}
			cfg.Duration = time.Duration(math.Ceil(float64(floor)/scale/float64(time.Millisecond))) * time.Millisecond
			ph.Config = cfg
			if pv, errs = preview(cfg); len(errs) > 0 {
				return ph, errs
			}
			ph.Preview = pv
			ph.Notes = append(ph.Notes, fmt.Sprintf("paced in real time: not scaled below %s", Dur(floor)))
		}
	}
	return ph, nil
}

// preview is cfg's harness preview. An embedded target is started only once
// the plan is valid, and gives its dev key then: until then a stand-in key
// lets detect tests be checked.
func preview(cfg harness.Config) (harness.Preview, []error) {
	if cfg.Embedded && cfg.APIKey == "" {
		cfg.APIKey = "embedded-target-dev-key"
	}
	return cfg.Preview()
}

// RateLimitFloor is the shortest ratelimit run that can judge the limit o
// expects: long enough to exceed the limit and then see a whole window
// through (a Retry-After probe waits up to one), and at least two windows.
// Its pacing and window are real time, so --time-scale does not shrink it.
func RateLimitFloor(o ratelimit.Options) time.Duration {
	return max(2*o.Window, time.Duration(o.Limit+1)*o.Interval+o.Window)
}

// usesDemo is whether a phase calls the demo route, whose limit ratelimit
// measures: smoke does (its demo detect).
func usesDemo(t *scenario.Test) bool { return t == smoke.Test }

// planWaits sets ratelimit's wait: one window after the last phase that
// called the demo route, less the phases between, so its first window
// starts empty.
func (p *Plan) planWaits() {
	last := -1
	for i := range p.Phases {
		ph := &p.Phases[i]
		if ph.Test == ratelimit.Test && last >= 0 {
			var between time.Duration
			for _, q := range p.Phases[last+1 : i] {
				between += q.Preview.Length
			}
			if w := p.RateLimit.Window - between; w > 0 {
				ph.Wait = w
			}
		}
		if usesDemo(ph.Test) {
			last = i
		}
	}
}

// Total is the planned length of the suite: every phase and wait.
func (p *Plan) Total() time.Duration {
	var d time.Duration
	for _, ph := range p.Phases {
		d += ph.Wait + ph.Preview.Length
	}
	return d
}

// flagName matches a flag in a message: "--interval" in "--interval must be positive".
var flagName = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

// rename replaces a test option's flag in m with the suite flag that sets it.
func (o Options) rename(m string) string {
	if len(o.Renamed) == 0 {
		return m
	}
	return flagName.ReplaceAllStringFunc(m, func(f string) string {
		if to, ok := o.Renamed[strings.TrimPrefix(f, "--")]; ok {
			return "--" + to
		}
		return f
	})
}

// UseTarget aims every phase at baseURL (an embedded server's, started once
// the plan is valid: plan it with Base.Embedded set); apiKey replaces an
// empty key.
func (p *Plan) UseTarget(baseURL, apiKey string, embedded bool) {
	for i := range p.Phases {
		c := &p.Phases[i].Config
		c.BaseURL, c.Embedded = baseURL, embedded
		if c.APIKey == "" {
			c.APIKey = apiKey
		}
	}
	p.Base.BaseURL, p.Base.Embedded = baseURL, embedded
	if p.Base.APIKey == "" {
		p.Base.APIKey = apiKey
	}
}

// Dur renders a planned duration as the plan shows it: "1.2s", "18s",
// "1m12s", "15m".
func Dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < 10*time.Second:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

// timeScale is the suite's time scale as the harness reads it.
func (p *Plan) timeScale() float64 {
	if p.Base.TimeScale <= 0 {
		return 1
	}
	return p.Base.TimeScale
}
