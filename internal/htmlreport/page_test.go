package htmlreport

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/report"
)

// fixtures are result files of real runs (testdata/NAME.json): every test,
// stress in both models.
var fixtures = []string{"smoke", "load", "stress", "stress-open", "soak", "capacity", "ratelimit", "http"}

// variants are fixtures changed to show what no real fixture has: a file
// without a timeline (as written before it existed), and a windowed
// threshold with transport failures.
var variants = map[string]struct {
	fixture string
	change  func(*report.Result)
}{
	"smoke-no-timeline": {"smoke", func(r *report.Result) { r.Timeline = nil }},
	"smoke-windowed":    {"smoke", windowedWithTimeouts},
}

func windowedWithTimeouts(r *report.Result) {
	at := 2.0
	r.Thresholds = append(r.Thresholds, report.ThresholdResult{
		Metric: "http_req_duration", Expression: "p(99)<5 over 1s", Measured: 7.959, HasData: true,
		Window: &report.WindowVerdict{Mode: "over", Seconds: 1, EffectiveSeconds: 1, Windows: 22,
			Worst: 7.959, WorstStartSeconds: 2, WorstEndSeconds: 3, BreachedAtSeconds: &at},
	})
	r.Passed, r.ExitCode = false, 99
	for i := 10; i < 13; i++ {
		iv := &r.Timeline.Intervals[i]
		iv.Failures += 2
		iv.FailuresByStatus = map[string]int64{"0": 2}
		iv.FailuresByReason = map[string]int64{"timeout": 2}
	}
}

// cases are the fixtures and their variants, by name.
func cases() []string {
	out := append([]string(nil), fixtures...)
	for name := range variants {
		out = append(out, name)
	}
	slices.Sort(out[len(fixtures):])
	return out
}

// loadCase loads a fixture or a variant.
func loadCase(t testing.TB, name string) *report.Result {
	t.Helper()
	v, ok := variants[name]
	if !ok {
		return loadFixture(t, name)
	}
	r := loadFixture(t, v.fixture)
	v.change(r)
	return r
}

func loadFixture(t testing.TB, name string) *report.Result {
	t.Helper()
	r, err := report.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustBuild(t testing.TB, r *report.Result) *Page {
	t.Helper()
	p, err := Build(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// chartIDs lists a page's charts by section: "section: chart chart(empty)".
func chartIDs(p *Page) []string {
	var out []string
	for _, s := range p.Sections {
		line := s.ID + ":"
		for _, c := range s.Charts {
			line += " " + c.ID
			if c.Empty != "" {
				line += "(empty)"
			}
		}
		out = append(out, line)
	}
	return out
}

func TestEveryTestGetsItsOwnCharts(t *testing.T) {
	t.Parallel()
	// Only the stress fixture's target failed requests (503 beyond 30 in
	// flight, 1 % 500s); the others say no request failed.
	run := "timeline: latency rate failures(empty)"
	open := "timeline: latency latency-open rate failures(empty)"
	tests := []struct {
		fixture string
		want    []string
	}{
		{"smoke", []string{run}},
		{"load", []string{run}},
		{"http", []string{run}},
		{"stress", []string{"timeline: latency rate failures", "stress: stress-latency stress-errors"}},
		{"stress-open", []string{open, "stress: stress-latency stress-errors"}},
		{"soak", []string{run, "soak: soak-p95 soak-memory"}},
		{"capacity", []string{run, "capacity: capacity-streams capacity-probes"}},
		{"ratelimit", []string{run, "ratelimit: ratelimit-window"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			p := mustBuild(t, loadFixture(t, tt.fixture))
			if got := chartIDs(p); !slices.Equal(got, tt.want) {
				t.Errorf("sections\n got %q\nwant %q", got, tt.want)
			}
			for _, c := range p.Data.Charts {
				if len(c.Series) == 0 {
					t.Errorf("chart %s has no series", c.ID)
				}
				for _, s := range c.Series {
					if len(s.Values) != len(c.X) {
						t.Errorf("chart %s, series %s: %d values for %d x", c.ID, s.Label, len(s.Values), len(c.X))
					}
				}
				if !slices.IsSorted(c.X) {
					t.Errorf("chart %s: x not ascending: %v", c.ID, c.X)
				}
			}
		})
	}
}

// Schema-version-1 files written before the timeline existed still render:
// the charts that need it say so, the rest is drawn.
func TestFileWithoutTimelineStillRenders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		want    []string
		drawn   int
	}{
		{"smoke", []string{"timeline: latency(empty) rate(empty) failures(empty)"}, 0},
		{"soak", []string{"timeline: latency(empty) rate(empty) failures(empty)", "soak: soak-p95 soak-memory"}, 2},
		{"stress", []string{"timeline: latency(empty) rate(empty) failures(empty)", "stress: stress-latency stress-errors"}, 2},
		{"capacity", []string{"timeline: latency(empty) rate(empty) failures(empty)", "capacity: capacity-streams capacity-probes"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			r := loadFixture(t, tt.fixture)
			r.Timeline = nil
			p := mustBuild(t, r)
			if got := chartIDs(p); !slices.Equal(got, tt.want) {
				t.Errorf("sections\n got %q\nwant %q", got, tt.want)
			}
			if len(p.Data.Charts) != tt.drawn {
				t.Errorf("%d charts drawn, want %d", len(p.Data.Charts), tt.drawn)
			}
			var buf bytes.Buffer
			if err := Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), `<div class="empty">no timeline in this file</div>`) {
				t.Error("the page does not say the file has no timeline")
			}
		})
	}
}

func TestBuildRejectsWhatIsNotAResult(t *testing.T) {
	t.Parallel()
	for _, v := range []int{0, -1, report.SchemaVersion + 1} {
		_, err := Build(&report.Result{SchemaVersion: v})
		if !errors.Is(err, ErrNotResult) {
			t.Errorf("schema_version %d: err %v, want ErrNotResult", v, err)
		}
	}
	if _, err := Build(nil); !errors.Is(err, ErrNotResult) {
		t.Errorf("nil result: err %v, want ErrNotResult", err)
	}
}

// Everything from the file is text to the page: markup in any field is
// shown, never run.
func TestWriteEscapesEverythingFromTheFile(t *testing.T) {
	t.Parallel()
	const evil = `</script><script>alert(1)</script><img src=x onerror=alert(2)>`
	r := loadFixture(t, "smoke")
	r.Test = evil
	r.Target.BaseURL = evil
	r.Tool.Version = evil
	r.Config["evil"+evil] = evil
	r.Checks[0].Name = evil
	r.Thresholds[0].Metric = evil
	r.Thresholds[0].Expression = evil
	r.Verdict = evil
	r.AbortReason = evil
	r.Timeline.Intervals[3].FailuresByStatus = map[string]int64{evil: 1}
	r.Timeline.Intervals[3].Failures = 1
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "</script><script>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: text from the file was not escaped", bad)
		}
	}
	if got := strings.Count(page, "<script"); got != 3 {
		t.Errorf("%d <script elements, want 3 (data, uPlot, the page's own)", got)
	}
	if !strings.Contains(page, "&lt;/script&gt;&lt;script&gt;alert(1)") {
		t.Error("the escaped text is not shown")
	}
}

func TestThresholdsMeasuredAgainstTheirLimit(t *testing.T) {
	t.Parallel()
	breached := 12.0
	tests := []struct {
		name string
		in   report.ThresholdResult
		want ThresholdRow
	}{
		{"time trend", report.ThresholdResult{Metric: "http_req_duration", Expression: "p(99)<1200", Measured: 1279.999, HasData: true},
			ThresholdRow{Metric: "http_req_duration", Expression: "p(99)<1200", Measured: "1.28 s", Limit: "< 1.20 s", HasData: true}},
		{"rate", report.ThresholdResult{Metric: "http_req_failed", Expression: "rate<0.01", Measured: 0.02, HasData: true},
			ThresholdRow{Metric: "http_req_failed", Expression: "rate<0.01", Measured: "2.00 %", Limit: "< 1.00 %", HasData: true}},
		{"counter rate", report.ThresholdResult{Metric: "http_reqs", Expression: "rate>20", OK: true, Measured: 26.8268, HasData: true},
			ThresholdRow{Metric: "http_reqs", Expression: "rate>20", OK: true, Measured: "26.83/s", Limit: "> 20/s", HasData: true}},
		{"no data", report.ThresholdResult{Metric: "detect_latency", Expression: "p(95)<500"},
			ThresholdRow{Metric: "detect_latency", Expression: "p(95)<500", Measured: "no data", Limit: "< 500 ms"}},
		{"sub-metric", report.ThresholdResult{Metric: "http_req_duration{endpoint:detect}", Expression: "p(95)<500", OK: true, Measured: 12, HasData: true, AbortOnFail: true},
			ThresholdRow{Metric: "http_req_duration{endpoint:detect}", Expression: "p(95)<500", OK: true, Measured: "12.0 ms", Limit: "< 500 ms", HasData: true, AbortOnFail: true}},
		{"over a window", report.ThresholdResult{Metric: "http_req_duration", Expression: "p(99)<1000 over 10s", Measured: 4100, HasData: true,
			Window: &report.WindowVerdict{Mode: "over", Seconds: 10, EffectiveSeconds: 10, Windows: 21, Worst: 4100, WorstStartSeconds: 10, WorstEndSeconds: 20, BreachedAtSeconds: &breached}},
			ThresholdRow{Metric: "http_req_duration", Expression: "p(99)<1000 over 10s", Measured: "4.10 s", Limit: "< 1.00 s", HasData: true,
				Window: "over 10 s: worst window 4.10 s at 0:10–0:20 of 21 windows; first breached at 0:12"}},
		{"for a window", report.ThresholdResult{Metric: "http_req_failed", Expression: "rate<0.01 for 30s", OK: true, Measured: 0.2, HasData: true,
			Window: &report.WindowVerdict{Mode: "for", Seconds: 30, EffectiveSeconds: 30, Windows: 60, Worst: 0.2, WorstStartSeconds: 40, WorstEndSeconds: 55}},
			ThresholdRow{Metric: "http_req_failed", Expression: "rate<0.01 for 30s", OK: true, Measured: "20.00 %", Limit: "< 1.00 %", HasData: true,
				Window: "for 30 s: longest breach 0:40–0:55 (20.00 %) of 60 intervals"}},
	}
	r := loadFixture(t, "soak")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := *r
			r.Thresholds = []report.ThresholdResult{tt.in}
			got := thresholdRows(&r)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The endpoint table totals each endpoint's series: its requests add up to
// http_reqs, its percentiles come from the merged histograms.
func TestEndpointRowsAddUpToTheRun(t *testing.T) {
	t.Parallel()
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := loadFixture(t, name)
			rows, err := endpointRows(r)
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, row := range rows {
				total += row.Requests
			}
			if want := int64(r.Metrics["http_reqs"].Values["count"]); total != want {
				t.Errorf("endpoints add up to %d requests, http_reqs counted %d", total, want)
			}
		})
	}
	rows, _ := endpointRows(loadFixture(t, "soak"))
	want := []EndpointRow{
		{Name: "detect", Requests: 4833, ErrorRate: "0 %", Avg: "116 ms", P50: "31.4 ms", P95: "533 ms", P99: "1.28 s", Max: "3.89 s"},
		{Name: "healthz", Requests: 50, ErrorRate: "0 %", Avg: "30.7 ms", P50: "0.19 ms", P95: "161 ms", P99: "226 ms", Max: "226 ms"},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("soak endpoints\n got %+v\nwant %+v", rows, want)
	}
}

// A soak's timeline intervals are its analysis intervals, whose p95 the
// test computed from the same samples: the page's percentiles, decoded from
// the file's histograms, must be the same numbers.
func TestTimelinePercentilesMatchTheTestsOwn(t *testing.T) {
	t.Parallel()
	r := loadFixture(t, "soak")
	p := mustBuild(t, r)
	var lat *Chart
	for _, c := range p.Data.Charts {
		if c.ID == "latency" {
			lat = c
		}
	}
	var a soakAnalysis
	if lat == nil || !(&builder{r: r}).analysisAs(&a) {
		t.Fatal("no latency chart or soak analysis")
	}
	if len(a.Intervals) != len(lat.X) {
		t.Fatalf("%d analysis intervals, %d timeline points", len(a.Intervals), len(lat.X))
	}
	p95 := lat.Series[1]
	for i, row := range a.Intervals {
		if row.HTTPP95Ms == nil {
			continue
		}
		if got := p95.Values[i]; math.Abs(got-*row.HTTPP95Ms) > 1e-9 {
			t.Errorf("interval %d: page p95 %g ms, soak analysis %g ms", i, got, *row.HTTPP95Ms)
		}
	}
}

func TestCoarsenSparseTimelines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		n           int
		perInterval int64
		want        int
	}{
		{"dense stays", 120, 50, 120},
		{"short stays", 39, 0, 39},
		{"no requests stays", 100, 0, 100},
		{"one request in two intervals", 63, 0, 21}, // every other interval has one
		{"sparse, bounded by minBuckets", 120, 1, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ivs := make([]*interval, tt.n)
			var reqs int64
			for i := range ivs {
				n := tt.perInterval
				if tt.name == "one request in two intervals" && i%2 == 0 {
					n = 1
				}
				reqs += n
				ivs[i] = &interval{TimelineInterval: report.TimelineInterval{StartSeconds: float64(i), EndSeconds: float64(i + 1), Requests: n, Iterations: n, VUs: i}}
			}
			got := coarsen(ivs)
			if len(got) != tt.want {
				t.Fatalf("%d buckets, want %d", len(got), tt.want)
			}
			var sum int64
			for _, b := range got {
				sum += b.Requests
			}
			if sum != reqs {
				t.Errorf("buckets hold %d requests, the intervals %d", sum, reqs)
			}
			last := got[len(got)-1]
			if last.EndSeconds != float64(tt.n) || last.VUs != tt.n-1 {
				t.Errorf("last bucket ends at %g with %d VUs, want %d and %d", last.EndSeconds, last.VUs, tt.n, tt.n-1)
			}
		})
	}
}

func TestVerdictBanner(t *testing.T) {
	t.Parallel()
	failed := []report.ThresholdResult{{OK: true}, {OK: false}, {OK: false}}
	tests := []struct {
		name     string
		r        report.Result
		passed   bool
		headline string
		reasons  int
	}{
		{"passed", report.Result{Complete: true, Passed: true, Thresholds: failed[:1]}, true, "PASSED — all 1 thresholds passed", 0},
		{"thresholds failed", report.Result{Complete: true, ExitCode: 99, Thresholds: failed}, false, "FAILED — 2 of 3 thresholds failed", 0},
		{"verdict failed", report.Result{Complete: true, ExitCode: 99, Verdict: "p95 latency grew 80%", Thresholds: failed[:1]}, false, "FAILED", 1},
		{"invalid run", report.Result{Complete: true, ExitCode: 110, Run: report.Run{InvalidReasons: []string{"a", "b"}}}, false, "INVALID RUN", 2},
		{"interrupted", report.Result{Complete: true, ExitCode: 105, Interrupted: true, Aborted: true, AbortReason: "interrupted by signal"}, false, "INTERRUPTED", 1},
		{"checkpoint", report.Result{Complete: false, Passed: true}, false, "INCOMPLETE — a checkpoint written during the run", 1},
		{"passed but exit code not 0", report.Result{Complete: true, Passed: true, ExitCode: 1}, false, "FAILED", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verdictOf(&tt.r)
			if v.Passed != tt.passed || v.Headline != tt.headline || len(v.Reasons) != tt.reasons {
				t.Errorf("got passed=%v %q reasons %q; want passed=%v %q with %d reasons", v.Passed, v.Headline, v.Reasons, tt.passed, tt.headline, tt.reasons)
			}
			if v.ExitMeaning == "" {
				t.Error("no meaning for the exit code")
			}
		})
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	t.Parallel()
	r := loadFixture(t, "smoke")
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.html")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) {
		t.Errorf("the link's target holds %.40q, want the page", data)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced instead of followed")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the directory, want 2 (no temporary file left)", len(entries))
	}
	if err := WriteFile(dir, r); err == nil {
		t.Error("writing over a directory succeeded")
	}
	if err := WriteFile(filepath.Join(dir, "missing", "r.html"), r); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if err := WriteFile(os.DevNull, r); err != nil {
		t.Errorf("writing through %s: %v", os.DevNull, err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Errorf("%s was replaced by a file", os.DevNull)
	}
}
