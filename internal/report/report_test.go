package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/threshold"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// sampleResult builds a result from known samples, with fixed times.
func sampleResult(t *testing.T) *Result {
	reg := metrics.NewRegistry()
	dur := reg.MustDefine("http_req_duration", metrics.Trend, metrics.Time)
	reqs := reg.MustDefine("http_reqs", metrics.Counter, metrics.Default)
	failed := reg.MustDefine("http_req_failed", metrics.Rate, metrics.Default)
	checks := reg.MustDefine("checks", metrics.Rate, metrics.Default)
	data := reg.MustDefine("data_received", metrics.Counter, metrics.Data)
	vus := reg.MustDefine("vus", metrics.Gauge, metrics.Default)
	rec := reg.NewRecorder()
	for i := 1; i <= 100; i++ {
		ep := "healthz"
		if i%4 == 0 {
			ep = "detect"
		}
		tags := metrics.NewTags("endpoint", ep, "status", "200")
		rec.Add(dur, tags, float64(i)/4)
		rec.Add(reqs, tags, 1)
		rec.AddBool(failed, tags, i%50 == 0)
		rec.AddBool(checks, metrics.NewTags("check", "status 200"), i%50 != 0)
		rec.Add(data, nil, 1500)
	}
	rec.Add(vus, nil, 5)
	snap := reg.Snapshot()
	snap.Elapsed = 10 * time.Second

	ms, err := MetricsFromSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	th := []threshold.Result{
		{Metric: "http_req_duration", Expr: "p(95)<500", Measured: 23.75, HasData: true, OK: true},
		{Metric: "http_req_failed", Expr: "rate<0.01", Measured: 0.02, HasData: true, OK: false},
		{Metric: "detect_success", Expr: "rate>0.99", HasData: false, OK: false},
	}
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	return &Result{
		SchemaVersion: SchemaVersion, Tool: Tool{Name: "driftload", Version: "test"}, Test: "smoke",
		// What the harness always echoes, and one flag.
		Config: map[string]any{
			"vus": 5, "api_key": "[redacted]", "base_url": "http://127.0.0.1:8080", "executor": "constant-vus: 5 VUs for 10s",
			"time_scale": 1, "seed": 1, "run_id": "golden01", "thresholds": "built-in thresholds", "out": "smoke_test_results.json",
		},
		Target: Target{BaseURL: "http://127.0.0.1:8080"}, Share: "0:1", Start: start, End: start.Add(10 * time.Second), DurationSeconds: 10,
		Metrics: ms, Thresholds: ThresholdsFromResults(th), Checks: ChecksFromSnapshot(snap),
		ExitCode: 99,
		Run:      Run{Model: "closed", Valid: true, AchievedRate: 10, CPU: 0.05},
		Complete: true,
	}
}

func TestSummaryGolden(t *testing.T) {
	var buf bytes.Buffer
	r := sampleResult(t)
	err := WriteSummary(&buf, r, SummaryOptions{Description: "constant-vus: 5 VUs for 10s", ResultPath: "smoke_test_results.json",
		Verdict: []string{"no breaking point"}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.txt", buf.Bytes())
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("plain summary must not contain ANSI escapes")
	}
	buf.Reset()
	_ = WriteSummary(&buf, r, SummaryOptions{Color: true})
	if !strings.Contains(buf.String(), "\x1b[") {
		t.Error("coloured summary must contain ANSI escapes")
	}
}

func TestResultFileGoldenAndAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "smoke_test_results.json")
	r := sampleResult(t)
	if err := WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "result.json", got)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Metrics["http_req_duration"].Values["p(95)"] != r.Metrics["http_req_duration"].Values["p(95)"] {
		t.Fatal("round trip lost p(95)")
	}
	var raw map[string]any
	if err := json.Unmarshal(got, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"schema_version", "config", "target", "start", "end", "metrics", "thresholds", "checks", "aborted", "exit_code"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("result file lacks %q", key)
		}
	}
}

func TestResultHistogramsMergeExactly(t *testing.T) {
	r := sampleResult(t)
	h := r.Metrics["http_req_duration"]
	merged := metrics.NewSink(metrics.Trend)
	for _, s := range h.Series {
		sink, err := s.Histogram.Sink()
		if err != nil {
			t.Fatal(err)
		}
		merged.Merge(sink)
	}
	for _, k := range []string{"p(90)", "p(95)", "p(99)", "med", "avg", "min", "max"} {
		if got := merged.Values(0)[k]; got != h.Values[k] {
			t.Errorf("%s: merged series %g, whole %g", k, got, h.Values[k])
		}
	}
}

// A histogram that would not merge exactly with a Trend's is refused when
// read back: another HDR geometry (found by FuzzReadResult: it decoded, and
// merging re-bucketed or dropped its samples), another encoding or scale,
// min above max.
func TestHistogramSinkRefusesWhatWouldNotMergeExactly(t *testing.T) {
	good := *sampleResult(t).Metrics["http_req_duration"].Histogram
	if _, err := good.Sink(); err != nil {
		t.Fatalf("a trend's own histogram: %v", err)
	}
	geometry := func(lowest, highest int64, digits int, value int64) string {
		h := hdr.NewPacked(lowest, highest, digits)
		for range good.Count {
			if err := h.RecordValue(value); err != nil {
				t.Fatal(err)
			}
		}
		data, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	cases := []struct {
		name string
		edit func(h *Histogram)
		want string
	}{
		{"coarser precision", func(h *Histogram) { h.Data = geometry(1, 1000, 1, 500) }, "another range or precision"},
		{"wider range, samples a trend drops", func(h *Histogram) { h.Data = geometry(1, 1e12, 3, 1e10) }, "another range or precision"},
		{"finer precision", func(h *Histogram) { h.Data = geometry(1, 3_600_000_000, 4, 12345) }, "another range or precision"},
		{"other encoding", func(h *Histogram) { h.Encoding = "hdr-v1" }, "encoding"},
		{"other scale", func(h *Histogram) { h.Scale = 1 }, "scale"},
		{"min above max", func(h *Histogram) { h.Min, h.Max = h.Max, h.Min }, "min"},
		{"count not the histogram's", func(h *Histogram) { h.Count++ }, "samples"},
		{"corrupt data", func(h *Histogram) { h.Data = h.Data[:len(h.Data)-4] }, "decode histogram"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := good
			c.edit(&h)
			sink, err := h.Sink()
			if err == nil || sink != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Sink() = %v, %v; want an error containing %q", sink, err, c.want)
			}
		})
	}
}

// Decode reads what WriteFile writes; ReadFile names the file in its errors.
func TestDecodeAndReadFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(data)
	if err != nil || r.Test != "smoke" || r.Metrics["http_req_duration"].Histogram == nil {
		t.Fatalf("Decode(golden) = %+v, %v", r, err)
	}
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Fatalf("ReadFile(truncated) error = %v, want one naming %s", err, path)
	}
}

func TestWriteFileFailsWithAClearError(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "missing-dir", "r.json"), sampleResult(t))
	if err == nil || !strings.Contains(err.Error(), "write result file") {
		t.Fatalf("err = %v, want a write error naming the file", err)
	}
}

func TestFormatting(t *testing.T) {
	cases := map[string]string{
		FormatDuration(0.85):   "850µs",
		FormatDuration(12.345): "12.35ms",
		FormatDuration(1500):   "1.5s",
		FormatDuration(125000): "2m5s",
		FormatBytes(512):       "512 B",
		FormatBytes(1_234_567): "1.2 MB",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// An interval clock that ran more than half an interval late is said in
// the summary; within half an interval it is not.
func TestSummarySaysWhenTheIntervalClockRanLate(t *testing.T) {
	for _, tc := range []struct {
		lateMs float64
		want   bool
	}{{0, false}, {499, false}, {501, true}, {20000, true}} {
		r := sampleResult(t)
		r.Timeline = &Timeline{StepSeconds: 1}
		r.Run.IntervalClockLateMs = tc.lateMs
		var buf bytes.Buffer
		if err := WriteSummary(&buf, r, SummaryOptions{}); err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(buf.String(), "interval clock ran up to")
		if got != tc.want {
			t.Errorf("late %g ms: said %v, want %v\n%s", tc.lateMs, got, tc.want, buf.String())
		}
		if tc.lateMs == 20000 && !strings.Contains(buf.String(), "\n  LOAD\n    ! driftload's interval clock ran up to 20s late (intervals of 1s)") {
			t.Errorf("late 20 s: %s", buf.String())
		}
	}
}
