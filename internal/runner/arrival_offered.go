package runner

import "time"

// Offered returns how many iterations the schedule offers up to offset t
// (the integral of the rate; fractional), capped at Total.
func (p *ArrivalPlan) Offered(t time.Duration) float64 {
	if p == nil || t <= 0 {
		return 0
	}
	n := 0.0
	for _, seg := range p.segments {
		if t <= seg.start {
			break
		}
		d := min(float64(t-seg.start), float64(seg.dur))
		a := (seg.r1 - seg.r0) / float64(seg.dur)
		n = seg.count0 + seg.r0*d + a*d*d/2
	}
	if p.stripe != nil {
		return min(n*p.stripe.share(), float64(p.Total))
	}
	return min(n, float64(p.Total))
}

// RateAt returns the offered arrival rate at offset t, iterations per second.
func (p *ArrivalPlan) RateAt(t time.Duration) float64 {
	if p == nil {
		return 0
	}
	for _, seg := range p.segments {
		if t >= seg.start && t < seg.start+seg.dur {
			f := float64(t-seg.start) / float64(seg.dur)
			r := (seg.r0 + (seg.r1-seg.r0)*f) * float64(time.Second)
			if p.stripe != nil {
				r *= p.stripe.share()
			}
			return r
		}
	}
	return 0
}

// OfferedRateBetween is the mean offered rate over [from, to), iterations/s.
func (p Plan) OfferedRateBetween(from, to time.Duration) float64 {
	if p.Arrival == nil || to <= from {
		return 0
	}
	return (p.Arrival.Offered(to) - p.Arrival.Offered(from)) / (to - from).Seconds()
}
