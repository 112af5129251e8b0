package metrics

import (
	"hash/maphash"
	"sync"
)

// recorderBatch is how many samples a recorder buffers before it moves them
// into the shared series, each under its series' lock, in a tight loop.
// Every VU has a recorder, so the buffer is per-VU memory: 16 samples are
// 256 bytes, about one request's built-in samples and its check.
const recorderBatch = 16

// recentSeries is how many series a recorder finds by a linear search of
// its list before it indexes them in a map.
const recentSeries = 8

type sample struct {
	s *Series
	v float64
}

// Recorder buffers one VU's samples and moves them into the registry in
// batches, each sample into the interval of the moment it was recorded. Its
// mutex is contended only by the registry's collector.
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
	// buf holds samples of one interval of the registry's clock, bufAt.
	buf   []sample
	bufAt int64
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
func (r *Recorder) addLocked(s *Series, v float64, at int64) {
	if s.Metric.Type == Gauge {
		// Gauges are last-value: apply at once so the order across VUs holds.
		seq := r.reg.nextGaugeSeq()
		s.mu.Lock()
		s.total.addGauge(v, seq)
		s.intervalAt(at).addGauge(v, seq)
		s.mu.Unlock()
		return
	}
	if at != r.bufAt {
		r.flushLocked()
		r.bufAt = at
	}
	if r.buf == nil {
		r.buf = make([]sample, 0, recorderBatch)
	}
	r.buf = append(r.buf, sample{s, v})
	if len(r.buf) >= recorderBatch {
		r.flushLocked()
	}
}

// Flush moves buffered samples into their series.
func (r *Recorder) Flush() {
	r.mu.Lock()
	r.flushLocked()
	r.mu.Unlock()
}

func (r *Recorder) flushLocked() {
	for _, smp := range r.buf {
		// Into the interval only: it joins the total when the interval
		// closes (see Series).
		smp.s.mu.Lock()
		smp.s.intervalAt(r.bufAt).Add(smp.v)
		smp.s.mu.Unlock()
	}
	r.buf = r.buf[:0]
}
