// The race detector only slows the synthesis of hours of samples down
// (tenfold); `make test` runs this file without it.

//go:build !race

package schema_test

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario/soak"
)

// sampleVUs is the VU count of the short soak the long ones are built from.
const sampleVUs = 12

// A result file stays small however long the run: the targets are
// under 2 MB for a 30-minute soak and under 10 MB for 8 hours. Without
// running for hours, the long files are built from a real one: a 6 s soak
// of sampleVUs against the reference target, one interval a second. Its
// rows are repeated once per minute (the soak's interval, which is also
// its timeline's step) for the length of the run, and every histogram is
// refilled with as many samples as the default soak (50 VUs) records in
// that span, drawn from the short run's own distributions, so it holds as
// many distinct buckets as so many samples fill. Each file is written as
// report.WriteFile writes it, and matches the schema.
func TestResultFileSizeOfLongSoaks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a soak for 6 s and builds 8 hours of result from it")
	}
	t.Parallel()
	base, key := server(t, nil)
	cfg := runConfig(t, "soak", base, key)
	cfg.VUs, cfg.Duration, cfg.Interval = sampleVUs, 6*time.Second, time.Second
	sample, err := report.Decode(runFile(t, context.Background(), cfg))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name  string
		d     time.Duration
		limit int64
	}{
		{"30-minute soak", 30 * time.Minute, 2_000_000},
		{"8-hour soak", 8 * time.Hour, 10_000_000},
	} {
		ms := longMetrics(t, sample, c.d, rng)
		for _, wide := range []bool{false, true} {
			name := c.name
			if wide {
				name += ", every request in its own bucket"
			}
			res := longSoak(t, sample, c.d, ms, rng, wide)
			path := filepath.Join(t.TempDir(), soak.Test.ResultFile)
			if err := report.WriteFile(path, res); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			validate(t, name, data)
			size := int64(len(data))
			t.Logf("%s: %d intervals, %.2f MB (%d bytes)", name, len(res.Timeline.Intervals), float64(size)/1e6, size)
			if size >= c.limit {
				t.Errorf("%s: result file of %d bytes, want under %d", name, size, c.limit)
			}
		}
	}
}

// scale is what a count of the sample becomes in a default soak lasting d.
func scale(sample *report.Result, d time.Duration) float64 {
	return float64(soak.Test.DefaultVUs) / sampleVUs * d.Seconds() / sample.DurationSeconds
}

// longMetrics are the sample's metrics with the histograms of a default
// soak lasting d.
func longMetrics(t *testing.T, sample *report.Result, d time.Duration, rng *rand.Rand) map[string]*report.MetricResult {
	t.Helper()
	k := scale(sample, d)
	out := map[string]*report.MetricResult{}
	for name, m := range sample.Metrics {
		mm := *m
		mm.Histogram = refill(t, m.Histogram, k, rng)
		mm.Series = make([]report.SeriesResult, len(m.Series))
		for i, s := range m.Series {
			if s.Histogram != nil {
				s.Histogram = refill(t, s.Histogram, k, rng)
				s.Count = s.Histogram.Count
			}
			mm.Series[i] = s
		}
		out[name] = &mm
	}
	return out
}

// longSoak builds the result of a default soak lasting d from sample, with
// metrics ms. Wide, the timeline's histograms have every request in its own
// bucket (latencies spread from 1 ms to 10 s): the largest they can be.
func longSoak(t *testing.T, sample *report.Result, d time.Duration, ms map[string]*report.MetricResult, rng *rand.Rand, wide bool) *report.Result {
	t.Helper()
	step := soak.Test.DefaultInterval
	n := int(d / step)
	res := *sample
	res.DurationSeconds = d.Seconds()
	res.End = res.Start.Add(d)
	res.Metrics = ms

	// Every endpoint's distribution over the sample, and the rows with requests.
	merged := map[string]map[string]*metrics.Sink{}
	var rows []report.TimelineInterval
	for _, iv := range sample.Timeline.Intervals {
		if iv.EndSeconds-iv.StartSeconds < sample.Timeline.StepSeconds/2 || iv.Requests == 0 {
			continue // the partial last interval, or a pause between iterations
		}
		rows = append(rows, iv)
		for ep, e := range iv.Endpoints {
			if merged[ep] == nil {
				merged[ep] = map[string]*metrics.Sink{}
			}
			for name, h := range map[string]*report.Histogram{"http_req_duration": e.Duration, "http_req_latency": e.Latency} {
				if h == nil {
					continue
				}
				s := decode(t, h)
				if merged[ep][name] == nil {
					merged[ep][name] = metrics.NewSink(metrics.Trend)
				}
				merged[ep][name].Merge(s)
			}
		}
	}
	if len(rows) == 0 || merged["detect"] == nil {
		t.Fatal("the sample soak sent no detect request")
	}
	// A soak VU checks /healthz every 50th iteration, which a short sample
	// never reaches: healthz gets a fiftieth of detect's requests, with
	// detect's (wider) distribution.
	if merged["healthz"] == nil {
		merged["healthz"] = merged["detect"]
	}
	perInterval := scale(sample, d) / float64(n) // a count over the whole sample → over one interval
	sampleRequests := map[string]float64{}
	for _, iv := range rows {
		for ep, e := range iv.Endpoints {
			sampleRequests[ep] += float64(e.Requests)
		}
	}
	if sampleRequests["healthz"] == 0 {
		sampleRequests["healthz"] = sampleRequests["detect"] / 50
	}

	analysis, ok := sample.Analysis.(map[string]any)
	if !ok {
		t.Fatalf("soak analysis %T, want an object", sample.Analysis)
	}
	sampleRows, _ := analysis["intervals"].([]any)
	if len(sampleRows) == 0 {
		t.Fatal("no soak interval rows")
	}
	longRows := make([]any, n)
	res.Timeline = &report.Timeline{StepSeconds: step.Seconds(), Intervals: make([]report.TimelineInterval, n)}
	for i := range n {
		start, end := float64(i)*step.Seconds(), float64(i+1)*step.Seconds()
		row := rows[i%len(rows)]
		row.StartSeconds, row.EndSeconds, row.VUs = start, end, soak.Test.DefaultVUs
		row.Endpoints = map[string]*report.EndpointInterval{}
		row.Requests, row.Failures, row.Iterations = 0, 0, 0
		for ep, want := range sampleRequests {
			count := int64(math.Round(want * perInterval))
			e := &report.EndpointInterval{Requests: count}
			if s := merged[ep]["http_req_duration"]; s != nil {
				e.Duration = draw(t, sampler(s, rng, wide), count)
			}
			if s := merged[ep]["http_req_latency"]; s != nil {
				e.Latency = draw(t, sampler(s, rng, wide), count)
			}
			row.Endpoints[ep] = e
			row.Requests += count
		}
		row.Iterations = int64(math.Round(sampleRequests["detect"] * perInterval))
		row.AchievedRate = float64(row.Iterations) / step.Seconds()
		res.Timeline.Intervals[i] = row

		r := maps.Clone(sampleRows[i%len(sampleRows)].(map[string]any))
		delete(r, "partial")
		r["index"], r["start_seconds"], r["end_seconds"] = i, start, end
		r["vus"], r["requests"] = soak.Test.DefaultVUs, row.Requests
		r["request_rate"] = float64(row.Requests) / step.Seconds()
		longRows[i] = r
	}
	a := maps.Clone(analysis)
	a["interval_seconds"], a["intervals"] = step.Seconds(), longRows
	res.Analysis = a
	return &res
}

// refill is h with k times its samples, drawn from its distribution.
func refill(t *testing.T, h *report.Histogram, k float64, rng *rand.Rand) *report.Histogram {
	if h == nil {
		return nil
	}
	return draw(t, sampler(decode(t, h), rng, false), int64(math.Round(float64(h.Count)*k)))
}

// sampler draws from the distribution of s, interpolated between its
// permilles so that a sample can fall anywhere in its range; wide, it
// draws log-uniformly from 1 ms to 10 s instead.
func sampler(s *metrics.Sink, rng *rand.Rand, wide bool) func() float64 {
	if wide {
		return func() float64 { return math.Exp(rng.Float64() * math.Log(10_000)) }
	}
	const steps = 1000
	q := make([]float64, steps+1)
	q[0], q[steps] = s.Min, s.Max
	for i := 1; i < steps; i++ {
		q[i] = s.Percentile(100 * float64(i) / steps)
	}
	return func() float64 {
		u := rng.Float64() * steps
		i := int(u)
		return q[i] + (u-float64(i))*(q[i+1]-q[i])
	}
}

// draw is a histogram of n samples (at least one) from next.
func draw(t *testing.T, next func() float64, n int64) *report.Histogram {
	t.Helper()
	out := metrics.NewSink(metrics.Trend)
	for range max(n, 1) {
		out.Add(next())
	}
	data, err := out.EncodeHistogram()
	if err != nil {
		t.Fatal(err)
	}
	return &report.Histogram{
		Encoding: report.HistogramEncoding, Scale: metrics.TrendScale,
		Count: out.Count, Sum: out.Sum, Min: out.Min, Max: out.Max, Data: data,
	}
}

func decode(t *testing.T, h *report.Histogram) *metrics.Sink {
	t.Helper()
	s, err := h.Sink()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
