package analysis

import (
	"math"
	"strings"
	"testing"
)

// capacityLevel is a target that sustains up to capacity it/s.
func capacityLevel(rate, capacity float64) RateLevel {
	l := RateLevel{Offered: rate, Achieved: rate, P95: 50, Verdict: LevelPass, Requests: 100}
	if rate > capacity {
		l.Achieved, l.P95, l.Verdict = capacity, 2000, LevelFail
		l.Signals = []string{"achieved below offered"}
	}
	return l
}

func runSearch(opts RateSearchOptions, level func(float64) RateLevel) *RateSearch {
	s := NewRateSearch(opts)
	for range 100 {
		r, done := s.Next()
		if done {
			break
		}
		s.Record(level(r))
	}
	return s
}

func TestRateSearchFindsTheCapacity(t *testing.T) {
	for _, c := range []struct{ start, capacity float64 }{{10, 100}, {10, 37}, {5, 1000}, {400, 100}, {10, 10}} {
		s := runSearch(RateSearchOptions{Start: c.start, MaxLevels: 20}, func(r float64) RateLevel { return capacityLevel(r, c.capacity) })
		if s.MaxSustainableRate > c.capacity || s.MaxSustainableRate < 0.95*c.capacity-1 {
			t.Errorf("start %g capacity %g: found %g (band %g–%g, %s)", c.start, c.capacity, s.MaxSustainableRate, s.BandLow, s.BandHigh, s.Stopped)
		}
		if s.Saturated != "target" || s.FirstSignal == "" {
			t.Errorf("capacity %g: saturated %q signal %q", c.capacity, s.Saturated, s.FirstSignal)
		}
		if len(s.Levels) > 20 {
			t.Errorf("%d levels", len(s.Levels))
		}
	}
}

func TestRateSearchIsBounded(t *testing.T) {
	s := runSearch(RateSearchOptions{Start: 10, Max: 80, MaxLevels: 10}, func(r float64) RateLevel { return capacityLevel(r, 1e9) })
	if s.MaxSustainableRate != 80 || s.BandHigh != 0 || !strings.Contains(s.Stopped, "every level") {
		t.Errorf("no limit below the max: %+v", s)
	}
	s = runSearch(RateSearchOptions{Start: 10, MaxLevels: 3}, func(r float64) RateLevel { return capacityLevel(r, 1e9) })
	if len(s.Levels) != 3 || !strings.Contains(s.Stopped, "level cap") {
		t.Errorf("level cap: %d levels, %s", len(s.Levels), s.Stopped)
	}
	s = runSearch(RateSearchOptions{Start: 10, MaxLevels: 20}, func(r float64) RateLevel { return capacityLevel(r, 0.1) })
	if s.MaxSustainableRate != 0 || !strings.Contains(s.Stopped, "no rate") {
		t.Errorf("nothing sustainable: %+v", s)
	}
}

func TestRateSearchNeverBlamesTheTargetForDriftload(t *testing.T) {
	s := runSearch(RateSearchOptions{Start: 10, MaxLevels: 20}, func(r float64) RateLevel {
		if r >= 40 {
			return RateLevel{Offered: r, Achieved: 30, Verdict: LevelInvalid, Signals: []string{"scheduler late p99 80ms"}}
		}
		return capacityLevel(r, 1e9)
	})
	if s.Saturated != "driftload" || s.MaxSustainableRate != 20 || s.BandHigh != 0 {
		t.Errorf("driftload saturated: %+v", s)
	}
	lines := strings.Join(s.Lines(), "\n")
	if !strings.Contains(lines, "driftload saturated") || strings.Contains(lines, "target saturated") {
		t.Errorf("lines:\n%s", lines)
	}
	if !strings.Contains(lines, "at least 20 it/s") {
		t.Errorf("lines:\n%s", lines)
	}
	_ = math.Abs
}
