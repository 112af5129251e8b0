package analysis

import (
	"math/rand/v2"
	"testing"
)

// A day of 10-second intervals: 8,640 points, 37 million pairwise slopes.
func daySeries() (xs, ys []float64) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 8640 {
		x := float64(i * 10)
		xs = append(xs, x)
		ys = append(ys, 40+x/3600+rng.NormFloat64()*3)
	}
	return xs, ys
}

func BenchmarkTheilSenDay(b *testing.B) {
	xs, ys := daySeries()
	for b.Loop() {
		TheilSen(xs, ys)
	}
}

func BenchmarkMannKendallDay(b *testing.B) {
	_, ys := daySeries()
	for b.Loop() {
		MannKendall(ys, 0.05)
	}
}
