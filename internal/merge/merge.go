// Package merge joins the result files of the segments of one test, run on
// several machines, into the result of the whole run: counters and rates
// add, gauges combine, HDR histograms merge exactly, per series, per metric
// and per timeline interval. The thresholds are then judged on the merged
// data, as one process would have judged them.
package merge

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// loadKeys are the configuration fields that define the load: parts that
// differ in any of them are not segments of one run.
var loadKeys = []string{"executor", "vus", "duration", "stages", "rate", "rate_stages", "endpoint", "max_events", "time_scale", "seed", "options", "embedded_target", "think"}

// Check refuses parts that are not the segments of one run: another test or
// configuration, overlapping segments, a missing segment. Every problem is
// one line; force turns them into warnings.
func Check(parts []*report.Result) []error {
	var errs []error
	if len(parts) == 0 {
		return []error{errors.New("no result files to merge")}
	}
	first := parts[0]
	for i, p := range parts[1:] {
		if p.Test != first.Test {
			errs = append(errs, fmt.Errorf("part %d is a %s run, part 1 a %s run", i+2, p.Test, first.Test))
			continue
		}
		for _, k := range loadKeys {
			if a, b := fmt.Sprint(first.Config[k]), fmt.Sprint(p.Config[k]); a != b {
				errs = append(errs, fmt.Errorf("part %d differs in %s: %s, part 1: %s", i+2, k, b, a))
			}
		}
		if p.ShareSequence != first.ShareSequence {
			errs = append(errs, fmt.Errorf("part %d cuts the test as %s, part 1 as %s", i+2, p.ShareSequence, first.ShareSequence))
		}
	}
	for _, p := range parts {
		if !p.Complete {
			errs = append(errs, fmt.Errorf("the %s part is a checkpoint (complete: false): its run did not finish", p.Share))
		}
	}
	errs = append(errs, checkCoverage(parts)...)
	return errs
}

// checkCoverage says which segments overlap and which are missing.
func checkCoverage(parts []*report.Result) []error {
	type seg struct {
		from, to *big.Rat
		share    string
	}
	var segs []seg
	for _, p := range parts {
		a, b, ok := strings.Cut(p.Share, ":")
		from, ok1 := new(big.Rat).SetString(a)
		to, ok2 := new(big.Rat).SetString(b)
		if !ok || !ok1 || !ok2 {
			return []error{fmt.Errorf("share %q is not FROM:TO", p.Share)}
		}
		segs = append(segs, seg{from, to, p.Share})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].from.Cmp(segs[j].from) < 0 })
	var errs []error
	at := new(big.Rat)
	for _, s := range segs {
		switch c := s.from.Cmp(at); {
		case c < 0:
			errs = append(errs, fmt.Errorf("segment %s overlaps the part before it (which ends at %s)", s.share, at.RatString()))
		case c > 0:
			errs = append(errs, fmt.Errorf("segment %s:%s is missing", at.RatString(), s.from.RatString()))
		}
		if s.to.Cmp(at) > 0 {
			at = s.to
		}
	}
	if at.Cmp(big.NewRat(1, 1)) < 0 {
		errs = append(errs, fmt.Errorf("segment %s:1 is missing", at.RatString()))
	}
	return errs
}

// Merged is the merge of the parts' measurements, before thresholds and
// verdicts are judged.
type Merged struct {
	Result *report.Result
	// Snapshot holds the merged series, for judging thresholds.
	Snapshot *metrics.Snapshot
}

// Merge merges the parts (already checked). The result's thresholds,
// verdict and exit code are left for the caller to judge.
func Merge(parts []*report.Result) (*Merged, error) {
	first := parts[0]
	res := &report.Result{
		SchemaVersion: first.SchemaVersion, Tool: first.Tool, Test: first.Test, Config: first.Config,
		Target: first.Target, Share: "0:1", ShareSequence: first.ShareSequence, StartAt: first.StartAt,
		Start: first.Start, End: first.End, Complete: true, Thresholds: []report.ThresholdResult{},
	}
	for _, p := range parts {
		if p.Start.Before(res.Start) {
			res.Start = p.Start
		}
		if p.End.After(res.End) {
			res.End = p.End
		}
		res.Aborted = res.Aborted || p.Aborted
		res.Interrupted = res.Interrupted || p.Interrupted
		if p.AbortReason != "" && res.AbortReason == "" {
			res.AbortReason = p.Share + ": " + p.AbortReason
		}
	}
	elapsed := res.End.Sub(res.Start)
	res.DurationSeconds = elapsed.Seconds()
	snap, err := mergeMetrics(parts, elapsed)
	if err != nil {
		return nil, err
	}
	if res.Metrics, err = report.MetricsFromSnapshot(snap); err != nil {
		return nil, err
	}
	res.Checks = report.ChecksFromSnapshot(snap)
	res.Failures = report.FailuresOf(snap)
	res.Run = mergeRun(parts, elapsed)
	if res.Timeline, err = mergeTimelines(parts); err != nil {
		return nil, err
	}
	return &Merged{Result: res, Snapshot: snap}, nil
}

// sinkOf rebuilds a series' sink from the file.
func sinkOf(typ metrics.Type, s report.SeriesResult) (*metrics.Sink, error) {
	if typ == metrics.Trend {
		if s.Histogram == nil {
			return metrics.NewSink(metrics.Trend), nil
		}
		return s.Histogram.Sink()
	}
	sink := metrics.NewSink(typ)
	sink.Count, sink.Sum, sink.Trues = s.Count, s.Sum, s.Trues
	if typ == metrics.Gauge {
		sink.Value, sink.Min, sink.Max = s.Values["value"], s.Values["min"], s.Values["max"]
	}
	return sink, nil
}

// mergeMetrics merges every series of every part, by metric and tag set.
// Gauges of the parts add (each segment's VUs are part of the whole).
func mergeMetrics(parts []*report.Result, elapsed time.Duration) (*metrics.Snapshot, error) {
	snap := &metrics.Snapshot{Elapsed: elapsed}
	defs := map[string]*metrics.Metric{}
	index := map[string]int{}
	var names []string
	for _, p := range parts {
		for name := range p.Metrics {
			if _, ok := defs[name]; !ok && !strings.Contains(name, "{") {
				names = append(names, name)
				defs[name] = nil
			}
		}
	}
	sort.Strings(names)
	for _, name := range names {
		for _, p := range parts {
			mr, ok := p.Metrics[name]
			if !ok {
				continue
			}
			m := defs[name]
			if m == nil {
				t, err := typeOf(mr.Type)
				if err != nil {
					return nil, fmt.Errorf("metric %s: %w", name, err)
				}
				m = &metrics.Metric{Name: name, Type: t, Contains: containsOf(mr.Contains)}
				defs[name] = m
				snap.Metrics = append(snap.Metrics, m)
			} else if m.Type.String() != mr.Type {
				return nil, fmt.Errorf("metric %s is a %s in one part and a %s in another", name, m.Type, mr.Type)
			}
			for _, s := range mr.Series {
				sink, err := sinkOf(m.Type, s)
				if err != nil {
					return nil, fmt.Errorf("metric %s: %w", name, err)
				}
				tags := make(metrics.Tags, 0, len(s.Tags))
				for k, v := range s.Tags {
					tags = append(tags, metrics.Tag{Key: k, Value: v})
				}
				tags = tags.Sorted()
				key := name + "{" + tags.String() + "}"
				if i, ok := index[key]; ok {
					addSink(snap.Series[i].Sink, sink)
					continue
				}
				index[key] = len(snap.Series)
				snap.Series = append(snap.Series, metrics.SeriesSnapshot{Metric: m, Tags: tags, Sink: sink})
			}
		}
	}
	return snap, nil
}

// addSink adds b to a: a Gauge's value, min and max add up (the parts ran
// at once), every other type merges.
func addSink(a, b *metrics.Sink) {
	if a.Type != metrics.Gauge {
		a.Merge(b)
		return
	}
	a.Value += b.Value
	a.Min += b.Min
	a.Max += b.Max
	a.Count += b.Count
}

func typeOf(s string) (metrics.Type, error) {
	for _, t := range []metrics.Type{metrics.Counter, metrics.Gauge, metrics.Rate, metrics.Trend} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown metric type %q", s)
}

func containsOf(s string) metrics.ValueType {
	switch s {
	case "time":
		return metrics.Time
	case "data":
		return metrics.Data
	}
	return metrics.Default
}

// mergeRun combines how the parts ran: rates add, a part's invalid run
// makes the whole invalid (its reasons kept, named by share).
func mergeRun(parts []*report.Result, elapsed time.Duration) report.Run {
	r := report.Run{Model: parts[0].Run.Model, Valid: true}
	for _, p := range parts {
		r.OfferedRate += p.Run.OfferedRate
		r.OfferedIterations += p.Run.OfferedIterations
		r.StartedIterations += p.Run.StartedIterations
		r.DroppedIterations += p.Run.DroppedIterations
		r.SchedulerLateP99Ms = math.Max(r.SchedulerLateP99Ms, p.Run.SchedulerLateP99Ms)
		r.CPU = math.Max(r.CPU, p.Run.CPU)
		r.TargetSaturated = r.TargetSaturated || p.Run.TargetSaturated
		if p.Run.SaturationReason != "" && r.SaturationReason == "" {
			r.SaturationReason = p.Share + ": " + p.Run.SaturationReason
		}
		if !p.Run.Valid {
			r.Valid = false
			for _, why := range p.Run.InvalidReasons {
				r.InvalidReasons = append(r.InvalidReasons, p.Share+": "+why)
			}
		}
	}
	if iters, ok := iterations(parts); ok && elapsed > 0 {
		r.AchievedRate = iters / elapsed.Seconds()
	}
	return r
}

func iterations(parts []*report.Result) (float64, bool) {
	total, ok := 0.0, false
	for _, p := range parts {
		if m, found := p.Metrics["iterations"]; found {
			total += m.Values["count"]
			ok = true
		}
	}
	return total, ok
}

// mergeTimelines lines the parts' intervals up by their offset from the
// shared start (a part that joined late has offsets shifted by it) and
// merges each: counts add, histograms merge.
func mergeTimelines(parts []*report.Result) (*report.Timeline, error) {
	var step float64
	for _, p := range parts {
		if p.Timeline == nil {
			return nil, nil
		}
		if step == 0 {
			step = p.Timeline.StepSeconds
		} else if p.Timeline.StepSeconds != step {
			return nil, fmt.Errorf("the parts' timelines have different intervals (%gs and %gs)", step, p.Timeline.StepSeconds)
		}
	}
	if step <= 0 {
		return nil, nil
	}
	byIndex := map[int]*report.TimelineInterval{}
	var order []int
	for _, p := range parts {
		for _, iv := range p.Timeline.Intervals {
			k := int(math.Floor(iv.StartSeconds/step + 0.5))
			m, ok := byIndex[k]
			if !ok {
				c := iv
				c.Endpoints = map[string]*report.EndpointInterval{}
				c.FailuresByStatus, c.FailuresByReason = nil, nil
				c.VUs, c.OfferedRate, c.AchievedRate, c.Iterations, c.DroppedIterations, c.Requests, c.Failures = 0, 0, 0, 0, 0, 0, 0
				m = &c
				byIndex[k] = m
				order = append(order, k)
			}
			if err := addInterval(m, iv); err != nil {
				return nil, err
			}
		}
	}
	sort.Ints(order)
	out := &report.Timeline{StepSeconds: step, Intervals: make([]report.TimelineInterval, 0, len(order))}
	for _, k := range order {
		out.Intervals = append(out.Intervals, *byIndex[k])
	}
	return out, nil
}

func addInterval(m *report.TimelineInterval, iv report.TimelineInterval) error {
	m.StartSeconds = math.Min(m.StartSeconds, iv.StartSeconds)
	m.EndSeconds = math.Max(m.EndSeconds, iv.EndSeconds)
	m.VUs += iv.VUs
	m.OfferedRate += iv.OfferedRate
	m.AchievedRate += iv.AchievedRate
	m.Iterations += iv.Iterations
	m.DroppedIterations += iv.DroppedIterations
	m.Requests += iv.Requests
	m.Failures += iv.Failures
	m.FailuresByStatus = addCounts(m.FailuresByStatus, iv.FailuresByStatus)
	m.FailuresByReason = addCounts(m.FailuresByReason, iv.FailuresByReason)
	for name, e := range iv.Endpoints {
		cur, ok := m.Endpoints[name]
		if !ok {
			cur = &report.EndpointInterval{}
			m.Endpoints[name] = cur
		}
		cur.Requests += e.Requests
		cur.Failures += e.Failures
		var err error
		if cur.Duration, err = addHistogram(cur.Duration, e.Duration); err != nil {
			return err
		}
		if cur.Latency, err = addHistogram(cur.Latency, e.Latency); err != nil {
			return err
		}
	}
	return nil
}

func addCounts(a, b map[string]int64) map[string]int64 {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = map[string]int64{}
	}
	for k, v := range b {
		a[k] += v
	}
	return a
}

// addHistogram merges two encoded histograms exactly.
func addHistogram(a, b *report.Histogram) (*report.Histogram, error) {
	switch {
	case b == nil:
		return a, nil
	case a == nil:
		c := *b
		return &c, nil
	}
	sa, err := a.Sink()
	if err != nil {
		return nil, err
	}
	sb, err := b.Sink()
	if err != nil {
		return nil, err
	}
	sa.Merge(sb)
	return report.HistogramOf(sa)
}
