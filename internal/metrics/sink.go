package metrics

import (
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Trend histogram geometry: values are kept in thousandths of the metric's
// unit (microseconds for time Trends, which are in milliseconds), from 1 µs to
// one hour, with 3 significant digits. Exact count, sum, min and max are kept
// beside the histogram, so avg, min and max are not quantised.
const (
	// TrendScale is the factor between a Trend's values and what its
	// histogram records.
	TrendScale       = 1000
	trendLowest      = 1
	trendHighest     = 3_600_000_000 // one hour in µs
	trendSignificant = 3
)

// Sink accumulates the samples of one series (or the merge of several).
// Which fields matter depends on Type:
//
//	Counter: Sum (total), Count (samples)
//	Gauge:   Value (last), Min, Max
//	Rate:    Trues (non-zero samples), Count (all samples)
//	Trend:   Count, Sum, Min, Max and the HDR histogram
type Sink struct {
	Type  Type
	Count int64
	Sum   float64
	Min   float64
	Max   float64
	Value float64
	Trues int64
	// seq orders gauge updates so merging keeps the latest value.
	seq  uint64
	hist *hdr.PackedHistogram
	// decoded: hist came from DecodeTrend, in the geometry it was encoded
	// with, not necessarily newHistogram's.
	decoded bool
}

// NewSink returns an empty sink of type t.
func NewSink(t Type) *Sink {
	s := &Sink{Type: t}
	if t == Trend {
		s.hist = newHistogram()
	}
	return s
}

func newHistogram() *hdr.PackedHistogram {
	return hdr.NewPacked(trendLowest, trendHighest, trendSignificant)
}

// Add records one sample.
func (s *Sink) Add(v float64) {
	switch s.Type {
	case Counter:
		s.Count++
		s.Sum += v
	case Rate:
		s.Count++
		if v != 0 {
			s.Trues++
		}
	case Gauge:
		s.addGauge(v, s.seq+1)
	case Trend:
		s.addTrend(v)
	}
}

func (s *Sink) addGauge(v float64, seq uint64) {
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Count++
	if seq >= s.seq {
		s.Value, s.seq = v, seq
	}
}

func (s *Sink) addTrend(v float64) {
	if math.IsNaN(v) {
		return
	}
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Count++
	s.Sum += v
	// Values outside the histogram's range are clamped into it; the exact
	// extremes are still in Min and Max.
	scaled := int64(math.Round(v * TrendScale))
	scaled = max(0, min(scaled, trendHighest))
	_ = s.hist.RecordValue(scaled)
}

// Merge adds other's samples into s. Both must have the same Type.
func (s *Sink) Merge(other *Sink) {
	if other == nil || other.Count == 0 {
		return
	}
	switch s.Type {
	case Counter:
		s.Count += other.Count
		s.Sum += other.Sum
	case Rate:
		s.Count += other.Count
		s.Trues += other.Trues
	case Gauge:
		lastCount := s.Count
		if lastCount == 0 || other.Min < s.Min {
			s.Min = other.Min
		}
		if lastCount == 0 || other.Max > s.Max {
			s.Max = other.Max
		}
		s.Count += other.Count
		if other.seq >= s.seq {
			s.Value, s.seq = other.Value, other.seq
		}
	case Trend:
		if s.Count == 0 || other.Min < s.Min {
			s.Min = other.Min
		}
		if s.Count == 0 || other.Max > s.Max {
			s.Max = other.Max
		}
		s.Count += other.Count
		s.Sum += other.Sum
		s.hist.Merge(other.hist)
	}
}

// Clone returns an independent copy.
func (s *Sink) Clone() *Sink {
	c := *s
	if s.hist != nil {
		c.hist = s.hist.Clone()
	}
	return &c
}

// Reset empties the sink, keeping its type.
func (s *Sink) Reset() {
	h := s.hist
	*s = Sink{Type: s.Type, hist: h, decoded: s.decoded}
	if h != nil {
		h.Reset()
	}
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of a Trend, with the
// histogram's 3-significant-digit precision, clamped into [Min, Max].
func (s *Sink) Percentile(p float64) float64 {
	if s.Type != Trend || s.Count == 0 {
		return 0
	}
	if p >= 100 {
		return s.Max
	}
	v := float64(s.hist.ValueAtPercentile(p)) / TrendScale
	return max(s.Min, min(v, s.Max))
}

// CountsAtOrBelow returns, for each of bounds (ascending, in the metric's
// unit), how many samples of a Trend are at or below it: the cumulative
// buckets of a Prometheus histogram. A sample counts as its histogram
// bucket's lowest value, so a bound splits samples with the histogram's
// 3-significant-digit precision. Other types and empty sinks give zeros.
func (s *Sink) CountsAtOrBelow(bounds []float64) []int64 {
	out := make([]int64, len(bounds))
	if s.Type != Trend || s.Count == 0 {
		return out
	}
	i := 0
	var below int64
	for value, count := range s.hist.ForEachBucket {
		for i < len(bounds) && float64(value) > bounds[i]*TrendScale {
			out[i] = below
			i++
		}
		if i == len(bounds) {
			break
		}
		below += count
	}
	for ; i < len(bounds); i++ {
		out[i] = below
	}
	return out
}

// Stat returns the named statistic: avg, min, med, max, p (with pct), count,
// rate, value, passes, fails. elapsed turns a Counter's sum into a per-second
// rate. ok is false when the statistic does not exist for the type or there
// are no samples.
func (s *Sink) Stat(name string, pct float64, elapsed time.Duration) (float64, bool) {
	if s.Count == 0 {
		return 0, false
	}
	switch s.Type {
	case Counter:
		switch name {
		case "count":
			return s.Sum, true
		case "rate":
			if elapsed <= 0 {
				return 0, true
			}
			return s.Sum / elapsed.Seconds(), true
		}
	case Gauge:
		switch name {
		case "value":
			return s.Value, true
		case "min":
			return s.Min, true
		case "max":
			return s.Max, true
		}
	case Rate:
		switch name {
		case "rate":
			return float64(s.Trues) / float64(s.Count), true
		case "passes":
			return float64(s.Trues), true
		case "fails":
			return float64(s.Count - s.Trues), true
		}
	case Trend:
		switch name {
		case "avg":
			return s.Sum / float64(s.Count), true
		case "min":
			return s.Min, true
		case "max":
			return s.Max, true
		case "med":
			return s.Percentile(50), true
		case "p":
			return s.Percentile(pct), true
		case "count":
			return float64(s.Count), true
		}
	}
	return 0, false
}

// SummaryPercentiles are the Trend percentiles of every summary and result file.
var SummaryPercentiles = []float64{90, 95, 99}

// Values returns the statistics under k6's summary keys: avg, min, med, max,
// p(90), p(95), p(99) for Trends; count and rate for Counters; rate, passes
// and fails for Rates; value, min and max for Gauges.
func (s *Sink) Values(elapsed time.Duration) map[string]float64 {
	out := make(map[string]float64, 8)
	switch s.Type {
	case Counter:
		out["count"], _ = s.Stat("count", 0, elapsed)
		out["rate"], _ = s.Stat("rate", 0, elapsed)
	case Gauge:
		out["value"], out["min"], out["max"] = s.Value, s.Min, s.Max
	case Rate:
		out["rate"], _ = s.Stat("rate", 0, elapsed)
		out["passes"] = float64(s.Trues)
		out["fails"] = float64(s.Count - s.Trues)
	case Trend:
		for _, k := range []string{"avg", "min", "med", "max"} {
			out[k], _ = s.Stat(k, 0, elapsed)
		}
		for _, p := range SummaryPercentiles {
			out[PercentileKey(p)] = s.Percentile(p)
		}
		out["count"] = float64(s.Count)
	}
	if s.Count == 0 {
		for k := range out {
			out[k] = 0
		}
	}
	return out
}

// PercentileKey renders k6's summary key for a percentile: "p(95)", "p(99.9)".
func PercentileKey(p float64) string {
	return fmt.Sprintf("p(%s)", formatFloat(p))
}

func formatFloat(f float64) string {
	return fmt.Sprint(f)
}

// EncodeHistogram returns a Trend's histogram in the HdrHistogram V2
// compressed format, base64-encoded (the format every HdrHistogram
// implementation reads), or "" for other types. Values are in thousandths of
// the metric's unit.
func (s *Sink) EncodeHistogram() (string, error) {
	if s.Type != Trend {
		return "", nil
	}
	if !s.decoded {
		return encodeHistogram(s.hist), nil
	}
	b, err := s.hist.Encode()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// DecodeTrend rebuilds a Trend sink from an encoded histogram and the exact
// count, sum, min and max a result file keeps beside it, so sinks from
// several result files can be merged exactly.
func DecodeTrend(encoded string, count int64, sum, minV, maxV float64) (*Sink, error) {
	h, err := hdr.DecodePacked([]byte(encoded))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if h.TotalCount() != count {
		return nil, fmt.Errorf("decode histogram: holds %d samples, expected %d", h.TotalCount(), count)
	}
	return &Sink{Type: Trend, Count: count, Sum: sum, Min: minV, Max: maxV, hist: h, decoded: true}, nil
}
