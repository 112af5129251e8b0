package metrics

// Bucket is one populated bucket of a Trend's histogram.
type Bucket struct {
	// Value is the bucket's highest equivalent value, in the metric's unit:
	// what Percentile reports for a rank that falls in the bucket, before it
	// clamps it into the sink's exact [Min, Max].
	Value float64
	// Count is the number of samples in the bucket.
	Count int64
}

// Buckets returns a Trend's populated buckets in increasing order of value
// (nil for other types or an empty sink), so that statistics beyond the
// percentiles — a bootstrap that redraws samples from the distribution —
// can work on the histogram itself. The percentile of rank k (1-based) is
// the Value of the first bucket at which the running count reaches k,
// clamped into [Min, Max].
func (s *Sink) Buckets() []Bucket {
	if s.Type != Trend || s.Count == 0 {
		return nil
	}
	var out []Bucket
	// A histogram holding one value answers every percentile with that
	// value's highest equivalent, as Percentile does for a rank in its bucket.
	one := newHistogram()
	s.hist.ForEachBucket(func(value, count int64) bool {
		if count <= 0 {
			return true
		}
		one.Reset()
		_ = one.RecordValue(value)
		v := float64(one.ValueAtPercentile(100)) / TrendScale
		out = append(out, Bucket{Value: v, Count: count})
		return true
	})
	return out
}
