package threshold

import (
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// IntervalSinks answers, for one closed interval of the run, the samples a
// selector selects (merged over its series); ok is false when there are none.
type IntervalSinks func(sel Selector) (*metrics.Sink, bool)

// Windows evaluates the windowed thresholds ("over", "for") of a run from its
// intervals, as they close. Percentiles are exact per window: a window's
// Trend is the merge of its intervals' HDR histograms. Only the last
// intervals of each "over" window are kept, so memory does not grow with
// the run.
type Windows struct {
	step  time.Duration
	items []*windowed
}

// windowed is one windowed threshold's state.
type windowed struct {
	sel  Selector
	th   Threshold
	k    int // intervals per "over" window
	ring []*metrics.Sink
	durs []time.Duration
	res  WindowResult
	// "for": the current run of breached intervals, the longest one, and
	// the worst interval.
	streak, longest, worstIv span
	inStreak                 bool
	// end is the end of the last interval seen.
	end time.Duration
}

// WindowResult is what a windowed threshold measured.
type WindowResult struct {
	// Windows is how many windows (over) or intervals (for) were judged.
	Windows int
	// Effective is the window actually judged: a whole number of the run's
	// intervals, at least one.
	Effective time.Duration
	// Worst is the worst value seen (the highest for < and <=, the lowest
	// for > and >=), WorstStart..WorstEnd the window (or breach) it came from.
	Worst                float64
	WorstStart, WorstEnd time.Duration
	// Breached is true when a window failed (over) or a breach lasted the
	// window (for).
	Breached bool
	// BreachedAt is when the threshold first failed (end of the window).
	BreachedAt time.Duration
}

// NewWindows prepares the windowed thresholds of sets for intervals of step.
func NewWindows(sets []Set, step time.Duration) *Windows {
	w := &Windows{step: step}
	for _, s := range sets {
		for _, th := range s.Thresholds {
			if th.Expr.Mode == WholeRun {
				continue
			}
			k := max(1, int((th.Expr.Window+step/2)/step))
			w.items = append(w.items, &windowed{sel: s.Selector, th: th, k: k, res: WindowResult{Effective: time.Duration(k) * step}})
		}
	}
	return w
}

// Empty reports whether there is nothing to evaluate.
func (w *Windows) Empty() bool { return w == nil || len(w.items) == 0 }

// worse reports whether a is worse than b for the expression's direction.
func worse(e Expr, a, b float64) bool {
	switch e.Op {
	case OpGT, OpGE:
		return a < b
	}
	return a > b
}

// Observe takes one closed interval [start, end).
func (w *Windows) Observe(start, end time.Duration, sinks IntervalSinks) {
	if w == nil {
		return
	}
	for _, it := range w.items {
		sink, ok := sinks(it.sel)
		if ok {
			sink = sink.Clone()
		} else {
			sink = nil
		}
		it.end = end
		switch it.th.Expr.Mode {
		case WindowOver:
			it.ring = append(it.ring, sink)
			it.durs = append(it.durs, end-start)
			if len(it.ring) > it.k {
				it.ring, it.durs = it.ring[1:], it.durs[1:]
			}
			if len(it.ring) == it.k {
				it.judgeWindow()
			}
		case WindowFor:
			it.judgeInterval(start, end, sink)
		}
	}
}

// judgeWindow evaluates the full window held in the ring.
func (it *windowed) judgeWindow() {
	var merged *metrics.Sink
	var span time.Duration
	for i, s := range it.ring {
		span += it.durs[i]
		if s == nil {
			continue
		}
		if merged == nil {
			merged = s.Clone()
		} else {
			merged.Merge(s)
		}
	}
	if merged == nil {
		return
	}
	v, ok := merged.Stat(it.th.Expr.Stat.Name, it.th.Expr.Stat.P, span)
	if !ok {
		return
	}
	it.record(v, it.end-span, it.end, !it.th.Expr.Holds(v))
}

// judgeInterval evaluates one interval for a "for" threshold.
func (it *windowed) judgeInterval(start, end time.Duration, sink *metrics.Sink) {
	if sink == nil {
		it.inStreak = false
		return
	}
	v, ok := sink.Stat(it.th.Expr.Stat.Name, it.th.Expr.Stat.P, end-start)
	if !ok {
		it.inStreak = false
		return
	}
	it.res.Windows++
	if it.res.Windows == 1 || worse(it.th.Expr, v, it.worstIv.v) {
		it.worstIv = span{v, start, end}
	}
	if it.th.Expr.Holds(v) {
		it.inStreak = false
		return
	}
	if !it.inStreak {
		it.inStreak, it.streak = true, span{v, start, end}
	} else if worse(it.th.Expr, v, it.streak.v) {
		it.streak.v = v
	}
	it.streak.end = end
	if it.streak.end-it.streak.start > it.longest.end-it.longest.start {
		it.longest = it.streak
	}
	if !it.res.Breached && it.streak.end-it.streak.start >= it.th.Expr.Window {
		it.res.Breached, it.res.BreachedAt = true, end
	}
}

// span is a value and the stretch of the run it came from.
type span struct {
	v          float64
	start, end time.Duration
}

func (it *windowed) record(v float64, start, end time.Duration, failed bool) {
	it.res.Windows++
	if it.res.Windows == 1 || worse(it.th.Expr, v, it.res.Worst) {
		it.res.Worst, it.res.WorstStart, it.res.WorstEnd = v, start, end
	}
	if failed && !it.res.Breached {
		it.res.Breached, it.res.BreachedAt = true, end
	}
}

// Finish judges what the run left: an "over" threshold of a run shorter than
// its window is judged once, on the whole run.
func (w *Windows) Finish() {
	if w == nil {
		return
	}
	for _, it := range w.items {
		if it.th.Expr.Mode == WindowOver && it.res.Windows == 0 && len(it.ring) > 0 {
			it.judgeWindow()
		}
	}
}

// Breached returns the abortOnFail windowed thresholds that have failed, for
// the mid-run abort check (delayAbortEval counts from the run's start).
func (w *Windows) Breached(elapsed time.Duration) []Result {
	if w == nil {
		return nil
	}
	var out []Result
	for _, it := range w.items {
		if it.th.AbortOnFail && it.res.Breached && elapsed >= it.th.DelayAbortEval {
			out = append(out, it.result())
		}
	}
	return out
}

func (it *windowed) result() Result {
	has := it.res.Windows > 0
	r := Result{
		Metric: it.sel.Source, Expr: it.th.Expr.Source, Stat: it.th.Expr.Stat.String(),
		HasData: has, AbortOnFail: it.th.AbortOnFail, Window: &it.res,
		Mode: it.th.Expr.Mode, WindowLength: it.th.Expr.Window,
	}
	if it.th.Expr.Mode == WindowFor {
		// The worst of a "for" threshold is its longest breach, or the
		// worst interval when it never broke.
		w := it.worstIv
		if it.longest.end > 0 {
			w = it.longest
		}
		res := it.res
		res.Worst, res.WorstStart, res.WorstEnd = w.v, w.start, w.end
		r.Window = &res
	}
	r.Measured = r.Window.Worst
	r.OK = has && !it.res.Breached
	return r
}

// result returns the windowed result of th on sel, if it is windowed.
func (w *Windows) result(sel Selector, th Threshold) (Result, bool) {
	if w == nil {
		return Result{}, false
	}
	for _, it := range w.items {
		if it.sel.Source == sel.Source && it.th.Expr.Source == th.Expr.Source && it.th.Expr.Mode == th.Expr.Mode {
			return it.result(), true
		}
	}
	return Result{}, false
}
