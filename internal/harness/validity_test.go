package harness

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// snapshotWithFailures returns a snapshot with n requests of which failed failed.
func snapshotWithFailures(n, failed int) *metrics.Snapshot {
	reg := metrics.NewRegistry()
	b := runner.DefineBuiltins(reg)
	rec := reg.NewRecorder()
	for i := 0; i < n; i++ {
		rec.AddBool(b.HTTPReqFailed, nil, i < failed)
		rec.Add(b.Iterations, nil, 1)
	}
	return reg.Snapshot()
}

func TestJudgeRun(t *testing.T) {
	start := time.Unix(0, 0)
	open := func(late time.Duration, dropped int64, cpu float64) runner.Outcome {
		return runner.Outcome{Start: start, End: start.Add(10 * time.Second), OpenModel: true,
			Offered: 1000, Started: 1000 - dropped, Dropped: dropped, SchedulerLateP99: late, CPU: cpu}
	}
	cases := []struct {
		name     string
		out      runner.Outcome
		failed   int
		embedded bool
		valid    bool
		reason   string
	}{
		{"closed model is always valid", runner.Outcome{Start: start, End: start.Add(time.Second), CPU: 0.99}, 0, false, true, ""},
		{"open model keeping up", open(2*time.Millisecond, 0, 0.3), 0, false, true, ""},
		{"scheduler late", open(40*time.Millisecond, 0, 0.3), 0, false, false, "started iterations late"},
		{"dropped while healthy", open(time.Millisecond, 50, 0.3), 0, false, false, "dropped while the target answered normally"},
		{"dropped while the target fails", open(time.Millisecond, 50, 0.3), 100, false, true, ""},
		{"cpu saturated", open(time.Millisecond, 0, 0.97), 0, false, false, "of every core"},
		{"cpu of the embedded target not judged", open(time.Millisecond, 0, 0.97), 0, true, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := judgeRun(Config{Embedded: c.embedded}, c.out, snapshotWithFailures(1000, c.failed), 10*time.Second, nil)
			if r.Valid != c.valid {
				t.Fatalf("valid = %v (%v), want %v", r.Valid, r.InvalidReasons, c.valid)
			}
			if c.reason != "" && (len(r.InvalidReasons) != 1 || !strings.Contains(r.InvalidReasons[0], c.reason)) {
				t.Fatalf("reasons %v, want one mentioning %q", r.InvalidReasons, c.reason)
			}
			if c.out.OpenModel && r.OfferedRate != 100 {
				t.Fatalf("offered rate %g, want 100/s", r.OfferedRate)
			}
		})
	}
}

// A search ended by a saturated target says so in the run, as a run that
// dropped iterations does: readers print the reason beside the flag.
func TestJudgeSearchGivesTheSaturationReason(t *testing.T) {
	s := &analysis.RateSearch{Saturated: "target", BandLow: 80, BandHigh: 120, MaxSustainableRate: 80, FirstSignal: "achieved 98.0 of 120.0 it/s"}
	run := report.Run{Model: "open", Valid: true}
	var f scenario.Findings
	judgeSearch(&run, s, &f)
	if !run.TargetSaturated || !strings.Contains(run.SaturationReason, "120 it/s") || !strings.Contains(run.SaturationReason, s.FirstSignal) {
		t.Errorf("target_saturated %v, reason %q: want the failing level and its signal", run.TargetSaturated, run.SaturationReason)
	}
	if !run.Valid || f.Failed {
		t.Errorf("valid %v, failed %v: a saturated target is a finding, not a failed run", run.Valid, f.Failed)
	}
}

// A tick that comes late closes every interval it passed at once: the
// lateness is the most a close came after its interval's end, and the
// run's validity record carries it.
func TestIntervalClockLateness(t *testing.T) {
	reg := metrics.NewRegistry()
	runner.DefineBuiltins(reg)
	iv := newIntervals(nil, reg, runner.NewConstantVUs(2, 20*time.Second).Plan())
	step := iv.every
	iv.tick(step)             // on time
	iv.tick(2*step + step/10) // a tenth late
	if iv.late != step/10 {
		t.Fatalf("late %s after a tick a tenth of %s late", iv.late, step)
	}
	iv.tick(6*step + step/2) // four intervals closed at once, the first 3.5 steps late
	if want := 3*step + step/2; iv.late != want {
		t.Fatalf("late %s, want %s", iv.late, want)
	}
	if n := len(iv.timeline.Intervals); n != 6 {
		t.Fatalf("%d intervals closed, want 6", n)
	}
	// The drain after the last tick (ticks stop while VUs finish their
	// iterations) is not lateness.
	before := iv.late
	iv.finish(20 * step)
	if iv.late != before {
		t.Fatalf("finish after a drain moved late from %s to %s", before, iv.late)
	}
	// A collection stuck until the run ended closed nothing after the
	// engine's last tick: the oldest open interval was late by that tick.
	iv.overdue(40 * step)
	if want := 40*step - 21*step; iv.late != want {
		t.Fatalf("late %s after a stuck collection, want %s", iv.late, want)
	}
	r := judgeRun(Config{}, runner.Outcome{}, reg.Snapshot(), 20*time.Second, iv)
	if want := float64(iv.late) / float64(time.Millisecond); r.IntervalClockLateMs != want {
		t.Errorf("run: interval_clock_late_ms %g, want %g", r.IntervalClockLateMs, want)
	}
}

// A driftload short of CPU ticks late and closes several intervals at once;
// the timeline still shows each request in the interval it was recorded in
// (it used to put them all in the first interval closed, the rest empty).
func TestLateTicksKeepTheTimelineWhereRequestsHappened(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := metrics.NewRegistry()
		b := runner.DefineBuiltins(reg)
		iv := newIntervals(nil, reg, runner.NewConstantVUs(2, 20*time.Second).Plan())
		step := iv.every
		start := time.Now()
		iv.begin(start)
		rec := reg.NewRecorder()
		for i := range 9 {
			for range i + 1 {
				rec.Add(b.HTTPReqs, metrics.NewTags("endpoint", "e"), 1)
			}
			time.Sleep(step)
			if i%3 == 2 {
				iv.tick(time.Since(start)) // three intervals at once
			}
		}
		time.Sleep(step / 2)
		iv.finish(time.Since(start))
		var got []int64
		for _, row := range iv.timeline.Intervals {
			got = append(got, row.Requests)
		}
		if want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 0}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("requests per interval %v, want %v", got, want)
		}
		if want := 2 * step; iv.late != want {
			t.Errorf("late %s, want %s", iv.late, want)
		}
	})
}
