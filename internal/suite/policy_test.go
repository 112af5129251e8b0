package suite

import (
	"testing"

	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/load"
	"github.com/driftload/driftload/internal/scenario/smoke"
	"github.com/driftload/driftload/internal/scenario/soak"
	"github.com/driftload/driftload/internal/scenario/stress"
)

func TestExitCodeIsTheMostSevereOfThePhases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		codes []int
		want  int
	}{
		{"no phase ran", nil, 0},
		{"every phase passed", []int{0, 0, 0}, 0},
		{"a threshold failed", []int{0, 99, 0}, 99},
		{"an invalid run outranks a failed threshold, as in a single run", []int{99, 110, 0}, 110},
		{"an unreachable target outranks an invalid run", []int{110, 108}, 108},
		{"a refused configuration outranks an unreachable target", []int{108, 104}, 104},
		{"an interrupt outranks everything a phase found", []int{99, 110, 105}, 105},
		{"a file not written outranks an interrupt", []int{105, 1}, 1},
		{"an unknown code is an unexpected failure", []int{0, 42, 105}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.codes); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.codes, got, tc.want)
			}
		})
	}
}

func TestStopAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		test           *scenario.Test
		code           int
		continueOnFail bool
		stop           bool
	}{
		{"a passed smoke goes on", smoke.Test, 0, false, false},
		{"a failed smoke stops: fix it before going on", smoke.Test, 99, false, true},
		{"an invalid smoke stops", smoke.Test, 110, false, true},
		{"--continue-on-fail goes on after a failed smoke", smoke.Test, 99, true, false},
		{"a failed load goes on", load.Test, 99, false, false},
		{"an invalid stress goes on", stress.Test, 110, false, false},
		{"an unreachable target stops", load.Test, 108, false, true},
		{"--continue-on-fail goes on after an unreachable target", load.Test, 108, true, false},
		{"an interrupt always stops", soak.Test, 105, true, true},
		{"a refused configuration always stops", stress.Test, 104, true, true},
		{"an unexpected failure always stops", load.Test, 1, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stop, why := stopAfter(tc.test, tc.code, tc.continueOnFail)
			if stop != tc.stop {
				t.Fatalf("stopAfter(%s, %d, %v) = %v (%q), want %v", tc.test.Name, tc.code, tc.continueOnFail, stop, why, tc.stop)
			}
			if stop && why == "" {
				t.Error("a stop must say why")
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]string{0: StatusPassed, 99: StatusFailed, 110: StatusInvalid, 105: StatusInterrupted, 104: StatusError, 108: StatusError, 1: StatusError} {
		if got := statusOf(code); got != want {
			t.Errorf("statusOf(%d) = %s, want %s", code, got, want)
		}
	}
}
