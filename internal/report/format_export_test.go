package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The exported formatters say what the summary says.
func TestFormatThresholdMeasured(t *testing.T) {
	at := 12.0
	r := &Result{Metrics: map[string]*MetricResult{
		"http_req_duration": {Type: "trend", Contains: "time"},
		"http_req_failed":   {Type: "rate"},
		"http_reqs":         {Type: "counter"},
	}}
	tests := []struct {
		name     string
		t        ThresholdResult
		measured string
		window   string
		line     string
	}{
		{"trend", ThresholdResult{Metric: "http_req_duration", Expression: "p(95)<400", Measured: 1130, HasData: true},
			"1.13s", "", "measured 1.13s"},
		{"rate", ThresholdResult{Metric: "http_req_failed", Expression: "rate<0.01", Measured: 0.0234, HasData: true},
			"2.34%", "", "measured 2.34%"},
		{"counter", ThresholdResult{Metric: "http_reqs", Expression: "rate>20", Measured: 26.82677, HasData: true},
			"26.8268", "", "measured 26.8268"},
		{"unknown metric", ThresholdResult{Metric: "gone", Expression: "value<1", Measured: 0.5, HasData: true},
			"0.5", "", "measured 0.5"},
		{"no data", ThresholdResult{Metric: "http_req_duration{endpoint:detect}", Expression: "p(95)<800"},
			"0", "", "no data"},
		{"windowed", ThresholdResult{Metric: "http_req_duration", Expression: "p(99)<1000 over 10s", Measured: 5123.4, HasData: true,
			Window: &WindowVerdict{Mode: "over", Seconds: 10, EffectiveSeconds: 10, Windows: 51, Worst: 5123.4, WorstStartSeconds: 8, WorstEndSeconds: 18, BreachedAtSeconds: &at}},
			"5.12s", "worst 10s window 5.12s (8s–18s), 51 windows", "worst 10s window 5.12s (8s–18s), 51 windows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatMeasured(r, tt.t); got != tt.measured {
				t.Errorf("FormatMeasured = %q, want %q", got, tt.measured)
			}
			if got := FormatWindow(r, tt.t); got != tt.window {
				t.Errorf("FormatWindow = %q, want %q", got, tt.window)
			}
			if got := FormatThresholdMeasured(r, tt.t); got != tt.line {
				t.Errorf("FormatThresholdMeasured = %q, want %q", got, tt.line)
			}
			var sum strings.Builder
			r.Thresholds = []ThresholdResult{tt.t}
			if err := WriteSummary(&sum, r, SummaryOptions{}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sum.String(), tt.line) {
				t.Errorf("the summary does not say %q:\n%s", tt.line, sum.String())
			}
		})
	}
}

// WriteFileAtomic writes as WriteFile does: a regular file replaced whole
// with no temporary file left, a device written through.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.xml")
	for _, content := range []string{strings.Repeat("first ", 1000), "second\n"} {
		if err := WriteFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("file holds %q, want %q", got, content)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
	if err := WriteFileAtomic(dir, []byte("x")); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("over a directory: %v, want is a directory", err)
	}
	if err := WriteFileAtomic("/dev/null", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", fi.Mode(), err)
	}
}
