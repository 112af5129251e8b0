package metrics

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Metric is a defined metric. It is immutable once defined.
type Metric struct {
	Name     string
	Type     Type
	Contains ValueType
	id       uint64
}

// Series is one metric with one exact tag set. Its sinks are guarded by its
// own mutex, taken only when a recorder flushes a batch, never per sample.
// A sample goes into the interval sink alone, which is merged into the
// total when the interval closes (merges are exact), so each sample is
// recorded once; the series' cumulative state is the total and the open
// interval together. Gauges are the exception: their last value must be
// ordered across recorders, so a gauge sample goes into both at once.
type Series struct {
	Metric *Metric
	Tags   Tags // sorted by key

	mu       sync.Mutex
	total    *Sink
	interval *Sink
}

// cumulative returns a copy of everything s recorded; s.mu must be held.
func (s *Series) cumulative() *Sink {
	sink := s.total.Clone()
	if s.Metric.Type != Gauge {
		sink.Merge(s.interval)
	}
	return sink
}

// closeInterval returns the open interval's copy and starts a new one,
// moving its samples into the total; s.mu must be held.
func (s *Series) closeInterval() *Sink {
	sink := s.interval.Clone()
	if s.Metric.Type != Gauge {
		s.total.Merge(s.interval)
	}
	s.interval.Reset()
	return sink
}

// Registry owns a run's metrics and series and the recorders that feed them.
type Registry struct {
	mu        sync.Mutex
	metrics   map[string]*Metric
	order     []*Metric
	series    map[string]*Series
	recorders []*Recorder
	start     time.Time
	gaugeSeq  uint64
}

// NewRegistry returns an empty registry whose clock for Counter rates starts now.
func NewRegistry() *Registry {
	return &Registry{
		metrics: make(map[string]*Metric),
		series:  make(map[string]*Series),
		start:   time.Now(),
	}
}

// SetStart sets the instant Counter rates are measured from (the test's start).
func (r *Registry) SetStart(t time.Time) {
	r.mu.Lock()
	r.start = t
	r.mu.Unlock()
}

// Start returns the instant Counter rates are measured from.
func (r *Registry) Start() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.start
}

// Define declares a metric, or returns the existing one of the same name. It
// fails when the name is taken by a metric of another type.
func (r *Registry) Define(name string, t Type, vt ValueType) (*Metric, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.metrics[name]; ok {
		if m.Type != t {
			return nil, fmt.Errorf("metric %q is already a %s, not a %s", name, m.Type, t)
		}
		return m, nil
	}
	m := &Metric{Name: name, Type: t, Contains: vt, id: uint64(len(r.order) + 1)}
	r.metrics[name] = m
	r.order = append(r.order, m)
	return m, nil
}

// MustDefine is Define for built-in names that cannot conflict; it panics on a conflict.
func (r *Registry) MustDefine(name string, t Type, vt ValueType) *Metric {
	m, err := r.Define(name, t, vt)
	if err != nil {
		panic(err)
	}
	return m
}

// Lookup returns the metric called name.
func (r *Registry) Lookup(name string) (*Metric, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.metrics[name]
	return m, ok
}

// Metrics returns the defined metrics in definition order.
func (r *Registry) Metrics() []*Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Metric(nil), r.order...)
}

// seriesFor returns the series of m with tags, creating it on first use.
func (r *Registry) seriesFor(m *Metric, tags Tags) *Series {
	sorted := tags.Sorted()
	key := m.Name + "{" + sorted.String() + "}"
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.series[key]; ok {
		return s
	}
	s := &Series{Metric: m, Tags: sorted, total: NewSink(m.Type), interval: NewSink(m.Type)}
	r.series[key] = s
	return s
}

// Series returns the series of m with tags, creating it on first use. Unlike
// Recorder.Series it keeps no per-recorder cache: for callers that keep the
// series themselves and record with Recorder.AddTo or AddBatch.
func (r *Registry) Series(m *Metric, tags Tags) *Series {
	return r.seriesFor(m, tags)
}

func (r *Registry) nextGaugeSeq() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaugeSeq++
	return r.gaugeSeq
}

// NewRecorder returns a recorder for one VU (or one background goroutine).
// Recorders must not be shared between goroutines that record concurrently
// unless the caller accepts the recorder's mutex as the point of contention.
func (r *Registry) NewRecorder() *Recorder {
	rec := &Recorder{reg: r}
	r.mu.Lock()
	r.recorders = append(r.recorders, rec)
	r.mu.Unlock()
	return rec
}

// Collect moves every recorder's pending samples into the series. Call it
// before reading a snapshot.
func (r *Registry) Collect() {
	r.mu.Lock()
	recs := append([]*Recorder(nil), r.recorders...)
	r.mu.Unlock()
	for _, rec := range recs {
		rec.Flush()
	}
}

// Snapshot collects pending samples and returns a copy of every series'
// cumulative totals, with the time elapsed since the start.
func (r *Registry) Snapshot() *Snapshot {
	return r.snapshot(false)
}

// CloseInterval collects pending samples and returns what was recorded since
// the previous CloseInterval (or the start), then starts a new interval.
func (r *Registry) CloseInterval() *Snapshot {
	return r.snapshot(true)
}

func (r *Registry) snapshot(interval bool) *Snapshot {
	r.Collect()
	r.mu.Lock()
	all := make([]*Series, 0, len(r.series))
	for _, s := range r.series {
		all = append(all, s)
	}
	metrics := append([]*Metric(nil), r.order...)
	start := r.start
	r.mu.Unlock()

	snap := &Snapshot{Elapsed: time.Since(start), Metrics: metrics}
	for _, s := range all {
		s.mu.Lock()
		var sink *Sink
		if interval {
			sink = s.closeInterval()
		} else {
			sink = s.cumulative()
		}
		s.mu.Unlock()
		snap.Series = append(snap.Series, SeriesSnapshot{Metric: s.Metric, Tags: s.Tags, Sink: sink})
	}
	sort.Slice(snap.Series, func(i, j int) bool {
		a, b := snap.Series[i], snap.Series[j]
		if a.Metric.Name != b.Metric.Name {
			return a.Metric.Name < b.Metric.Name
		}
		return a.Tags.String() < b.Tags.String()
	})
	return snap
}

// Def declares a metric: its name, type and what its values mean. Tests and
// the runner declare their metrics as Defs, so the same list serves a run
// (DefineAll) and the validation of a thresholds file (no run needed).
type Def struct {
	Name     string
	Type     Type
	Contains ValueType
}

// DefineAll defines every def on r and returns the metrics by name.
func (r *Registry) DefineAll(defs []Def) (map[string]*Metric, error) {
	out := make(map[string]*Metric, len(defs))
	for _, d := range defs {
		m, err := r.Define(d.Name, d.Type, d.Contains)
		if err != nil {
			return nil, err
		}
		out[d.Name] = m
	}
	return out, nil
}
