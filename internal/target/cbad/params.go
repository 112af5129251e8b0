// Package cbad implements compression-based anomaly detection (CBAD) for the
// reference server started by `driftload serve`.
//
// A Detector keeps, per stream, a sliding window of the newest W raw events
// and a baseline of the B events just before it. Once B+W events were seen it
// compares window and baseline by their normalized compression distance (NCD)
// and judges significance with a seeded permutation test, following the
// Driftlock detection algorithm. Unlike Driftlock, which analyses after every
// event, a Detector analyses once every HopSize events (see Detector.Ingest).
package cbad

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Compressor names accepted in Params.Compressor.
const (
	CompressorZstd = "zstd"
	CompressorGzip = "gzip"
)

// Params configures a Detector. The zero Compressor means zstd.
type Params struct {
	BaselineSize, WindowSize, HopSize int
	NCDThreshold, PValueThreshold     float64
	Permutations                      int
	Compressor                        string // "zstd" (default when empty) or "gzip" (stdlib compress/flate)
}

// Profile returns the named Driftlock detection profile ("sensitive",
// "balanced" or "strict") with the zstd compressor, and false for any other
// name. The permutation counts are Driftlock's; servers usually cap them with
// WithPermutationCap.
func Profile(name string) (Params, bool) {
	switch name {
	case "sensitive":
		return Params{BaselineSize: 200, WindowSize: 30, HopSize: 10,
			NCDThreshold: 0.20, PValueThreshold: 0.10, Permutations: 500, Compressor: CompressorZstd}, true
	case "balanced":
		return Params{BaselineSize: 400, WindowSize: 50, HopSize: 10,
			NCDThreshold: 0.30, PValueThreshold: 0.05, Permutations: 1000, Compressor: CompressorZstd}, true
	case "strict":
		return Params{BaselineSize: 800, WindowSize: 100, HopSize: 20,
			NCDThreshold: 0.45, PValueThreshold: 0.01, Permutations: 1000, Compressor: CompressorZstd}, true
	}
	return Params{}, false
}

// Validate reports every invalid field in one error: sizes must be > 0,
// thresholds in (0, 1], Permutations >= 0 and the compressor known.
func (p Params) Validate() error {
	var bad []string
	for _, f := range []struct {
		name string
		v    int
	}{{"BaselineSize", p.BaselineSize}, {"WindowSize", p.WindowSize}, {"HopSize", p.HopSize}} {
		if f.v <= 0 {
			bad = append(bad, fmt.Sprintf("%s must be > 0 (got %d)", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"NCDThreshold", p.NCDThreshold}, {"PValueThreshold", p.PValueThreshold}} {
		if !(f.v > 0 && f.v <= 1) { // also rejects NaN
			bad = append(bad, fmt.Sprintf("%s must be in (0, 1] (got %g)", f.name, f.v))
		}
	}
	if p.Permutations < 0 {
		bad = append(bad, fmt.Sprintf("Permutations must be >= 0 (got %d)", p.Permutations))
	}
	switch p.Compressor {
	case "", CompressorZstd, CompressorGzip:
	default:
		bad = append(bad, fmt.Sprintf("Compressor must be %q or %q (got %q)", CompressorZstd, CompressorGzip, p.Compressor))
	}
	if len(bad) == 0 {
		return nil
	}
	return errors.New("cbad: invalid params: " + strings.Join(bad, "; "))
}

// WithPermutationCap returns p with Permutations lowered to max when it asks
// for more. A negative max leaves p unchanged.
func (p Params) WithPermutationCap(max int) Params {
	if max >= 0 && p.Permutations > max {
		p.Permutations = max
	}
	return p
}

// withDefaults fills the zero Compressor.
func (p Params) withDefaults() Params {
	if p.Compressor == "" {
		p.Compressor = CompressorZstd
	}
	return p
}

// ncd is the normalized compression distance from the compressed sizes of
// baseline, window and their concatenation.
func ncd(cB, cW, cBW int) float64 {
	lo, hi := cB, cW
	if lo > hi {
		lo, hi = hi, lo
	}
	if hi == 0 {
		return 0
	}
	return float64(cBW-lo) / float64(hi)
}

// ratioChange is the relative change of the window ratio against the baseline ratio.
func ratioChange(window, baseline float64) float64 {
	if baseline == 0 || math.IsNaN(baseline) {
		return 0
	}
	return (window - baseline) / baseline
}

// DefaultPermutations is the default server-side cap on the permutation
// count: the largest cap for which a 100-event Ingest on a warm balanced
// stream of ~200-byte log events stays within a 10 ms median on one core.
// Measured (BenchmarkIngestPermutations, -cpu 1, shared AMD EPYC, zstd): cap 0
// 4.0 ms, cap 1 8.2 ms, cap 2 11.1 ms, cap 5 15.2 ms, cap 20 44 ms. Each of
// the 10 analyses costs ~0.4 ms per compression pass (observed split plus one
// per permutation). With one permutation p is 0 or 1, so the test barely
// filters: raise the cap where detection quality matters more than latency.
const DefaultPermutations = 1
