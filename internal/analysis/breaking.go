package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// Bucket is one fixed time bucket of a run, closed by the harness every few
// seconds.
type Bucket struct {
	Start, End time.Duration // offsets from the run start
	VUs        int           // active VUs at the end of the bucket (the level, closed model)
	// OfferedRate is the arrival rate the schedule offered over the bucket,
	// iterations/s (the level, open model); Iterations those completed.
	OfferedRate  float64
	Iterations   int64
	Requests     int64
	Failed       int64 // failed requests (unexpected status or transport error)
	ServerErrors int64 // responses >= 500
	Timeouts     int64
	Latency      *metrics.Sink // Trend in ms for the bucket: http_req_duration, or http_req_latency in the open model (may be empty or nil)
}

// levelOf is a bucket's level: its VUs, or in the open model its offered
// rate rounded to what a person would name (1 it/s at 10 and above, 0.1 below).
func levelOf(b Bucket, open bool) float64 {
	if !open {
		return float64(b.VUs)
	}
	if b.OfferedRate >= 10 {
		return math.Round(b.OfferedRate)
	}
	return math.Round(b.OfferedRate*10) / 10
}

// Level aggregates all buckets that ran at the same VU count, or in the open
// model at the same offered rate (buckets merged exactly: Latency sinks
// merged).
type Level struct {
	VUs int `json:"vus"`
	// OfferedRate and AchievedRate (open model) are iterations/s: scheduled
	// and completed.
	OfferedRate  float64       `json:"offered_rate,omitempty"`
	AchievedRate float64       `json:"achieved_rate,omitempty"`
	Duration     time.Duration `json:"duration_ns"`
	Requests     int64         `json:"requests"`
	Failed       int64         `json:"failed"`
	ServerErrors int64         `json:"server_errors"`
	Timeouts     int64         `json:"timeouts"`
	RPS          float64       `json:"rps"`        // Requests per second of Duration
	ErrorRate    float64       `json:"error_rate"` // Failed / Requests
	P50          float64       `json:"p50_ms"`
	P95          float64       `json:"p95_ms"`
	P99          float64       `json:"p99_ms"`
}

// stage accumulates buckets; it is what Level and the recovery stages share.
type stage struct {
	requests, failed, serverErrors, timeouts, iterations int64
	duration                                             time.Duration
	latency                                              *metrics.Sink
}

func newStage() *stage { return &stage{latency: metrics.NewSink(metrics.Trend)} }

func (s *stage) add(b Bucket) {
	s.requests += b.Requests
	s.failed += b.Failed
	s.serverErrors += b.ServerErrors
	s.timeouts += b.Timeouts
	s.iterations += b.Iterations
	if d := b.End - b.Start; d > 0 {
		s.duration += d
	}
	if b.Latency != nil && b.Latency.Type == metrics.Trend {
		s.latency.Merge(b.Latency)
	}
}

func (s *stage) errorRate() float64 {
	if s.requests <= 0 {
		return 0
	}
	return float64(s.failed) / float64(s.requests)
}

// Levels aggregates buckets by VU count, in order of first appearance,
// skipping VUs==0 buckets with no requests. Buckets with the same VU count
// are merged wherever they occur in the run.
func Levels(buckets []Bucket) []Level { return levels(buckets, false) }

// levels aggregates buckets by level (VUs, or the offered rate when open).
func levels(buckets []Bucket, open bool) []Level {
	var order []float64
	byLevel := map[float64]*stage{}
	for _, b := range buckets {
		k := levelOf(b, open)
		if k == 0 && b.Requests == 0 {
			continue
		}
		s := byLevel[k]
		if s == nil {
			s = newStage()
			byLevel[k] = s
			order = append(order, k)
		}
		s.add(b)
	}
	out := make([]Level, 0, len(order))
	for _, v := range order {
		s := byLevel[v]
		l := Level{
			Duration: s.duration,
			Requests: s.requests, Failed: s.failed, ServerErrors: s.serverErrors, Timeouts: s.timeouts,
			ErrorRate: s.errorRate(),
			P50:       s.latency.Percentile(50),
			P95:       s.latency.Percentile(95),
			P99:       s.latency.Percentile(99),
		}
		if open {
			l.OfferedRate = v
		} else {
			l.VUs = int(v)
		}
		if s.duration > 0 {
			l.RPS = float64(s.requests) / s.duration.Seconds()
			if open {
				l.AchievedRate = float64(s.iterations) / s.duration.Seconds()
			}
		}
		out = append(out, l)
	}
	return out
}

// BreakingPointOptions tunes AnalyseBreakingPoint. Zero values take the
// defaults.
type BreakingPointOptions struct {
	ErrorRate   float64 // errors "start" when a level's error rate exceeds this (default 0.01)
	KneeFactor  float64 // latency knee: first level whose p95 > KneeFactor × first level's p95 (default 2)
	P95Limit    float64 // ... or exceeds this absolute ms limit (the p95 threshold), 0 = unused
	MinRequests int64   // levels with fewer requests are not judged (default 20)
	// FirstStageEnd and FinalStageStart, when both > 0, fix the stages the
	// recovery verdict compares by time (the executor's first stage and its
	// final ramp-down) instead of inferring them from VU counts.
	FirstStageEnd, FinalStageStart time.Duration
	// OpenModel makes the level the offered arrival rate instead of the VUs.
	OpenModel bool
}

// Defaults of BreakingPointOptions.
const (
	DefaultErrorRate   = 0.01
	DefaultKneeFactor  = 2
	DefaultMinRequests = 20
)

func (o BreakingPointOptions) withDefaults() BreakingPointOptions {
	if !(o.ErrorRate > 0) {
		o.ErrorRate = DefaultErrorRate
	}
	if !(o.KneeFactor > 0) {
		o.KneeFactor = DefaultKneeFactor
	}
	if !(o.P95Limit > 0) {
		o.P95Limit = 0
	}
	if o.MinRequests <= 0 {
		o.MinRequests = DefaultMinRequests
	}
	return o
}

// BreakingPoint is the verdict of a stress test.
type BreakingPoint struct {
	// Levels are the VU levels of the rising phase (see AnalyseBreakingPoint).
	Levels             []Level       `json:"levels"`
	ErrorsStartAtVUs   int           `json:"errors_start_at_vus"`      // 0 = never
	LatencyKneeAtVUs   int           `json:"latency_knee_at_vus"`      // 0 = never
	PeakRPS            float64       `json:"peak_rps"`                 // highest RPS of any judged level with error rate <= ErrorRate (sustained throughput)
	PeakRPSAtVUs       int           `json:"peak_rps_at_vus"`          // 0 = no level qualified
	ServerErrors       int64         `json:"server_errors"`            // over the whole run
	FirstServerErrorAt time.Duration `json:"first_server_error_at_ns"` // bucket start, -1 when none
	Timeouts           int64         `json:"timeouts"`                 // over the whole run
	FirstTimeoutAt     time.Duration `json:"first_timeout_at_ns"`      // bucket start, -1 when none
	Recovery           Recovery      `json:"recovery"`
	Found              bool          `json:"found"` // errors started or a knee was found

	// ErrorRateAtStart is the error rate of the level where errors started.
	ErrorRateAtStart float64 `json:"error_rate_at_start"`
	// BaselineVUs and BaselineP95 are the first judged level, the knee's
	// reference (0 when no level had MinRequests requests).
	BaselineVUs int     `json:"baseline_vus"`
	BaselineP95 float64 `json:"baseline_p95_ms"`
	// KneeP95 is the p95 of the knee level.
	KneeP95 float64 `json:"knee_p95_ms"`
	// ErrorRateLimit, KneeFactor and P95Limit are the options applied.
	ErrorRateLimit float64 `json:"error_rate_limit"`
	KneeFactor     float64 `json:"knee_factor"`
	P95Limit       float64 `json:"p95_limit_ms,omitempty"`

	// Model is "closed" (levels are VUs) or "open" (levels are offered
	// arrival rates, latency from the intended start); in the open model
	// the *AtRate and BaselineRate fields hold the levels, the VU ones 0.
	Model                 string  `json:"model"`
	ErrorsStartAtRate     float64 `json:"errors_start_at_rate,omitempty"`
	LatencyKneeAtRate     float64 `json:"latency_knee_at_rate,omitempty"`
	PeakRPSAtRate         float64 `json:"peak_rps_at_rate,omitempty"`
	BaselineRate          float64 `json:"baseline_rate,omitempty"`
	AchievedAtErrorsStart float64 `json:"achieved_rate_at_errors_start,omitempty"`
}

// Recovery says whether the target came back to its first-stage behaviour
// once the load was ramped down.
type Recovery struct {
	Verdict        string  `json:"verdict"` // "recovered", "not_recovered", "unknown" (too little data in first/last stage)
	FirstP95       float64 `json:"first_p95_ms"`
	LastP95        float64 `json:"last_p95_ms"`
	FirstErrorRate float64 `json:"first_error_rate"`
	LastErrorRate  float64 `json:"last_error_rate"`
	// StageVUs is the first stage's level: the final stage is the trailing
	// buckets at or below it. StageRate is the same in the open model.
	StageVUs  int     `json:"stage_vus"`
	StageRate float64 `json:"stage_rate,omitempty"`
	Reason    string  `json:"reason"` // human sentence
}

// The Verdict values of Recovery.
const (
	VerdictRecovered    = "recovered"
	VerdictNotRecovered = "not_recovered"
	VerdictUnknown      = "unknown"
)

// recoveryLatencySlack is the absolute p95 increase (ms) recovery always
// tolerates, so a fast first stage (2ms) is not held to a 4ms final stage.
const recoveryLatencySlack = 5.0

// AnalyseBreakingPoint finds where a stress test broke. Buckets are taken in
// time order (sorted by Start).
//
// Levels are judged over the rising phase only: the buckets up to the last
// one at the peak VU count. The ramp-down revisits lower VU counts, and
// folding it in would blame a level for errors that started higher up; the
// ramp-down is what Recovery judges. Levels with fewer than MinRequests
// requests are not judged. In order of appearance:
//   - errors start at the first judged level whose error rate exceeds
//     ErrorRate;
//   - the latency knee is the first judged level after the first judged
//     level (the baseline) whose p95 exceeds KneeFactor × the baseline's p95,
//     or the first judged level, baseline included, whose p95 exceeds
//     P95Limit;
//   - peak sustained throughput is the highest RPS among judged levels with
//     an error rate at or below ErrorRate.
//
// Server errors and timeouts are totalled over every bucket.
func AnalyseBreakingPoint(buckets []Bucket, opts BreakingPointOptions) BreakingPoint {
	opts = opts.withDefaults()
	bs := slices.Clone(buckets)
	slices.SortStableFunc(bs, func(a, b Bucket) int { return cmp.Compare(a.Start, b.Start) })
	bp := BreakingPoint{
		FirstServerErrorAt: -1, FirstTimeoutAt: -1,
		ErrorRateLimit: opts.ErrorRate, KneeFactor: opts.KneeFactor, P95Limit: opts.P95Limit,
		Model: "closed",
	}
	if opts.OpenModel {
		bp.Model = "open"
	}
	peak, peakAt := 0.0, -1
	for i, b := range bs {
		bp.ServerErrors += b.ServerErrors
		bp.Timeouts += b.Timeouts
		if b.ServerErrors > 0 && bp.FirstServerErrorAt < 0 {
			bp.FirstServerErrorAt = b.Start
		}
		if b.Timeouts > 0 && bp.FirstTimeoutAt < 0 {
			bp.FirstTimeoutAt = b.Start
		}
		if k := levelOf(b, opts.OpenModel); b.Requests > 0 && (peakAt < 0 || k >= peak) {
			peak, peakAt = k, i
		}
	}
	bp.Levels = levels(bs[:peakAt+1], opts.OpenModel)

	var errorsAt, kneeAt, peakRPSAt, baselineAt float64
	baseline := -1
	for i, l := range bp.Levels {
		if l.Requests < opts.MinRequests {
			continue
		}
		k := l.level()
		if baseline < 0 {
			baseline = i
			baselineAt, bp.BaselineP95 = k, l.P95
		}
		if errorsAt == 0 && l.ErrorRate > opts.ErrorRate {
			errorsAt, bp.ErrorRateAtStart, bp.AchievedAtErrorsStart = k, l.ErrorRate, l.AchievedRate
		}
		if kneeAt == 0 {
			overFactor := i != baseline && bp.BaselineP95 > 0 && l.P95 > opts.KneeFactor*bp.BaselineP95
			overLimit := opts.P95Limit > 0 && l.P95 > opts.P95Limit
			if overFactor || overLimit {
				kneeAt, bp.KneeP95 = k, l.P95
			}
		}
		if l.ErrorRate <= opts.ErrorRate && l.RPS > bp.PeakRPS {
			bp.PeakRPS, peakRPSAt = l.RPS, k
		}
	}
	if opts.OpenModel {
		bp.ErrorsStartAtRate, bp.LatencyKneeAtRate, bp.PeakRPSAtRate, bp.BaselineRate = errorsAt, kneeAt, peakRPSAt, baselineAt
	} else {
		bp.ErrorsStartAtVUs, bp.LatencyKneeAtVUs, bp.PeakRPSAtVUs, bp.BaselineVUs = int(errorsAt), int(kneeAt), int(peakRPSAt), int(baselineAt)
	}
	bp.Found = errorsAt != 0 || kneeAt != 0
	bp.Recovery = analyseRecovery(bs, opts)
	return bp
}

// level is the level a Level was aggregated at (VUs or offered rate).
func (l Level) level() float64 {
	if l.OfferedRate != 0 {
		return l.OfferedRate
	}
	return float64(l.VUs)
}

// analyseRecovery compares the first stage with the final ramp-down.
//
// The first stage is the ramp to and the hold at the first plateau: the
// leading buckets with requests up to the first one whose VU count equals
// its predecessor's, then onwards while the count stays at or below that
// plateau's level. A run whose VU count never holds for two buckets in a row
// has no plateau; its first stage is its first bucket. Holding is what a
// stage of a staged profile does, and unlike "the first N buckets" it does
// not depend on the bucket length.
//
// The final stage is the trailing buckets with requests, after the first
// stage, whose VU count is at or below the first stage's level. A run that
// never rises above the first stage, or ends above it, has none.
//
// Either stage with fewer than MinRequests requests, or a first stage
// without latency samples, gives "unknown".
func analyseRecovery(bs []Bucket, opts BreakingPointOptions) Recovery {
	rec := Recovery{Verdict: VerdictUnknown}
	var active []Bucket
	for _, b := range bs {
		if b.Requests > 0 {
			active = append(active, b)
		}
	}
	if len(active) == 0 {
		rec.Reason = "no requests were made"
		return rec
	}
	key := func(b Bucket) float64 { return levelOf(b, opts.OpenModel) }
	level, firstEnd := key(active[0]), 1
	if opts.FirstStageEnd > 0 && opts.FinalStageStart > 0 {
		return judgeRecovery(rec, active, opts, func(b Bucket) bool { return b.End <= opts.FirstStageEnd },
			func(b Bucket) bool { return b.Start >= opts.FinalStageStart })
	}
	for k := 1; k < len(active); k++ {
		if key(active[k]) == key(active[k-1]) {
			level, firstEnd = key(active[k]), k+1
			for firstEnd < len(active) && key(active[firstEnd]) <= level {
				firstEnd++
			}
			break
		}
	}
	finalStart := len(active)
	for finalStart > firstEnd && key(active[finalStart-1]) <= level {
		finalStart--
	}

	return judgeRecovery(rec, active, opts,
		func(b Bucket) bool { return b.Start <= active[firstEnd-1].Start },
		func(b Bucket) bool { return finalStart < len(active) && b.Start >= active[finalStart].Start })
}

// judgeRecovery compares the buckets inFirst selects with those inFinal selects.
func judgeRecovery(rec Recovery, active []Bucket, opts BreakingPointOptions, inFirst, inFinal func(Bucket) bool) Recovery {
	first, final := newStage(), newStage()
	level := 0.0
	for _, b := range active {
		if inFirst(b) {
			first.add(b)
			level = max(level, levelOf(b, opts.OpenModel))
		}
	}
	finalBuckets := 0
	for _, b := range active {
		// Only the part of the final stage back at or below the first
		// stage's level is compared: the same load, after the peak.
		if inFinal(b) && !inFirst(b) && levelOf(b, opts.OpenModel) <= level {
			final.add(b)
			finalBuckets++
		}
	}
	unit := fmtLevel(level, opts.OpenModel)
	if opts.OpenModel {
		rec.StageRate = level
	} else {
		rec.StageVUs = int(level)
	}
	rec.FirstErrorRate, rec.FirstP95 = first.errorRate(), first.latency.Percentile(95)
	rec.LastErrorRate, rec.LastP95 = final.errorRate(), final.latency.Percentile(95)

	switch {
	case first.requests < opts.MinRequests:
		rec.Reason = fmt.Sprintf("first stage (%s) has %d requests, fewer than %d", unit, first.requests, opts.MinRequests)
		return rec
	case first.latency.Count == 0:
		rec.Reason = fmt.Sprintf("first stage (%s) has no latency samples", unit)
		return rec
	case finalBuckets == 0:
		rec.Reason = fmt.Sprintf("the run did not ramp down to %s or fewer after rising above it", unit)
		return rec
	case final.requests < opts.MinRequests:
		rec.Reason = fmt.Sprintf("final ramp-down (<= %s) has %d requests, fewer than %d", unit, final.requests, opts.MinRequests)
		return rec
	}

	maxErr := math.Max(opts.ErrorRate, 2*rec.FirstErrorRate)
	maxP95 := math.Max(rec.FirstP95*opts.KneeFactor, rec.FirstP95+recoveryLatencySlack)
	errOK := rec.LastErrorRate <= maxErr
	latKnown := final.latency.Count > 0
	latOK := latKnown && rec.LastP95 <= maxP95

	var why []string
	if !errOK {
		why = append(why, fmt.Sprintf("error rate %s is above %s", fmtPct(rec.LastErrorRate), fmtPct(maxErr)))
	}
	if latKnown && !latOK {
		why = append(why, fmt.Sprintf("p95 %s is above %s", fmtMs(rec.LastP95), fmtMs(maxP95)))
	}
	firstDesc := fmt.Sprintf("first stage at %s: p95 %s, %s errors", unit, fmtMs(rec.FirstP95), fmtPct(rec.FirstErrorRate))
	switch {
	case len(why) > 0:
		rec.Verdict = VerdictNotRecovered
		rec.Reason = fmt.Sprintf("after ramping down to <= %s the %s (%s)", unit, joinAnd(why), firstDesc)
	case !latKnown:
		rec.Reason = fmt.Sprintf("final ramp-down (<= %s) has no latency samples", unit)
	default:
		rec.Verdict = VerdictRecovered
		rec.Reason = fmt.Sprintf("after ramping down to <= %s, p95 %s and %s errors are back within p95 %s and %s errors (%s)",
			unit, fmtMs(rec.LastP95), fmtPct(rec.LastErrorRate), fmtMs(maxP95), fmtPct(maxErr), firstDesc)
	}
	return rec
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	out := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		out += ", " + p
	}
	return out + " and " + parts[len(parts)-1]
}

// Lines renders the verdict as text a person can act on, one finding a line:
// "errors start at 150 VUs (3.2% failed)", "latency knee at 100 VUs (p95
// 48ms vs 12ms at 50 VUs)", "peak sustained throughput 812 req/s at 100 VUs",
// "5xx: 1234, first at 4m10s", "recovered: final p95 14ms, 0.0% errors (first
// stage 12ms, 0.0%)" or "no breaking point up to 200 VUs".
func (b BreakingPoint) Lines() []string {
	open := b.Model == "open"
	at := func(k float64) string { return fmtLevel(k, open) }
	errorsAt, kneeAt, peakAt, baseline := float64(b.ErrorsStartAtVUs), float64(b.LatencyKneeAtVUs), float64(b.PeakRPSAtVUs), float64(b.BaselineVUs)
	if open {
		errorsAt, kneeAt, peakAt, baseline = b.ErrorsStartAtRate, b.LatencyKneeAtRate, b.PeakRPSAtRate, b.BaselineRate
	}
	var lines []string
	top := 0.0
	for _, l := range b.Levels {
		top = max(top, l.level())
	}
	switch {
	case len(b.Levels) == 0:
		lines = append(lines, "no breaking point: no requests were made")
	case baseline == 0 && !b.Found:
		lines = append(lines, fmt.Sprintf("no breaking point found: no level up to %s had enough requests to judge", at(top)))
	case !b.Found:
		lines = append(lines, fmt.Sprintf("no breaking point up to %s", at(top)))
	default:
		if errorsAt != 0 {
			line := fmt.Sprintf("errors start at %s (%s failed)", at(errorsAt), fmtPct(b.ErrorRateAtStart))
			if open {
				line = fmt.Sprintf("errors start at %s offered (%s failed, %s achieved)", at(errorsAt), fmtPct(b.ErrorRateAtStart), at(b.AchievedAtErrorsStart))
			}
			lines = append(lines, line)
		} else {
			lines = append(lines, fmt.Sprintf("errors stay at or below %s up to %s", fmtPct(b.ErrorRateLimit), at(top)))
		}
		if kneeAt != 0 {
			lines = append(lines, b.kneeLine(at(kneeAt), at(baseline), kneeAt == baseline))
		} else {
			lines = append(lines, fmt.Sprintf("no latency knee up to %s", at(top)))
		}
	}
	if peakAt != 0 {
		lines = append(lines, fmt.Sprintf("peak sustained throughput %s at %s", fmtRPS(b.PeakRPS), at(peakAt)))
	} else if baseline != 0 {
		lines = append(lines, fmt.Sprintf("no level kept errors at or below %s", fmtPct(b.ErrorRateLimit)))
	}
	if b.ServerErrors > 0 {
		lines = append(lines, fmt.Sprintf("5xx: %d, first at %s", b.ServerErrors, fmtOffset(b.FirstServerErrorAt)))
	}
	if b.Timeouts > 0 {
		lines = append(lines, fmt.Sprintf("timeouts: %d, first at %s", b.Timeouts, fmtOffset(b.FirstTimeoutAt)))
	}
	if len(b.Levels) > 0 {
		lines = append(lines, b.Recovery.line())
	}
	return lines
}

// fmtLevel names a level: "150 VUs", "120 it/s", "4.5 it/s".
func fmtLevel(k float64, open bool) string {
	if !open {
		return fmt.Sprintf("%d VUs", int(k))
	}
	if k >= 10 {
		return fmt.Sprintf("%.0f it/s", k)
	}
	return fmt.Sprintf("%.1f it/s", k)
}

func (b BreakingPoint) kneeLine(knee, baseline string, atBaseline bool) string {
	head := fmt.Sprintf("latency knee at %s (p95 %s", knee, fmtMs(b.KneeP95))
	overLimit := b.P95Limit > 0 && b.KneeP95 > b.P95Limit
	switch {
	case atBaseline:
		return head + fmt.Sprintf(", over the %s limit)", fmtMs(b.P95Limit))
	case overLimit:
		return head + fmt.Sprintf(", over the %s limit; %s at %s)", fmtMs(b.P95Limit), fmtMs(b.BaselineP95), baseline)
	default:
		return head + fmt.Sprintf(" vs %s at %s)", fmtMs(b.BaselineP95), baseline)
	}
}

// line renders the recovery verdict for BreakingPoint.Lines.
func (r Recovery) line() string {
	nums := fmt.Sprintf("final p95 %s, %s errors (first stage %s, %s)",
		fmtMs(r.LastP95), fmtPct(r.LastErrorRate), fmtMs(r.FirstP95), fmtPct(r.FirstErrorRate))
	switch r.Verdict {
	case VerdictRecovered:
		return "recovered: " + nums
	case VerdictNotRecovered:
		return "not recovered: " + nums
	}
	return "recovery unknown: " + r.Reason
}
