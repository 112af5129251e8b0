// Package capacity is driftload's capacity test: does the target's detector
// cache hold the streams it should.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// Test declares the capacity test.
var Test = &scenario.Test{
	Name:  "capacity",
	Short: "10 min, 100 VUs, a new stream every iteration: how many detectors does the cache keep",
	Long: `capacity fills the target's detector cache: 100 VUs for 10 minutes, every iteration
a new stream (50–150 mixed events, a random profile), counted in unique_streams_created only
when the server confirms it. Every Nth new stream is a sentinel, warmed past calibration
(sensitive profile, 230–250 events) so the server answers "ready". Sentinels alternate between
two probes of a 10-event batch: retention probes once 9/10 of --expected-capacity newer streams
exist, eviction probes once 11/10 exist. "ready" means the detector was kept, "calibrating"
that it was evicted. driftlock_detectors_active and driftlock_detector_evictions_total are read
from /metrics every 5 s (--interval). The run fails when a stream was evicted although, even
counting every request in flight, fewer than --expected-capacity newer streams existed.
Result: capacity_test_results.json, analysis.probes / capacity_estimate / verdict.`,
	ResultFile:      "capacity_test_results.json",
	Metrics:         scenario.Join(scenario.DetectMetrics, capacityMetrics),
	DefaultVUs:      100,
	DefaultDuration: 10 * time.Minute,
	DefaultInterval: scrapeEvery,
	SendsDetect:     true,
	Options:         func() scenario.Options { return &Options{ExpectedCapacity: DefaultExpectedCapacity} },
	New:             newCapacity,
	Merged:          merged,
}

// capacityMetrics are capacity's own metrics beside the detect family.
var capacityMetrics = []metrics.Def{{Name: "unique_streams_created", Type: metrics.Counter}}

// What the capacity instance implements beside scenario.Instance.
var (
	_ scenario.Starter          = (*capacity)(nil)
	_ scenario.IntervalObserver = (*capacity)(nil)
)

// DefaultExpectedCapacity is the detector cache size the capacity test
// expects when --expected-capacity is not given (the old k6 suite's "~1000").
const DefaultExpectedCapacity = 1000

// Options are the capacity test's own options.
type Options struct {
	// ExpectedCapacity is how many streams the target's detector cache
	// should hold (--expected-capacity, DefaultExpectedCapacity; without
	// options the default applies).
	ExpectedCapacity int
	// SentinelEvery makes every Nth new stream a sentinel (--sentinel-every;
	// 0: ExpectedCapacity/20, at least 1).
	SentinelEvery int
}

// Bind implements scenario.Options.
func (o *Options) Bind(fs *pflag.FlagSet) {
	fs.IntVar(&o.ExpectedCapacity, "expected-capacity", o.ExpectedCapacity,
		"streams the target's detector cache should hold; probes check it")
	fs.IntVar(&o.SentinelEvery, "sentinel-every", o.SentinelEvery,
		"make every Nth new stream a warm sentinel that is probed later (default expected-capacity/20)")
}

// Resolve implements scenario.Options.
func (o *Options) Resolve([]string) []error {
	var errs []error
	if o.ExpectedCapacity < 1 {
		errs = append(errs, fmt.Errorf("--expected-capacity must be at least 1, got %d", o.ExpectedCapacity))
	}
	if o.SentinelEvery < 0 {
		errs = append(errs, fmt.Errorf("--sentinel-every must be at least 1, got %d", o.SentinelEvery))
	}
	return errs
}

const (
	// scrapeEvery is how often /metrics is read, at real time.
	scrapeEvery = 5 * time.Second
	minScrape   = 200 * time.Millisecond
	// probeEvents is the size of a probe's batch: far below any
	// profile's baseline, so a re-created (evicted) stream stays calibrating.
	probeEvents = 10
	// probeLog bounds the probes kept in the result file.
	probeLog = 100
	// sentinelExtra is how many events a sentinel gets beyond its
	// profile's baseline+window (the batch is need..need+extra events).
	sentinelExtra = 20
)

// Probe kinds. A sentinel is probed once, at one distance: "retention"
// sentinels once ExpectedCapacity−margin newer streams exist (a correct
// cache must still hold them), "eviction" sentinels once
// ExpectedCapacity+margin exist (a cache of the expected size has dropped
// them). margin is a tenth of ExpectedCapacity (at least 1).
const (
	retention = "retention"
	eviction  = "eviction"
)

// Probe outcomes.
const (
	kept    = "kept"    // the server answered ready: the detector was still cached
	evicted = "evicted" // calibrating: the stream had to be created again
	unknown = "unknown" // 200 without a status: the server does not say
	failed  = "failed"  // no 200: the probe proved nothing
)

// Verdicts of the capacity analysis.
const (
	noEviction    = "no_eviction"            // every probed stream was kept
	asExpected    = "evicts_beyond_expected" // evictions only after at least ExpectedCapacity newer streams
	belowExpected = "evicts_below_expected"  // a stream was evicted after fewer than ExpectedCapacity newer ones
	inconclusive  = "inconclusive"           // no probe told kept from evicted
)

// capacity creates a new stream every iteration and probes sentinel streams
// later to see whether the target's detector cache still holds them.
//
// How the distance is measured: the ledger counts "touches", the requests
// the server answered 200 on /v1/detect (new streams, sentinels and probes:
// each creates or refreshes an entry in an LRU). A sentinel remembers the
// touch count when its warming request was sent; a probe's distance D is the
// touches counted between that and the probe's own sending, minus the
// sentinel's own. Requests in flight blur the count: the true number of
// entries the server touched in between lies in [D − F₁, D + F₂], where F₁
// counts the other requests in flight while the sentinel was (in flight when
// it was sent, or sent before it was answered: any of them may have reached
// the server's cache before it) and F₂ likewise for the probe (they may reach
// the cache before the probe and not be counted). Verdicts use those bounds,
// so a concurrent run never fails a server wrongly: a stream that was kept
// proves the cache holds more than D − F₁ entries, one that was evicted that
// it holds at most D + F₂.
type capacity struct {
	env    scenario.Env
	detect *scenario.DetectClient
	opts   Options
	// profiles of new streams (clamped to the target's event limit) and of sentinels.
	profiles []driftlock.Profile
	sentinel driftlock.Profile
	created  *metrics.Metric
	ledger   *ledger
	errs     *errorTally
	scraper  promScraper
	server   serverGauges
	// thinkMin..thinkMax is the pause after each iteration (a test sets it to zero).
	thinkMin, thinkMax time.Duration
}

// promScraper reads the target's /metrics (metricsScraper; a fake in tests).
type promScraper interface {
	Scrape(ctx context.Context) (driftlock.Samples, error)
}

func newCapacity(env scenario.Env, reg *metrics.Registry) (scenario.Instance, error) {
	if env.Endpoint == "demo" {
		return nil, errors.New("capacity needs --endpoint detect: the demo route keeps no per-stream detectors")
	}
	opts := Options{ExpectedCapacity: DefaultExpectedCapacity}
	if o, ok := env.Options.(*Options); ok && o != nil {
		opts = *o
	}
	if errs := opts.Resolve(nil); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.SentinelEvery == 0 {
		opts.SentinelEvery = max(1, opts.ExpectedCapacity/20)
	}
	d, err := scenario.NewDetectClient(env, reg)
	if err != nil {
		return nil, err
	}
	c := &capacity{
		env: env, detect: d, opts: opts,
		ledger:   newLedger(opts.ExpectedCapacity),
		errs:     &errorTally{byKey: map[string]int64{}},
		scraper:  scenario.NewMetricsScraper(env),
		thinkMin: 300 * time.Millisecond, thinkMax: 700 * time.Millisecond,
	}
	for _, name := range []string{"sensitive", "balanced", "strict"} {
		p, _ := driftlock.ProfileByName(name)
		c.profiles = append(c.profiles, p.Clamp(env.EventLimit()))
	}
	c.sentinel = c.profiles[0]
	ms, err := reg.DefineAll(capacityMetrics)
	if err != nil {
		return nil, err
	}
	c.created = ms["unique_streams_created"]
	return c, nil
}

// Start implements scenario.Starter. The evictions counter is cumulative since the
// server started: read it once before any traffic so the analysis reports
// this run's share.
func (c *capacity) Start(ctx context.Context) { c.scrape(ctx, 0) }

func (c *capacity) SetupVU(vu *runner.VU) { vu.Data = &scenario.Buffers{} }

// Iteration: first a due probe, if any; then a new stream — every
// SentinelEvery-th one a sentinel warmed past calibration — then 0.3–0.7 s
// of thinking (the k6 suite's 0.5 ± 0.2 s).
func (c *capacity) Iteration(ctx context.Context, vu *runner.VU) {
	buf := vu.Data.(*scenario.Buffers)
	if s, t, ok := c.ledger.nextProbe(); ok {
		c.probe(ctx, vu, buf, s, t)
	}
	if ctx.Err() != nil {
		return
	}
	stream := gen.StreamID("cap", c.env.Run, vu.ID, int(vu.Iteration))
	if kind, ok := c.ledger.sentinelTurn(c.opts.SentinelEvery); ok {
		c.warmSentinel(ctx, vu, buf, stream, kind)
	} else {
		c.create(ctx, vu, buf, stream)
	}
	vu.Think(ctx, vu.Between(c.thinkMin, c.thinkMax))
}

// create sends 50–150 mixed events to a new stream with a random profile.
func (c *capacity) create(ctx context.Context, vu *runner.VU, buf *scenario.Buffers, stream string) {
	p := c.profiles[vu.Rand.IntN(len(c.profiles))]
	n := min(vu.IntBetween(50, 150), c.env.EventLimit())
	c.ledger.send()
	out := c.detect.Do(ctx, vu, buf, scenario.DetectCall{
		Stream: stream, Batch: gen.Batch{Size: n, Mix: gen.Mixed}, Profile: &p,
		Scenario: "create", Tags: metrics.Tags{{Key: "profile", Value: p.Name}},
	})
	confirmed := c.confirmed(out)
	c.ledger.done(touchOf(out, confirmed), confirmed)
	c.tally(out)
	if confirmed {
		vu.Recorder.Add(c.created, metrics.Tags{{Key: "scenario", Value: "create"}}, 1)
	}
}

// warmSentinel creates a stream with enough events (sensitive profile:
// baseline+window, e.g. 230–250 events) to leave calibration within the
// request, and queues it for its probe when the server says it is ready.
func (c *capacity) warmSentinel(ctx context.Context, vu *runner.VU, buf *scenario.Buffers, stream, kind string) {
	p := c.sentinel
	need := p.BaselineSize + p.WindowSize
	n := vu.IntBetween(need, min(need+sentinelExtra, c.env.EventLimit()))
	t := c.ledger.send()
	out := c.detect.Do(ctx, vu, buf, scenario.DetectCall{
		Stream: stream, Batch: gen.Batch{Size: n, Mix: gen.Mixed}, Profile: &p,
		Scenario: "sentinel", Warm: true, Tags: metrics.Tags{{Key: "profile", Value: p.Name}},
	})
	confirmed := c.confirmed(out)
	ready := confirmed && out.Result.ReadyKnown && out.Result.Ready
	if ready {
		// Queued under the same lock that counts its touch, so no probe can
		// see the sentinel before its own touch is counted.
		c.ledger.doneSentinel(&sentinel{stream: stream, kind: kind}, t)
	} else {
		c.ledger.done(touchOf(out, confirmed), confirmed)
		if confirmed {
			c.ledger.notReady()
		}
	}
	c.tally(out)
	if confirmed {
		vu.Recorder.Add(c.created, metrics.Tags{{Key: "scenario", Value: "sentinel"}}, 1)
	}
}

// probe sends a small batch to a sentinel: ready means its detector was
// kept, calibrating that it was evicted and created anew.
func (c *capacity) probe(ctx context.Context, vu *runner.VU, buf *scenario.Buffers, s *sentinel, t ticket) {
	p := c.sentinel
	out := c.detect.Do(ctx, vu, buf, scenario.DetectCall{
		Stream: s.stream, Batch: gen.Batch{Size: probeEvents, Mix: gen.Mixed}, Profile: &p,
		Scenario: "probe", Warm: true, Tags: metrics.Tags{{Key: "profile", Value: p.Name}, {Key: "probe", Value: s.kind}},
	})
	outcome := failed
	confirmed := c.confirmed(out)
	if confirmed {
		switch r := out.Result; {
		case !r.ReadyKnown:
			outcome = unknown
		case r.Ready:
			outcome = kept
		default:
			outcome = evicted
		}
	}
	if out.Resp.Canceled {
		// Not sent or cut short by the end of the run: it proves nothing.
		c.ledger.done(touchOf(out, false), false)
		c.ledger.cancel(s)
		return
	}
	c.ledger.doneProbe(s, t, outcome, touchOf(out, confirmed))
	c.tally(out)
	vu.Check("probe answered", outcome != failed, metrics.Tag{Key: "scenario", Value: "probe"})
}

// touchKind is what a request did to the server's cache, as far as we know.
type touchKind int

const (
	noTouch      touchKind = iota // rejected before detection (4xx)
	touched                       // answered 200: an entry was created or refreshed
	maybeTouched                  // no answer, a 5xx or a malformed 200: it may have touched an entry
)

func touchOf(out scenario.DetectOutcome, confirmed bool) touchKind {
	switch r := out.Resp; {
	case confirmed:
		return touched
	case r.Err != nil || r.Status >= 500 || r.Status == 200:
		return maybeTouched
	default:
		return noTouch
	}
}

// confirmed: the server answered 200 with a valid body that names the
// stream or its status, i.e. it holds a detector for the stream.
func (c *capacity) confirmed(out scenario.DetectOutcome) bool {
	return out.OK && (out.Result.StreamID != "" || out.Result.Status != "" || out.Result.ReadyKnown)
}

// tally counts a failed request by status and error code.
func (c *capacity) tally(out scenario.DetectOutcome) {
	if out.Resp.Canceled || out.OK {
		return
	}
	c.errs.add(out.Resp.Status, out.Resp.Err, out.Resp.TimedOut, out.Resp.Body)
}

// Interval implements scenario.IntervalObserver: /metrics is read once per interval.
func (c *capacity) Interval() time.Duration {
	return c.env.ScaledInterval(scrapeEvery, minScrape)
}

// Observe implements scenario.IntervalObserver: it reads the target's detector gauges.
func (c *capacity) Observe(iv scenario.Interval) { c.scrape(context.Background(), iv.End) }

// scrape reads /metrics; at is the offset from the run start it stands for.
func (c *capacity) scrape(ctx context.Context, at time.Duration) {
	if !c.server.wantScrape() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, scenario.ScrapeTimeout)
	defer cancel()
	ss, err := c.scraper.Scrape(ctx)
	c.ledger.mu.Lock()
	created := c.ledger.created
	c.ledger.mu.Unlock()
	c.server.observe(ss, err, at, created)
}

// serverGauges follows driftlock_detectors_active and
// driftlock_detector_evictions_total across scrapes.
type serverGauges struct {
	mu         sync.Mutex
	scrapes    int
	failures   int
	lastErr    string
	activeSeen bool
	activePeak float64
	activeLast float64
	evictSeen  bool
	evictFirst float64
	evictLast  float64
	// rows are the scrapes over time, one in every stride (thinned to at
	// most maxScrapeRows, so a long run keeps a small file).
	rows   []scrapeRow
	stride int
	seen   int
}

// scrapeRow is one read of the target's /metrics, as analysis.scrapes of
// the result file: the streams this run had created by then against the
// server's detectors and evictions (what the HTML report draws).
type scrapeRow struct {
	AtSeconds      float64 `json:"at_seconds"`
	StreamsCreated int64   `json:"streams_created"`
	// DetectorsActive is driftlock_detectors_active; Evictions is how much
	// driftlock_detector_evictions_total grew since the first scrape. Absent
	// when the target does not export them.
	DetectorsActive *float64 `json:"detectors_active,omitempty"`
	Evictions       *float64 `json:"evictions,omitempty"`
}

// maxScrapeRows bounds analysis.scrapes.
const maxScrapeRows = 240

// scrapeGiveUp: after this many failed scrapes and no success, the
// target is taken to have no /metrics and is not asked again.
const scrapeGiveUp = 3

func (g *serverGauges) wantScrape() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.scrapes > 0 || g.failures < scrapeGiveUp
}

func (g *serverGauges) observe(ss driftlock.Samples, err error, at time.Duration, created int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.failures++
		g.lastErr = err.Error()
		return
	}
	g.scrapes++
	row := scrapeRow{AtSeconds: float64(at.Milliseconds()) / 1000, StreamsCreated: created}
	if v, ok := ss.Sum("driftlock_detectors_active"); ok {
		if !g.activeSeen || v > g.activePeak {
			g.activePeak = v
		}
		g.activeSeen, g.activeLast = true, v
		row.DetectorsActive = &v
	}
	if v, ok := ss.Sum("driftlock_detector_evictions_total"); ok {
		if !g.evictSeen {
			g.evictFirst = v
		}
		g.evictSeen, g.evictLast = true, v
		e := v - g.evictFirst
		row.Evictions = &e
	}
	g.addRow(row)
}

// addRow keeps one row in every stride; past maxScrapeRows it drops every
// other row kept and doubles the stride.
func (g *serverGauges) addRow(r scrapeRow) {
	g.stride = max(g.stride, 1)
	g.seen++
	if (g.seen-1)%g.stride != 0 {
		return
	}
	g.rows = append(g.rows, r)
	if len(g.rows) > maxScrapeRows {
		kept := g.rows[:0]
		for i := 0; i < len(g.rows); i += 2 {
			kept = append(kept, g.rows[i])
		}
		g.rows = kept
		g.stride *= 2
	}
}

// errorTally counts failed requests by "status code", naming failures that
// say the server ran out of detectors.
type errorTally struct {
	mu         sync.Mutex
	byKey      map[string]int64
	exhaustion int64
	example    string
}

func (e *errorTally) add(status int, err error, timedOut bool, body []byte) {
	key := strconv.Itoa(status)
	exhausted := false
	var msg string
	switch {
	case err != nil && timedOut:
		key = "0 timeout"
	case err != nil:
		key = "0 no response"
	default:
		if eb, ok := driftlock.ParseError(body); ok {
			if eb.Code != "" {
				key += " " + eb.Code
			}
			msg = strings.TrimSpace(eb.Code + ": " + eb.Message)
			exhausted = isExhaustion(status, eb)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byKey[key]++
	if exhausted {
		e.exhaustion++
		if e.example == "" {
			e.example = strconv.Itoa(status) + " " + msg
		}
	}
}

// exhaustionWords are what an error body says when a server refuses a new
// stream because it has no room for another detector.
var exhaustionWords = []string{"detector", "capacity", "exhaust", "too many streams", "stream limit", "memory", "cache full"}

// isExhaustion reports whether a failure (a 5xx, or a 429 that is about
// streams rather than request rate) says the server ran out of detectors.
func isExhaustion(status int, e driftlock.ErrorBody) bool {
	if status < 500 && status != 429 {
		return false
	}
	text := strings.ToLower(e.Code + " " + e.Message)
	for _, w := range exhaustionWords {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// ticket is what the ledger knew when a touching request was sent.
type ticket struct {
	at       int64 // touches counted before the request was sent
	inflight int   // other touching requests in flight at that moment
	sends    int64 // touching requests sent before this one
}

// sentinel is a warm stream waiting for its probe.
type sentinel struct {
	stream string
	kind   string
	at     int64 // touches before its warming request was sent
	doneAt int64 // touches once its own was counted
	// maybeAt counts requests that may have touched the cache unseen (no
	// answer, 5xx) when it was answered; those since widen the upper bound.
	maybeAt int64
	// before is F₁: other requests in flight while it was, plus probes of
	// sentinels that may be older or newer than it on the server.
	before int64
	// skip counts probes of sentinels certainly newer than it: they touch an
	// entry already ahead of it in the LRU, so they are not "newer" touches.
	skip int64
}

// newer is D for the sentinel when the touch count is touches.
func (s *sentinel) newer(touches int64) int64 { return touches - s.at - 1 - s.skip }

// probeRecord is one answered probe, as written to the result file.
type probeRecord struct {
	Stream string `json:"stream"`
	Kind   string `json:"kind"`
	// Newer is the distance D: touches the server confirmed between the
	// sentinel and the probe; the true number lies in [NewerMin, NewerMax].
	Newer    int64  `json:"newer"`
	NewerMin int64  `json:"newer_min"`
	NewerMax int64  `json:"newer_max"`
	Outcome  string `json:"outcome"`
}

// ledger is the capacity test's shared bookkeeping: touches, sentinels
// waiting for their probes, and probe outcomes. Everything is under one
// mutex: a few operations per iteration, far from contended.
type ledger struct {
	mu       sync.Mutex
	expected int64
	// retentionAt and evictionAt are the distances at which the two kinds of
	// sentinel are probed.
	retentionAt, evictionAt int64
	touches                 int64
	maybe                   int64
	sends                   int64
	inflight                int
	created                 int64
	turns                   int64
	sentinels               int64
	notReadyCount           int64
	queues                  map[string][]*sentinel
	probes                  []probeRecord // the first probeLog
	tally                   map[string]map[string]int64
	// keptMin is the largest lower bound of a kept probe, evictedMax the
	// smallest upper bound of an evicted one (−1: none yet).
	keptMin, evictedMax int64
	maxProbed           int64
}

func newLedger(expected int) *ledger {
	margin := max(1, int64(expected)/10)
	return &ledger{
		expected:    int64(expected),
		retentionAt: max(1, int64(expected)-margin),
		evictionAt:  int64(expected) + margin,
		queues:      map[string][]*sentinel{},
		tally:       map[string]map[string]int64{retention: {}, eviction: {}},
		keptMin:     -1,
		evictedMax:  -1,
	}
}

// send registers a touching request about to be sent.
func (l *ledger) send() ticket {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sendLocked()
}

func (l *ledger) sendLocked() ticket {
	t := ticket{at: l.touches, inflight: l.inflight, sends: l.sends}
	l.inflight++
	l.sends++
	return t
}

// overlapping counts the other requests that were in flight at some moment
// while the request of ticket t was: those in flight when it was sent and
// those sent since. Call it before the request's done.
func (l *ledger) overlapping(t ticket) int64 {
	return int64(t.inflight) + l.sends - t.sends - 1
}

// done ends a request registered with send; touch says what it did to the
// server's cache, created that the server confirmed a new stream.
func (l *ledger) done(touch touchKind, created bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.doneLocked(touch, created)
}

func (l *ledger) doneLocked(touch touchKind, created bool) {
	// The touch is counted before the request leaves the in-flight count, so
	// a reader never sees it in neither.
	switch touch {
	case touched:
		l.touches++
	case maybeTouched:
		l.maybe++
	}
	if created {
		l.created++
	}
	l.inflight--
}

// doneSentinel ends a sentinel's warming request that left it ready and
// queues the sentinel for its probe; t is its warming request's ticket.
func (l *ledger) doneSentinel(s *sentinel, t ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.at, s.before = t.at, l.overlapping(t)
	l.doneLocked(touched, true)
	s.doneAt, s.maybeAt = l.touches, l.maybe
	l.queues[s.kind] = append(l.queues[s.kind], s)
	l.sentinels++
}

func (l *ledger) notReady() {
	l.mu.Lock()
	l.notReadyCount++
	l.mu.Unlock()
}

// sentinelTurn says whether the next new stream is a sentinel (the first
// and then every Nth), and of which kind: they alternate, eviction first.
func (l *ledger) sentinelTurn(every int) (kind string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.turns
	l.turns++
	if n%int64(every) != 0 {
		return "", false
	}
	if (n/int64(every))%2 == 0 {
		return eviction, true
	}
	return retention, true
}

// nextProbe takes the oldest sentinel whose distance has reached its kind's
// target (retention first: it is the closer one) and registers the probe as
// sent. Each sentinel is probed once: a probe refreshes (or re-creates) it.
func (l *ledger) nextProbe() (*sentinel, ticket, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range [...]struct {
		kind string
		at   int64
	}{{retention, l.retentionAt}, {eviction, l.evictionAt}} {
		q := l.queues[k.kind]
		if len(q) == 0 || q[0].newer(l.touches) < k.at {
			continue
		}
		s := q[0]
		q[0] = nil
		l.queues[k.kind] = q[1:]
		return s, l.sendLocked(), true
	}
	return nil, ticket{}, false
}

// cancel puts back a sentinel whose probe the end of the run cut short.
func (l *ledger) cancel(s *sentinel) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queues[s.kind] = append([]*sentinel{s}, l.queues[s.kind]...)
}

// doneProbe ends a probe registered by nextProbe and records its outcome.
func (l *ledger) doneProbe(s *sentinel, t ticket, outcome string, touch touchKind) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := probeRecord{Stream: s.stream, Kind: s.kind, Outcome: outcome, Newer: s.newer(t.at)}
	rec.NewerMin = max(0, rec.Newer-s.before)
	rec.NewerMax = rec.Newer + l.overlapping(t) + l.maybe - s.maybeAt
	l.doneLocked(touch, false)
	if touch == touched {
		// The probe moved (or re-created) s at the front of the LRU: that is
		// a newer touch for the sentinels behind it, but not for those ahead.
		for _, q := range l.queues {
			for _, w := range q {
				switch {
				case s.at >= w.doneAt:
					w.skip++ // s was sent after w was answered: s is newer
				case s.doneAt > w.at:
					w.before++ // they overlapped: either may be older
				}
			}
		}
	}
	l.tally[s.kind][outcome]++
	switch outcome {
	case kept:
		if rec.NewerMin > l.keptMin {
			l.keptMin = rec.NewerMin
		}
	case evicted:
		if l.evictedMax < 0 || rec.NewerMax < l.evictedMax {
			l.evictedMax = rec.NewerMax
		}
	}
	if outcome == kept || outcome == evicted {
		l.maxProbed = max(l.maxProbed, rec.Newer)
	}
	if len(l.probes) < probeLog {
		l.probes = append(l.probes, rec)
	}
}

// probeStats is analysis.probes of capacity_test_results.json.
type probeStats struct {
	Kept    int64 `json:"kept"`
	Evicted int64 `json:"evicted"`
	// Unknown: 200 without a status; Failed: no 200; Pending: sentinels
	// never probed because the run ended first.
	Unknown int64 `json:"unknown"`
	Failed  int64 `json:"failed"`
	Pending int64 `json:"pending"`
	// RetentionAfter and EvictionAfter are the distances (newer streams) at
	// which the two kinds of sentinel are probed; ByKind counts outcomes by kind.
	RetentionAfter int64                       `json:"retention_after"`
	EvictionAfter  int64                       `json:"eviction_after"`
	ByKind         map[string]map[string]int64 `json:"by_kind"`
	// Sentinels were warmed to ready; SentinelsNotReady were confirmed but
	// still calibrating, so never probed.
	Sentinels         int64 `json:"sentinels"`
	SentinelsNotReady int64 `json:"sentinels_not_ready"`
	SentinelEvery     int   `json:"sentinel_every"`
	// MaxProbed is the largest distance a kept or evicted probe measured.
	MaxProbed int64         `json:"max_probed"`
	Log       []probeRecord `json:"log,omitempty"`
}

// estimate bounds the cache size from the probes: a kept stream
// proves more than AtLeast−1 newer entries fit, an evicted one that at most
// AtMost do. Zero: no bound.
type estimate struct {
	AtLeast int64 `json:"at_least,omitempty"`
	AtMost  int64 `json:"at_most,omitempty"`
}

// capacityAnalysis is the `analysis` of capacity_test_results.json.
type capacityAnalysis struct {
	StreamsCreated   int64      `json:"streams_created"`
	ExpectedCapacity int        `json:"expected_capacity"`
	Probes           probeStats `json:"probes"`
	Estimate         estimate   `json:"capacity_estimate"`
	// DetectorsActivePeak and Evictions come from the target's /metrics
	// (null when it has none): the gauge's highest scraped value, and how
	// much driftlock_detector_evictions_total grew between the first and the
	// last scrape (the first is taken before any traffic).
	DetectorsActivePeak *float64 `json:"detectors_active_peak"`
	Evictions           *float64 `json:"evictions"`
	MetricsScrapes      int      `json:"metrics_scrapes"`
	// Scrapes are the reads of /metrics over time (at most maxScrapeRows).
	Scrapes      []scrapeRow `json:"scrapes,omitempty"`
	MetricsError string      `json:"metrics_error,omitempty"`
	// ErrorsByStatus counts failed requests by "status code" ("0 timeout",
	// "0 no response" without a response); DetectorExhaustion those whose
	// error says the server ran out of detectors.
	ErrorsByStatus     map[string]int64 `json:"errors_by_status"`
	DetectorExhaustion int64            `json:"detector_exhaustion"`
	ExhaustionExample  string           `json:"detector_exhaustion_example,omitempty"`
	Verdict            string           `json:"verdict"`
}

// summary freezes the ledger into the analysis' probe part and the verdict.
func (l *ledger) summary(every int) (probeStats, estimate, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ps := probeStats{
		RetentionAfter: l.retentionAt, EvictionAfter: l.evictionAt,
		ByKind:    map[string]map[string]int64{},
		Sentinels: l.sentinels, SentinelsNotReady: l.notReadyCount, SentinelEvery: every,
		MaxProbed: l.maxProbed, Log: append([]probeRecord(nil), l.probes...),
	}
	for kind, byOutcome := range l.tally {
		ps.ByKind[kind] = map[string]int64{}
		for o, n := range byOutcome {
			ps.ByKind[kind][o] = n
			switch o {
			case kept:
				ps.Kept += n
			case evicted:
				ps.Evicted += n
			case unknown:
				ps.Unknown += n
			case failed:
				ps.Failed += n
			}
		}
	}
	for _, q := range l.queues {
		ps.Pending += int64(len(q))
	}
	est, verdict := judge(l.keptMin, l.evictedMax, l.expected)
	return ps, est, verdict
}

// judge bounds the cache from the largest lower bound of a kept probe and
// the smallest upper bound of an evicted one (−1: none) and says whether it
// holds the expected number of streams.
func judge(keptMin, evictedMax, expected int64) (estimate, string) {
	var est estimate
	if keptMin >= 0 {
		est.AtLeast = keptMin + 1
	}
	if evictedMax >= 0 {
		est.AtMost = max(1, evictedMax)
	}
	verdict := inconclusive
	switch {
	case evictedMax >= 0 && evictedMax < expected:
		verdict = belowExpected
	case evictedMax >= 0:
		verdict = asExpected
	case keptMin >= 0:
		verdict = noEviction
	}
	return est, verdict
}

// Analyse implements scenario.Instance.
func (c *capacity) Analyse(*metrics.Snapshot) scenario.Findings {
	ps, est, verdict := c.ledger.summary(c.opts.SentinelEvery)
	c.ledger.mu.Lock()
	created := c.ledger.created
	c.ledger.mu.Unlock()
	a := capacityAnalysis{
		StreamsCreated: created, ExpectedCapacity: c.opts.ExpectedCapacity,
		Probes: ps, Estimate: est, Verdict: verdict,
	}
	g := &c.server
	g.mu.Lock()
	a.MetricsScrapes = g.scrapes
	a.Scrapes = append([]scrapeRow(nil), g.rows...)
	if g.scrapes == 0 {
		a.MetricsError = g.lastErr
	}
	if g.activeSeen {
		v := g.activePeak
		a.DetectorsActivePeak = &v
	}
	if g.evictSeen {
		v := g.evictLast - g.evictFirst
		a.Evictions = &v
	}
	g.mu.Unlock()
	c.errs.mu.Lock()
	a.ErrorsByStatus = make(map[string]int64, len(c.errs.byKey))
	for k, v := range c.errs.byKey {
		a.ErrorsByStatus[k] = v
	}
	a.DetectorExhaustion, a.ExhaustionExample = c.errs.exhaustion, c.errs.example
	c.errs.mu.Unlock()
	return findings(a)
}

// findings writes the verdict lines and decides failure: the run
// fails when a probed stream was evicted although, even counting every
// request in flight, fewer than ExpectedCapacity newer streams had been
// touched — the cache holds fewer streams than expected. Evictions beyond
// the expected capacity are what a bounded cache should do; a cache that
// evicts nothing is reported, not failed.
func findings(a capacityAnalysis) scenario.Findings {
	ps, e := a.Probes, a.ExpectedCapacity
	lines := []string{fmt.Sprintf("created %d streams (server-confirmed); %d sentinels warmed to ready, one in every %d new streams",
		a.StreamsCreated, ps.Sentinels, ps.SentinelEvery)}
	probed := ps.Kept + ps.Evicted
	if probed > 0 {
		lines = append(lines, fmt.Sprintf("probed %d early stream%s: after ≥%d newer %d kept, %d evicted; after ≥%d newer %d kept, %d evicted",
			probed, plural(probed),
			ps.RetentionAfter, ps.ByKind[retention][kept], ps.ByKind[retention][evicted],
			ps.EvictionAfter, ps.ByKind[eviction][kept], ps.ByKind[eviction][evicted]))
	}
	server := ""
	if a.Evictions != nil {
		server = fmt.Sprintf(" (server evicted %.0f)", *a.Evictions)
	}
	f := scenario.Findings{Data: a}
	switch a.Verdict {
	case belowExpected:
		f.Failed = true
		f.FailReason = fmt.Sprintf("detector cache holds fewer than the expected %d streams: a stream was evicted after at most %d newer", e, a.Estimate.AtMost)
		lines = append(lines, fmt.Sprintf("FAIL: a stream was evicted after at most %d newer streams — the cache holds fewer than the expected %d%s", a.Estimate.AtMost, e, server))
	case asExpected:
		if a.Estimate.AtLeast > 0 {
			lines = append(lines, fmt.Sprintf("the cache holds between %d and %d streams — evictions only beyond the expected %d%s", a.Estimate.AtLeast, a.Estimate.AtMost, e, server))
		} else {
			lines = append(lines, fmt.Sprintf("the cache holds at most %d streams — no stream was evicted before %d newer ones%s", a.Estimate.AtMost, e, server))
		}
	case noEviction:
		evicted := ""
		if a.Evictions != nil {
			evicted = fmt.Sprintf("; server evicted %.0f", *a.Evictions)
		}
		lines = append(lines, fmt.Sprintf("no probed stream was evicted: the cache held ≥ %d streams (probed up to %d newer; expected %d%s)", a.Estimate.AtLeast, ps.MaxProbed, e, evicted))
	default:
		why := fmt.Sprintf("no probe was due: fewer than %d streams were created after the first sentinel", ps.RetentionAfter)
		if ps.Unknown > 0 && probed == 0 {
			why = "the server's answers carry no status (ready/calibrating), so probes cannot tell kept from evicted"
		} else if ps.Sentinels == 0 && ps.SentinelsNotReady > 0 {
			why = "no sentinel reached status ready, so there was nothing to probe"
		}
		lines = append(lines, "capacity inconclusive: "+why)
	}
	switch {
	case a.DetectorsActivePeak != nil:
		lines = append(lines, fmt.Sprintf("driftlock_detectors_active peaked at %.0f", *a.DetectorsActivePeak))
	case a.MetricsError != "":
		lines = append(lines, "target /metrics not read: "+a.MetricsError)
	}
	if len(a.ErrorsByStatus) > 0 {
		l := "failed requests by status: " + scenario.FormatStatusCounts(a.ErrorsByStatus)
		if a.DetectorExhaustion > 0 {
			l += fmt.Sprintf("; %d say the server ran out of detectors (%s)", a.DetectorExhaustion, a.ExhaustionExample)
		}
		lines = append(lines, l)
	}
	f.Lines = lines
	return f
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
