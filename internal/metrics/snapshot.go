package metrics

import "time"

// SeriesSnapshot is a copy of one series' sink.
type SeriesSnapshot struct {
	Metric *Metric
	Tags   Tags
	Sink   *Sink
}

// Snapshot is a point-in-time copy of a registry's series (cumulative, or one
// interval's worth from CloseInterval).
type Snapshot struct {
	Elapsed time.Duration
	Metrics []*Metric
	Series  []SeriesSnapshot
}

// Metric returns the definition of name.
func (s *Snapshot) Metric(name string) (*Metric, bool) {
	for _, m := range s.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return nil, false
}

// Sink merges every series of metric name whose tags contain filter (k6's
// sub-metric semantics: `http_req_duration{endpoint:detect}` is every sample
// tagged endpoint=detect, whatever its other tags). It returns false when the
// metric is not defined. The merged sink may be empty.
func (s *Snapshot) Sink(name string, filter Tags) (*Sink, bool) {
	m, ok := s.Metric(name)
	if !ok {
		return nil, false
	}
	out := NewSink(m.Type)
	for _, ser := range s.Series {
		if ser.Metric.Name == name && ser.Tags.Contains(filter) {
			out.Merge(ser.Sink)
		}
	}
	return out, true
}

// TagValues returns the distinct values of tag key among the series of metric
// name, in first-seen order (series are sorted, so this is sorted too).
func (s *Snapshot) TagValues(name, key string) []string {
	seen := map[string]bool{}
	var out []string
	for _, ser := range s.Series {
		if ser.Metric.Name != name {
			continue
		}
		if v, ok := ser.Tags.Get(key); ok && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
