package analysis

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// MaxInWindow returns the largest number of events within any window of
// length w (half-open [t, t+w)), events given as sorted or unsorted offsets.
// O(n log n). An empty input or w <= 0 gives 0. The input is not modified.
//
// A busiest window can always be slid right until it starts at an event
// without losing any, so only windows starting at events are counted.
func MaxInWindow(times []time.Duration, w time.Duration) int {
	if len(times) == 0 || w <= 0 {
		return 0
	}
	ts := slices.Clone(times)
	slices.Sort(ts)
	best, j := 0, 0
	for i, t := range ts {
		for j < len(ts) && ts[j]-t < w {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// LimitVerdict judges a rate limiter against the limit it advertises.
type LimitVerdict struct {
	// Expected is the advertised limit: requests allowed per window.
	Expected int `json:"expected"`
	// Observed is the most successes within any window (MaxInWindow).
	Observed int `json:"observed"`
	// Allowed and Limited count the successes and the 429s.
	Allowed int `json:"allowed"`
	Limited int `json:"limited"`
	// OverLimit: more got through than the limit in some window.
	OverLimit bool `json:"over_limit"`
	// EarlyLimited: a 429 came while fewer than Expected successes were in
	// the window ending at it.
	EarlyLimited bool `json:"early_limited"`
	// EarlyAt is the first such 429, EarlyCount the successes in the window
	// ending at it (both meaningful only when EarlyLimited).
	EarlyAt    time.Duration `json:"early_at_ns"`
	EarlyCount int           `json:"early_count"`
	// OK is neither over the limit nor limited early.
	OK bool `json:"ok"`
	// Reason is one sentence for a person.
	Reason string `json:"reason"`
}

// JudgeLimit judges a limiter from the times of successes and of 429s, the
// expected limit and window. The window ending at a 429 at t is (t-w, t] —
// the rolling window of a sliding-log limiter, where an accepted request at
// e still counts at now while now < e+w — so successes at the same instant
// as the 429 count against it. Offsets must come from one clock; client-side
// timestamps carry network jitter, which can move an event across a window
// edge.
func JudgeLimit(successes, limited []time.Duration, expected int, window time.Duration) LimitVerdict {
	v := LimitVerdict{
		Expected: expected,
		Observed: MaxInWindow(successes, window),
		Allowed:  len(successes),
		Limited:  len(limited),
	}
	if expected <= 0 || window <= 0 {
		v.Reason = fmt.Sprintf("no limit to judge against (limit %d per %s)", expected, window)
		return v
	}
	v.OverLimit = v.Observed > expected

	v.EarlyLimited, v.EarlyAt, v.EarlyCount = firstEarly(successes, limited, expected, window, 0)
	v.OK = !v.OverLimit && !v.EarlyLimited

	v.explain(window, v.Observed, fmtOffset)
	return v
}

// firstEarly finds the first 429 at t with fewer than expected successes
// in (t-before, t+after]: after > 0 counts the successes sent just after
// the 429 that the server may have seen before it.
func firstEarly(successes, limited []time.Duration, expected int, before, after time.Duration) (early bool, at time.Duration, count int) {
	ok := slices.Clone(successes)
	slices.Sort(ok)
	rej := slices.Clone(limited)
	slices.Sort(rej)
	for _, t := range rej {
		// Successes in (t-before, t+after]: those <= t+after minus those <= t-before.
		in := sort.Search(len(ok), func(i int) bool { return ok[i] > t+after }) -
			sort.Search(len(ok), func(i int) bool { return ok[i] > t-before })
		if in < expected {
			return true, t, in
		}
	}
	return false, 0, 0
}

// JudgeLimitWithin is JudgeLimit for offsets measured on the client: the
// server saw each request somewhere within its round trip, so two requests'
// server-side distance can differ from the client-side one by up to tol, the
// longest round trip (at most a quarter window is used). A verdict fails
// only when it holds for every placement: more than the limit within
// window − tol; a 429 with fewer than the limit from window + tol before
// it, counting those up to tol after it (sent later, maybe seen first).
// Observed stays the plain estimate.
func JudgeLimitWithin(successes, limited []time.Duration, expected int, window, tol time.Duration) LimitVerdict {
	v := JudgeLimit(successes, limited, expected, window)
	if expected <= 0 || window <= 0 {
		return v
	}
	tol = min(max(tol, 0), window/4)
	if tol == 0 {
		return v
	}
	surelyOver := MaxInWindow(successes, window-tol)
	v.OverLimit = surelyOver > expected
	v.EarlyLimited, v.EarlyAt, v.EarlyCount = firstEarly(successes, limited, expected, window+tol, tol)
	v.OK = !v.OverLimit && !v.EarlyLimited
	v.explain(window, surelyOver, func(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) })
	return v
}

// explain writes v.Reason; over is the count that proves OverLimit and at
// formats the early 429's offset.
func (v *LimitVerdict) explain(window time.Duration, over int, at func(time.Duration) string) {
	limit := fmt.Sprintf("%d per %s", v.Expected, window)
	switch {
	case v.OverLimit && v.EarlyLimited:
		v.Reason = fmt.Sprintf("limit %s not enforced consistently: %d succeeded within one window, yet a 429 at %s came with only %d in its window",
			limit, over, at(v.EarlyAt), v.EarlyCount)
	case v.OverLimit:
		v.Reason = fmt.Sprintf("over the limit: %d succeeded within one window, limit %s", over, limit)
	case v.EarlyLimited:
		v.Reason = fmt.Sprintf("limited early: 429 at %s with only %d successes in its window, limit %s", at(v.EarlyAt), v.EarlyCount, limit)
	case v.Limited == 0:
		v.Reason = fmt.Sprintf("limit %s respected: at most %d per window, no 429s", limit, v.Observed)
	default:
		v.Reason = fmt.Sprintf("limit %s enforced: at most %d per window, %d requests limited", limit, v.Observed, v.Limited)
	}
}
