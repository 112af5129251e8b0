package capacity

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// touchN counts n sequential new streams on the ledger.
func touchN(l *ledger, n int) {
	for range n {
		l.send()
		l.done(touched, true)
	}
}

func addSentinel(l *ledger, name, kind string) *sentinel {
	s := &sentinel{stream: name, kind: kind}
	l.doneSentinel(s, l.send())
	return s
}

func TestCapLedgerProbesEachSentinelOnceAtItsDistance(t *testing.T) {
	l := newLedger(100) // retention after 90 newer, eviction after 110
	if l.retentionAt != 90 || l.evictionAt != 110 {
		t.Fatalf("targets %d/%d, want 90/110", l.retentionAt, l.evictionAt)
	}
	ev := addSentinel(l, "ev", eviction)
	ret := addSentinel(l, "ret", retention)
	touchN(l, 89)
	if _, _, ok := l.nextProbe(); ok {
		t.Fatal("no sentinel has 90 newer streams yet")
	}
	touchN(l, 1) // ret has 90 newer, ev 91
	s, tk, ok := l.nextProbe()
	if !ok || s != ret {
		t.Fatalf("want the retention sentinel, got %v %v", s, ok)
	}
	if _, _, ok := l.nextProbe(); ok {
		t.Fatal("the eviction sentinel is not due before 110")
	}
	l.doneProbe(s, tk, kept, touched)
	// ret is ahead of ev already: its probe is no newer touch for ev.
	touchN(l, 18) // ev: 91+18 = 109
	if _, _, ok := l.nextProbe(); ok {
		t.Fatal("a probe of a younger sentinel must not count for an older one")
	}
	touchN(l, 1)
	s, tk, ok = l.nextProbe()
	if !ok || s != ev {
		t.Fatalf("want the eviction sentinel, got %v %v", s, ok)
	}
	l.doneProbe(s, tk, evicted, touched)
	if _, _, ok := l.nextProbe(); ok {
		t.Fatal("each sentinel is probed once")
	}
	want := []probeRecord{
		{Stream: "ret", Kind: retention, Newer: 90, NewerMin: 90, NewerMax: 90, Outcome: kept},
		{Stream: "ev", Kind: eviction, Newer: 110, NewerMin: 110, NewerMax: 110, Outcome: evicted},
	}
	for i, w := range want {
		if l.probes[i] != w {
			t.Errorf("probe %d = %+v, want %+v", i, l.probes[i], w)
		}
	}
	ps, est, verdict := l.summary(5)
	if ps.Kept != 1 || ps.Evicted != 1 || ps.Pending != 0 || ps.Sentinels != 2 {
		t.Errorf("stats %+v", ps)
	}
	if est != (estimate{AtLeast: 91, AtMost: 110}) || verdict != asExpected {
		t.Errorf("estimate %+v verdict %s, want 91..110 %s", est, verdict, asExpected)
	}
}

func TestCapLedgerSkipsProbesOfNewerSentinels(t *testing.T) {
	l := newLedger(10) // retention 9, eviction 11
	old := addSentinel(l, "old", eviction)
	young := addSentinel(l, "young", retention)
	touchN(l, 9)
	s, tk, _ := l.nextProbe()
	if s != young {
		t.Fatalf("want young, got %v", s)
	}
	l.doneProbe(s, tk, kept, touched)
	// young's probe touched an entry already ahead of old: old's distance is
	// 1 (young) + 9, not 11.
	if got := old.newer(l.touches); got != 10 {
		t.Fatalf("old has %d newer, want 10", got)
	}
	// A probe of an older sentinel counts for a younger one.
	l2 := newLedger(10)
	a := addSentinel(l2, "a", retention)
	b := addSentinel(l2, "b", eviction)
	touchN(l2, 8)
	s, tk, _ = l2.nextProbe() // a: b + 8 = 9
	if s != a {
		t.Fatalf("want a, got %v", s)
	}
	l2.doneProbe(s, tk, evicted, touched)
	if got := b.newer(l2.touches); got != 9 {
		t.Fatalf("b has %d newer, want 9 (8 streams and a's re-creation)", got)
	}
	// A failed probe touches nothing.
	s, _, ok := l2.nextProbe()
	if ok {
		t.Fatalf("b not due yet, got %v", s)
	}
	touchN(l2, 2)
	s, tk, _ = l2.nextProbe()
	before := l2.touches
	l2.doneProbe(s, tk, failed, noTouch)
	if l2.touches != before || l2.inflight != 0 {
		t.Fatalf("failed probe: touches %d→%d, in flight %d", before, l2.touches, l2.inflight)
	}
}

// With requests in flight, the distance is only known within bounds.
func TestCapLedgerBoundsCoverRequestsInFlight(t *testing.T) {
	l := newLedger(4) // retention after 3, eviction after 5
	l.send()          // A: in flight when the sentinel is sent
	tk := l.send()    // the sentinel
	l.send()          // B: sent while the sentinel is in flight
	s := &sentinel{stream: "s", kind: retention}
	l.doneSentinel(s, tk)
	if s.before != 2 {
		t.Fatalf("F₁ = %d, want 2 (A in flight, B sent meanwhile)", s.before)
	}
	l.done(touched, true) // A answered: counted, though it may have reached the cache first
	l.done(touched, true) // B
	touchN(l, 1)
	l.send()
	l.done(maybeTouched, false) // timed out: the server may have created its stream
	l.send()                    // C: in flight when the probe goes
	p, ptk, ok := l.nextProbe()
	if !ok || p != s {
		t.Fatalf("sentinel due after 3 newer, got %v %v", p, ok)
	}
	l.send() // D: sent while the probe is in flight
	l.doneProbe(p, ptk, evicted, touched)
	got := l.probes[0]
	want := probeRecord{Stream: "s", Kind: retention, Newer: 3, NewerMin: 1, NewerMax: 6, Outcome: evicted}
	if got != want {
		t.Fatalf("probe %+v, want %+v", got, want)
	}
	// Evicted after at most 6 newer with 4 expected: not provably below.
	if _, est, verdict := l.summary(1); verdict != asExpected || est.AtMost != 6 {
		t.Fatalf("verdict %s, estimate %+v", verdict, est)
	}
}

func TestCapSentinelTurnsAlternateKinds(t *testing.T) {
	l := newLedger(100)
	var got []string
	for range 12 {
		if kind, ok := l.sentinelTurn(3); ok {
			got = append(got, kind)
		} else {
			got = append(got, "-")
		}
	}
	want := "eviction - - retention - - eviction - - retention - -"
	if strings.Join(got, " ") != want {
		t.Fatalf("turns %q, want %q", strings.Join(got, " "), want)
	}
}

func TestCapVerdict(t *testing.T) {
	type probe struct {
		kind     string
		min, max int64
		outcome  string
	}
	cases := []struct {
		name    string
		probes  []probe
		verdict string
		failed  bool
		est     estimate
		line    string
	}{
		{"no probes", nil, inconclusive, false, estimate{}, "no probe was due"},
		{"unknown only", []probe{{eviction, 1100, 1100, unknown}}, inconclusive, false, estimate{}, "no status"},
		{"all kept", []probe{{retention, 900, 905, kept}, {eviction, 1100, 1110, kept}}, noEviction, false,
			estimate{AtLeast: 1101}, "held ≥ 1101 streams"},
		{"evicted beyond, kept inside", []probe{{retention, 895, 902, kept}, {eviction, 1098, 1104, evicted}}, asExpected, false,
			estimate{AtLeast: 896, AtMost: 1104}, "between 896 and 1104"},
		{"evicted only beyond", []probe{{eviction, 1100, 1100, evicted}}, asExpected, false,
			estimate{AtMost: 1100}, "at most 1100"},
		{"evicted below expected", []probe{{retention, 890, 905, evicted}, {eviction, 1100, 1100, evicted}}, belowExpected, true,
			estimate{AtMost: 905}, "fewer than the expected 1000"},
		{"upper bound reaches expected: not a failure", []probe{{retention, 890, 1000, evicted}}, asExpected, false,
			estimate{AtMost: 1000}, "at most 1000"},
		{"failed probes prove nothing", []probe{{retention, 10, 10, failed}}, inconclusive, false, estimate{}, "inconclusive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLedger(1000)
			for i, p := range c.probes {
				// A sentinel probed after min touches, with max−min other
				// requests in flight when the probe was sent.
				s := &sentinel{stream: fmt.Sprint(i), kind: p.kind}
				l.inflight++
				l.sends++
				touch := touched
				if p.outcome == failed {
					touch = noTouch
				}
				l.doneProbe(s, ticket{at: p.min + 1, inflight: int(p.max - p.min), sends: l.sends - 1}, p.outcome, touch)
			}
			ps, est, verdict := l.summary(50)
			if verdict != c.verdict || est != c.est {
				t.Fatalf("verdict %s estimate %+v, want %s %+v", verdict, est, c.verdict, c.est)
			}
			f := findings(capacityAnalysis{StreamsCreated: 5000, ExpectedCapacity: 1000, Probes: ps, Estimate: est, Verdict: verdict})
			if f.Failed != c.failed || (f.FailReason == "") == c.failed {
				t.Fatalf("failed %v (%q), want %v", f.Failed, f.FailReason, c.failed)
			}
			if text := strings.Join(f.Lines, "\n"); !strings.Contains(text, c.line) {
				t.Errorf("lines lack %q:\n%s", c.line, text)
			}
		})
	}
}

func TestCapIsExhaustion(t *testing.T) {
	cases := []struct {
		status  int
		code    string
		message string
		want    bool
	}{
		{503, "service_unavailable", "detector capacity exhausted", true},
		{500, "internal", "too many streams", true},
		{507, "", "out of memory for new stream", true},
		{429, "stream_limit", "stream limit reached for tenant", true},
		{429, "rate_limit_exceeded", "rate limit exceeded for this API key", false},
		{503, "service_unavailable", "server overloaded", false},
		{400, "invalid_argument", "baseline_size exceeds capacity", false},
	}
	for _, c := range cases {
		got := isExhaustion(c.status, driftlock.ErrorBody{Code: c.code, Message: c.message})
		if got != c.want {
			t.Errorf("%d %s %q: %v, want %v", c.status, c.code, c.message, got, c.want)
		}
	}
}

func TestCapErrorTally(t *testing.T) {
	e := &errorTally{byKey: map[string]int64{}}
	e.add(503, nil, false, []byte(`{"error":{"code":"service_unavailable","message":"no free detector"}}`))
	e.add(503, nil, false, []byte(`{"error":{"code":"service_unavailable","message":"overloaded"}}`))
	e.add(429, nil, false, []byte(`{"error":{"code":"rate_limit_exceeded","message":"slow down"}}`))
	e.add(502, nil, false, []byte("bad gateway"))
	e.add(0, errors.New("dial"), false, nil)
	e.add(0, context.DeadlineExceeded, true, nil)
	want := map[string]int64{"503 service_unavailable": 2, "429 rate_limit_exceeded": 1, "502": 1, "0 no response": 1, "0 timeout": 1}
	if fmt.Sprint(e.byKey) != fmt.Sprint(want) {
		t.Fatalf("by key %v, want %v", e.byKey, want)
	}
	if e.exhaustion != 1 || e.example != "503 service_unavailable: no free detector" {
		t.Fatalf("exhaustion %d %q", e.exhaustion, e.example)
	}
	got := scenario.FormatStatusCounts(e.byKey)
	if got != "503 service_unavailable ×2, 0 no response ×1, 0 timeout ×1, 429 rate_limit_exceeded ×1, 502 bad gateway ×1" {
		t.Fatalf("formatted %q", got)
	}
}

// fakeScraper returns its answers in turn.
type fakeScraper struct {
	answers []fakeAnswer
	calls   int
}

type fakeAnswer struct {
	active, evictions float64
	err               error
}

func (f *fakeScraper) Scrape(context.Context) (driftlock.Samples, error) {
	a := f.answers[min(f.calls, len(f.answers)-1)]
	f.calls++
	if a.err != nil {
		return nil, a.err
	}
	return driftlock.ParsePrometheus(strings.NewReader(fmt.Sprintf(
		"driftlock_detectors_active %g\ndriftlock_detector_evictions_total %g\n", a.active, a.evictions)))
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestScrapeRowsThinnedEvenly(t *testing.T) {
	tests := []struct {
		scrapes, wantRows, wantStride int
	}{
		{scrapes: 10, wantRows: 10, wantStride: 1},
		{scrapes: maxScrapeRows, wantRows: maxScrapeRows, wantStride: 1},
		{scrapes: maxScrapeRows + 1, wantRows: maxScrapeRows/2 + 1, wantStride: 2},
		{scrapes: 10_000, wantRows: 157, wantStride: 64},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.scrapes), func(t *testing.T) {
			var g serverGauges
			for i := range tt.scrapes {
				g.addRow(scrapeRow{StreamsCreated: int64(i)})
			}
			if len(g.rows) != tt.wantRows || g.stride != tt.wantStride {
				t.Fatalf("%d rows, stride %d; want %d rows, stride %d", len(g.rows), g.stride, tt.wantRows, tt.wantStride)
			}
			for i, r := range g.rows {
				if r.StreamsCreated != int64(i*g.stride) {
					t.Fatalf("row %d is scrape %d, want %d (every %d-th from the first)", i, r.StreamsCreated, i*g.stride, g.stride)
				}
			}
		})
	}
}

func TestCapObserveReadsDetectorGauges(t *testing.T) {
	c := &capacity{ledger: newLedger(10), errs: &errorTally{byKey: map[string]int64{}}}
	c.scraper = &fakeScraper{answers: []fakeAnswer{{0, 40, nil}, {300, 40, nil}, {0, 0, errors.New("timeout")}, {200, 140, nil}, {180, 165, nil}}}
	for i := range 5 {
		c.Observe(scenario.Interval{End: time.Duration(i+1) * time.Second})
	}
	a := c.Analyse(nil).Data.(capacityAnalysis)
	// One row a successful scrape, at its interval's end: the gauge as read,
	// evictions since the first scrape.
	var rows []string
	for _, r := range a.Scrapes {
		rows = append(rows, fmt.Sprintf("%gs active %v evictions %v", r.AtSeconds, deref(r.DetectorsActive), deref(r.Evictions)))
	}
	if got, want := strings.Join(rows, "; "), "1s active 0 evictions 0; 2s active 300 evictions 0; 4s active 200 evictions 100; 5s active 180 evictions 125"; got != want {
		t.Errorf("scrapes\n got %s\nwant %s", got, want)
	}
	if a.DetectorsActivePeak == nil || *a.DetectorsActivePeak != 300 {
		t.Fatalf("peak %v, want 300", a.DetectorsActivePeak)
	}
	if a.Evictions == nil || *a.Evictions != 125 {
		t.Fatalf("evictions %v, want 125 (165 − 40 at the first scrape)", a.Evictions)
	}
	if a.MetricsScrapes != 4 {
		t.Fatalf("scrapes %d, want 4", a.MetricsScrapes)
	}

	// A target without /metrics is asked three times, then left alone.
	none := &fakeScraper{answers: []fakeAnswer{{err: errors.New("GET /metrics: status 404")}}}
	c = &capacity{ledger: newLedger(10), errs: &errorTally{byKey: map[string]int64{}}, scraper: none}
	for range 10 {
		c.Observe(scenario.Interval{})
	}
	f := c.Analyse(nil)
	a = f.Data.(capacityAnalysis)
	if none.calls != scrapeGiveUp || a.DetectorsActivePeak != nil || a.Evictions != nil || !strings.Contains(a.MetricsError, "404") {
		t.Fatalf("calls %d, analysis %+v", none.calls, a)
	}
	if !strings.Contains(strings.Join(f.Lines, "\n"), "/metrics not read") {
		t.Errorf("lines should say /metrics was not read: %q", f.Lines)
	}
}

// fakeLRU is a detect server with an exact LRU of detectors: a stream is
// ready once it received baseline+window events.
type fakeLRU struct {
	mu        sync.Mutex
	capacity  int
	order     *list.List
	byID      map[string]*list.Element
	evictions int
}

type fakeStream struct {
	id     string
	events int
	need   int
}

func newFakeLRU(capacity int) *httptest.Server {
	f := &fakeLRU{capacity: capacity, order: list.New(), byID: map[string]*list.Element{}}
	return httptest.NewServer(f)
}

func (f *fakeLRU) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/metrics":
		fmt.Fprintf(w, "driftlock_detectors_active %d\ndriftlock_detector_evictions_total %d\n", f.order.Len(), f.evictions)
		return
	case "/v1/detect":
	default:
		http.NotFound(w, r)
		return
	}
	var req struct {
		StreamID string            `json:"stream_id"`
		Events   []json.RawMessage `json:"events"`
		Override struct {
			Baseline int `json:"baseline_size"`
			Window   int `json:"window_size"`
		} `json:"config_override"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	el, ok := f.byID[req.StreamID]
	if ok {
		f.order.MoveToFront(el)
	} else {
		for f.order.Len() >= f.capacity {
			old := f.order.Back()
			f.order.Remove(old)
			delete(f.byID, old.Value.(*fakeStream).id)
			f.evictions++
		}
		el = f.order.PushFront(&fakeStream{id: req.StreamID, need: req.Override.Baseline + req.Override.Window})
		f.byID[req.StreamID] = el
	}
	st := el.Value.(*fakeStream)
	st.events += len(req.Events)
	status := "calibrating"
	if st.events >= st.need {
		status = "ready"
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"success":true,"stream_id":"uuid-%s","total_events":%d,"anomaly_count":0,"processing_time":"1ms","status":%q}`,
		req.StreamID, len(req.Events), status)
}

// runCapacity drives a capacity instance against srv with vus VUs, each
// running iters iterations back to back, and returns its findings.
func runCapacity(t *testing.T, srv *httptest.Server, opts Options, vus, iters int) (scenario.Findings, *metrics.Snapshot) {
	t.Helper()
	reg := metrics.NewRegistry()
	b := runner.DefineBuiltins(reg)
	env := scenario.Env{BaseURL: srv.URL, APIKey: "dlk_test", Run: "t", Endpoint: "detect", Start: time.Unix(0, 0), TimeScale: 1, Options: &opts}
	inst, err := newCapacity(env, reg)
	if err != nil {
		t.Fatal(err)
	}
	c := inst.(*capacity)
	c.thinkMin, c.thinkMax = 0, 0
	c.Start(t.Context()) // the harness calls it after the pre-flight
	client := runner.NewClient(runner.ClientOptions{MaxVUs: vus, Timeout: 10 * time.Second})
	defer client.Close()
	var wg sync.WaitGroup
	for id := 1; id <= vus; id++ {
		vu := runner.NewVU(id, 1, client, reg, b)
		c.SetupVU(vu)
		wg.Go(func() {
			for range iters {
				c.Iteration(t.Context(), vu)
				vu.Iteration++
			}
			vu.Recorder.Flush()
		})
	}
	wg.Wait()
	c.Observe(scenario.Interval{})
	return c.Analyse(nil), reg.Snapshot()
}

// lruIters is how many iterations (new streams) an LRU run makes in all.
const lruIters = 240

func TestCapacityAgainstAnLRU(t *testing.T) {
	cases := []struct {
		name     string
		cache    int
		vus      int
		verdict  string
		failed   bool
		evicted  bool // eviction probes come back calibrating
		retained bool // retention probes come back ready
	}{
		{"cache larger than expected", 1000, 1, noEviction, false, false, true},
		{"cache as expected", 100, 1, asExpected, false, true, true},
		{"cache smaller than expected", 60, 1, belowExpected, true, true, false},
		{"cache as expected, concurrent", 100, 4, asExpected, false, true, true},
		{"cache smaller than expected, concurrent", 50, 4, belowExpected, true, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeLRU(c.cache)
			defer srv.Close()
			// Expected 100: sentinels every 5th stream, retention probes
			// after 90 newer, eviction probes after 110.
			f, snap := runCapacity(t, srv, Options{ExpectedCapacity: 100}, c.vus, lruIters/c.vus)
			a := f.Data.(capacityAnalysis)
			text := strings.Join(f.Lines, "\n")
			if a.Verdict != c.verdict || f.Failed != c.failed {
				t.Fatalf("verdict %s failed %v, want %s %v\n%s", a.Verdict, f.Failed, c.verdict, c.failed, text)
			}
			byKind := a.Probes.ByKind
			if got := byKind[eviction][evicted] > 0; got != c.evicted || byKind[eviction][kept] > 0 == c.evicted {
				t.Errorf("eviction probes %v, want evicted=%v\n%s", byKind[eviction], c.evicted, text)
			}
			if got := byKind[retention][kept] > 0; got != c.retained || byKind[retention][evicted] > 0 == c.retained {
				t.Errorf("retention probes %v, want kept=%v\n%s", byKind[retention], c.retained, text)
			}
			if a.Probes.Failed != 0 || a.Probes.Unknown != 0 || len(a.ErrorsByStatus) != 0 {
				t.Errorf("probes failed %d unknown %d, errors %v", a.Probes.Failed, a.Probes.Unknown, a.ErrorsByStatus)
			}
			// Every iteration creates one stream; probes are not streams.
			if a.StreamsCreated != lruIters {
				t.Errorf("streams created %d, want %d", a.StreamsCreated, lruIters)
			}
			if s, ok := snap.Sink("unique_streams_created", nil); !ok || s.Sum != lruIters {
				t.Errorf("unique_streams_created %v, want %d", s, lruIters)
			}
			if s, ok := snap.Sink("http_reqs", metrics.Tags{{Key: "scenario", Value: "probe"}}); !ok || int64(s.Sum) != a.Probes.Kept+a.Probes.Evicted {
				t.Errorf("probe requests %v, want %d", s, a.Probes.Kept+a.Probes.Evicted)
			}
			if a.DetectorsActivePeak == nil || *a.DetectorsActivePeak > float64(c.cache) {
				t.Errorf("detectors active peak %v, cache %d", a.DetectorsActivePeak, c.cache)
			}
			if wantEv := c.cache < lruIters; a.Evictions == nil || (*a.Evictions > 0) != wantEv {
				t.Errorf("evictions %v, want some: %v", a.Evictions, wantEv)
			}
			// Sequential runs know every distance exactly.
			if c.vus == 1 {
				for _, p := range a.Probes.Log {
					if p.NewerMin != p.Newer || p.NewerMax != p.Newer {
						t.Fatalf("sequential probe with slack: %+v", p)
					}
					if kept := p.Outcome == kept; kept != (p.Newer < int64(c.cache)) {
						t.Fatalf("LRU of %d: probe %+v", c.cache, p)
					}
				}
			}
		})
	}
}

func TestCapacityRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		env  scenario.Env
		want string
	}{
		{"demo route", scenario.Env{Endpoint: "demo", APIKey: "k"}, "--endpoint detect"},
		{"negative capacity", scenario.Env{APIKey: "k", Options: &Options{ExpectedCapacity: -1}}, "--expected-capacity"},
		{"zero capacity", scenario.Env{APIKey: "k", Options: &Options{}}, "--expected-capacity"},
		{"negative sentinel spacing", scenario.Env{APIKey: "k", Options: &Options{ExpectedCapacity: 10, SentinelEvery: -2}}, "--sentinel-every"},
		{"no key", scenario.Env{}, "api-key"},
	}
	for _, c := range cases {
		_, err := newCapacity(c.env, metrics.NewRegistry())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}
