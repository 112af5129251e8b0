package report

// The summary's formatting, for other renderings of a result (CI outputs):
// a value reads the same in the terminal, a JUnit report and a markdown
// summary.

// FormatMeasured renders what threshold t measured in its metric's unit, as
// the summary shows it: "1.13s", "2.00%", "42". For a windowed threshold it
// is the worst window's value. It says nothing of whether t has data.
func FormatMeasured(r *Result, t ThresholdResult) string {
	return formatMeasured(r.Metrics[t.Metric], t.Expression, t.Measured)
}

// FormatWindow describes a windowed threshold's worst window as the summary
// does: "worst 10s window 2.1s (40s–50s), 6 windows", or "breached 25s in a
// row (40s–1m5s), worst 3.2%". It is "" for a threshold without a window.
func FormatWindow(r *Result, t ThresholdResult) string {
	if t.Window == nil {
		return ""
	}
	return windowLine(t, FormatMeasured(r, t))
}

// FormatThresholdMeasured is the summary's account of a threshold: "no
// data", "measured 1.13s" or, windowed, FormatWindow's line.
func FormatThresholdMeasured(r *Result, t ThresholdResult) string {
	switch {
	case !t.HasData:
		return "no data"
	case t.Window != nil:
		return FormatWindow(r, t)
	}
	return "measured " + FormatMeasured(r, t)
}
