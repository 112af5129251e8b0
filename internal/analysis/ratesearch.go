package analysis

import (
	"fmt"
	"math"
	"strings"
)

// RateLevel is one offered arrival rate held during a max-rate search and
// how the target fared at it.
type RateLevel struct {
	// Offered and Achieved are iterations per second: scheduled and completed.
	Offered  float64 `json:"offered_rate"`
	Achieved float64 `json:"achieved_rate"`
	// P95 and P99 are http_req_latency (from the intended start) over the
	// whole level, in ms; ErrorRate the share of failed requests.
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
	ErrorRate float64 `json:"error_rate"`
	Requests  int64   `json:"requests"`
	// StartSeconds and EndSeconds place the level in the run.
	StartSeconds float64 `json:"start_seconds"`
	EndSeconds   float64 `json:"end_seconds"`
	// Verdict is "pass", "fail" (a signal failed: the target could not
	// sustain the rate) or "invalid" (driftload itself could not offer it).
	Verdict string `json:"verdict"`
	// Signals are the failed signals ("achieved 87 of 100 it/s",
	// "p(95)<1000 of http_req_latency: measured 1.3s"), or why the level is
	// invalid.
	Signals []string `json:"signals,omitempty"`
}

// The Verdict values of RateLevel.
const (
	LevelPass    = "pass"
	LevelFail    = "fail"
	LevelInvalid = "invalid"
)

// RateSearchOptions bound a max-rate search.
type RateSearchOptions struct {
	// Start is the first rate; Max the highest the search may offer.
	Start, Max float64
	// MaxLevels caps how many levels are held.
	MaxLevels int
	// Precision ends the bisection once (fail − pass) / fail is at most this
	// (default 0.05: the answer within 5 %).
	Precision float64
}

// RateSearch steps the offered rate up (doubling from Start) until a level
// fails — or down (halving) when Start already fails — then bisects between
// the last passing and the first failing level.
// It is the search's state and its report.
type RateSearch struct {
	Levels []RateLevel `json:"levels"`
	// MaxSustainableRate is the highest passing level (0: none passed);
	// BandLow..BandHigh the last passing and first failing level around it.
	MaxSustainableRate float64 `json:"max_sustainable_rate"`
	BandLow            float64 `json:"band_low"`
	BandHigh           float64 `json:"band_high,omitempty"`
	// FirstSignal is what failed first at BandHigh.
	FirstSignal string `json:"first_failed_signal,omitempty"`
	// Saturated says whose limit ended the search: "target" (achieved fell
	// short of offered while the target answered, latency climbing) or
	// "driftload" (its own scheduler or CPU could not keep the rate: the
	// target is not blamed), "" otherwise.
	Saturated string `json:"saturated,omitempty"`
	// Stopped says why the search ended.
	Stopped string `json:"stopped"`

	opts RateSearchOptions
	done bool
}

// NewRateSearch starts a search.
func NewRateSearch(opts RateSearchOptions) *RateSearch {
	if !(opts.Start > 0) {
		opts.Start = 10
	}
	if !(opts.Max >= opts.Start) {
		opts.Max = math.Max(opts.Start, 10000)
	}
	if opts.MaxLevels <= 0 {
		opts.MaxLevels = 12
	}
	if !(opts.Precision > 0) {
		opts.Precision = 0.05
	}
	return &RateSearch{opts: opts}
}

// Next returns the next rate to hold, or done.
func (s *RateSearch) Next() (rate float64, done bool) {
	if s.done {
		return 0, true
	}
	if len(s.Levels) >= s.opts.MaxLevels {
		s.finish(fmt.Sprintf("level cap: %d levels held", len(s.Levels)))
		return 0, true
	}
	if len(s.Levels) == 0 {
		return s.opts.Start, false
	}
	if s.BandHigh == 0 { // still stepping up
		next := math.Min(s.BandLow*2, s.opts.Max)
		if next <= s.BandLow {
			s.finish(fmt.Sprintf("every level up to the maximum of %s passed", fmtRate(s.opts.Max)))
			return 0, true
		}
		return roundRate(next), false
	}
	if s.BandLow == 0 { // the start already failed: step down
		next := roundRate(s.BandHigh / 2)
		if next < 0.5 {
			s.finish(fmt.Sprintf("no rate down to %s meets the thresholds", fmtRate(s.BandHigh)))
			return 0, true
		}
		return next, false
	}
	if (s.BandHigh-s.BandLow)/s.BandHigh <= s.opts.Precision {
		s.finish(fmt.Sprintf("band %s–%s is within %.0f%%", fmtRate(s.BandLow), fmtRate(s.BandHigh), s.opts.Precision*100))
		return 0, true
	}
	mid := roundRate((s.BandLow + s.BandHigh) / 2)
	if mid <= s.BandLow || mid >= s.BandHigh {
		s.finish(fmt.Sprintf("band %s–%s cannot be split further", fmtRate(s.BandLow), fmtRate(s.BandHigh)))
		return 0, true
	}
	return mid, false
}

// Record takes the outcome of the level just held.
func (s *RateSearch) Record(l RateLevel) {
	s.Levels = append(s.Levels, l)
	switch l.Verdict {
	case LevelPass:
		if l.Offered > s.BandLow {
			s.BandLow = l.Offered
			s.MaxSustainableRate = l.Offered
		}
	case LevelFail:
		if s.BandHigh == 0 || l.Offered < s.BandHigh {
			s.BandHigh = l.Offered
			if len(l.Signals) > 0 {
				s.FirstSignal = l.Signals[0]
			}
			s.Saturated = ""
			if l.Achieved < 0.99*l.Offered && l.ErrorRate < 0.01 {
				s.Saturated = "target"
			}
		}
	case LevelInvalid:
		s.Saturated = "driftload"
		s.finish(fmt.Sprintf("driftload could not offer %s (%s): raise --max-vus, give driftload more CPU, or spread the load over machines", fmtRate(l.Offered), strings.Join(l.Signals, "; ")))
	}
}

func (s *RateSearch) finish(why string) {
	if !s.done {
		s.done, s.Stopped = true, why
	}
}

// Lines renders the search for the summary's verdict.
func (s *RateSearch) Lines() []string {
	var lines []string
	switch {
	case s.MaxSustainableRate == 0:
		lines = append(lines, "no sustainable rate found: "+s.Stopped)
	case s.BandHigh == 0:
		lines = append(lines, fmt.Sprintf("max sustainable rate at least %s (no level failed)", fmtRate(s.MaxSustainableRate)))
	default:
		lines = append(lines, fmt.Sprintf("max sustainable rate %s (band %s–%s); above it: %s",
			fmtRate(s.MaxSustainableRate), fmtRate(s.BandLow), fmtRate(s.BandHigh), s.FirstSignal))
	}
	switch s.Saturated {
	case "target":
		lines = append(lines, "target saturated: it answered, but achieved fell short of offered as latency climbed")
	case "driftload":
		lines = append(lines, "driftload saturated: the levels above are not a verdict on the target")
	}
	for _, l := range s.Levels {
		line := fmt.Sprintf("  %s offered, %s achieved, p95 %s, %s errors: %s",
			fmtRate(l.Offered), fmtRate(l.Achieved), fmtMs(l.P95), fmtPct(l.ErrorRate), l.Verdict)
		if len(l.Signals) > 0 {
			line += " (" + strings.Join(l.Signals, "; ") + ")"
		}
		lines = append(lines, line)
	}
	lines = append(lines, "search ended: "+s.Stopped)
	return lines
}

// roundRate keeps rates readable: whole it/s from 10, tenths below.
func roundRate(r float64) float64 {
	if r >= 10 {
		return math.Round(r)
	}
	return math.Round(r*10) / 10
}

func fmtRate(r float64) string { return fmtLevel(r, true) }
