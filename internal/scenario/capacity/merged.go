package capacity

import (
	"fmt"
	"math"
	"sort"

	"github.com/driftload/driftload/internal/scenario"
)

// merged implements scenario.Test.Merged: the parts' counts added, the
// target's gauges taken from the parts that read them, and the estimate and
// verdict judged again (judge, findings) from every part's probe bounds.
//
// A part's probe distances count only the touches that part saw, while all
// the parts fill the one cache of the target. A kept probe's lower bound
// holds as it is (the others' touches only add newer entries), but an
// evicted probe's upper bound must add every touch the other parts made —
// their confirmed streams and probes, and their failed requests, any of
// which may have touched an entry. That bound is loose but certain: the
// merged verdict fails a cache only when even it is below the expected
// capacity.
func merged(run scenario.MergedRun) (scenario.Findings, error) {
	var parts []capacityAnalysis
	var lates []float64
	for _, p := range run.Parts {
		var a capacityAnalysis
		if scenario.PartAnalysis(p, &a) {
			parts = append(parts, a)
			lates = append(lates, scenario.Late(p).Seconds())
		}
	}
	if len(parts) == 0 {
		return scenario.Findings{Lines: []string{"capacity not re-judged: no part carries its capacity analysis"}}, nil
	}
	first := parts[0]
	a := capacityAnalysis{
		ExpectedCapacity: first.ExpectedCapacity,
		ErrorsByStatus:   map[string]int64{},
		Probes: probeStats{
			RetentionAfter: first.Probes.RetentionAfter, EvictionAfter: first.Probes.EvictionAfter,
			SentinelEvery: first.Probes.SentinelEvery, ByKind: map[string]map[string]int64{},
		},
	}
	touches := make([]int64, len(parts))
	var all int64
	for i, p := range parts {
		touches[i] = p.touches()
		all += touches[i]
	}
	keptMin, evictedMax := int64(-1), int64(-1)
	for i, p := range parts {
		a.StreamsCreated += p.StreamsCreated
		a.Probes.add(p.Probes)
		a.MetricsScrapes += p.MetricsScrapes
		a.DetectorsActivePeak = maxOf(a.DetectorsActivePeak, p.DetectorsActivePeak)
		a.Evictions = maxOf(a.Evictions, p.Evictions)
		for k, n := range p.ErrorsByStatus {
			a.ErrorsByStatus[k] += n
		}
		a.DetectorExhaustion += p.DetectorExhaustion
		if a.ExhaustionExample == "" {
			a.ExhaustionExample = p.ExhaustionExample
		}
		if p.MetricsScrapes == 0 && a.MetricsError == "" {
			a.MetricsError = p.MetricsError
		}
		if p.Estimate.AtLeast > 0 {
			keptMin = max(keptMin, p.Estimate.AtLeast-1)
		}
		if p.Estimate.AtMost > 0 {
			bound := p.Estimate.AtMost + all - touches[i]
			if evictedMax < 0 || bound < evictedMax {
				evictedMax = bound
			}
		}
	}
	if a.MetricsScrapes > 0 {
		a.MetricsError = ""
	}
	if tl := run.Result.Timeline; tl != nil {
		a.Scrapes = mergeScrapes(parts, lates, tl.StepSeconds)
	}
	a.Estimate, a.Verdict = judge(keptMin, evictedMax, int64(a.ExpectedCapacity))
	f := findings(a)
	if len(parts) > 1 && evictedMax >= 0 {
		f.Lines = append(f.Lines, fmt.Sprintf("across %d segments an eviction's bound adds the other segments' touches of the cache (%d in all): the upper bound is certain, not tight", len(parts), all))
	}
	return f, nil
}

// touches is every request of the run that touched, or may have touched,
// the target's cache: confirmed streams, answered probes and failures.
func (a capacityAnalysis) touches() int64 {
	n := a.StreamsCreated + a.Probes.Kept + a.Probes.Evicted + a.Probes.Unknown
	for _, c := range a.ErrorsByStatus {
		n += c
	}
	return n
}

// add adds another part's probe counts (the log keeps the first probeLog).
func (ps *probeStats) add(o probeStats) {
	ps.Kept += o.Kept
	ps.Evicted += o.Evicted
	ps.Unknown += o.Unknown
	ps.Failed += o.Failed
	ps.Pending += o.Pending
	ps.Sentinels += o.Sentinels
	ps.SentinelsNotReady += o.SentinelsNotReady
	ps.MaxProbed = max(ps.MaxProbed, o.MaxProbed)
	for kind, byOutcome := range o.ByKind {
		if ps.ByKind[kind] == nil {
			ps.ByKind[kind] = map[string]int64{}
		}
		for outcome, n := range byOutcome {
			ps.ByKind[kind][outcome] += n
		}
	}
	for _, r := range o.Log {
		if len(ps.Log) < probeLog {
			ps.Log = append(ps.Log, r)
		}
	}
}

func maxOf(a, b *float64) *float64 {
	if b == nil || (a != nil && *a >= *b) {
		return a
	}
	v := *b
	return &v
}

// mergeScrapes lines the parts' scrapes up by interval on the shared start
// (each part reads /metrics at its interval ends) and keeps the instants
// every scraping part read: the streams all parts had created by then, and
// the target's gauges as the highest reading (one target: the parts read
// the same numbers at about the same time; the highest is the latest).
func mergeScrapes(parts []capacityAnalysis, lates []float64, step float64) []scrapeRow {
	if step <= 0 {
		return nil
	}
	type acc struct {
		row scrapeRow
		n   int
	}
	byKey := map[int]*acc{}
	scraping := 0
	for i, p := range parts {
		if len(p.Scrapes) == 0 {
			continue
		}
		scraping++
		for _, r := range p.Scrapes {
			at := r.AtSeconds + lates[i]
			k := int(math.Floor(at/step + 0.5))
			c := byKey[k]
			if c == nil {
				c = &acc{row: scrapeRow{AtSeconds: at}}
				byKey[k] = c
			}
			c.n++
			c.row.AtSeconds = math.Max(c.row.AtSeconds, at)
			c.row.StreamsCreated += r.StreamsCreated
			c.row.DetectorsActive = maxOf(c.row.DetectorsActive, r.DetectorsActive)
			c.row.Evictions = maxOf(c.row.Evictions, r.Evictions)
		}
	}
	var out []scrapeRow
	for _, c := range byKey {
		if c.n == scraping {
			out = append(out, c.row)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AtSeconds < out[j].AtSeconds })
	return out
}
