// Package stress is driftload's stress test: where does the API break, and
// does it recover.
package stress

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// Test declares the stress test.
var Test = &scenario.Test{
	Name:  "stress",
	Short: "10 min up to 200 VUs: where does it break, and does it recover",
	Long: `stress finds where the API breaks: 10 minutes ramping 50→100→150→200 VUs and back
down, every iteration a 200–1000-event mixed batch on a fresh stream with the strict
profile (10 s timeout). The summary and analysis.breaking_point in the result file say at
what VU level errors start, where latency bends, the peak sustained throughput, whether 5xx
and timeouts occurred and when, and whether the system recovered in the final ramp-down.
A level's latency is judged against the p(95) threshold of http_req_duration.`,
	ResultFile: "stress_test_results.json",
	Metrics:    scenario.Join(scenario.DetectMetrics, stressMetrics),
	DefaultStages: []runner.Stage{
		{Duration: time.Minute, Target: 50},
		{Duration: 2 * time.Minute, Target: 100},
		{Duration: 2 * time.Minute, Target: 150},
		{Duration: 2 * time.Minute, Target: 200},
		{Duration: 2 * time.Minute, Target: 150},
		{Duration: time.Minute, Target: 0},
	},
	DefaultVUs:      50,
	DefaultDuration: 10 * time.Minute,
	DefaultInterval: bucket,
	SendsDetect:     true,
	Options: func() scenario.Options {
		return &Options{SearchStart: 10, SearchMax: 10000, SearchHold: 30 * time.Second, SearchLevels: 12}
	},
	New:    newStress,
	Merged: merged,
}

// Options are stress's own flags: the max-rate search.
type Options struct {
	// FindMaxRate replaces the profile with a search of the highest offered
	// arrival rate that meets the thresholds.
	FindMaxRate  bool
	SearchStart  float64
	SearchMax    float64
	SearchHold   time.Duration
	SearchLevels int
}

var _ scenario.RateSearcher = (*Options)(nil)

// Bind implements scenario.Options.
func (o *Options) Bind(fs *pflag.FlagSet) {
	fs.BoolVar(&o.FindMaxRate, "find-max-rate", false, "search the highest arrival rate that still meets the thresholds: step up, then bisect, holding each level for --search-hold")
	fs.Float64Var(&o.SearchStart, "search-start", o.SearchStart, "max-rate search: the first level, iterations/s")
	fs.Float64Var(&o.SearchMax, "search-max", o.SearchMax, "max-rate search: the highest level it may offer, iterations/s")
	fs.DurationVar(&o.SearchHold, "search-hold", o.SearchHold, "max-rate search: how long each level is held (time-scaled)")
	fs.IntVar(&o.SearchLevels, "search-levels", o.SearchLevels, "max-rate search: the most levels it holds")
}

// Resolve implements scenario.Options.
func (o *Options) Resolve([]string) []error {
	var errs []error
	if !(o.SearchStart > 0) || math.IsInf(o.SearchStart, 0) {
		errs = append(errs, fmt.Errorf("--search-start must be a positive rate, got %g", o.SearchStart))
	}
	if !(o.SearchMax >= o.SearchStart) || math.IsInf(o.SearchMax, 0) {
		errs = append(errs, fmt.Errorf("--search-max must be at least --search-start, got %g", o.SearchMax))
	}
	if o.SearchHold <= 0 {
		errs = append(errs, fmt.Errorf("--search-hold must be positive, got %s", o.SearchHold))
	}
	if o.SearchLevels < 1 {
		errs = append(errs, fmt.Errorf("--search-levels must be at least 1, got %d", o.SearchLevels))
	}
	return errs
}

// RateSearch implements scenario.RateSearcher.
func (o *Options) RateSearch() *scenario.RateSearch {
	if !o.FindMaxRate {
		return nil
	}
	return &scenario.RateSearch{Start: o.SearchStart, Max: o.SearchMax, Hold: o.SearchHold, MaxLevels: o.SearchLevels}
}

// stressMetrics are stress's own metrics beside the detect family.
var stressMetrics = []metrics.Def{
	{Name: "server_errors", Type: metrics.Counter},
	{Name: "timeouts", Type: metrics.Counter},
	{Name: "error_rate", Type: metrics.Rate},
}

const (
	requestTimeout = 10 * time.Second
	// bucket is the breaking-point analysis' time bucket at real time;
	// --time-scale shrinks it with the stages (never below minBucket).
	bucket    = 5 * time.Second
	minBucket = 200 * time.Millisecond
)

type stress struct {
	env     scenario.Env
	detect  *scenario.DetectClient
	strict  driftlock.Profile
	server  *metrics.Metric
	timeout *metrics.Metric
	errRate *metrics.Metric

	mu      sync.Mutex
	buckets []analysis.Bucket
	search  *analysis.RateSearch
}

// SearchDone implements scenario.RateSearchObserver.
func (s *stress) SearchDone(r *analysis.RateSearch) {
	s.mu.Lock()
	s.search = r
	s.mu.Unlock()
}

func newStress(env scenario.Env, reg *metrics.Registry) (scenario.Instance, error) {
	d, err := scenario.NewDetectClient(env, reg)
	if err != nil {
		return nil, err
	}
	s := &stress{env: env, detect: d}
	strict, _ := driftlock.ProfileByName("strict")
	s.strict = strict.Clamp(env.EventLimit())
	ms, err := reg.DefineAll(stressMetrics)
	if err != nil {
		return nil, err
	}
	s.server, s.timeout, s.errRate = ms["server_errors"], ms["timeouts"], ms["error_rate"]
	return s, nil
}

func (s *stress) SetupVU(vu *runner.VU) { vu.Data = &scenario.Buffers{} }

// Iteration: a 200–1000-event mixed batch on a fresh stream, strict profile.
func (s *stress) Iteration(ctx context.Context, vu *runner.VU) {
	buf := vu.Data.(*scenario.Buffers)
	p := s.strict
	limit := s.env.EventLimit()
	n := vu.IntBetween(min(200, limit), min(1000, limit))
	out := s.detect.Do(ctx, vu, buf, scenario.DetectCall{
		Stream:  gen.StreamID("stress", s.env.Run, vu.ID, int(vu.Iteration)),
		Batch:   gen.Batch{Size: n, Mix: gen.Mixed},
		Profile: &p,
		// A fresh stream is never warm before the request, but a batch of at
		// least baseline+window events makes it ready within the request, so
		// the server analyses part of it: those responses measure detection.
		Warm:     n >= p.BaselineSize+p.WindowSize,
		Scenario: "stress",
		Timeout:  requestTimeout,
	})
	if out.Resp.Canceled {
		return
	}
	resp := out.Resp
	if resp.Err == nil && resp.Status >= 500 {
		vu.Recorder.Add(s.server, nil, 1)
	}
	if resp.TimedOut {
		vu.Recorder.Add(s.timeout, nil, 1)
	}
	vu.Recorder.AddBool(s.errRate, nil, !out.OK)
	vu.Think(ctx, vu.Between(500*time.Millisecond, 700*time.Millisecond))
}

// What the stress instance implements beside scenario.Instance.
var (
	_ scenario.IntervalObserver   = (*stress)(nil)
	_ scenario.RateSearchObserver = (*stress)(nil)
)

// Interval implements scenario.IntervalObserver.
func (s *stress) Interval() time.Duration {
	return s.env.ScaledInterval(bucket, minBucket)
}

// Observe implements scenario.IntervalObserver: one breaking-point bucket per interval.
func (s *stress) Observe(iv scenario.Interval) {
	b := analysis.Bucket{Start: iv.Start, End: iv.End, VUs: iv.VUs, OfferedRate: iv.OfferedRate}
	if it, ok := iv.Snap.Sink("iterations", nil); ok {
		b.Iterations = int64(it.Sum)
	}
	if reqs, ok := iv.Snap.Sink("http_reqs", nil); ok {
		b.Requests = int64(reqs.Sum)
	}
	if failed, ok := iv.Snap.Sink("http_req_failed", nil); ok {
		b.Failed = failed.Trues
	}
	if se, ok := iv.Snap.Sink("server_errors", nil); ok {
		b.ServerErrors = int64(se.Sum)
	}
	if to, ok := iv.Snap.Sink("timeouts", nil); ok {
		b.Timeouts = int64(to.Sum)
	}
	// In the open model a level's latency is what a user arriving on
	// schedule waited: from the iteration's intended start.
	latency := "http_req_duration"
	if iv.OfferedRate > 0 {
		latency = "http_req_latency"
	}
	if lat, ok := iv.Snap.Sink(latency, nil); ok {
		b.Latency = lat
	}
	s.mu.Lock()
	s.buckets = append(s.buckets, b)
	s.mu.Unlock()
}

// stressAnalysis is the `analysis` of stress_test_results.json.
type stressAnalysis struct {
	BreakingPoint analysis.BreakingPoint `json:"breaking_point"`
	// FailuresByStatus counts failed requests by status ("0": no response).
	FailuresByStatus map[string]int64 `json:"failures_by_status,omitempty"`
	// MaxRate is the max-rate search (--find-max-rate).
	MaxRate *analysis.RateSearch `json:"max_rate,omitempty"`
}

func (s *stress) Analyse(snap *metrics.Snapshot) scenario.Findings {
	s.mu.Lock()
	defer s.mu.Unlock()
	opts := breakingOptions(s.env.Thresholds, s.buckets)
	opts.FirstStageEnd, opts.FinalStageStart = stageBounds(s.env.Stages)
	return judge(s.buckets, opts, snap, s.search)
}

// breakingOptions are the breaking-point options of buckets: a level fails
// when its p95 exceeds the test's p(95) threshold of http_req_duration, and
// an arrival rate in any bucket makes the run open-model.
func breakingOptions(sets []threshold.Set, buckets []analysis.Bucket) analysis.BreakingPointOptions {
	p95Limit, _ := threshold.UpperLimit(sets, "http_req_duration", threshold.Stat{Name: "p", P: 95})
	opts := analysis.BreakingPointOptions{P95Limit: p95Limit}
	for _, b := range buckets {
		opts.OpenModel = opts.OpenModel || b.OfferedRate > 0
	}
	return opts
}

// judge is the breaking point of buckets and the failures of snap as
// stress's findings; search (nil: none) replaces the breaking point in the
// verdict lines.
func judge(buckets []analysis.Bucket, opts analysis.BreakingPointOptions, snap *metrics.Snapshot, search *analysis.RateSearch) scenario.Findings {
	bp := analysis.AnalyseBreakingPoint(buckets, opts)
	byStatus := scenario.FailuresByStatus(snap)
	lines := bp.Lines()
	if search != nil {
		// The search's levels are the verdict; the breaking-point buckets
		// straddle its levels and stay in the data only.
		lines = search.Lines()
	}
	if len(byStatus) > 0 {
		lines = append(lines, "failed requests by status: "+scenario.FormatStatusCounts(byStatus))
	}
	return scenario.Findings{Lines: lines, Data: stressAnalysis{BreakingPoint: bp, FailuresByStatus: byStatus, MaxRate: search}}
}

// merged implements scenario.Test.Merged: the breaking point re-run on the
// merged timeline, one bucket per interval (the timeline's interval is the
// analysis bucket). A max-rate search is not re-run: each part searched its
// own share, and its levels stay under parts.
func merged(run scenario.MergedRun) (scenario.Findings, error) {
	tl := run.Result.Timeline
	if tl == nil {
		return scenario.Findings{Lines: []string{"breaking point not re-judged: the parts carry no timeline"}}, nil
	}
	buckets, err := timelineBuckets(tl)
	if err != nil {
		return scenario.Findings{}, err
	}
	// Stage bounds (first stage, recovery half) are not in a result file:
	// the breaking point judges the merged levels without them.
	return judge(buckets, breakingOptions(run.Thresholds, buckets), run.Snapshot, nil), nil
}

// timelineBuckets turns a timeline into breaking-point buckets, as Observe
// does from a run's interval snapshots: server errors are the 5xx failures,
// timeouts the failures of reason timeout, latency every endpoint's
// http_req_duration (open model: http_req_latency).
func timelineBuckets(tl *report.Timeline) ([]analysis.Bucket, error) {
	var out []analysis.Bucket
	open := false
	for _, iv := range tl.Intervals {
		open = open || iv.OfferedRate > 0
	}
	for _, iv := range tl.Intervals {
		b := analysis.Bucket{
			Start: seconds(iv.StartSeconds), End: seconds(iv.EndSeconds), VUs: iv.VUs, OfferedRate: iv.OfferedRate,
			Iterations: iv.Iterations, Requests: iv.Requests, Failed: iv.Failures,
			Timeouts: iv.FailuresByReason["timeout"], Latency: metrics.NewSink(metrics.Trend),
		}
		for status, n := range iv.FailuresByStatus {
			if strings.HasPrefix(status, "5") && len(status) == 3 {
				b.ServerErrors += n
			}
		}
		for _, e := range iv.Endpoints {
			h := e.Duration
			if open {
				h = e.Latency
			}
			if h == nil {
				continue
			}
			s, err := h.Sink()
			if err != nil {
				return nil, fmt.Errorf("timeline interval at %gs: %w", iv.StartSeconds, err)
			}
			b.Latency.Merge(s)
		}
		out = append(out, b)
	}
	return out, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// stageBounds returns when the first stage ends and when the second half of
// the final stage starts, where a stage is a run of stages up to one that
// lasts (zero-length stages are jumps that belong to the stage after them).
// Recovery is judged on the second half of the final stage: in its first
// half, VUs removed by the ramp-down may still be finishing requests. Both
// are 0 when the profile has fewer than two lasting stages.
func stageBounds(stages []runner.Stage) (firstEnd, finalStart time.Duration) {
	var total time.Duration
	lasting := 0
	for _, st := range stages {
		total += st.Duration
		if st.Duration > 0 {
			lasting++
			if lasting == 1 {
				firstEnd = total
			}
		}
	}
	if lasting < 2 {
		return 0, 0
	}
	for i := len(stages) - 1; i >= 0; i-- {
		if stages[i].Duration > 0 {
			return firstEnd, total - stages[i].Duration/2
		}
	}
	return 0, 0
}
