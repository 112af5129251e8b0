package metrics

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
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
// A sample goes into the interval sink of the moment it was recorded alone,
// which is merged into the total when the interval closes (merges are
// exact), so each sample is recorded once; the series' cumulative state is
// the total and the open intervals together. Gauges are the exception: their
// last value must be ordered across recorders, so a gauge sample goes into
// the total and its interval at once.
type Series struct {
	Metric *Metric
	Tags   Tags // sorted by key

	mu    sync.Mutex
	total *Sink
	// intervals[i] holds the samples recorded in interval open+i of the
	// registry's clock: intervals[0] is the one the collector closes next,
	// later ones fill while it runs behind (a saturated process).
	open      int64
	intervals []*Sink
	spare     *Sink
}

// maxAhead bounds how many intervals past the open one a series keeps
// apart; a sample further ahead joins the last of them.
const maxAhead = 4096

func newSeries(m *Metric, tags Tags, open int64) *Series {
	return &Series{Metric: m, Tags: tags, total: NewSink(m.Type), open: open, intervals: []*Sink{NewSink(m.Type)}}
}

// intervalAt is the sink of interval e; a sample of an interval already
// closed, or recorded without a clock (e < 0), goes into the open one.
// s.mu must be held.
func (s *Series) intervalAt(e int32) *Sink {
	i := int64(e) - s.open
	if e < 0 || i <= 0 {
		return s.intervals[0]
	}
	i = min(i, maxAhead)
	for int64(len(s.intervals)) <= i {
		sink := s.spare
		if sink == nil {
			sink = NewSink(s.Metric.Type)
		}
		s.spare = nil
		s.intervals = append(s.intervals, sink)
	}
	return s.intervals[i]
}

// cumulative returns a copy of everything s recorded; s.mu must be held.
func (s *Series) cumulative() *Sink {
	sink := s.total.Clone()
	if s.Metric.Type != Gauge {
		for _, iv := range s.intervals {
			sink.Merge(iv)
		}
	}
	return sink
}

// foldIntervals moves every later interval's samples into the open one;
// s.mu must be held.
func (s *Series) foldIntervals() {
	first := s.intervals[0]
	for _, later := range s.intervals[1:] {
		first.Merge(later)
		later.Reset()
		s.spare = later
	}
	clear(s.intervals[1:])
	s.intervals = s.intervals[:1]
}

// closeInterval returns a copy of the open interval and opens the next,
// moving its samples into the total; last takes every later interval's
// samples into it first (the end of a run). s.mu must be held.
func (s *Series) closeInterval(last bool) *Sink {
	if last {
		s.foldIntervals()
	}
	first := s.intervals[0]
	sink := first.Clone()
	if s.Metric.Type != Gauge {
		s.total.Merge(first)
	}
	first.Reset()
	if len(s.intervals) > 1 {
		s.spare = first
		copy(s.intervals, s.intervals[1:])
		s.intervals[len(s.intervals)-1] = nil
		s.intervals = s.intervals[:len(s.intervals)-1]
	}
	s.open++
	return sink
}

// intervalClock divides time into the timeline's intervals: interval k
// holds what was recorded in [origin + k·every, origin + (k+1)·every).
type intervalClock struct {
	origin time.Time
	every  time.Duration
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
	// clock places samples in intervals by when they were recorded; open is
	// the interval every series' intervals[0] holds (guarded by mu).
	clock atomic.Pointer[intervalClock]
	open  int64
	// collectMu makes collections one at a time; it guards scratch, the
	// buffer a recorder's samples are copied into.
	collectMu sync.Mutex
	scratch   []sample
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

// SetIntervals starts the timeline's clock: from now on a sample belongs to
// the interval of the moment it is recorded, interval k being
// [origin + k·every, origin + (k+1)·every), however late CloseInterval is
// called for it. The next CloseInterval closes interval 0; anything
// recorded before joins it. A search's next level restarts the clock.
func (r *Registry) SetIntervals(origin time.Time, every time.Duration) {
	if every <= 0 {
		return
	}
	r.mu.Lock()
	r.clock.Store(&intervalClock{origin: origin, every: every})
	r.open = 0
	all := r.allSeriesLocked()
	r.mu.Unlock()
	for _, s := range all {
		s.mu.Lock()
		s.foldIntervals()
		s.open = 0
		s.mu.Unlock()
	}
}

// interval is the clock's interval now, or -1 before SetIntervals.
func (r *Registry) interval() int32 {
	c := r.clock.Load()
	if c == nil {
		return -1
	}
	return int32(min(time.Since(c.origin)/c.every, math.MaxInt32))
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
	s := newSeries(m, sorted, r.open)
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

// Collect moves every recorder's pending samples into the series, waiting
// for a recorder its goroutine holds at the moment. Call it before reading
// a snapshot.
func (r *Registry) Collect() {
	r.collect(true)
}

// collect takes each recorder's buffer under its lock (a copy, so the VU
// keeps its buffer) and records the samples outside it. Unless wait, a
// recorder whose goroutine still holds it after a second try is left for
// the next collection: that goroutine may have been preempted and wait
// behind every runnable goroutine, and a run's collection must not wait
// with it. Its samples then join a later interval than they belong to.
// Recording them takes each series' lock, which VUs take only when the
// collector falls behind (see Recorder).
func (r *Registry) collect(wait bool) {
	r.mu.Lock()
	recs := append([]*Recorder(nil), r.recorders...)
	r.mu.Unlock()
	r.collectMu.Lock()
	defer r.collectMu.Unlock()
	var busy []*Recorder
	for _, rec := range recs {
		if !rec.mu.TryLock() {
			busy = append(busy, rec)
			continue
		}
		r.drainLocked(rec)
	}
	// The second try comes after all the others: most were in the middle
	// of an Add on another core. (A runtime.Gosched here would send the
	// collector to the back of the global run queue, behind every VU.)
	for _, rec := range busy {
		if wait {
			rec.mu.Lock()
		} else if !rec.mu.TryLock() {
			continue
		}
		r.drainLocked(rec)
	}
}

// drainLocked copies rec's samples out, releases rec.mu (held by the
// caller) and records them; r.collectMu must be held.
func (r *Registry) drainLocked(rec *Recorder) {
	r.scratch = append(r.scratch[:0], rec.buf...)
	rec.buf = rec.buf[:0]
	rec.mu.Unlock()
	recordSamples(r.scratch)
}

// Snapshot collects pending samples and returns a copy of every series'
// cumulative totals, with the time elapsed since the start.
func (r *Registry) Snapshot() *Snapshot {
	return r.snapshot(totals)
}

// LiveSnapshot is Snapshot for views of a run in progress (progress, live
// metrics, checkpoints, abortOnFail checks): it does not wait for a
// recorder its goroutine holds (see collect), whose samples then show in a
// later snapshot.
func (r *Registry) LiveSnapshot() *Snapshot {
	return r.snapshot(live)
}

// CloseInterval collects pending samples and returns what was recorded in
// the open interval (since the previous CloseInterval, or the start, when
// the clock is not set), then opens the next. Like LiveSnapshot it does not
// wait for a recorder its goroutine holds.
func (r *Registry) CloseInterval() *Snapshot {
	return r.snapshot(closeOne)
}

// CloseLastInterval is CloseInterval for a run's last interval: it also
// holds everything recorded after it.
func (r *Registry) CloseLastInterval() *Snapshot {
	return r.snapshot(closeLast)
}

type snapshotKind int

const (
	totals snapshotKind = iota
	live
	closeOne
	closeLast
)

func (r *Registry) allSeriesLocked() []*Series {
	all := make([]*Series, 0, len(r.series))
	for _, s := range r.series {
		all = append(all, s)
	}
	return all
}

func (r *Registry) snapshot(kind snapshotKind) *Snapshot {
	r.collect(kind == totals || kind == closeLast)
	r.mu.Lock()
	// Series made from here on open at the next interval, as the ones
	// listed do once closed below.
	all := r.allSeriesLocked()
	if kind == closeOne || kind == closeLast {
		r.open++
	}
	metrics := append([]*Metric(nil), r.order...)
	start := r.start
	r.mu.Unlock()

	snap := &Snapshot{Elapsed: time.Since(start), Metrics: metrics}
	for _, s := range all {
		s.mu.Lock()
		var sink *Sink
		if kind == totals || kind == live {
			sink = s.cumulative()
		} else {
			sink = s.closeInterval(kind == closeLast)
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
