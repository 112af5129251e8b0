package analysis

import (
	"math"
	"testing"
)

func TestNormalQuantile(t *testing.T) {
	for _, c := range []struct{ p, want float64 }{{0.5, 0}, {0.975, 1.959964}, {0.025, -1.959964}, {0.995, 2.575829}, {0.001, -3.090232}} {
		if got := normalQuantile(c.p); math.Abs(got-c.want) > 1e-5 {
			t.Errorf("normalQuantile(%g) = %g, want %g", c.p, got, c.want)
		}
	}
}

func TestTheilSenCI(t *testing.T) {
	// y = 2x exactly: every pairwise slope is 2, so is the interval.
	var xs, ys []float64
	for i := range 20 {
		xs, ys = append(xs, float64(i)), append(ys, 2*float64(i))
	}
	lo, hi, ok := TheilSenCI(xs, ys, 0.05)
	if !ok || lo != 2 || hi != 2 {
		t.Fatalf("exact line: [%g, %g] %v", lo, hi, ok)
	}
	// A flat series with a wobble: the interval straddles 0.
	wobble := []float64{1, 1.08, 0.93, 1.02, 0.9, 1.1, 0.97, 1.05, 0.95, 1}
	ys = ys[:0]
	for i := range 20 {
		ys = append(ys, 100*wobble[i%10])
	}
	lo, hi, ok = TheilSenCI(xs, ys, 0.05)
	if !ok || !(lo < 0 && hi > 0) {
		t.Fatalf("flat series: [%g, %g] must straddle 0", lo, hi)
	}
	// A clear rise with the same wobble: the interval is above 0 and holds
	// the point estimate.
	for i := range ys {
		ys[i] += 10 * float64(i)
	}
	slope, _, _ := TheilSen(xs, ys)
	lo, hi, ok = TheilSenCI(xs, ys, 0.05)
	if !ok || lo <= 0 || slope < lo || slope > hi {
		t.Fatalf("rising series: slope %g, [%g, %g]", slope, lo, hi)
	}
	if _, _, ok := TheilSenCI(xs[:2], ys[:2], 0.05); ok {
		t.Error("two points have no interval")
	}
}
