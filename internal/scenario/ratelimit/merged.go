package ratelimit

import (
	"fmt"
	"time"

	"github.com/driftload/driftload/internal/scenario"
)

// merged implements scenario.Test.Merged. Across machines the question is
// whether one key's (one client's) limit holds for all of them together, so
// the parts' send instants are put on one clock — offsets from the shared
// start, shifted by a part's late start — and enforcement is judged on
// their union with the test's own rule (rateBook.analyse, JudgeLimitWithin),
// with the longest round trip of any part as the timing tolerance. Counts
// add; the Retry-After sources and probes are the parts' (each probe judged
// as its part judged it); the 429 and 200 latencies come from the merged
// histograms.
func merged(run scenario.MergedRun) (scenario.Findings, error) {
	var opts Options
	b := newRateBook(0)
	n := 0
	for _, p := range run.Parts {
		var a rateLimitAnalysis
		if !scenario.PartAnalysis(p, &a) {
			continue
		}
		if n == 0 {
			opts = Options{Interval: seconds(a.IntervalSeconds), Window: seconds(a.ExpectedWindowSeconds), Limit: a.ExpectedLimit}
			b.window = opts.Window
		}
		n++
		late := scenario.Late(p)
		for _, s := range a.AllowedAtSeconds {
			b.successes = append(b.successes, late+seconds(s))
		}
		for _, s := range a.LimitedAtSeconds {
			b.limited = append(b.limited, late+seconds(s))
		}
		b.other += a.Other
		b.maxTook = max(b.maxTook, millis(a.ToleranceMS))
		for src, k := range a.RetryAfter.Sources {
			b.sources[src] += k
		}
		for _, pj := range a.RetryAfter.Probes {
			b.probes = append(b.probes, probeRecord{
				At: late + seconds(pj.AtSeconds), Advertised: seconds(pj.AdvertisedSeconds), Source: pj.Source,
				Early: shotOf(pj.Early), Exact: shotOf(pj.Exact),
			})
		}
	}
	if n == 0 {
		return scenario.Findings{Lines: []string{"rate limit not re-judged: no part carries its ratelimit analysis"}}, nil
	}
	lat := latencyReport{Limited: statusLatency(run.Snapshot, "429"), Allowed: statusLatency(run.Snapshot, "200")}
	f := b.analyse(opts, lat)
	if n > 1 {
		f.Lines = append(f.Lines, fmt.Sprintf("the limit is judged on the union of %d segments' requests: they share one limit only when the target sees them as one client (one key, one IP)", n))
	}
	return f, nil
}

func shotOf(s probeShotJSON) probeShot {
	return probeShot{Sent: s.Sent, After: seconds(s.AfterSeconds), Took: millis(s.TookMS), Status: s.Status, Paced: s.Paced}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func millis(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
