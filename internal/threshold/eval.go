package threshold

import "time"

// Measurer supplies measured values.
type Measurer interface {
	// Measure returns the statistic over the samples sel selects; ok=false
	// means the metric (or sub-metric) has no samples.
	Measure(sel Selector, stat Stat) (value float64, ok bool)
}

// Result is the outcome of one threshold.
type Result struct {
	// Metric is the selector source, e.g. http_req_duration{endpoint:detect}.
	Metric string
	// Expr is the expression as written.
	Expr string
	// Stat is the statistic, e.g. "p(95)".
	Stat string
	// Measured is the statistic's value; meaningful only when HasData.
	Measured float64
	// HasData is false when the selector matched no samples.
	HasData bool
	// OK is true when there was data and the expression held.
	OK bool
	// AbortOnFail is copied from the threshold.
	AbortOnFail bool
	// Window is set for a windowed threshold: Measured is then its worst
	// window's value; Mode and WindowLength are the window as written.
	Window       *WindowResult
	Mode         WindowMode
	WindowLength time.Duration
}

func evaluate(sel Selector, th Threshold, m Measurer) Result {
	v, ok := m.Measure(sel, th.Expr.Stat)
	return Result{
		Metric:      sel.Source,
		Expr:        th.Expr.Source,
		Stat:        th.Expr.Stat.String(),
		Measured:    v,
		HasData:     ok,
		OK:          ok && th.Expr.Holds(v),
		AbortOnFail: th.AbortOnFail,
	}
}

// Evaluate checks every threshold, in order: whole-run thresholds against m,
// windowed ones from w (nil: none were observed, so they have no data). A
// threshold whose selector matched no samples is not OK (HasData=false): a
// threshold that measured nothing proved nothing.
func Evaluate(sets []Set, m Measurer, w *Windows) []Result {
	var out []Result
	for _, set := range sets {
		for _, th := range set.Thresholds {
			if th.Expr.Mode != WholeRun {
				r, ok := w.result(set.Selector, th)
				if !ok {
					r = Result{Metric: set.Selector.Source, Expr: th.Expr.Source, Stat: th.Expr.Stat.String(), AbortOnFail: th.AbortOnFail, Mode: th.Expr.Mode, WindowLength: th.Expr.Window}
				}
				out = append(out, r)
				continue
			}
			out = append(out, evaluate(set.Selector, th, m))
		}
	}
	return out
}

// AbortCheck is the mid-run check: it returns the abortOnFail thresholds whose
// delayAbortEval has passed (elapsed >= delay) and that fail now. A threshold
// without data is skipped here rather than reported: early in a run, or for a
// sub-metric that has not been hit yet, "no samples so far" is not a reason to
// stop the run. The final Evaluate still fails it.
func AbortCheck(sets []Set, m Measurer, elapsed time.Duration) []Result {
	var out []Result
	for _, set := range sets {
		for _, th := range set.Thresholds {
			if !th.AbortOnFail || elapsed < th.DelayAbortEval || th.Expr.Mode != WholeRun {
				continue
			}
			if r := evaluate(set.Selector, th, m); r.HasData && !r.OK {
				out = append(out, r)
			}
		}
	}
	return out
}

// Failed reports whether any result is not OK.
func Failed(results []Result) bool {
	for _, r := range results {
		if !r.OK {
			return true
		}
	}
	return false
}
