// Measured on the shared 2-core AMD EPYC build machine, Go 1.26.8, zstd,
// `go test -run XXX -bench . -benchtime=200ms -cpu 1 -benchmem`, warm streams
// of ~200-byte JSON log events with increasing timestamps, permutations capped
// at DefaultPermutations (1):
//
//	profile     batch=10    batch=100   batch=1000   (ns/op; allocs/op ~0.5 per event)
//	sensitive     475 µs      4.8 ms       47 ms
//	balanced      855 µs      8.4 ms       86 ms
//	strict        874 µs      8.8 ms       87 ms
//
// Balanced 100-event Ingest by permutation cap (median):
//
//	cap 0: 4.3 ms   cap 1: 8.8 ms   cap 2: 11.3 ms   cap 5: 14.8 ms   cap 20: 48 ms   cap 100: ~400 ms
//
// Cost is linear in the number of analyses (events/HopSize) times compression
// passes per analysis (1 + permutations run); one pass over balanced's
// 450 events (~90 KB) takes ~0.4 ms, over strict's 900 events ~0.8 ms.

package cbad

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// eventPool returns n pre-generated normal events, so benchmarks time Ingest only.
func eventPool(seed uint64, n int) [][]byte {
	g := newLogGen(seed)
	g.monotonic = true
	return g.normals(n)
}

// feeder hands out consecutive batches from a pool, wrapping around.
type feeder struct {
	pool [][]byte
	pos  int
	buf  [][]byte
}

func (f *feeder) next(n int) [][]byte {
	f.buf = f.buf[:0]
	for range n {
		f.buf = append(f.buf, f.pool[f.pos])
		f.pos = (f.pos + 1) % len(f.pool)
	}
	return f.buf
}

// warm returns a detector that is ready and has run a few analyses.
func warm(b *testing.B, p Params, f *feeder) *Detector {
	d, err := NewDetector(p, 1)
	if err != nil {
		b.Fatal(err)
	}
	d.Ingest(f.next(p.BaselineSize + p.WindowSize + 2*p.HopSize))
	return d
}

// BenchmarkIngest times one Ingest call on a warm stream of ~200-byte log
// events, per profile and batch size, with the default permutation cap.
func BenchmarkIngest(b *testing.B) {
	pool := eventPool(1, 4096)
	for _, profile := range []string{"sensitive", "balanced", "strict"} {
		for _, batch := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", profile, batch), func(b *testing.B) {
				p := mustProfile(profile).WithPermutationCap(DefaultPermutations)
				f := &feeder{pool: pool}
				d := warm(b, p, f)
				for b.Loop() {
					d.Ingest(f.next(batch))
				}
			})
		}
	}
}

// BenchmarkIngestPermutations shows how a 100-event balanced Ingest grows with
// the permutation cap; DefaultPermutations is the largest cap whose median
// stays within 10 ms on one core.
func BenchmarkIngestPermutations(b *testing.B) {
	pool := eventPool(2, 4096)
	for _, perms := range []int{0, 1, 2, 5, 20, 100} {
		b.Run(fmt.Sprintf("P=%d", perms), func(b *testing.B) {
			p := mustProfile("balanced").WithPermutationCap(perms)
			f := &feeder{pool: pool}
			d := warm(b, p, f)
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				d.Ingest(f.next(100))
				times = append(times, time.Since(start))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "median-ns")
		})
	}
}
