package stress

import (
	"testing"
	"time"

	"github.com/driftload/driftload/internal/runner"
)

func TestStageBounds(t *testing.T) {
	s := func(d time.Duration, n int) runner.Stage { return runner.Stage{Duration: d, Target: n} }
	cases := []struct {
		name              string
		stages            []runner.Stage
		firstEnd, finalAt time.Duration
	}{
		{"stress default", []runner.Stage{s(60*time.Second, 50), s(120*time.Second, 100), s(60*time.Second, 0)}, 60 * time.Second, 210 * time.Second},
		{"steps", []runner.Stage{s(0, 4), s(8*time.Second, 4), s(0, 6), s(8*time.Second, 6), s(0, 4), s(8*time.Second, 4)}, 8 * time.Second, 20 * time.Second},
		{"one stage", []runner.Stage{s(time.Minute, 5)}, 0, 0},
		{"none", nil, 0, 0},
	}
	for _, c := range cases {
		f, l := stageBounds(c.stages)
		if f != c.firstEnd || l != c.finalAt {
			t.Errorf("%s: bounds %s, %s; want %s, %s", c.name, f, l, c.firstEnd, c.finalAt)
		}
	}
}
