// Package analysis holds the statistics behind driftload's verdicts: where a
// stress test breaks (error onset, latency knee, sustained throughput and
// recovery), whether a soak test degrades over time (Theil–Sen slope,
// Mann–Kendall trend test, leak indicator) and whether a rate limiter keeps
// its promise (sliding-window counts of successes and 429s).
//
// Everything here is a pure function of its arguments: no I/O, no clocks, no
// randomness. Latencies are in milliseconds, as in driftload's Trend metrics.
package analysis
