package analysis

import (
	"strings"
	"testing"
	"time"
)

func secs(vs ...float64) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v * float64(time.Second))
	}
	return out
}

func TestMaxInWindow(t *testing.T) {
	cases := []struct {
		name  string
		times []time.Duration
		w     time.Duration
		want  int
	}{
		{"empty", nil, time.Second, 0},
		// [0,2s) holds 0 and 1s but not 2s; [1s,3s) holds 1s and 2s.
		{"half-open end excluded", secs(0, 1, 2), 2 * time.Second, 2},
		// One nanosecond more and [0, 2s+1ns) holds all three.
		{"end just inside", secs(0, 1, 2), 2*time.Second + 1, 3},
		// Sorted: 1 1 2 3 5. [1s,3s) → 1,1,2 = 3; [2s,4s) → 2; [3s,5s) →
		// 1; [5s,7s) → 1. Max 3.
		{"unsorted with duplicates", secs(5, 1, 3, 1, 2), 2 * time.Second, 3},
		{"simultaneous", secs(4, 4, 4), 1, 3},
		{"zero window", secs(1, 2), 0, 0},
		{"single", secs(7), time.Minute, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := append([]time.Duration(nil), c.times...)
			if got := MaxInWindow(c.times, c.w); got != c.want {
				t.Errorf("MaxInWindow(%v, %v) = %d, want %d", c.times, c.w, got, c.want)
			}
			for i := range in {
				if in[i] != c.times[i] {
					t.Fatal("MaxInWindow modified its input")
				}
			}
		})
	}
}

func TestJudgeLimit(t *testing.T) {
	const w = 10 * time.Second
	cases := []struct {
		name               string
		ok, limited        []time.Duration
		expected           int
		observed           int
		over, early, valid bool
		earlyAt            time.Duration
		reason             string
	}{
		// Limit 3 per 10s. Successes 0,1,2 then 10,11,12: every [t,t+10s)
		// holds at most 3 ([2s,12s) holds 2,10,11). The 429 at 3s has
		// (-7s,3s] → 0,1,2 = 3 successes; at 12.5s, (2.5s,12.5s] → 10,11,12
		// = 3. Exactly at the limit, never early.
		{"exact limit", secs(0, 1, 2, 10, 11, 12), secs(3, 4, 12.5), 3, 3, false, false, true, 0,
			"limit 3 per 10s enforced: at most 3 per window, 3 requests limited"},
		{"no 429s", secs(0, 5, 10), nil, 3, 2, false, false, true, 0,
			"limit 3 per 10s respected: at most 2 per window, no 429s"},
		// Four successes in [0,10s): over the limit.
		{"over limit", secs(0, 1, 2, 3), secs(4), 3, 4, true, false, false, 0,
			"over the limit: 4 succeeded within one window, limit 3 per 10s"},
		// The 429 at 2s sees (-8s,2s] → 0,1 = 2 successes < 3.
		{"early", secs(0, 1), secs(2), 3, 2, false, true, false, 2 * time.Second,
			"limited early: 429 at 2s with only 2 successes in its window, limit 3 per 10s"},
		// At exactly 10s the success at 0 has left the window (0+10s is
		// not after 10s): (0,10s] → 1,2 = 2, so a 429 there is early ...
		{"window edge: expired", secs(0, 1, 2), secs(10), 3, 3, false, true, false, 10 * time.Second,
			"limited early: 429 at 10s with only 2 successes in its window, limit 3 per 10s"},
		// ... while 1 ns earlier it still counts: (-1ns, 10s-1ns] → 3.
		{"window edge: inside", secs(0, 1, 2), []time.Duration{w - 1}, 3, 3, false, false, true, 0,
			"limit 3 per 10s enforced: at most 3 per window, 1 requests limited"},
		{"both", secs(0, 1, 2, 3, 30), secs(31), 3, 4, true, true, false, 31 * time.Second,
			"limit 3 per 10s not enforced consistently: 4 succeeded within one window, yet a 429 at 31s came with only 1 in its window"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := JudgeLimit(c.ok, c.limited, c.expected, w)
			if v.Expected != c.expected || v.Observed != c.observed || v.OverLimit != c.over ||
				v.EarlyLimited != c.early || v.OK != c.valid || v.Allowed != len(c.ok) ||
				v.Limited != len(c.limited) || (c.early && v.EarlyAt != c.earlyAt) || v.Reason != c.reason {
				t.Errorf("JudgeLimit = %+v\nwant observed %d over %v early %v (at %v) ok %v reason %q",
					v, c.observed, c.over, c.early, c.earlyAt, c.valid, c.reason)
			}
		})
	}
	if v := JudgeLimit(secs(1), nil, 0, w); v.OK || !strings.Contains(v.Reason, "no limit") {
		t.Errorf("zero limit: %+v", v)
	}
}
