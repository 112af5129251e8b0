package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/fatih/color"
)

// SummaryOptions tune the terminal summary.
type SummaryOptions struct {
	// Color turns on ANSI colours (off for files, pipes and NO_COLOR).
	Color bool
	// Description is the executor's one-line description.
	Description string
	// Verdict holds the test's own findings, one line each.
	Verdict []string
	// ResultPath is where the result file was written ("" when it was not).
	ResultPath string
	// Notes are extra lines printed at the end (e.g. a write error).
	Notes []string
	// Compact leaves out the checks and the metric table (--quiet).
	Compact bool
}

// Palette colours terminal output: verdict marks, faint detail, headings.
// Every terminal table of driftload (summary, compare, suite) uses it.
type Palette struct {
	OK, Bad, Dim, Bold func(a ...any) string
}

// NewPalette returns the palette, with ANSI colours when on.
func NewPalette(on bool) Palette {
	mk := func(attrs ...color.Attribute) func(a ...any) string {
		c := color.New(attrs...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c.Sprint
	}
	return Palette{OK: mk(color.FgGreen), Bad: mk(color.FgRed), Dim: mk(color.Faint), Bold: mk(color.Bold)}
}

func newPalette(on bool) Palette { return NewPalette(on) }

const dotsWidth = 34

func dotted(name string) string {
	if len(name) >= dotsWidth {
		return name + " "
	}
	return name + " " + strings.Repeat(".", dotsWidth-len(name)-1)
}

// WriteSummary prints the k6-like end-of-test summary of r.
func WriteSummary(w io.Writer, r *Result, opts SummaryOptions) error {
	p := newPalette(opts.Color)
	var b strings.Builder
	target := r.Target.BaseURL
	if r.Target.Embedded {
		target += " (embedded reference server)"
	}
	fmt.Fprintf(&b, "\n  %s  ·  target %s\n", p.Bold("driftload "+r.Test), target)
	if opts.Description != "" {
		fmt.Fprintf(&b, "  %s  ·  ran %s\n", opts.Description, FormatDuration(r.DurationSeconds*1000))
	}

	if len(r.Checks) > 0 && !opts.Compact {
		fmt.Fprintf(&b, "\n  %s\n", p.Bold("CHECKS"))
		for _, c := range r.Checks {
			mark := p.OK("✓")
			if c.Fails > 0 {
				mark = p.Bad("✗")
			}
			total := c.Passes + c.Fails
			fmt.Fprintf(&b, "    %s %s %6.2f%%  ✓ %d  ✗ %d\n", mark, dotted(c.Name), pct(c.Passes, total), c.Passes, c.Fails)
		}
	}

	names := make([]string, 0, len(r.Metrics))
	for name := range r.Metrics {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 0 && !opts.Compact {
		fmt.Fprintf(&b, "\n  %s\n", p.Bold("METRICS"))
	}
	for _, name := range names {
		if opts.Compact {
			break
		}
		m := r.Metrics[name]
		label := name
		indent := "    "
		if i := strings.IndexByte(name, '{'); i >= 0 {
			label = "  " + name[i:]
			indent = "    "
		}
		fmt.Fprintf(&b, "%s%s: %s\n", indent, dotted(label), metricLine(m))
	}

	if len(r.Thresholds) > 0 {
		fmt.Fprintf(&b, "\n  %s\n", p.Bold("THRESHOLDS"))
		for _, t := range r.Thresholds {
			mark := p.OK("✓")
			if !t.OK {
				mark = p.Bad("✗")
			}
			measured := "no data"
			switch {
			case t.HasData && t.Window != nil:
				measured = windowLine(t, formatMeasured(r.Metrics[t.Metric], t.Expression, t.Measured))
			case t.HasData:
				measured = "measured " + formatMeasured(r.Metrics[t.Metric], t.Expression, t.Measured)
			}
			fmt.Fprintf(&b, "    %s %s %-14s %s\n", mark, dotted(t.Metric), t.Expression, p.Dim(measured))
		}
	}

	clockLate := r.Timeline != nil && r.Timeline.StepSeconds > 0 && r.Run.IntervalClockLateMs > 500*r.Timeline.StepSeconds
	if r.Run.Model == "open" || clockLate {
		fmt.Fprintf(&b, "\n  %s\n", p.Bold("LOAD"))
	}
	if clockLate {
		fmt.Fprintf(&b, "    %s driftload's interval clock ran up to %s late (intervals of %s): driftload was short of CPU, so its timings may include time its VUs waited to run (run fewer VUs a process, or split the run with --segment)\n",
			p.Bad("!"), FormatDuration(r.Run.IntervalClockLateMs), FormatDuration(1000*r.Timeline.StepSeconds))
	}
	if r.Run.Model == "open" {
		fmt.Fprintf(&b, "    open model: offered %s it/s, achieved %s it/s; %d dropped; scheduler late p99 %s; driftload CPU %.0f%%\n",
			trimFloat(round(r.Run.OfferedRate, 2)), trimFloat(round(r.Run.AchievedRate, 2)), r.Run.DroppedIterations,
			FormatDuration(r.Run.SchedulerLateP99Ms), 100*r.Run.CPU)
		if lat, dur := r.Metrics["http_req_latency"], r.Metrics["http_req_duration"]; lat != nil && dur != nil {
			fmt.Fprintf(&b, "    latency from intended start p50 %s p99 %s  vs  service time (http_req_duration) p50 %s p99 %s\n",
				FormatDuration(lat.Values["med"]), FormatDuration(lat.Values["p(99)"]), FormatDuration(dur.Values["med"]), FormatDuration(dur.Values["p(99)"]))
		}
	}
	if f := r.Failures; f != nil && len(f.ByReason) > 0 {
		fmt.Fprintf(&b, "\n  %s\n    %s\n", p.Bold("FAILURES"), "by reason: "+formatCounts(f.ByReason))
	}
	if r.Run.TargetSaturated {
		fmt.Fprintf(&b, "    %s\n", r.Run.SaturationReason)
	}
	for _, reason := range r.Run.InvalidReasons {
		fmt.Fprintf(&b, "    %s %s\n", p.Bad("✗ invalid run:"), reason)
	}

	if len(opts.Verdict) > 0 {
		fmt.Fprintf(&b, "\n  %s\n", p.Bold("VERDICT"))
		for _, line := range opts.Verdict {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}

	fmt.Fprintln(&b)
	failed := 0
	for _, t := range r.Thresholds {
		if !t.OK {
			failed++
		}
	}
	var status string
	switch {
	case r.Interrupted:
		status = p.Bad("✗ INTERRUPTED") + fmt.Sprintf(" — %s", r.AbortReason)
	case r.Aborted:
		status = p.Bad("✗ ABORTED") + fmt.Sprintf(" — %s", r.AbortReason)
	case r.Run.Model != "" && !r.Run.Valid:
		status = p.Bad("✗ INVALID RUN") + " — driftload could not generate the load asked for; its numbers understate what users would see"

	case failed > 0:
		status = p.Bad("✗ FAILED") + fmt.Sprintf(" — %d of %d thresholds failed", failed, len(r.Thresholds))
		if r.Verdict != "" {
			status += "; " + r.Verdict
		}
	case r.Verdict != "":
		status = p.Bad("✗ FAILED") + " — " + r.Verdict
	default:
		status = p.OK("✓ PASSED") + fmt.Sprintf(" — all %d thresholds passed", len(r.Thresholds))
	}
	fmt.Fprintf(&b, "  %s (exit %d)\n", status, r.ExitCode)
	if opts.ResultPath != "" {
		fmt.Fprintf(&b, "  result written to %s\n", opts.ResultPath)
	}
	for _, n := range opts.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

func metricLine(m *MetricResult) string {
	v := m.Values
	switch m.Type {
	case "trend":
		f := func(x float64) string { return formatValue(m.Contains, x) }
		return fmt.Sprintf("avg=%s min=%s med=%s max=%s p(90)=%s p(95)=%s p(99)=%s",
			f(v["avg"]), f(v["min"]), f(v["med"]), f(v["max"]), f(v["p(90)"]), f(v["p(95)"]), f(v["p(99)"]))
	case "rate":
		return fmt.Sprintf("%.2f%%  ✓ %d  ✗ %d", 100*v["rate"], int64(v["passes"]), int64(v["fails"]))
	case "counter":
		if m.Contains == "data" {
			return fmt.Sprintf("%s  %s/s", FormatBytes(v["count"]), FormatBytes(v["rate"]))
		}
		return fmt.Sprintf("%s  %s/s", trimFloat(v["count"]), trimFloat(round(v["rate"], 2)))
	case "gauge":
		return fmt.Sprintf("%s  min=%s max=%s", trimFloat(v["value"]), trimFloat(v["min"]), trimFloat(v["max"]))
	}
	return ""
}

// formatMeasured renders a threshold's measured value in the metric's unit.
// formatCounts renders "timeout ×12, connection refused ×3", most first.
func formatCounts(counts map[string]int64) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// windowLine describes a windowed threshold's worst window: "worst 1m
// window 2.1s (0:40–1:40)" or "breached 25s in a row at 0:40–1:05, worst
// 3.2%".
func windowLine(t ThresholdResult, worst string) string {
	w := t.Window
	when := fmtOffset(w.WorstStartSeconds) + "–" + fmtOffset(w.WorstEndSeconds)
	if w.Mode == "for" {
		if w.WorstEndSeconds > w.WorstStartSeconds && !t.OK || w.BreachedAtSeconds != nil {
			return fmt.Sprintf("breached %s in a row (%s), worst %s", fmtOffset(w.WorstEndSeconds-w.WorstStartSeconds), when, worst)
		}
		return fmt.Sprintf("never breached for %s; worst interval %s (%s)", fmtOffset(w.Seconds), worst, when)
	}
	return fmt.Sprintf("worst %s window %s (%s), %d windows", fmtOffset(w.EffectiveSeconds), worst, when, w.Windows)
}

// fmtOffset renders seconds from the run start: "45s", "1m40s", "0.5s".
func fmtOffset(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	if d >= time.Second {
		d = d.Round(time.Second)
	} else {
		d = d.Round(10 * time.Millisecond)
	}
	return d.String()
}

// FormatMeasuredAs renders a threshold's measured value as the summary does,
// for a metric of type typ ("trend", "rate", ...) holding contains ("time",
// "data", "default").
func FormatMeasuredAs(typ, contains, expr string, x float64) string {
	return formatMeasured(&MetricResult{Type: typ, Contains: contains}, expr, x)
}

func formatMeasured(m *MetricResult, expr string, x float64) string {
	if m == nil {
		return trimFloat(round(x, 4))
	}
	stat, _, _ := strings.Cut(expr, "<")
	switch {
	case m.Type == "trend" && !strings.HasPrefix(strings.TrimSpace(stat), "count"):
		return formatValue(m.Contains, x)
	case m.Type == "rate":
		return fmt.Sprintf("%.2f%%", 100*x)
	}
	return trimFloat(round(x, 4))
}

func formatValue(contains string, x float64) string {
	switch contains {
	case "time":
		return FormatDuration(x)
	case "data":
		return FormatBytes(x)
	}
	return trimFloat(round(x, 3))
}

// FormatDuration renders milliseconds like k6: "850µs", "12.34ms", "1.5s", "2m3s".
func FormatDuration(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return trimFloat(round(ms*1000, 2)) + "µs"
	case d < time.Second:
		return trimFloat(round(ms, 2)) + "ms"
	case d < time.Minute:
		return trimFloat(round(ms/1000, 2)) + "s"
	}
	return d.Round(time.Second).String()
}

// FormatBytes renders a byte count with decimal units: "512 B", "1.2 kB", "3.4 MB".
func FormatBytes(n float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	return trimFloat(round(n, 1)) + " " + units[i]
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func trimFloat(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", x), "0"), ".")
}
