package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/driftload/driftload/internal/analysis"
	"github.com/driftload/driftload/internal/scenario"
)

// fakeLimiter is a sliding-log limiter like the reference server's, on the
// synctest clock, with knobs to make it wrong.
type fakeLimiter struct {
	limit  int // 0: no limit
	window time.Duration
	// advertise turns the true remaining wait into the advertised seconds.
	advertise func(remaining time.Duration) int
	header    bool // send Retry-After
	body      bool // send retry_after_seconds
	latency   time.Duration
	log       []time.Time
}

func ceilSecs(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

func (l *fakeLimiter) send(ctx context.Context, _ string) shotResult {
	if ctx.Err() != nil {
		return shotResult{canceled: true}
	}
	time.Sleep(l.latency / 2)
	now := time.Now()
	for len(l.log) > 0 && !now.Before(l.log[0].Add(l.window)) {
		l.log = l.log[1:]
	}
	var res shotResult
	if l.limit > 0 && len(l.log) >= l.limit {
		secs := l.advertise(l.log[0].Add(l.window).Sub(now))
		res = shotResult{status: http.StatusTooManyRequests, header: http.Header{}}
		if l.header {
			res.header.Set("Retry-After", strconv.Itoa(secs))
		}
		if l.body {
			res.body = fmt.Appendf(nil, `{"error":{"code":"rate_limit_exceeded","retry_after_seconds":%d}}`, secs)
		} else {
			res.body = []byte(`{"error":{"code":"rate_limit_exceeded"}}`)
		}
	} else {
		l.log = append(l.log, now)
		res = shotResult{status: http.StatusOK, header: http.Header{}, body: []byte(`{"success":true}`)}
	}
	time.Sleep(l.latency / 2)
	return res
}

// simulate runs the test's iterations for d (plus the engine's 30 s
// graceful stop for an iteration under way) against l on a fake clock.
func simulate(t *testing.T, opts Options, l *fakeLimiter, d time.Duration) scenario.Findings {
	t.Helper()
	var f scenario.Findings
	synctest.Test(t, func(t *testing.T) {
		r := &rateLimit{opts: opts, book: newRateBook(opts.Window)}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
		defer cancel()
		for i := 0; i < 100_000 && time.Since(start) < d && ctx.Err() == nil; i++ {
			r.cycle(ctx, l.send)
		}
		f = r.book.analyse(opts, latencyReport{})
	})
	return f
}

func TestRateLimitAgainstFakeLimiters(t *testing.T) {
	def := DefaultOptions()
	fast := Options{Interval: 500 * time.Millisecond, Window: 6 * time.Second, Limit: 3}
	tests := []struct {
		name    string
		opts    Options
		lim     fakeLimiter
		dur     time.Duration
		failed  bool
		reason  string // in FailReason
		line    string // in Lines
		verdict string // a probe verdict that must occur
	}{
		{name: "correct limiter, default profile", opts: def, dur: 3 * time.Minute,
			lim:  fakeLimiter{limit: 10, window: time.Minute, advertise: ceilSecs, header: true, body: true},
			line: "Retry-After accurate", verdict: probeAccurate},
		{name: "correct limiter, compressed profile", opts: fast, dur: 20 * time.Second,
			lim:  fakeLimiter{limit: 3, window: 6 * time.Second, advertise: ceilSecs, header: true, body: true},
			line: "Retry-After source: both", verdict: probeAccurate},
		{name: "body only is noted, not failed", opts: fast, dur: 20 * time.Second,
			lim:  fakeLimiter{limit: 3, window: 6 * time.Second, advertise: ceilSecs, body: true},
			line: "NOTE: 429s carry no Retry-After header", verdict: probeAccurate},
		{name: "no limit", opts: fast, dur: 10 * time.Second,
			lim:    fakeLimiter{window: 6 * time.Second, advertise: ceilSecs, body: true},
			failed: true, reason: "over the limit"},
		{name: "limit lower than expected", opts: fast, dur: 20 * time.Second,
			lim:    fakeLimiter{limit: 2, window: 6 * time.Second, advertise: ceilSecs, body: true},
			failed: true, reason: "limited early"},
		{name: "advertised delay too short", opts: fast, dur: 20 * time.Second,
			lim: fakeLimiter{limit: 3, window: 6 * time.Second, body: true,
				advertise: func(d time.Duration) int { return max(1, ceilSecs(d)-2) }},
			failed: true, reason: "Retry-After inaccurate", verdict: probeRefused},
		{name: "advertised delay too long", opts: def, dur: 3 * time.Minute,
			lim: fakeLimiter{limit: 10, window: time.Minute, body: true,
				advertise: func(d time.Duration) int { return ceilSecs(d) + 5 }},
			failed: true, reason: "Retry-After inaccurate", verdict: probeEarlyAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			lim.latency = 2 * time.Millisecond
			f := simulate(t, tc.opts, &lim, tc.dur)
			a := f.Data.(rateLimitAnalysis)
			text := strings.Join(f.Lines, "\n")
			if f.Failed != tc.failed {
				t.Fatalf("failed %v (%s), want %v\n%s", f.Failed, f.FailReason, tc.failed, text)
			}
			if !strings.Contains(f.FailReason, tc.reason) {
				t.Errorf("fail reason %q, want it to contain %q", f.FailReason, tc.reason)
			}
			if !strings.Contains(text, tc.line) {
				t.Errorf("lines do not contain %q:\n%s", tc.line, text)
			}
			if tc.verdict != "" && a.RetryAfter.Verdicts[tc.verdict] == 0 {
				t.Errorf("no probe judged %s: %v\n%s", tc.verdict, a.RetryAfter.Verdicts, text)
			}
			if !tc.failed {
				if a.Enforcement.Observed != tc.opts.Limit {
					t.Errorf("observed %d per window, want %d", a.Enforcement.Observed, tc.opts.Limit)
				}
				// Against its limit the test is mostly limited: the rate>0.5 threshold.
				if a.LimitedShare <= 0.5 {
					t.Errorf("limited share %.2f, want > 0.5\n%s", a.LimitedShare, text)
				}
			}
		})
	}
}

// The default profile against the documented limiter: 10 allowed in the
// first 20 s, then one success per expiring slot; pacing continues while a
// probe waits, so about 2/3 of the requests are limited.
func TestRateLimitDefaultProfileCounts(t *testing.T) {
	lim := fakeLimiter{limit: 10, window: time.Minute, advertise: ceilSecs, body: true, latency: 2 * time.Millisecond}
	f := simulate(t, DefaultOptions(), &lim, 3*time.Minute)
	a := f.Data.(rateLimitAnalysis)
	// 90 paced ticks, of which a few are skipped for probes, plus 2 per probe.
	if a.Requests < 85 || a.Requests > 100 {
		t.Errorf("%d requests in 3 min at 1 per 2 s, want about 90", a.Requests)
	}
	if a.Allowed < 28 || a.Allowed > 31 {
		t.Errorf("%d allowed, want about 30 (10 per minute)", a.Allowed)
	}
	if a.RetryAfter.Verdicts[probeAccurate] < 2 {
		t.Errorf("probes %v, want at least 2 accurate (one per window after the first)", a.RetryAfter.Verdicts)
	}
	if a.Other != 0 {
		t.Errorf("%d other answers, want 0", a.Other)
	}
	// Every answer's send instant is in the file, in order, within the run.
	for _, c := range []struct {
		name string
		at   []float64
		want int
	}{{"allowed_at_seconds", a.AllowedAtSeconds, a.Allowed}, {"limited_at_seconds", a.LimitedAtSeconds, a.Limited}} {
		if len(c.at) != c.want {
			t.Errorf("%s has %d instants, want %d", c.name, len(c.at), c.want)
		}
		if !slices.IsSorted(c.at) || len(c.at) > 0 && (c.at[0] < 0 || c.at[len(c.at)-1] > 180) {
			t.Errorf("%s = %v, want ascending offsets within the 3 min run", c.name, c.at)
		}
	}
}

func TestProbeVerdict(t *testing.T) {
	sent := func(after, took time.Duration, status int) probeShot {
		return probeShot{Sent: true, After: after, Took: took, Status: status}
	}
	adv := 40 * time.Second
	early := earlyDelay(adv)
	tests := []struct {
		name string
		p    probeRecord
		want string
	}{
		{"early limited, exact allowed", probeRecord{Advertised: adv, Early: sent(early, time.Millisecond, 429), Exact: sent(adv, time.Millisecond, 200)}, probeAccurate},
		{"exact limited again", probeRecord{Advertised: adv, Early: sent(early, time.Millisecond, 429), Exact: sent(adv, time.Millisecond, 429)}, probeRefused},
		{"early allowed in time", probeRecord{Advertised: adv, Early: sent(early, time.Millisecond, 200)}, probeEarlyAllowed},
		{"early allowed but too slow to prove it", probeRecord{Advertised: adv, Early: sent(early, 300*time.Millisecond, 200)}, probeInconclusive},
		{"early allowed at half of 1 s", probeRecord{Advertised: time.Second, Early: sent(500*time.Millisecond, time.Millisecond, 200)}, probeInconclusive},
		{"early got 503", probeRecord{Advertised: adv, Early: sent(early, time.Millisecond, 503)}, probeInconclusive},
		{"exact got no response", probeRecord{Advertised: adv, Early: sent(early, time.Millisecond, 429), Exact: sent(adv, time.Second, 0)}, probeInconclusive},
		{"run ended before early", probeRecord{Advertised: adv}, probeIncomplete},
		{"run ended before exact", probeRecord{Advertised: adv, Early: sent(early, time.Millisecond, 429)}, probeIncomplete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.verdict(); got != tc.want {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEarlyDelayAndNextTick(t *testing.T) {
	for _, tc := range []struct{ adv, want time.Duration }{
		{40 * time.Second, 38750 * time.Millisecond},
		{5 * time.Second, 3750 * time.Millisecond},
		{2 * time.Second, time.Second}, // 0.75 s would be under half
		{time.Second, 500 * time.Millisecond},
		{0, 0},
	} {
		if got := earlyDelay(tc.adv); got != tc.want {
			t.Errorf("earlyDelay(%s) = %s, want %s", tc.adv, got, tc.want)
		}
	}
	for _, tc := range []struct{ now, interval, want time.Duration }{
		{0, 2 * time.Second, 2 * time.Second},
		{1999 * time.Millisecond, 2 * time.Second, 2 * time.Second},
		{2 * time.Second, 2 * time.Second, 4 * time.Second},
		{58750 * time.Millisecond, 2 * time.Second, 60 * time.Second},
	} {
		if got := nextTick(tc.now, tc.interval); got != tc.want {
			t.Errorf("nextTick(%s, %s) = %s, want %s", tc.now, tc.interval, got, tc.want)
		}
	}
}

// The probe schedule: pacing goes on until the early retry, paced requests
// between the early and the exact retry are skipped, and a 429 opens a probe
// only once per window.
func TestRateBookProbeSchedule(t *testing.T) {
	s := time.Second
	b := newRateBook(60 * s)
	b.record(kindPaced, 20*s, 20*s+ms1, 429, 40*s, "body")
	if b.pending == nil {
		t.Fatal("first 429 opened no probe")
	}
	if got := b.next(20*s+ms1, 2*s); got != 22*s {
		t.Errorf("next after the 429: %s, want the next tick 22s", got)
	}
	if got := b.next(58*s+ms1, 2*s); got != 58750*time.Millisecond {
		t.Errorf("next before the early retry: %s, want 58.75s", got)
	}
	b.record(kindPaced, 22*s, 22*s+ms1, 429, 38*s, "body")
	if len(b.probes) != 0 || b.pending.At != 20*s {
		t.Fatal("a second 429 during a probe replaced it")
	}
	if k := b.take(58 * s); k != kindPaced {
		t.Errorf("take at 58s: %s, want paced", k)
	}
	if k := b.take(58750 * time.Millisecond); k != kindEarly {
		t.Fatalf("take at 58.75s: %s, want early_retry", k)
	}
	b.record(kindEarly, 58750*time.Millisecond, 58751*time.Millisecond, 429, s, "body")
	if got := b.next(58751*time.Millisecond, 2*s); got != 60*s+ms1 {
		t.Errorf("next after the early retry: %s, want the exact retry at 60.001s (the 60s tick is skipped)", got)
	}
	if k := b.take(60*s + ms1); k != kindExact {
		t.Fatalf("take at 60.001s: %s, want exact_retry", k)
	}
	b.record(kindExact, 60*s+ms1, 60*s+2*ms1, 200, 0, "")
	if b.pending != nil || len(b.probes) != 1 || b.probes[0].verdict() != probeAccurate {
		t.Fatalf("probe not finished as accurate: %+v", b.probes)
	}
	b.record(kindPaced, 62*s, 62*s+ms1, 429, s, "body")
	if b.pending != nil {
		t.Error("a 429 less than a window after the last probed one opened a probe")
	}
	b.record(kindPaced, 80*s, 80*s+ms1, 429, 40*s, "none")
	if b.pending != nil {
		t.Error("a 429 without a delay opened a probe")
	}
	b.record(kindPaced, 82*s, 82*s+ms1, 429, 38*s, "body")
	if b.pending == nil {
		t.Error("a 429 a window after the last probed one opened no probe")
	}
}

const ms1 = time.Millisecond

// Client-side send instants are off the server's by up to a round trip, so
// requests at the edge of a window must not make a verdict fail.
func TestJudgeEnforcementTolerance(t *testing.T) {
	s := time.Second
	grid := func(from, n int, step time.Duration, offset time.Duration) []time.Duration {
		var out []time.Duration
		for i := range n {
			out = append(out, time.Duration(from+i)*step+offset)
		}
		return out
	}
	tests := []struct {
		name                string
		ok, limited         []time.Duration
		tol                 time.Duration
		wantOver, wantEarly bool
	}{
		// 10 at 0..18 s; a 429 at 60 s minus 0.1 ms: the success at 0 s may
		// still be in the server's window.
		{"429 at the window edge", grid(0, 10, 2*s, 0), []time.Duration{60*s - 100*time.Microsecond}, ms1, false, false},
		{"same without tolerance", grid(0, 10, 2*s, 0), []time.Duration{60*s - 100*time.Microsecond}, 0, false, false},
		{"429 well inside a half-empty window", grid(0, 5, 2*s, 0), []time.Duration{30 * s}, ms1, false, true},
		// 11 successes where the 11th is 0.1 ms short of a window after the first.
		{"success at the window edge", append(grid(0, 10, 2*s, 0), 60*s-100*time.Microsecond), nil, ms1, false, false},
		{"success at the window edge, no tolerance", append(grid(0, 10, 2*s, 0), 60*s-100*time.Microsecond), nil, 0, true, false},
		{"clearly over", grid(0, 30, 2*s, 0), nil, ms1, true, false},
		// Two clients: the 10th success was sent 0.5 ms after the 429, within
		// the round trip, so the server may have seen it first.
		{"success just after the 429", append(grid(0, 9, 2*s, 0), 30*s+500*time.Microsecond), []time.Duration{30 * s}, ms1, false, false},
		{"success just after the 429, no tolerance", append(grid(0, 9, 2*s, 0), 30*s+500*time.Microsecond), []time.Duration{30 * s}, 0, false, true},
		{"success well after the 429", append(grid(0, 9, 2*s, 0), 30*s+5*ms1), []time.Duration{30 * s}, ms1, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := analysis.JudgeLimitWithin(tc.ok, tc.limited, 10, 60*s, tc.tol)
			if v.OverLimit != tc.wantOver || v.EarlyLimited != tc.wantEarly || v.OK != (!tc.wantOver && !tc.wantEarly) {
				t.Errorf("over %v early %v ok %v, want over %v early %v (%s)", v.OverLimit, v.EarlyLimited, v.OK, tc.wantOver, tc.wantEarly, v.Reason)
			}
		})
	}
}

func TestNewRateLimitRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Interval: 0, Window: time.Minute, Limit: 10},
		{Interval: time.Second, Window: 0, Limit: 10},
		{Interval: time.Second, Window: time.Minute, Limit: 0},
	} {
		if _, err := newRateLimit(scenario.Env{BaseURL: "http://127.0.0.1:1", Options: &o}, nil); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
