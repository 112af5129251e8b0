package runner

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRampingPlanMovesOneVUAtATime(t *testing.T) {
	r := NewRampingVUs(0, []Stage{{4 * time.Second, 4}, {2 * time.Second, 4}, {2 * time.Second, 0}})
	got := r.Plan()
	want := []Step{
		{0, 0}, {1 * time.Second, 1}, {2 * time.Second, 2}, {3 * time.Second, 3}, {4 * time.Second, 4},
		{6*time.Second + 500*time.Millisecond, 3}, {7 * time.Second, 2}, {7*time.Second + 500*time.Millisecond, 1}, {8 * time.Second, 0},
	}
	if !reflect.DeepEqual(got.Steps, want) {
		t.Fatalf("steps = %v\nwant    %v", got.Steps, want)
	}
	if got.End != 8*time.Second || got.MaxVUs != 4 {
		t.Fatalf("end %s max %d, want 8s 4", got.End, got.MaxVUs)
	}
	for _, c := range []struct {
		at   time.Duration
		want int
	}{{0, 0}, {1500 * time.Millisecond, 1}, {5 * time.Second, 4}, {7200 * time.Millisecond, 2}, {8 * time.Second, 0}} {
		if n := got.VUsAt(c.at); n != c.want {
			t.Errorf("VUsAt(%s) = %d, want %d", c.at, n, c.want)
		}
	}
}

func TestRampingPlanWithZeroDurationStageJumps(t *testing.T) {
	p := NewRampingVUs(0, []Stage{{0, 10}, {time.Second, 10}}).Plan()
	if !reflect.DeepEqual(p.Steps, []Step{{0, 10}}) {
		t.Fatalf("steps = %v, want a jump to 10 at 0", p.Steps)
	}
}

func TestExecutorsValidateReportEveryProblem(t *testing.T) {
	cases := []struct {
		name string
		exec Executor
		want []string
	}{
		{"constant ok", NewConstantVUs(5, time.Minute), nil},
		{"constant bad", ConstantVUs{VUs: 0, Duration: -1, GracefulStop: -1}, []string{"vus must be at least 1", "duration must be positive", "graceful stop"}},
		{"ramping ok", NewRampingVUs(0, []Stage{{time.Second, 3}}), nil},
		{"ramping empty", NewRampingVUs(0, nil), []string{"at least one stage"}},
		{"ramping bad stages", NewRampingVUs(-1, []Stage{{-time.Second, -2}, {0, 0}}), []string{"start VUs", "stage 1: duration", "stage 1: target", "longer than 0s", "1 VU or more"}},
		{"per-vu ok", NewPerVUIterations(2, 3), nil},
		{"per-vu bad", PerVUIterations{VUs: 0, Iterations: 0, MaxDuration: 0}, []string{"vus", "iterations", "max duration"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := c.exec.Validate()
			if len(errs) != len(c.want) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to mention %q", i, errs[i], w)
				}
			}
		})
	}
}

func TestParseStages(t *testing.T) {
	cases := []struct {
		in      string
		want    []Stage
		wantErr string
	}{
		{"30s:25,1m:50", []Stage{{30 * time.Second, 25}, {time.Minute, 50}}, ""},
		{" 1m30s : 10 , 0s:0 ", []Stage{{90 * time.Second, 10}, {0, 0}}, ""},
		{"", nil, "empty"},
		{"30s", nil, "want DURATION:TARGET"},
		{"30x:5", nil, "bad duration"},
		{"30s:five", nil, "bad target"},
		{"30s:1,2m:x", nil, "stage 2"},
	}
	for _, c := range cases {
		got, err := ParseStages(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseStages(%q) error = %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseStages(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestScaleDuration(t *testing.T) {
	if got := ScaleDuration(15*time.Minute, 0.02); got != 18*time.Second {
		t.Errorf("15m × 0.02 = %s, want 18s", got)
	}
	if got := ScaleDuration(time.Microsecond, 0.001); got != time.Millisecond {
		t.Errorf("tiny durations must stay positive, got %s", got)
	}
}
