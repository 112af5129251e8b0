package gen

import "math/rand/v2"

// NewRand returns the random number generator of one VU: a math/rand/v2 PCG
// seeded from (seed, vu). Distinct (seed, vu) pairs always give distinct PCG
// states, so VUs never share a stream of numbers. The result is not safe for
// concurrent use; each VU owns its own.
func NewRand(seed uint64, vu int) *rand.Rand {
	// Both halves go through a bijective mixer, so the pair of PCG seeds is
	// unique per (seed, vu) and nearby inputs still start far apart.
	return rand.New(rand.NewPCG(mix64(seed), mix64(uint64(vu)^0x6a09e667f3bcc909)))
}

// mix64 is the splitmix64 finaliser, a bijection on uint64.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
