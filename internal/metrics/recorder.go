package metrics

import (
	"hash/maphash"
	"sync"
)

// A recorder moves its samples into their series itself once it holds
// recorderBatch: 12 samples are 288 bytes, one request's built-in samples
// and its check, and every VU has a recorder, so the buffer is per-VU
// memory and stays this small however late the collector. It skips a
// series another goroutine holds, keeping that series' samples, and waits
// for the locks only past recorderBacklog.
const (
	recorderBatch   = 12
	recorderBacklog = 1024
)

// recentSeries is how many series a recorder finds by a linear search of
// its list before it indexes them in a map.
const recentSeries = 8

type sample struct {
	s *Series
	v float64
	// at is the interval of the registry's clock the sample was recorded in.
	at int32
}

// Recorder buffers one VU's samples, each tagged with the interval of the
// moment it was recorded, and moves them into the shared series in small
// batches; the registry's collector takes what is left (see
// Registry.Collect). A VU never waits for a series' lock (see
// recorderBatch): with thousands of VU goroutines on a few cores, a VU
// preempted while it holds one (its thread descheduled by the OS, then by
// the runtime) runs again only after every other runnable goroutine, and
// VUs queued on that lock (a mutex in starvation mode hands it over in
// order, each handover a trip through the scheduler) stalled 12,500-VU
// runs for minutes.
type Recorder struct {
	reg *Registry
	mu  sync.Mutex
	// seen are the series resolved so far, in order; byHash indexes them
	// once there are more than recentSeries (a VU records a handful).
	seen   []cacheEntry
	byHash map[uint64][]int
	// recent are the entries Add used last, the next to replace at
	// next: what a VU records once an iteration (its checks, iterations,
	// iteration_duration, custom metrics) is found again without hashing.
	recent [4]cacheEntry
	next   int
	buf    []sample
}

// cacheEntry remembers a series under the tag order a caller used.
type cacheEntry struct {
	hash uint64
	tags Tags
	s    *Series
}

var seed = maphash.MakeSeed()

// hashKey hashes the metric and its tags in the order given, without allocating.
func hashKey(m *Metric, tags Tags) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var idb [8]byte
	for i := range idb {
		idb[i] = byte(m.id >> (8 * i))
	}
	_, _ = h.Write(idb[:])
	for _, t := range tags {
		_, _ = h.WriteString(t.Key)
		_ = h.WriteByte(0)
		_, _ = h.WriteString(t.Value)
		_ = h.WriteByte(1)
	}
	return h.Sum64()
}

// sameTags reports whether a and b hold the same pairs in the same order.
func sameTags(a, b Tags) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Series resolves m with tags to its series. Callers on a hot path can keep
// the result and use AddTo.
func (r *Recorder) Series(m *Metric, tags Tags) *Series {
	k := hashKey(m, tags)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seriesLocked(k, m, tags)
}

func (r *Recorder) seriesLocked(k uint64, m *Metric, tags Tags) *Series {
	return r.entryLocked(k, m, tags).s
}

// entryLocked returns the cache entry of m with tags, which holds its own
// copy of the tags.
func (r *Recorder) entryLocked(k uint64, m *Metric, tags Tags) cacheEntry {
	if r.byHash == nil {
		for _, e := range r.seen {
			if e.hash == k && e.s.Metric == m && sameTags(e.tags, tags) {
				return e
			}
		}
	} else {
		for _, i := range r.byHash[k] {
			if e := r.seen[i]; e.s.Metric == m && sameTags(e.tags, tags) {
				return e
			}
		}
	}
	e := cacheEntry{hash: k, tags: append(Tags(nil), tags...), s: r.reg.seriesFor(m, tags)}
	r.seen = append(r.seen, e)
	switch {
	case r.byHash != nil:
		r.byHash[k] = append(r.byHash[k], len(r.seen)-1)
	case len(r.seen) > recentSeries:
		r.byHash = make(map[uint64][]int, len(r.seen))
		for i, e := range r.seen {
			r.byHash[e.hash] = append(r.byHash[e.hash], i)
		}
	}
	return e
}

// Add records v for metric m with tags. For a Rate, any non-zero v is a pass.
func (r *Recorder) Add(m *Metric, tags Tags, v float64) {
	at := r.reg.interval()
	r.mu.Lock()
	r.addLocked(r.recentLocked(m, tags), v, at)
	r.mu.Unlock()
}

func (r *Recorder) recentLocked(m *Metric, tags Tags) *Series {
	for i := range r.recent {
		if e := &r.recent[i]; e.s != nil && e.s.Metric == m && sameTags(e.tags, tags) {
			return e.s
		}
	}
	e := r.entryLocked(hashKey(m, tags), m, tags)
	r.recent[r.next] = e
	r.next = (r.next + 1) % len(r.recent)
	return e.s
}

// AddTo records v into a series resolved earlier with Series.
func (r *Recorder) AddTo(s *Series, v float64) {
	at := r.reg.interval()
	r.mu.Lock()
	r.addLocked(s, v, at)
	r.mu.Unlock()
}

// AddBatch records vs[i] into ss[i] for every i, taking the recorder's lock
// once: one request's built-in samples, for example. The slices must have
// the same length.
func (r *Recorder) AddBatch(ss []*Series, vs []float64) {
	at := r.reg.interval()
	r.mu.Lock()
	for i, s := range ss {
		r.addLocked(s, vs[i], at)
	}
	r.mu.Unlock()
}

// AddBool records a Rate sample: true counts as a pass.
func (r *Recorder) AddBool(m *Metric, tags Tags, ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	r.Add(m, tags, v)
}

// addLocked records v, recorded in interval at of the registry's clock.
func (r *Recorder) addLocked(s *Series, v float64, at int32) {
	if s.Metric.Type == Gauge {
		// Gauges are last-value: apply at once so the order across VUs holds.
		seq := r.reg.nextGaugeSeq()
		s.mu.Lock()
		s.total.addGauge(v, seq)
		s.intervalAt(at).addGauge(v, seq)
		s.mu.Unlock()
		return
	}
	if r.buf == nil {
		r.buf = make([]sample, 0, recorderBatch)
	}
	r.buf = append(r.buf, sample{s, v, at})
	if len(r.buf) >= recorderBatch {
		r.flushLocked(len(r.buf) >= recorderBacklog)
	}
}

// Flush moves buffered samples into their series now, without waiting for
// the collector.
func (r *Recorder) Flush() {
	r.mu.Lock()
	r.flushLocked(true)
	r.mu.Unlock()
}

// flushLocked moves buffered samples into their series; unless wait, it
// keeps those whose series another goroutine holds.
func (r *Recorder) flushLocked(wait bool) {
	if wait {
		recordSamples(r.buf)
		r.buf = r.buf[:0]
		return
	}
	kept := r.buf[:0]
	for _, smp := range r.buf {
		if !smp.s.mu.TryLock() {
			kept = append(kept, smp)
			continue
		}
		smp.s.intervalAt(smp.at).Add(smp.v)
		smp.s.mu.Unlock()
	}
	r.buf = kept
}

// recordSamples moves samples into their series' intervals (they join the
// totals when the interval closes, see Series), each under its series' lock.
func recordSamples(smps []sample) {
	for _, smp := range smps {
		smp.s.mu.Lock()
		smp.s.intervalAt(smp.at).Add(smp.v)
		smp.s.mu.Unlock()
	}
}
