package merge

import (
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// partOf records samples into a fresh registry the way a run does and
// renders it as a result file part.
func partOf(t interface{ Fatal(...any) }, share string, durations []float64, failed []bool) *report.Result {
	reg := metrics.NewRegistry()
	dur := reg.MustDefine("http_req_duration", metrics.Trend, metrics.Time)
	fail := reg.MustDefine("http_req_failed", metrics.Rate, metrics.Default)
	reqs := reg.MustDefine("http_reqs", metrics.Counter, metrics.Default)
	rec := reg.NewRecorder()
	ok := metrics.Tags{{Key: "endpoint", Value: "detect"}, {Key: "status", Value: "200"}}
	bad := metrics.Tags{{Key: "endpoint", Value: "detect"}, {Key: "status", Value: "503"}}
	for i, d := range durations {
		tags := ok
		if failed[i] {
			tags = bad
		}
		rec.Add(dur, tags, d)
		rec.AddBool(fail, tags, failed[i])
		rec.Add(reqs, tags, 1)
	}
	rec.Flush()
	snap := reg.Snapshot()
	snap.Elapsed = 10 * time.Second
	ms, err := report.MetricsFromSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0).UTC()
	return &report.Result{
		SchemaVersion: report.SchemaVersion, Test: "load", Share: share, ShareSequence: "0,1/3,2/3,1",
		Config: map[string]any{"executor": "ramping-vus"}, Metrics: ms, Complete: true, Run: report.Run{Model: "closed", Valid: true},
		Start: start, End: start.Add(10 * time.Second),
	}
}

// Merging the parts' histograms gives the histogram of all their samples
// recorded in one registry: count for count, for any split.
func TestMergeIsExactForAnySplit(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 400).Draw(rt, "n")
		var all []float64
		var allFailed []bool
		shares := []string{"0:1/3", "1/3:2/3", "2/3:1"}
		parts := make([][]float64, 3)
		partsFailed := make([][]bool, 3)
		for i := range n {
			d := rapid.Float64Range(0.001, 60_000).Draw(rt, "d")
			f := rapid.Bool().Draw(rt, "f")
			k := rapid.IntRange(0, 2).Draw(rt, "part")
			all, allFailed = append(all, d), append(allFailed, f)
			parts[k], partsFailed[k] = append(parts[k], d), append(partsFailed[k], f)
			_ = i
		}
		var rs []*report.Result
		for k := range parts {
			rs = append(rs, partOf(rt, shares[k], parts[k], partsFailed[k]))
		}
		if errs := Check(rs); len(errs) > 0 {
			rt.Fatalf("check: %v", errs)
		}
		m, err := Merge(rs)
		if err != nil {
			rt.Fatal(err)
		}
		whole := partOf(rt, "0:1", all, allFailed)
		got, want := m.Result.Metrics["http_req_duration"], whole.Metrics["http_req_duration"]
		gs, err := got.Histogram.Sink()
		if err != nil {
			rt.Fatal(err)
		}
		ws, _ := want.Histogram.Sink()
		if gs.Count != ws.Count || gs.Min != ws.Min || gs.Max != ws.Max || !near(gs.Sum, ws.Sum) {
			rt.Fatalf("merged count/min/max/sum %d %g %g %g, whole %d %g %g %g", gs.Count, gs.Min, gs.Max, gs.Sum, ws.Count, ws.Min, ws.Max, ws.Sum)
		}
		for _, q := range []float64{1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100} {
			if a, b := gs.Percentile(q), ws.Percentile(q); a != b {
				rt.Fatalf("p(%g): merged %g, whole %g", q, a, b)
			}
		}
		if a, b := m.Result.Metrics["http_req_failed"].Values["rate"], whole.Metrics["http_req_failed"].Values["rate"]; a != b {
			rt.Fatalf("failed rate merged %g, whole %g", a, b)
		}
		if a, b := m.Result.Metrics["http_reqs"].Values["count"], whole.Metrics["http_reqs"].Values["count"]; a != b {
			rt.Fatalf("requests merged %g, whole %g", a, b)
		}
	})
}

func near(a, b float64) bool { return a-b < 1e-6*(1+b) && b-a < 1e-6*(1+b) }

func TestCheckRefusesWhatIsNotOneRun(t *testing.T) {
	mk := func(share string) *report.Result { return partOf(t, share, []float64{1}, []bool{false}) }
	other := mk("2/3:1")
	other.Config = map[string]any{"executor": "constant-vus"}
	notDone := mk("2/3:1")
	notDone.Complete = false
	wrongTest := mk("2/3:1")
	wrongTest.Test = "soak"
	cases := []struct {
		name  string
		parts []*report.Result
		want  string
	}{
		{"missing", []*report.Result{mk("0:1/3"), mk("2/3:1")}, "segment 1/3:2/3 is missing"},
		{"missing tail", []*report.Result{mk("0:1/3"), mk("1/3:2/3")}, "segment 2/3:1 is missing"},
		{"overlap", []*report.Result{mk("0:1/3"), mk("0:1/3"), mk("1/3:2/3"), mk("2/3:1")}, "overlaps"},
		{"config", []*report.Result{mk("0:1/3"), mk("1/3:2/3"), other}, "differs in executor"},
		{"checkpoint", []*report.Result{mk("0:1/3"), mk("1/3:2/3"), notDone}, "checkpoint"},
		{"test", []*report.Result{mk("0:1/3"), mk("1/3:2/3"), wrongTest}, "soak run"},
	}
	for _, c := range cases {
		errs := Check(c.parts)
		text := ""
		for _, e := range errs {
			text += e.Error() + "\n"
		}
		if !strings.Contains(text, c.want) {
			t.Errorf("%s: %q, want %q", c.name, text, c.want)
		}
	}
	if errs := Check([]*report.Result{mk("0:1/3"), mk("1/3:2/3"), mk("2/3:1")}); len(errs) > 0 {
		t.Errorf("three complete thirds: %v", errs)
	}
}
