// Package compare judges a new run against a base run of the same test:
// for every Trend metric and its per-endpoint sub-metrics the change of p50,
// p95 and p99, and for the requests the change of error rate and
// throughput, each with a confidence interval, so that a release gate fails
// on a real regression and not on run-to-run noise. A change counts as a
// regression only when its whole interval lies beyond its budget.
//
// It is pure: two decoded result files and Options in, a Comparison out;
// the renderings (terminal, JUnit, markdown; the JSON document is the
// Comparison itself) write to an io.Writer. Only cmd and htmlreport (the
// comparison's page) import it.
package compare

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// SchemaVersion is the version of the comparison document's layout. It
// changes only when a field changes meaning or disappears.
const SchemaVersion = 1

// Kind names the document, so a reader can tell it from a result file.
const Kind = "driftload-comparison"

// Defaults of Options.
const (
	DefaultConfidence = 0.95
	DefaultResamples  = 2000
	// MinIntervals is how many timeline intervals with samples both runs
	// need for a (sub-)metric before its intervals are resampled; with
	// fewer, the whole histogram is.
	MinIntervals = 10
	// minTail is how many samples both runs need on each side of a
	// percentile for its change to be judged: p99 needs 500 samples, p95
	// 100, p50 10. Beyond the data, a bootstrap only repeats the maximum.
	minTail = 5
)

// DefaultMetrics are the Trend metrics whose percentiles the budgets judge
// when Options.Metrics is empty: the service time and, in the open model,
// the latency from the intended start.
var DefaultMetrics = []string{"http_req_duration", "http_req_latency"}

// Budgets are how much worse the new run may be. A nil budget is not
// judged. Percentile and ratio budgets are fractions.
type Budgets struct {
	// MaxP50Regression, MaxP95Regression, MaxP99Regression: the largest
	// relative rise of the percentile (0.10: +10 %).
	MaxP50Regression *float64 `json:"max_p50_regression,omitempty"`
	MaxP95Regression *float64 `json:"max_p95_regression,omitempty"`
	MaxP99Regression *float64 `json:"max_p99_regression,omitempty"`
	// MaxErrorRateIncrease is the largest rise of the error rate as a share
	// (0.005: +0.5 percentage points).
	MaxErrorRateIncrease *float64 `json:"max_error_rate_increase,omitempty"`
	// MinThroughputRatio is the smallest new/base ratio of requests per second.
	MinThroughputRatio *float64 `json:"min_throughput_ratio,omitempty"`
	// MinLatencyChangeMs is the smallest rise of a percentile, in
	// milliseconds, that can be a regression whatever its relative size:
	// 0.1 ms more on a 0.3 ms health check is +33 % and nobody's problem.
	MinLatencyChangeMs *float64 `json:"min_latency_change_ms,omitempty"`
}

// limit is the worst change a budget allows for stat, in the change's own
// unit (relative for percentiles and throughput, a share for the error
// rate), signed in the direction of worse.
func (b Budgets) limit(stat string) *float64 {
	var v *float64
	switch stat {
	case "p50":
		v = b.MaxP50Regression
	case "p95":
		v = b.MaxP95Regression
	case "p99":
		v = b.MaxP99Regression
	case StatErrorRate:
		v = b.MaxErrorRateIncrease
	case StatThroughput:
		if b.MinThroughputRatio != nil {
			l := round6(*b.MinThroughputRatio - 1)
			return &l
		}
	}
	if v == nil {
		return nil
	}
	l := *v
	return &l
}

// Options tune a comparison.
type Options struct {
	Budgets Budgets
	// Metrics are the Trend metrics whose percentiles the budgets judge
	// (DefaultMetrics when empty); every other Trend is compared, not judged.
	Metrics []string
	// Confidence is the intervals' level (DefaultConfidence when 0).
	Confidence float64
	// Resamples is the number of bootstrap resamples (DefaultResamples when 0).
	Resamples int
	// Seed seeds the resampling, so a comparison is reproducible.
	Seed uint64
	// Force compares runs that are not comparable.
	Force bool
	// BaseFile and NewFile name the files in the document and messages.
	BaseFile, NewFile string
	// Version is driftload's version, for the document's tool.
	Version string
}

// Stat names of the request changes.
const (
	StatErrorRate  = "error_rate"
	StatThroughput = "throughput"
)

// Verdicts of one change.
const (
	// VerdictRegression: the whole interval lies beyond the budget.
	VerdictRegression = "regression"
	// VerdictWorse: the whole interval lies on the worse side of no change,
	// not all of it beyond the budget (or there is no budget).
	VerdictWorse = "worse"
	// VerdictBetter: the whole interval lies on the better side.
	VerdictBetter = "better"
	// VerdictUnchanged: the interval holds no change.
	VerdictUnchanged = "unchanged"
	// VerdictInsufficient: too few samples to tell (Change.Note says why).
	VerdictInsufficient = "insufficient data"
)

// Comparison verdicts.
const (
	OutcomeOK            = "no regression"
	OutcomeRegression    = "regression"
	OutcomeNotComparable = "not comparable"
)

// Comparison is what a comparison found; marshalled, it is the versioned
// comparison document (`driftload compare --json`).
type Comparison struct {
	SchemaVersion int         `json:"schema_version"`
	Kind          string      `json:"kind"`
	Tool          report.Tool `json:"tool"`
	Base          RunInfo     `json:"base"`
	New           RunInfo     `json:"new"`
	// Comparable is false when the runs differ in test, target kind or
	// load (Differences says how); Forced when they were compared anyway.
	Comparable  bool     `json:"comparable"`
	Differences []string `json:"differences,omitempty"`
	Forced      bool     `json:"forced,omitempty"`
	// Warnings are things a reader should know that do not stop the
	// comparison (an aborted or invalid run).
	Warnings   []string `json:"warnings,omitempty"`
	Confidence float64  `json:"confidence"`
	Resamples  int      `json:"resamples"`
	Seed       uint64   `json:"seed"`
	Budgets    Budgets  `json:"budgets"`
	// JudgedMetrics are the Trends the percentile budgets apply to.
	JudgedMetrics []string `json:"judged_metrics"`
	// Latency holds every Trend (sub-)metric found in both runs, judged
	// ones first; Requests the error rate and throughput, overall then per
	// endpoint.
	Latency  []Subject `json:"latency"`
	Requests []Subject `json:"requests"`
	// Regressions are the changes beyond their budget, one line each.
	Regressions []string `json:"regressions"`
	// Judged is how many changes were judged against a budget.
	Judged   int    `json:"judged"`
	Verdict  string `json:"verdict"`
	ExitCode int    `json:"exit_code"`
}

// RunInfo identifies one of the two runs.
type RunInfo struct {
	File            string    `json:"file"`
	Test            string    `json:"test"`
	Start           time.Time `json:"start"`
	DurationSeconds float64   `json:"duration_seconds"`
	RunID           string    `json:"run_id,omitempty"`
	Version         string    `json:"driftload_version,omitempty"`
	Target          string    `json:"target"`
	Embedded        bool      `json:"embedded"`
	Profile         string    `json:"profile"`
	ConfigHash      string    `json:"config_hash"`
	Requests        int64     `json:"requests"`
	Intervals       int       `json:"intervals"`
}

// Subject is one metric or per-endpoint sub-metric and its changes.
type Subject struct {
	// Name is the (sub-)metric in k6's syntax: "http_req_duration{endpoint:detect}".
	Name     string `json:"name"`
	Metric   string `json:"metric"`
	Endpoint string `json:"endpoint,omitempty"`
	// Judged is whether budgets apply.
	Judged bool `json:"judged"`
	// BaseCount and NewCount are the samples (requests) of each run.
	BaseCount int64    `json:"base_count"`
	NewCount  int64    `json:"new_count"`
	Changes   []Change `json:"changes"`
}

// Change is how one statistic moved from the base run to the new one.
type Change struct {
	// Stat is p50, p95, p99, error_rate or throughput.
	Stat string `json:"stat"`
	// Base and New are the statistic in each run: milliseconds for
	// percentiles, a share for the error rate, requests per second.
	Base float64 `json:"base"`
	New  float64 `json:"new"`
	// Change is new/base − 1 for percentiles and throughput (ChangeUnit
	// "relative"), new − base for the error rate ("share").
	Change     float64 `json:"change"`
	ChangeUnit string  `json:"change_unit"`
	// CI is Change's confidence interval, [low, high]; absent when the data
	// cannot give one.
	CI []float64 `json:"ci,omitempty"`
	// Method says how the interval was found.
	Method string `json:"method"`
	// Limit is the worst change the budget allows, in Change's unit, signed
	// toward worse (+0.10, +0.005, −0.05); absent when not judged.
	Limit   *float64 `json:"limit,omitempty"`
	Verdict string   `json:"verdict"`
	Note    string   `json:"note,omitempty"`
}

// Methods of Change.
const (
	MethodIntervals = "paired interval bootstrap"
	MethodUnpaired  = "interval bootstrap"
	MethodHistogram = "histogram bootstrap"
	MethodNewcombe  = "Newcombe hybrid score"
	MethodPoisson   = "Poisson rate ratio"
)

// Compare judges new against base. A pair that is not comparable gives a
// Comparison with Verdict OutcomeNotComparable and exit code 104, unless
// opts.Force. The error is for a file whose histograms cannot be decoded.
func Compare(base, new *report.Result, opts Options) (*Comparison, error) {
	if opts.Confidence == 0 {
		opts.Confidence = DefaultConfidence
	}
	if !(opts.Confidence > 0 && opts.Confidence < 1) {
		return nil, fmt.Errorf("confidence must be in (0, 1), got %g", opts.Confidence)
	}
	if opts.Resamples == 0 {
		opts.Resamples = DefaultResamples
	}
	if opts.Resamples < 100 {
		return nil, fmt.Errorf("resamples must be at least 100, got %d", opts.Resamples)
	}
	judged := opts.Metrics
	if len(judged) == 0 {
		judged = DefaultMetrics
	}
	c := &Comparison{
		SchemaVersion: SchemaVersion, Kind: Kind, Tool: report.Tool{Name: "driftload", Version: opts.Version},
		Base: runInfo(base, opts.BaseFile), New: runInfo(new, opts.NewFile),
		Confidence: opts.Confidence, Resamples: opts.Resamples, Seed: opts.Seed, Budgets: opts.Budgets,
		JudgedMetrics: append([]string(nil), judged...), Latency: []Subject{}, Requests: []Subject{}, Regressions: []string{},
	}
	c.Differences = Differences(base, new)
	c.Comparable = len(c.Differences) == 0
	if !c.Comparable && !opts.Force {
		c.Verdict, c.ExitCode = OutcomeNotComparable, exitcode.InvalidConfig
		return c, nil
	}
	c.Forced = !c.Comparable
	c.Warnings = warnings(base, new)

	j := &judge{opts: opts, z: zFor(opts.Confidence), base: sinks{}, new: sinks{}}
	names := sortedUnion(trendNames(base), trendNames(new))
	sort.SliceStable(names, func(a, b int) bool {
		ia, ib := slices.Index(judged, names[a]), slices.Index(judged, names[b])
		if (ia >= 0) != (ib >= 0) {
			return ia >= 0
		}
		return ia < ib
	})
	for _, name := range names {
		isJudged := slices.Contains(judged, name)
		eps := sortedUnion(endpoints(base, name), endpoints(new, name))
		for _, ep := range append([]string{""}, eps...) {
			s, err := j.trend(base, new, name, ep, isJudged)
			if err != nil {
				return nil, err
			}
			c.Latency = append(c.Latency, s)
		}
	}
	if base.Metrics["http_reqs"] != nil || new.Metrics["http_reqs"] != nil {
		eps := sortedUnion(endpoints(base, "http_reqs"), endpoints(new, "http_reqs"))
		for _, ep := range append([]string{""}, eps...) {
			c.Requests = append(c.Requests, j.requests(base, new, ep))
		}
	}
	for _, group := range [][]Subject{c.Latency, c.Requests} {
		for _, s := range group {
			for _, ch := range s.Changes {
				if ch.Limit != nil && ch.Verdict != VerdictInsufficient {
					c.Judged++
				}
				if ch.Verdict == VerdictRegression {
					c.Regressions = append(c.Regressions, RegressionLine(s, ch, opts.Confidence))
				}
			}
		}
	}
	c.Verdict, c.ExitCode = OutcomeOK, exitcode.OK
	if len(c.Regressions) > 0 {
		c.Verdict, c.ExitCode = OutcomeRegression, exitcode.ThresholdsFailed
	}
	return c, nil
}

func runInfo(r *report.Result, file string) RunInfo {
	ri := RunInfo{
		File: file, Test: r.Test, Start: r.Start, DurationSeconds: r.DurationSeconds, Version: r.Tool.Version,
		Target: r.Target.BaseURL, Embedded: r.Target.Embedded, ConfigHash: ConfigHash(r),
	}
	if id, ok := r.Config["run_id"].(string); ok {
		ri.RunID = id
	}
	if p, ok := r.Config["executor"].(string); ok {
		ri.Profile = p
	}
	if m := r.Metrics["http_reqs"]; m != nil {
		ri.Requests = int64(m.Values["count"])
	}
	if r.Timeline != nil {
		ri.Intervals = len(r.Timeline.Intervals)
	}
	return ri
}

// warnings are what makes a run's numbers suspect without making the pair
// incomparable.
func warnings(base, new *report.Result) []string {
	var out []string
	for _, f := range []struct {
		which string
		r     *report.Result
	}{{"base", base}, {"new", new}} {
		r := f.r
		switch {
		case r.Interrupted:
			out = append(out, fmt.Sprintf("the %s run was interrupted (%s): it is shorter than its profile", f.which, r.AbortReason))
		case r.Aborted:
			out = append(out, fmt.Sprintf("the %s run was aborted (%s): it is shorter than its profile", f.which, r.AbortReason))
		}
		if r.Run.Model != "" && !r.Run.Valid {
			out = append(out, fmt.Sprintf("the %s run is invalid: driftload could not generate the load asked for", f.which))
		}
	}
	return out
}

// judge computes and judges the changes of a comparison.
type judge struct {
	opts Options
	z    float64
	// base and new decode each run's histograms once.
	base, new sinks
}

// rng is the random source of one subject: seeded from the comparison's
// seed and the subject's name, so a subject's interval does not depend on
// which others were compared.
func (j *judge) rng(name string) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return rand.New(rand.NewPCG(j.opts.Seed, h.Sum64()))
}

// trend compares the percentiles of one Trend (sub-)metric.
func (j *judge) trend(base, new *report.Result, metric, endpoint string, judged bool) (Subject, error) {
	s := Subject{Name: subjectName(metric, endpoint), Metric: metric, Endpoint: endpoint, Judged: judged}
	bd, err := trendOf(base, j.base, metric, endpoint)
	if err != nil {
		return s, fmt.Errorf("base: %w", err)
	}
	nd, err := trendOf(new, j.new, metric, endpoint)
	if err != nil {
		return s, fmt.Errorf("new: %w", err)
	}
	if bd.whole != nil {
		s.BaseCount = bd.whole.Count
	}
	if nd.whole != nil {
		s.NewCount = nd.whole.Count
	}
	if bd.whole == nil || nd.whole == nil {
		for _, pc := range percentiles {
			ch := Change{Stat: pc.name, ChangeUnit: "relative", Verdict: VerdictInsufficient, Note: "only one run recorded it"}
			if bd.whole != nil {
				ch.Base = bd.whole.Percentile(pc.p)
			}
			if nd.whole != nil {
				ch.New = nd.whole.Percentile(pc.p)
			}
			s.Changes = append(s.Changes, ch)
		}
		return s, nil
	}

	var baseDraws, newDraws [][]float64
	method := MethodHistogram
	rng := j.rng(s.Name)
	r := j.opts.Resamples
	if bd.intervals != nil && nd.intervals != nil && bd.withData >= MinIntervals && nd.withData >= MinIntervals {
		bBuckets, nBuckets := bucketsOf(bd.intervals), bucketsOf(nd.intervals)
		ix := newValueIndex(bBuckets, nBuckets)
		bb, nb := blocksOf(ix, bd.intervals, bBuckets), blocksOf(ix, nd.intervals, nBuckets)
		paired := pairable(len(bb), len(nb))
		method = MethodUnpaired
		if paired {
			bb, nb = alignBlocks(bb, nb)
			method = MethodIntervals
		}
		baseDraws, newDraws = blockDraws(ix, bb, nb, paired, r, rng)
	} else {
		baseDraws = histogramDraws(bd.whole, r, rng)
		newDraws = histogramDraws(nd.whole, r, rng)
	}
	for i, pc := range percentiles {
		ch := Change{Stat: pc.name, ChangeUnit: "relative", Method: method,
			Base: bd.whole.Percentile(pc.p), New: nd.whole.Percentile(pc.p)}
		if judged {
			ch.Limit = j.opts.Budgets.limit(pc.name)
		}
		need := int64(math.Ceil(minTail * 100 / min(pc.p, 100-pc.p)))
		switch {
		case s.BaseCount < need || s.NewCount < need:
			ch.Verdict = VerdictInsufficient
			ch.Note = fmt.Sprintf("%s needs %d samples in each run", pc.name, need)
		case !(ch.Base > 0):
			ch.Verdict = VerdictInsufficient
			ch.Note = "the base run's value is 0: no relative change"
		default:
			ch.Change = ch.New/ch.Base - 1
			lo, hi, ok := relativeInterval(baseDraws[i], newDraws[i], j.opts.Confidence)
			if !ok {
				ch.Verdict = VerdictInsufficient
				ch.Note = "too few resamples hold samples of both runs"
				break
			}
			ch.CI = []float64{lo, hi}
			ch.Verdict = verdict(lo, hi, ch.Limit, +1)
			if ch.Verdict == VerdictRegression && j.opts.Budgets.MinLatencyChangeMs != nil && lo*ch.Base < *j.opts.Budgets.MinLatencyChangeMs {
				// Beyond the relative budget but, at its lower end, less
				// than the smallest change anyone would act on.
				ch.Verdict = VerdictWorse
				ch.Note = fmt.Sprintf("below the %s minimum change", report.FormatDuration(*j.opts.Budgets.MinLatencyChangeMs))
			}
		}
		s.Changes = append(s.Changes, rounded(ch))
	}
	return s, nil
}

func bucketsOf(intervals []*metrics.Sink) [][]metrics.Bucket {
	out := make([][]metrics.Bucket, len(intervals))
	for i, s := range intervals {
		out[i] = s.Buckets()
	}
	return out
}

func blocksOf(ix *valueIndex, intervals []*metrics.Sink, buckets [][]metrics.Bucket) []block {
	out := make([]block, len(intervals))
	for i, s := range intervals {
		out[i] = ix.block(buckets[i], s.Min, s.Max)
	}
	return out
}

// requests compares the error rate and throughput of the whole run or of
// one endpoint. Both are judged: budgets on them are run-wide.
func (j *judge) requests(base, new *report.Result, endpoint string) Subject {
	s := Subject{Name: subjectName("http_reqs", endpoint), Metric: "http_reqs", Endpoint: endpoint, Judged: true}
	bd, nd := requestsOf(base, endpoint), requestsOf(new, endpoint)
	s.BaseCount, s.NewCount = bd.requests, nd.requests
	s.Changes = append(s.Changes, rounded(j.errorRate(bd, nd)), rounded(j.throughput(s.Name, bd, nd)))
	return s
}

func (j *judge) errorRate(bd, nd requestData) Change {
	ch := Change{Stat: StatErrorRate, ChangeUnit: "share", Method: MethodNewcombe, Limit: j.opts.Budgets.limit(StatErrorRate)}
	if bd.checked == 0 || nd.checked == 0 {
		ch.Verdict, ch.Note = VerdictInsufficient, "no request was judged in one of the runs"
		return ch
	}
	ch.Base, ch.New = float64(bd.failures)/float64(bd.checked), float64(nd.failures)/float64(nd.checked)
	diff, lo, hi := newcombe(bd.failures, bd.checked, nd.failures, nd.checked, j.z)
	ch.Change, ch.CI = diff, []float64{lo, hi}
	ch.Verdict = verdict(lo, hi, ch.Limit, +1)
	return ch
}

func (j *judge) throughput(name string, bd, nd requestData) Change {
	ch := Change{Stat: StatThroughput, ChangeUnit: "relative", Limit: j.opts.Budgets.limit(StatThroughput)}
	if bd.requests == 0 || nd.requests == 0 || bd.seconds <= 0 || nd.seconds <= 0 {
		ch.Verdict, ch.Note = VerdictInsufficient, "no requests in one of the runs"
		return ch
	}
	ch.Base, ch.New = float64(bd.requests)/bd.seconds, float64(nd.requests)/nd.seconds
	ch.Change = ch.New/ch.Base - 1
	if bd.intervals != nil && nd.intervals != nil && withRequests(bd.intervals) >= MinIntervals && withRequests(nd.intervals) >= MinIntervals {
		bb, nb := bd.intervals, nd.intervals
		paired := pairable(len(bb), len(nb))
		ch.Method = MethodUnpaired
		if paired {
			bb, nb = alignBlocks(bb, nb)
			ch.Method = MethodIntervals
		}
		bdr, ndr := rateDraws(bb, nb, paired, j.opts.Resamples, j.rng(name+"/"+StatThroughput))
		lo, hi, ok := relativeInterval(bdr, ndr, j.opts.Confidence)
		if ok {
			ch.CI = []float64{lo, hi}
			ch.Verdict = verdict(lo, hi, ch.Limit, -1)
			return ch
		}
	}
	ch.Method = MethodPoisson
	ratio, lo, hi := poissonRatio(bd.requests, bd.seconds, nd.requests, nd.seconds, j.z)
	ch.Change, ch.CI = ratio-1, []float64{lo - 1, hi - 1}
	if math.IsInf(hi, 1) {
		ch.CI = nil
		ch.Verdict, ch.Note = VerdictInsufficient, "too few requests for an interval"
		return ch
	}
	ch.Verdict = verdict(lo-1, hi-1, ch.Limit, -1)
	return ch
}

// round6 rounds a reported number to six decimals: a millionth of a share
// or of a relative change is below anything measured, and the document
// reads the same on every platform.
func round6(x float64) float64 {
	return math.Round(x*1e6) / 1e6
}

// rounded is ch with its reported numbers rounded (round6).
func rounded(ch Change) Change {
	ch.Change = round6(ch.Change)
	for i := range ch.CI {
		ch.CI[i] = round6(ch.CI[i])
	}
	if ch.Stat == StatErrorRate || ch.Stat == StatThroughput {
		ch.Base, ch.New = round6(ch.Base), round6(ch.New)
	}
	return ch
}

// verdict judges an interval [lo, hi] of a change against limit (nil: no
// budget); worse is +1 when a rise is worse, −1 when a fall is.
func verdict(lo, hi float64, limit *float64, worse float64) string {
	if worse < 0 {
		lo, hi = -hi, -lo
	}
	switch {
	case limit != nil && lo > worse**limit:
		return VerdictRegression
	case lo > 0:
		return VerdictWorse
	case hi < 0:
		return VerdictBetter
	}
	return VerdictUnchanged
}

// RegressionLine says what regressed, by how much and how sure: "
// http_req_duration p95 +15.3% (95% CI +11.0% … +19.9%), budget +10%".
func RegressionLine(s Subject, ch Change, confidence float64) string {
	line := fmt.Sprintf("%s %s %s (%s CI %s … %s)", s.Name, statLabel(ch.Stat), formatChange(ch, ch.Change),
		formatPercent(confidence), formatChange(ch, ch.CI[0]), formatChange(ch, ch.CI[1]))
	if ch.Limit != nil {
		line += ", budget " + formatLimit(ch)
	}
	return line
}

// statLabel names a stat for people: "p95", "error rate", "throughput".
func statLabel(stat string) string {
	switch stat {
	case StatErrorRate:
		return "error rate"
	case StatThroughput:
		return "throughput"
	}
	return stat
}

// formatChange renders a change in its unit: "+15.3%", "-0.4pp".
func formatChange(ch Change, x float64) string {
	if ch.ChangeUnit == "share" {
		return signed(100*x, 2) + "pp"
	}
	return signed(100*x, 1) + "%"
}

// formatLimit renders a budget: "+10%", "+0.5pp", "ratio ≥ 0.95".
func formatLimit(ch Change) string {
	if ch.Limit == nil {
		return ""
	}
	if ch.Stat == StatThroughput {
		return "ratio ≥ " + trimNum(1+*ch.Limit, 3)
	}
	if ch.ChangeUnit == "share" {
		return "+" + trimNum(100**ch.Limit, 3) + "pp"
	}
	return "+" + trimNum(100**ch.Limit, 2) + "%"
}

func formatPercent(x float64) string {
	return trimNum(100*x, 2) + "%"
}

func signed(x float64, digits int) string {
	s := fmt.Sprintf("%+.*f", digits, x)
	if s == fmt.Sprintf("-%.*f", digits, 0.0) {
		s = fmt.Sprintf("+%.*f", digits, 0.0)
	}
	return s
}

// trimNum renders x with at most digits decimals: "0.95", "10", "2.5".
func trimNum(x float64, digits int) string {
	s := fmt.Sprintf("%.*f", digits, x)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
