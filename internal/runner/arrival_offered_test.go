package runner

import (
	"math"
	"testing"
	"time"
)

func TestOfferedFollowsTheSchedule(t *testing.T) {
	s := time.Second
	r := NewRampingArrivalRate(0, []Stage{{Duration: 10 * s, Target: 100}, {Duration: 10 * s, Target: 100}, {Duration: 0, Target: 20}, {Duration: 10 * s, Target: 20}}, 1, 10)
	p := r.Plan()
	cases := []struct {
		at   time.Duration
		want float64
	}{{0, 0}, {5 * s, 125}, {10 * s, 500}, {15 * s, 1000}, {20 * s, 1500}, {25 * s, 1600}, {30 * s, 1700}, {40 * s, 1700}}
	for _, c := range cases {
		if got := p.Arrival.Offered(c.at); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("Offered(%s) = %g, want %g", c.at, got, c.want)
		}
	}
	if got := p.OfferedRateBetween(10*s, 20*s); math.Abs(got-100) > 1e-9 {
		t.Errorf("rate over the plateau %g, want 100", got)
	}
	if got := p.Arrival.RateAt(5 * s); math.Abs(got-50) > 1e-9 {
		t.Errorf("RateAt(5s) = %g, want 50", got)
	}
	if got := p.Arrival.RateAt(25 * s); math.Abs(got-20) > 1e-9 {
		t.Errorf("RateAt(25s) = %g, want 20", got)
	}
	// Offered(k's due instant) reaches k.
	for k := int64(1); k < p.Arrival.Total; k += 97 {
		at, _ := p.Arrival.At(k)
		if got := p.Arrival.Offered(at); math.Abs(got-float64(k)) > 1e-3 {
			t.Fatalf("Offered(At(%d)) = %g", k, got)
		}
	}
}
