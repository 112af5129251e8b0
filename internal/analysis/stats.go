package analysis

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// median returns the median of vs (the mean of the two middle values for an
// even count), sorting vs in place. It returns NaN for an empty slice.
// Median returns the median of vs (NaN for none), leaving vs as it is.
func Median(vs []float64) float64 { return median(slices.Clone(vs)) }

func median(vs []float64) float64 {
	n := len(vs)
	if n == 0 {
		return math.NaN()
	}
	slices.Sort(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// Finite returns the values of vs that are neither NaN nor infinite, in order.
func Finite(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// inversions sorts vs ascending in place (a merge sort using buf, which must
// have the same length) and returns the number of pairs i < j of the original
// order with vs[i] > vs[j]. NaN must not occur.
func inversions(vs, buf []float64) int64 {
	n := len(vs)
	if n < 2 {
		return 0
	}
	mid := n / 2
	inv := inversions(vs[:mid], buf[:mid]) + inversions(vs[mid:], buf[mid:])
	left, right := vs[:mid], vs[mid:]
	if left[len(left)-1] <= right[0] {
		return inv // already in order
	}
	out := buf[:0]
	a, b := 0, 0
	for a < len(left) && b < len(right) {
		if left[a] <= right[b] {
			out = append(out, left[a])
			a++
		} else {
			// right[b] is smaller than every left value still unmerged.
			inv += int64(len(left) - a)
			out = append(out, right[b])
			b++
		}
	}
	out = append(out, left[a:]...)
	out = append(out, right[b:]...)
	copy(vs, out)
	return inv
}

// tieGroups calls fn with the size of every run of equal values in the
// sorted slice vs that is longer than one.
func tieGroups(sorted []float64, fn func(t int64)) {
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		if j-i > 1 {
			fn(int64(j - i))
		}
		i = j
	}
}

// pairs returns n(n-1)/2.
func pairs(n int64) int64 { return n * (n - 1) / 2 }

// fmtMs renders milliseconds for a sentence: "48ms", "4.2ms", "0.35ms".
func fmtMs(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10:
		return fmt.Sprintf("%.0fms", v)
	case a >= 1:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.2fms", v)
	}
}

// fmtPct renders a fraction as a percentage with one decimal: "3.2%".
func fmtPct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// fmtRPS renders a request rate: "812 req/s", "4.5 req/s".
func fmtRPS(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f req/s", v)
	}
	return fmt.Sprintf("%.1f req/s", v)
}

// fmtOffset renders an offset from the run start to the second: "4m10s".
func fmtOffset(d time.Duration) string {
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	return d.String()
}

// fmtSigned renders a signed magnitude with a precision that suits its size:
// "+120", "-60", "+2.5", "+0.3", "-0.0042".
func fmtSigned(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10:
		return fmt.Sprintf("%+.0f", v)
	case a >= 1:
		return fmt.Sprintf("%+.1f", v)
	case a == 0:
		return "+0"
	default:
		return fmt.Sprintf("%+.2g", v)
	}
}
