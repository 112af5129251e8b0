package target

import (
	"math"
	"sync"
	"time"
)

// sweepEvery is how many limiter calls pass between sweeps of idle entries,
// so a flood of distinct clients cannot grow the maps without bound.
const sweepEvery = 4096

// demoLimiter allows limit requests per rolling window per client, keeping
// the times of the accepted requests. Rejected requests are not recorded.
type demoLimiter struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	log   map[string][]time.Time
	calls int
}

func newDemoLimiter(limit int, window time.Duration) *demoLimiter {
	return &demoLimiter{limit: limit, window: window, log: make(map[string][]time.Time)}
}

// allow records a request by client at now when it fits. It returns the
// calls left after this one, or, when refused, how long until the oldest
// recorded request leaves the window.
func (l *demoLimiter) allow(client string, now time.Time) (ok bool, remaining int, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%sweepEvery == 0 {
		for k, ts := range l.log {
			if len(ts) == 0 || !now.Before(ts[len(ts)-1].Add(l.window)) {
				delete(l.log, k)
			}
		}
	}
	ts := l.log[client]
	// An entry at e is inside the window while now < e+window.
	drop := 0
	for drop < len(ts) && !now.Before(ts[drop].Add(l.window)) {
		drop++
	}
	ts = ts[drop:]
	if len(ts) >= l.limit {
		l.log[client] = ts
		return false, 0, ts[0].Add(l.window).Sub(now)
	}
	ts = append(ts, now)
	l.log[client] = ts
	return true, l.limit - len(ts), 0
}

// keyLimiter is a token bucket per API key: rate tokens per second, burst
// tokens at most, starting full.
type keyLimiter struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
	calls   int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newKeyLimiter(rate float64) *keyLimiter {
	return &keyLimiter{rate: rate, burst: math.Max(1, math.Ceil(rate)), buckets: make(map[string]*bucket)}
}

// limit is the number reported in X-RateLimit-Limit.
func (l *keyLimiter) limit() int { return int(l.burst) }

// allow takes a token for key at now. remaining is the whole tokens left;
// when refused, retryAfter is the wait until one token is back.
func (l *keyLimiter) allow(key string, now time.Time) (ok bool, remaining int, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%sweepEvery == 0 {
		for k, b := range l.buckets {
			if l.refill(b, now) >= l.burst {
				delete(l.buckets, k)
			}
		}
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	tokens := l.refill(b, now)
	b.tokens, b.last = tokens, laterOf(b.last, now)
	if tokens >= 1 {
		b.tokens--
		return true, int(math.Floor(b.tokens)), 0
	}
	wait := time.Duration(math.Ceil((1 - tokens) / l.rate * float64(time.Second)))
	return false, 0, wait
}

// refill returns b's tokens as of now without changing b. A clock that goes
// backwards adds nothing.
func (l *keyLimiter) refill(b *bucket, now time.Time) float64 {
	elapsed := now.Sub(b.last)
	if elapsed <= 0 {
		return b.tokens
	}
	return math.Min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		return 1
	}
	return s
}
