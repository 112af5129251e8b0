package soak

import (
	"fmt"
	"math"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario"
)

// merged implements scenario.Test.Merged: the interval rows rebuilt from
// the merged timeline and the parts' own rows, then soak's judge on them.
func merged(run scenario.MergedRun) (scenario.Findings, error) {
	tl := run.Result.Timeline
	if tl == nil || tl.StepSeconds <= 0 {
		return scenario.Findings{Lines: []string{"soak trends not re-judged: the parts carry no timeline"}}, nil
	}
	step := tl.StepSeconds
	every := time.Duration(step * float64(time.Second))
	endpoint := detectEndpoint(run.Result.Config)
	var parts []partRows
	var total sent
	for _, p := range run.Parts {
		var a soakAnalysis
		if !scenario.PartAnalysis(p, &a) {
			continue
		}
		total.Streams += a.Sent.Streams
		total.Bytes += a.Sent.Bytes
		parts = append(parts, partRows{rows: byInterval(a.Intervals, scenario.Late(p).Seconds(), step), detects: detectsByInterval(p.Timeline, endpoint, step)})
	}
	rows := make([]intervalRow, 0, len(tl.Intervals))
	for i, iv := range tl.Intervals {
		row, err := mergedRow(iv, every, endpoint)
		if err != nil {
			return scenario.Findings{}, fmt.Errorf("timeline interval at %gs: %w", iv.StartSeconds, err)
		}
		row.Index = i
		fromParts(&row, parts, intervalKey(iv.StartSeconds, step))
		rows = append(rows, row)
	}
	f := judge(rows, every, failGrowth(run.Thresholds), total)
	if embedded, _ := run.Result.Config["embedded_target"].(bool); embedded {
		f.Lines = append(f.Lines, "note: every part ran its own embedded target, so the server memory rows are the median of different servers; aim the segments at one `driftload serve` to judge the target")
	}
	return f, nil
}

// detectEndpoint is the `endpoint` tag of soak's detect requests in a run
// configured with cfg (--endpoint).
func detectEndpoint(cfg map[string]any) string {
	if e, _ := cfg["endpoint"].(string); e == "demo" {
		return "demo_detect"
	}
	return "detect"
}

// intervalKey is an interval's index on the shared timeline: its start in
// steps, rounded, as the merge lines the parts' intervals up.
func intervalKey(startSeconds, step float64) int {
	return int(math.Floor(startSeconds/step + 0.5))
}

// partRows are one part's own rows and its detect requests, by interval key.
type partRows struct {
	rows    map[int]intervalRow
	detects map[int]int64
}

// byInterval indexes a part's rows by interval key, its offsets shifted by
// late (seconds) onto the shared timeline.
func byInterval(rows []intervalRow, late, step float64) map[int]intervalRow {
	out := make(map[int]intervalRow, len(rows))
	for _, r := range rows {
		out[intervalKey(r.StartSeconds+late, step)] = r
	}
	return out
}

// detectsByInterval counts a part's detect requests per interval key (its
// timeline is already on the shared start).
func detectsByInterval(tl *report.Timeline, endpoint string, step float64) map[int]int64 {
	out := map[int]int64{}
	if tl == nil {
		return out
	}
	for _, iv := range tl.Intervals {
		if e := iv.Endpoints[endpoint]; e != nil {
			out[intervalKey(iv.StartSeconds, step)] += e.Requests
		}
	}
	return out
}

// mergedRow is the part of a row the merged timeline holds exactly.
//
// The latency trend soak judges is response_time_trend, the client-side
// duration of detect requests that got an answer. A result file keeps it
// for the whole run only; the timeline keeps http_req_duration per endpoint
// and interval, and its detect endpoint's series is the same measurement
// of the same requests, plus the few that failed without an answer (their
// time until the error). So a merged row's response_time_p95_ms is the p95
// of the detect endpoint's http_req_duration. detect_latency (server time,
// warm streams) is in no timeline: merged rows leave it out.
func mergedRow(iv report.TimelineInterval, every time.Duration, endpoint string) (intervalRow, error) {
	span := seconds(iv.EndSeconds) - seconds(iv.StartSeconds)
	row := intervalRow{
		StartSeconds: iv.StartSeconds, EndSeconds: iv.EndSeconds, VUs: iv.VUs,
		Partial: span < every/2, Requests: iv.Requests,
	}
	if span > 0 {
		row.RequestRate = float64(iv.Requests) / span.Seconds()
	}
	if iv.Requests > 0 {
		row.ErrorRate = ptr(float64(iv.Failures) / float64(iv.Requests))
	}
	all := metrics.NewSink(metrics.Trend)
	for name, e := range iv.Endpoints {
		if e.Duration == nil {
			continue
		}
		s, err := e.Duration.Sink()
		if err != nil {
			return row, err
		}
		all.Merge(s)
		if name == endpoint && s.Count > 0 {
			row.ResponseP95Ms = ptr(s.Percentile(95))
		}
	}
	if all.Count > 0 {
		row.HTTPP50Ms, row.HTTPP95Ms, row.HTTPP99Ms = ptr(all.Percentile(50)), ptr(all.Percentile(95)), ptr(all.Percentile(99))
	}
	return row, nil
}

// fromParts fills what only the parts' own rows hold, for the interval at
// key:
//   - the target's RSS and driftlock_detectors_active: every part scraped
//     the same target at about the same instant, so the row takes the median
//     of the parts' readings (one slow or failed scrape does not move it);
//   - the share of detect requests to calibrated streams: the parts' shares
//     weighted by their detect requests, which is the share of all of them;
//   - driftload's own footprint: the largest of the parts' generators, field
//     by field (a sum would drop wherever one part's row is missing, as at
//     the end, and fake a trend; the largest says whether any generator grew).
func fromParts(row *intervalRow, parts []partRows, key int) {
	var rss, det []float64
	var warm, detects float64
	for _, p := range parts {
		r, ok := p.rows[key]
		if !ok {
			continue
		}
		if r.ServerRSSBytes != nil {
			rss = append(rss, *r.ServerRSSBytes)
		}
		if r.ServerDetectors != nil {
			det = append(det, *r.ServerDetectors)
		}
		if n := float64(p.detects[key]); r.WarmShare != nil && n > 0 {
			warm += *r.WarmShare * n
			detects += n
		}
		row.ClientRSSBytes = max(row.ClientRSSBytes, r.ClientRSSBytes)
		row.ClientHeapBytes = max(row.ClientHeapBytes, r.ClientHeapBytes)
		row.Goroutines = max(row.Goroutines, r.Goroutines)
		row.GCCount = max(row.GCCount, r.GCCount)
		row.GCPauseTotalMs = max(row.GCPauseTotalMs, r.GCPauseTotalMs)
		row.GCPauseMaxMs = max(row.GCPauseMaxMs, r.GCPauseMaxMs)
	}
	if len(rss) > 0 {
		row.ServerRSSBytes = ptr(analysis.Median(rss))
	}
	if len(det) > 0 {
		row.ServerDetectors = ptr(analysis.Median(det))
	}
	if detects > 0 {
		row.WarmShare = ptr(warm / detects)
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
