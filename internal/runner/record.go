package runner

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/driftload/driftload/internal/metrics"
)

// httpSeries are the series one request's built-in samples go to, resolved
// once per run and distinct (endpoint, method, scenario, status, failure
// reason, extra tags), and shared by every VU: recording a request then
// hashes nothing and takes the recorder's lock once.
type httpSeries struct {
	endpoint, method, scenario string
	status                     int    // 0: transport error
	reason                     string // set with status 0 only
	tags                       metrics.Tags
	hash                       uint64

	// series in the order recordHTTP fills its values.
	series [9]*metrics.Series
	// latency is resolved on first use: open-model runs only, so closed-model
	// runs create no empty http_req_latency series.
	latency atomic.Pointer[metrics.Series]
}

// httpSeriesTable is the run's httpSeries by key hash, one table for all
// VUs: 10,000 VUs sending the same request hold one entry, not 10,000.
type httpSeriesTable struct {
	mu     sync.RWMutex
	byHash map[uint64][]*httpSeries
}

// httpSeriesCache is the httpSeries a VU used last, most recent first: an
// iteration of up to len(recent) distinct requests finds them here without
// the table's lock.
type httpSeriesCache struct {
	recent [4]*httpSeries
}

var seriesSeed = maphash.MakeSeed()

func httpKeyHash(req *Request, status int, reason string) uint64 {
	var h maphash.Hash
	h.SetSeed(seriesSeed)
	_, _ = h.WriteString(req.Endpoint)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(req.Method)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(req.Scenario)
	_ = h.WriteByte(byte(status))
	_ = h.WriteByte(byte(status >> 8))
	if reason != "" {
		_, _ = h.WriteString(reason)
		_ = h.WriteByte(0)
	}
	for _, t := range req.Tags {
		_, _ = h.WriteString(t.Key)
		_ = h.WriteByte(0)
		_, _ = h.WriteString(t.Value)
		_ = h.WriteByte(1)
	}
	return h.Sum64()
}

func (e *httpSeries) matches(req *Request, status int, reason string) bool {
	if e.status != status || e.reason != reason || e.endpoint != req.Endpoint || e.method != req.Method ||
		e.scenario != req.Scenario || len(e.tags) != len(req.Tags) {
		return false
	}
	for i := range e.tags {
		if e.tags[i] != req.Tags[i] {
			return false
		}
	}
	return true
}

// httpSeriesFor returns the series of req with status and failure reason,
// resolving them on first use in the run.
func (vu *VU) httpSeriesFor(req *Request, status int, reason string) *httpSeries {
	c := &vu.httpCache
	for i, e := range c.recent {
		if e == nil {
			break
		}
		if e.matches(req, status, reason) {
			copy(c.recent[1:i+1], c.recent[:i])
			c.recent[0] = e
			return e
		}
	}
	e := vu.builtins.httpSeries.get(vu, req, status, reason)
	copy(c.recent[1:], c.recent[:len(c.recent)-1])
	c.recent[0] = e
	return e
}

// get returns the run's entry for req with status and reason, making it on
// first use.
func (t *httpSeriesTable) get(vu *VU, req *Request, status int, reason string) *httpSeries {
	h := httpKeyHash(req, status, reason)
	t.mu.RLock()
	for _, e := range t.byHash[h] {
		if e.matches(req, status, reason) {
			t.mu.RUnlock()
			return e
		}
	}
	t.mu.RUnlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.byHash[h] {
		if e.matches(req, status, reason) {
			return e
		}
	}
	e := &httpSeries{
		endpoint: req.Endpoint, method: req.Method, scenario: req.Scenario, status: status, reason: reason,
		tags: append(metrics.Tags(nil), req.Tags...), hash: h,
	}
	tags := vu.httpTags(req, status, reason)
	b := vu.builtins
	onOwnStack(func() {
		for i, m := range [9]*metrics.Metric{
			b.HTTPReqs, b.HTTPReqDuration, b.HTTPReqBlocked, b.HTTPReqConnecting, b.HTTPReqTLS,
			b.HTTPReqSending, b.HTTPReqWaiting, b.HTTPReqReceiving, b.HTTPReqFailed,
		} {
			e.series[i] = vu.reg.Series(m, tags)
		}
	})
	if t.byHash == nil {
		t.byHash = make(map[uint64][]*httpSeries)
	}
	t.byHash[h] = append(t.byHash[h], e)
	return e
}

// httpTags are the tags of every built-in sample of req: endpoint, method,
// scenario, status, the failure reason of a failed request, then the
// request's own tags.
func (vu *VU) httpTags(req *Request, status int, reason string) metrics.Tags {
	st := "0"
	if status != 0 {
		st = statusTag(status)
	}
	tags := append(vu.tagBuf[:0],
		metrics.Tag{Key: "endpoint", Value: req.Endpoint},
		metrics.Tag{Key: "method", Value: req.Method},
		metrics.Tag{Key: "scenario", Value: req.Scenario},
		metrics.Tag{Key: "status", Value: st},
	)
	if reason != "" {
		tags = append(tags, metrics.Tag{Key: "reason", Value: reason})
	}
	tags = append(tags, req.Tags...)
	vu.tagBuf = tags
	return tags
}

func (vu *VU) recordHTTP(req *Request, resp *Response) {
	status, reason := 0, ""
	if resp.Err == nil {
		status = resp.Status
	} else {
		reason = resp.Reason
	}
	e := vu.httpSeriesFor(req, status, reason)
	t := resp.Timings
	failed := 0.0
	if resp.Err != nil || !expected(resp.Status, req.Expect) {
		failed = 1
	}
	vs := [10]float64{
		1, ms(t.Duration), ms(t.Blocked), ms(t.Connecting), ms(t.TLSHandshaking),
		ms(t.Sending), ms(t.Waiting), ms(t.Receiving), failed,
	}
	ss := [10]*metrics.Series{}
	copy(ss[:], e.series[:])
	n := len(e.series)
	if vu.openModel {
		lat := e.latency.Load()
		if lat == nil {
			// Two VUs may both resolve it: the registry returns one series.
			lat = vu.reg.Series(vu.builtins.HTTPReqLatency, vu.httpTags(req, status, reason))
			e.latency.Store(lat)
		}
		ss[n], vs[n] = lat, ms(resp.Latency)
		n++
	}
	vu.Recorder.AddBatch(ss[:n], vs[:n])
}
