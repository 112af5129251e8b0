// Package ratelimit is driftload's rate-limit test: does the demo route
// enforce its limit and advertise an accurate retry delay.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/driftlock"
	"github.com/driftload/driftload/internal/gen"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
)

// Test declares the ratelimit test.
var Test = &scenario.Test{
	Name:          "ratelimit",
	ThresholdsKey: "rate_limit",
	Short:         "3 min at 1 VU: does the demo route enforce its limit and advertise an accurate retry delay",
	Long: `ratelimit checks the demo route's per-IP limit: 1 VU for 3 minutes sends a small demo
detect (5 log events, no key) every --interval (2 s), on multiples of it from the run start,
and expects --limit (10) per rolling --window (1m). It reports allowed and limited counts,
the most successes seen in any rolling window against the expected limit (fails when more
got through, or when the server limited before the limit), whether 429s carried a
Retry-After header, a body retry_after_seconds, both or neither (a missing header is noted,
not failed: the real server sends only the body field), and whether the advertised delay
holds: after the first 429 of each window a retry 1 s before the advertised instant must
be limited and one at exactly the advertised instant must succeed (both count as ordinary
requests). It also compares 429 and 200 latency. Findings go to analysis in
rate_limit_test_results.json. Match the reference server with
"driftload serve --demo-limit 3 --demo-window 6s" and "--limit 3 --window 6s".`,
	ResultFile:      "rate_limit_test_results.json",
	Metrics:         rateLimitMetrics,
	DefaultVUs:      1,
	DefaultDuration: 3 * time.Minute,
	Options:         func() scenario.Options { o := DefaultOptions(); return &o },
	New:             newRateLimit,
	Merged:          merged,
}

// rateLimitMetrics are the ratelimit test's own metrics.
var rateLimitMetrics = []metrics.Def{
	{Name: "rate_limited_responses", Type: metrics.Rate},
	{Name: "successful_requests", Type: metrics.Counter},
}

// Options are the ratelimit test's own flags.
type Options struct {
	// Interval is the pacing between requests (default 2 s).
	Interval time.Duration
	// Window is the rolling window of the expected limit (default 1 min).
	Window time.Duration
	// Limit is the number of requests the target should allow per Window
	// (default 10).
	Limit int
}

// Bind implements scenario.Options.
func (o *Options) Bind(fs *pflag.FlagSet) {
	fs.DurationVar(&o.Interval, "interval", o.Interval, "pacing between requests (sent on multiples of it from the run start)")
	fs.DurationVar(&o.Window, "window", o.Window, "rolling window of the expected limit")
	fs.IntVar(&o.Limit, "limit", o.Limit, "requests the target should allow per --window")
}

// Resolve implements scenario.Options.
func (o *Options) Resolve([]string) []error {
	var errs []error
	if o.Interval <= 0 {
		errs = append(errs, fmt.Errorf("--interval must be positive, got %s", o.Interval))
	}
	if o.Window <= 0 {
		errs = append(errs, fmt.Errorf("--window must be positive, got %s", o.Window))
	}
	if o.Limit < 1 {
		errs = append(errs, fmt.Errorf("--limit must be at least 1, got %d", o.Limit))
	}
	return errs
}

// DefaultOptions are the demo route's documented limit, probed at
// one request every 2 s.
func DefaultOptions() Options {
	return Options{Interval: 2 * time.Second, Window: time.Minute, Limit: 10}
}

const (
	scenarioTag = "ratelimit"
	// batchEvents is the number of log events in each demo request.
	batchEvents = 5
	// earlyGuard is how much sooner than "advertised − 1 s" the early retry
	// is sent: a whole-second Retry-After is the remaining wait rounded up,
	// so the slot may free up to 1 s before the advertised instant, and the
	// guard covers the retry's own trip to the server.
	earlyGuard = 250 * time.Millisecond
)

// Request kinds, the `kind` tag of every request.
const (
	kindPaced = "paced"
	kindEarly = "early_retry"
	kindExact = "exact_retry"
)

// Probe verdicts.
const (
	probeAccurate     = "accurate"
	probeEarlyAllowed = "early_allowed"
	probeRefused      = "refused_at_advertised"
	probeInconclusive = "inconclusive"
	probeIncomplete   = "incomplete"
)

type rateLimit struct {
	env     scenario.Env
	opts    Options
	url     string
	header  http.Header
	limited *metrics.Metric
	success *metrics.Metric
	book    *rateBook
}

type rateLimitVU struct {
	buf  scenario.Buffers
	tags map[string]metrics.Tags
}

func newRateLimit(env scenario.Env, reg *metrics.Registry) (scenario.Instance, error) {
	opts := DefaultOptions()
	if o, ok := env.Options.(*Options); ok && o != nil {
		opts = *o
	}
	if err := errors.Join(opts.Resolve(nil)...); err != nil {
		return nil, err
	}
	ms, err := reg.DefineAll(rateLimitMetrics)
	if err != nil {
		return nil, err
	}
	return &rateLimit{
		env:     env,
		opts:    opts,
		url:     scenario.URL(env.BaseURL, "/v1/demo/detect"),
		header:  scenario.JSONHeader(""),
		limited: ms["rate_limited_responses"],
		success: ms["successful_requests"],
		book:    newRateBook(opts.Window),
	}, nil
}

func (r *rateLimit) SetupVU(vu *runner.VU) {
	st := &rateLimitVU{tags: map[string]metrics.Tags{}}
	for _, k := range []string{kindPaced, kindEarly, kindExact} {
		st.tags[k] = metrics.Tags{{Key: "kind", Value: k}}
	}
	vu.Data = st
}

// Iteration: one demo detect — paced, or a Retry-After probe's retry when
// its instant has come (see rateBook) — then sleep until the next request is
// due: the next multiple of the interval from the run start (so pacing does
// not drift) or the probe's retry.
func (r *rateLimit) Iteration(ctx context.Context, vu *runner.VU) {
	r.cycle(ctx, func(ctx context.Context, kind string) shotResult {
		return r.send(ctx, vu, kind)
	})
}

// shotResult is what one request observed; status 0 is no response.
type shotResult struct {
	status   int
	header   http.Header
	body     []byte
	canceled bool
}

type sendFunc func(ctx context.Context, kind string) shotResult

// send is one demo detect of a small valid batch.
func (r *rateLimit) send(ctx context.Context, vu *runner.VU, kind string) shotResult {
	st := vu.Data.(*rateLimitVU)
	body := st.buf.DetectBody(vu, gen.Batch{
		Size: batchEvents, Mix: gen.LogsWithAnomalies, AnomalyRate: 0.2, Start: r.env.Start, Step: time.Second,
	}, nil)
	resp := vu.Do(ctx, &runner.Request{
		Method: http.MethodPost, URL: r.url, Header: r.header, Body: body,
		Endpoint: "demo_detect", Scenario: scenarioTag, Tags: st.tags[kind], Timeout: r.env.Timeout,
		// 429 is the expected answer of most requests in this test.
		Expect: []int{http.StatusOK, http.StatusTooManyRequests},
	})
	if resp.Canceled {
		return shotResult{canceled: true}
	}
	out := shotResult{header: resp.Header(), body: resp.Body}
	if resp.Err == nil {
		out.status = resp.Status
	}
	ctags := st.tags[kind]
	vu.Check("demo detect status 200 or 429", out.status == http.StatusOK || out.status == http.StatusTooManyRequests, ctags...)
	switch out.status {
	case http.StatusOK:
		vu.Check("demo detect response well-formed", scenario.ValidDetect(resp.Body, batchEvents), ctags...)
		vu.Recorder.Add(r.success, nil, 1)
	case http.StatusTooManyRequests:
		e, ok := driftlock.ParseError(resp.Body)
		vu.Check("429 body is rate_limit_exceeded", ok && e.Code == "rate_limit_exceeded", ctags...)
	}
	vu.Recorder.AddBool(r.limited, nil, out.status == http.StatusTooManyRequests)
	return out
}

// cycle is one iteration with the request abstracted, so the pacing and the
// probes can be tested against a fake limiter: send the request that is due
// (a probe at its instant, else a paced one), book it, sleep until the next.
func (r *rateLimit) cycle(ctx context.Context, send sendFunc) {
	start := r.book.begin(time.Now())
	t0 := time.Now()
	kind := r.book.take(t0.Sub(start))
	res := send(ctx, kind)
	if res.canceled {
		return
	}
	t1 := time.Now()
	adv, src := time.Duration(0), ""
	if res.status == http.StatusTooManyRequests {
		adv, src = driftlock.RetryAfter(res.header, res.body, t1)
	}
	r.book.record(kind, t0.Sub(start), t1.Sub(start), res.status, adv, src)
	runner.Sleep(ctx, time.Until(start.Add(r.book.next(time.Since(start), r.opts.Interval))))
}

// earlyDelay is when, after sending the limited request, the early retry
// goes out: advertised − 1 s − earlyGuard, or half the advertised delay when
// that would not leave the retry in the second half of it.
func earlyDelay(adv time.Duration) time.Duration {
	if d := adv - time.Second - earlyGuard; d >= adv/2 {
		return d
	}
	return adv / 2
}

// nextTick is the first multiple of interval after now (offsets from the run start).
func nextTick(now, interval time.Duration) time.Duration {
	if interval <= 0 {
		return now
	}
	return (now/interval + 1) * interval
}

// probeShot is one probe request.
type probeShot struct {
	Sent bool
	// After is the delay from the 429's send (early retry) or arrival
	// (exact retry) to the probe's send; Took is the probe's round trip.
	After, Took time.Duration
	// Status is 0 when no response came.
	Status int
	// Paced: a paced request that succeeded before the early retry was due
	// stands in for it.
	Paced bool
}

// probeRecord is one Retry-After probe.
type probeRecord struct {
	// At is the limited request's send offset from the run start.
	At         time.Duration
	Advertised time.Duration
	Source     string
	Early      probeShot
	Exact      probeShot
}

// verdict judges a probe. The early retry's success proves the advertised
// delay too long only when the retry reached the server before
// advertised − 1 s after the 429 (whole-second rounding can explain anything
// later): After + Took ≤ Advertised − 1 s, since the limited request reached
// the server no earlier than it was sent. The exact retry is judged only
// when the early one was limited (else the freed slot is already taken).
func (p probeRecord) verdict() string {
	switch {
	case !p.Early.Sent:
		return probeIncomplete
	case p.Early.Status == http.StatusOK:
		if p.Early.After+p.Early.Took <= p.Advertised-time.Second {
			return probeEarlyAllowed
		}
		return probeInconclusive
	case p.Early.Status != http.StatusTooManyRequests:
		return probeInconclusive
	case !p.Exact.Sent:
		return probeIncomplete
	case p.Exact.Status == http.StatusOK:
		return probeAccurate
	case p.Exact.Status == http.StatusTooManyRequests:
		return probeRefused
	default:
		return probeInconclusive
	}
}

// rateBook is the test's bookkeeping, shared by the run's VUs: the send
// offsets of every answer, where 429s carried their delay, and the probes.
//
// A probe follows the first 429 of a window (see record): a retry at
// earlyDelay(advertised) after the 429 was sent, which must be limited, then
// one at exactly the advertised delay after the 429 arrived, which must
// succeed. Pacing goes on until the early retry; paced requests between the
// early and the exact retry are skipped, so none can take the slot the
// exact retry is waiting for. Probes are ordinary requests of the run and
// count in the window estimate. A paced request that succeeds before the
// early retry is due stands in for it.
type rateBook struct {
	window time.Duration

	mu        sync.Mutex
	start     time.Time
	successes []time.Duration // send offsets of 200s
	limited   []time.Duration // send offsets of 429s
	other     int             // neither 200 nor 429 (including no response)
	maxTook   time.Duration   // longest round trip of a 200 or a 429
	sources   map[string]int  // 429s by RetryAfter source
	probes    []probeRecord
	// pending is the probe under way: its early retry is due at earlyAt,
	// then (once the early retry was limited) its exact retry at exactAt.
	pending          *probeRecord
	earlyAt, exactAt time.Duration
	arrived429       time.Duration
	inFlight         bool
	lastProbe        time.Duration
	probed           bool
}

func newRateBook(window time.Duration) *rateBook {
	return &rateBook{window: window, sources: map[string]int{}}
}

// begin returns the run start, fixing it at now on the first call.
func (b *rateBook) begin(now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.start.IsZero() {
		b.start = now
	}
	return b.start
}

// take returns the kind of request to send at offset now: a probe retry
// once its instant has come (to one VU only), else a paced request.
func (b *rateBook) take(now time.Duration) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pending
	switch {
	case p == nil || b.inFlight:
		return kindPaced
	case !p.Early.Sent && now >= b.earlyAt:
		b.inFlight = true
		return kindEarly
	case p.Early.Sent && now >= b.exactAt:
		b.inFlight = true
		return kindExact
	}
	return kindPaced
}

// next is the offset of the next request after now: the next multiple of
// interval, or the pending probe's retry when that comes first; between an
// early and an exact retry, only the exact one.
func (b *rateBook) next(now, interval time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	tick := nextTick(now, interval)
	switch p := b.pending; {
	case p == nil:
		return tick
	case !p.Early.Sent:
		return min(tick, max(now, b.earlyAt))
	default:
		return max(now, b.exactAt)
	}
}

// record books one answer of the given kind sent at sent and received at
// arrived (offsets from the run start); adv and src are a 429's advertised
// delay and its RetryAfter source.
func (b *rateBook) record(kind string, sent, arrived time.Duration, status int, adv time.Duration, src string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch status {
	case http.StatusOK:
		b.successes = append(b.successes, sent)
		b.maxTook = max(b.maxTook, arrived-sent)
	case http.StatusTooManyRequests:
		b.limited = append(b.limited, sent)
		b.sources[src]++
		b.maxTook = max(b.maxTook, arrived-sent)
	default:
		b.other++
	}
	switch kind {
	case kindPaced:
		if p := b.pending; p != nil && !p.Early.Sent && status == http.StatusOK {
			// A paced request got through before the early retry: it is
			// the early retry's evidence, and it took the freed slot.
			p.Early = probeShot{Sent: true, Paced: true, After: sent - p.At, Took: arrived - sent, Status: status}
			b.finishLocked()
			return
		}
		if status == http.StatusTooManyRequests && b.claimLocked(sent, adv, src) {
			b.pending = &probeRecord{At: sent, Advertised: adv, Source: src}
			b.earlyAt, b.arrived429 = sent+earlyDelay(adv), arrived
		}
	case kindEarly:
		p := b.pending
		p.Early = probeShot{Sent: true, After: sent - p.At, Took: arrived - sent, Status: status}
		b.inFlight = false
		if status == http.StatusTooManyRequests {
			b.exactAt = b.arrived429 + p.Advertised
		} else {
			// An early success took the slot the exact retry would have used.
			b.finishLocked()
		}
	case kindExact:
		p := b.pending
		p.Exact = probeShot{Sent: true, After: sent - b.arrived429, Took: arrived - sent, Status: status}
		b.finishLocked()
	}
}

// claimLocked reports whether a paced 429 opens a probe: none is under way,
// it advertised a delay, and it is the first 429 of the run or comes at
// least a window after the last probed one. A 429 advertising 1 s or less
// (a slot about to free) cannot prove an early retry wrong, so it opens a
// probe only when none was opened for two windows.
func (b *rateBook) claimLocked(sent, adv time.Duration, src string) bool {
	if b.pending != nil || src == driftlock.RetrySourceNone {
		return false
	}
	since := sent - b.lastProbe
	if b.probed && (since < b.window || (adv <= time.Second && since < 2*b.window)) {
		return false
	}
	if !b.probed && adv <= time.Second && sent < 2*b.window {
		return false
	}
	b.probed, b.lastProbe = true, sent
	return true
}

func (b *rateBook) finishLocked() {
	b.probes = append(b.probes, *b.pending)
	b.pending, b.inFlight = nil, false
}

// rateLimitAnalysis is the `analysis` of rate_limit_test_results.json.
type rateLimitAnalysis struct {
	Requests int `json:"requests"`
	Allowed  int `json:"allowed"`
	Limited  int `json:"limited"`
	// Other counts answers that were neither 200 nor 429 (0: no response).
	Other        int     `json:"other"`
	LimitedShare float64 `json:"limited_share"`
	// ExpectedLimit per ExpectedWindowSeconds is what the run was told to expect.
	ExpectedLimit         int     `json:"expected_limit"`
	ExpectedWindowSeconds float64 `json:"expected_window_seconds"`
	IntervalSeconds       float64 `json:"interval_seconds"`
	// Enforcement: observed is the most successes in any rolling window.
	Enforcement analysis.LimitVerdict `json:"enforcement"`
	// ToleranceMS is the longest round trip: how far a request's server-side
	// instant may be from its send instant.
	ToleranceMS float64          `json:"timing_tolerance_ms"`
	RetryAfter  retryAfterReport `json:"retry_after"`
	Latency     latencyReport    `json:"latency"`
	// AllowedAtSeconds and LimitedAtSeconds are the send offsets from the
	// run start of every 200 and every 429: what the window is judged on,
	// and what the HTML report draws.
	AllowedAtSeconds []float64 `json:"allowed_at_seconds"`
	LimitedAtSeconds []float64 `json:"limited_at_seconds"`
}

// retryAfterReport is where 429s carried their delay, and whether it held.
type retryAfterReport struct {
	// Source is header, body, both, none, mixed, or "" when no 429 came.
	Source  string         `json:"source"`
	Sources map[string]int `json:"sources"`
	// HeaderMissing: 429s came, none with a Retry-After header.
	HeaderMissing bool `json:"header_missing"`
	// Accurate: no probe failed and at least one succeeded at the advertised instant.
	Accurate bool `json:"accurate"`
	// Inaccurate: a probe proved the advertised delay wrong.
	Inaccurate bool           `json:"inaccurate"`
	Verdicts   map[string]int `json:"verdicts"`
	Probes     []probeJSON    `json:"probes"`
}

type probeJSON struct {
	AtSeconds         float64       `json:"at_seconds"`
	AdvertisedSeconds float64       `json:"advertised_seconds"`
	Source            string        `json:"source"`
	Early             probeShotJSON `json:"early_retry"`
	Exact             probeShotJSON `json:"exact_retry"`
	Verdict           string        `json:"verdict"`
}

type probeShotJSON struct {
	Sent         bool    `json:"sent"`
	AfterSeconds float64 `json:"after_seconds"`
	TookMS       float64 `json:"took_ms"`
	Status       int     `json:"status"`
	Paced        bool    `json:"paced,omitempty"`
}

func shotJSON(s probeShot) probeShotJSON {
	return probeShotJSON{Sent: s.Sent, AfterSeconds: s.After.Seconds(), TookMS: ms(s.Took), Status: s.Status, Paced: s.Paced}
}

// latencyReport compares the latency of rejections with that of successes (ms).
type latencyReport struct {
	Limited    latencyStats `json:"status_429"`
	Allowed    latencyStats `json:"status_200"`
	FastReject bool         `json:"fast_rejections"`
}

type latencyStats struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func statusLatency(snap *metrics.Snapshot, status string) latencyStats {
	if snap == nil {
		return latencyStats{}
	}
	s, ok := snap.Sink("http_req_duration", metrics.Tags{{Key: "scenario", Value: scenarioTag}, {Key: "status", Value: status}})
	if !ok || s.Count == 0 {
		return latencyStats{}
	}
	return latencyStats{Count: s.Count, P50: s.Percentile(50), P95: s.Percentile(95)}
}

func (r *rateLimit) Analyse(snap *metrics.Snapshot) scenario.Findings {
	lat := latencyReport{Limited: statusLatency(snap, "429"), Allowed: statusLatency(snap, "200")}
	return r.book.analyse(r.opts, lat)
}

// analyse turns the book into the test's findings.
func (b *rateBook) analyse(opts Options, lat latencyReport) scenario.Findings {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := rateLimitAnalysis{
		Allowed: len(b.successes), Limited: len(b.limited), Other: b.other,
		ExpectedLimit: opts.Limit, ExpectedWindowSeconds: opts.Window.Seconds(), IntervalSeconds: opts.Interval.Seconds(),
		ToleranceMS: ms(b.maxTook),
	}
	a.Requests = a.Allowed + a.Limited + a.Other
	if a.Requests > 0 {
		a.LimitedShare = float64(a.Limited) / float64(a.Requests)
	}
	a.Enforcement = analysis.JudgeLimitWithin(b.successes, b.limited, opts.Limit, opts.Window, b.maxTook)
	a.AllowedAtSeconds, a.LimitedAtSeconds = offsetsSeconds(b.successes), offsetsSeconds(b.limited)
	a.RetryAfter = b.retryAfterReport()
	if lat.Limited.Count > 0 && lat.Allowed.Count > 0 {
		lat.FastReject = lat.Limited.P50 <= lat.Allowed.P50
	}
	a.Latency = lat

	var f scenario.Findings
	f.Data = a
	f.Lines = append(f.Lines, fmt.Sprintf("%d requests: %d allowed, %d limited (%.0f %%)%s",
		a.Requests, a.Allowed, a.Limited, 100*a.LimitedShare, otherNote(a.Other)))
	enf := a.Enforcement
	f.Lines = append(f.Lines, fmt.Sprintf("effective limit: %d per %s observed, %d expected — %s",
		enf.Observed, opts.Window, opts.Limit, enf.Reason))
	f.Lines = append(f.Lines, a.RetryAfter.lines()...)
	f.Lines = append(f.Lines, lat.line())

	var fails []string
	if !enf.OK && enf.Expected > 0 {
		fails = append(fails, enf.Reason)
	}
	if a.RetryAfter.Inaccurate {
		fails = append(fails, "Retry-After inaccurate: "+a.RetryAfter.failure())
	}
	if len(fails) > 0 {
		f.Failed, f.FailReason = true, strings.Join(fails, "; ")
	}
	return f
}

// offsetsSeconds returns offsets in seconds, in order, to the microsecond.
func offsetsSeconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d.Microseconds()) / 1e6
	}
	slices.Sort(out)
	return out
}

func otherNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d other answers", n)
}

func (b *rateBook) retryAfterReport() retryAfterReport {
	r := retryAfterReport{Sources: map[string]int{}, Verdicts: map[string]int{}, Probes: []probeJSON{}}
	var kinds []string
	for src, n := range b.sources {
		r.Sources[src] = n
		kinds = append(kinds, src)
	}
	switch len(kinds) {
	case 0:
	case 1:
		r.Source = kinds[0]
	default:
		r.Source = "mixed"
	}
	if len(b.limited) > 0 && b.sources[driftlock.RetrySourceHeader]+b.sources[driftlock.RetrySourceBoth] == 0 {
		r.HeaderMissing = true
	}
	probes := b.probes
	if b.pending != nil {
		probes = append(probes[:len(probes):len(probes)], *b.pending)
	}
	for _, p := range probes {
		v := p.verdict()
		r.Verdicts[v]++
		r.Probes = append(r.Probes, probeJSON{
			AtSeconds: p.At.Seconds(), AdvertisedSeconds: p.Advertised.Seconds(), Source: p.Source,
			Early: shotJSON(p.Early), Exact: shotJSON(p.Exact), Verdict: v,
		})
	}
	r.Inaccurate = r.Verdicts[probeEarlyAllowed]+r.Verdicts[probeRefused] > 0
	r.Accurate = !r.Inaccurate && r.Verdicts[probeAccurate] > 0
	return r
}

func (r retryAfterReport) lines() []string {
	var out []string
	switch {
	case r.Source == "":
		out = append(out, "Retry-After: no 429 to read it from")
	case r.HeaderMissing && r.Sources[driftlock.RetrySourceNone] == 0:
		out = append(out, fmt.Sprintf("NOTE: 429s carry no Retry-After header, only the body's retry_after_seconds (like the real Go server); source: %s", r.Source))
	case r.HeaderMissing:
		out = append(out, fmt.Sprintf("NOTE: 429s carry no Retry-After header (source: %s; %d without any delay)", r.Source, r.Sources[driftlock.RetrySourceNone]))
	default:
		out = append(out, "Retry-After source: "+r.Source)
	}
	n := len(r.Probes)
	switch {
	case r.Inaccurate:
		out = append(out, "Retry-After INACCURATE: "+r.failure())
	case r.Accurate:
		out = append(out, fmt.Sprintf("Retry-After accurate: %d of %d probes limited a retry sent 1 s early and allowed one sent at the advertised instant%s",
			r.Verdicts[probeAccurate], n, r.unjudged()))
	case n > 0:
		out = append(out, fmt.Sprintf("Retry-After accuracy not verified: %d probes, none conclusive%s", n, r.unjudged()))
	case r.Source != "":
		out = append(out, "Retry-After accuracy not verified: no probe ran")
	}
	return out
}

func (r retryAfterReport) unjudged() string {
	var parts []string
	if n := r.Verdicts[probeInconclusive]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d inconclusive", n))
	}
	if n := r.Verdicts[probeIncomplete]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d cut short by the end of the run", n))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (r retryAfterReport) failure() string {
	var parts []string
	for _, p := range r.Probes {
		switch p.Verdict {
		case probeEarlyAllowed:
			parts = append(parts, fmt.Sprintf("429 at %.1fs advertised %gs, a retry %.1fs later succeeded", p.AtSeconds, p.AdvertisedSeconds, p.Early.AfterSeconds))
		case probeRefused:
			parts = append(parts, fmt.Sprintf("429 at %.1fs advertised %gs, the retry at that instant was limited again", p.AtSeconds, p.AdvertisedSeconds))
		}
	}
	if len(parts) > 2 {
		parts = append(parts[:2], fmt.Sprintf("%d more", len(parts)-2))
	}
	return strings.Join(parts, "; ")
}

func (l latencyReport) line() string {
	switch {
	case l.Limited.Count == 0:
		return "429 latency: no 429s"
	case l.Allowed.Count == 0:
		return fmt.Sprintf("429 latency: p50 %.1f ms, p95 %.1f ms (no 200s to compare)", l.Limited.P50, l.Limited.P95)
	}
	verdict := "rejections are fast"
	if !l.FastReject {
		verdict = "rejections are NOT faster than successes"
	}
	return fmt.Sprintf("429 latency: p50 %.1f ms, p95 %.1f ms vs 200: p50 %.1f ms, p95 %.1f ms — %s",
		l.Limited.P50, l.Limited.P95, l.Allowed.P50, l.Allowed.P95, verdict)
}
