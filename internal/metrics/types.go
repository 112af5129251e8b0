// Package metrics holds what happened during a run: k6's four metric types
// (Counter, Gauge, Rate, Trend), tagged series, per-VU recorders merged
// without a global lock, interval snapshots and HDR histogram encoding.
package metrics

import "fmt"

// Type is one of k6's four metric types.
type Type int

// The metric types, with k6's meaning.
const (
	// Counter is a cumulative sum (count, rate per second).
	Counter Type = iota + 1
	// Gauge keeps the last value (value, min, max).
	Gauge
	// Rate is the share of non-zero samples (rate, passes, fails).
	Rate
	// Trend is a distribution (avg, min, med, max, p(N)), kept in an HDR histogram.
	Trend
)

// String returns the k6 name of the type ("counter", "gauge", "rate", "trend").
func (t Type) String() string {
	switch t {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Rate:
		return "rate"
	case Trend:
		return "trend"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ValueType says what a metric's numbers mean, for display.
type ValueType int

// Value types.
const (
	// Default is a plain number.
	Default ValueType = iota
	// Time is a duration in milliseconds.
	Time
	// Data is a number of bytes.
	Data
)

// String returns "default", "time" or "data".
func (v ValueType) String() string {
	switch v {
	case Time:
		return "time"
	case Data:
		return "data"
	}
	return "default"
}
