// Package gen builds the event payloads that driftload sends to Driftlock:
// log events, anomalous events, metrics, traces, financial transactions and
// LLM input/output events, single or as JSON batches with a chosen mix and
// anomaly rate, plus the stream ids they are sent under.
//
// Every generator appends one JSON object straight to a caller-owned byte
// slice: no reflection, no fmt, no per-event allocation, so a VU can reuse one
// buffer for every request.
//
// # Determinism
//
// All randomness comes from the *rand.Rand passed in; NewRand gives each VU
// its own PCG stream derived from (seed, vu). Event times come from the caller
// (a base time plus an offset), never from the clock. Given the same seed, VU,
// times and stream id, the bytes are identical. Stream ids embed a RunID that
// is random per run (not derived from the seed), so payload bytes are
// deterministic per (seed, run id): two runs with the same seed send the same
// events to different streams unless the run id is fixed too.
package gen
