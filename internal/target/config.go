package target

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/target/cbad"
)

// DemoMaxEvents is the largest batch the demo route accepts, as on the real server.
const DemoMaxEvents = 200

// Config is everything `driftload serve` can be told. The zero value is not
// usable: start from DefaultConfig.
type Config struct {
	// Addr is where the command listens (host:port). New only checks its form;
	// Start takes its own address.
	Addr string
	// DemoLimit is the number of demo requests one client IP may make per DemoWindow.
	DemoLimit int
	// DemoWindow is the rolling window of the demo limit.
	DemoWindow time.Duration
	// NoRetryAfterHeader leaves the Retry-After header off demo 429s (the
	// real Go server sends only the body's retry_after_seconds).
	NoRetryAfterHeader bool
	// APIKeys are the accepted keys for /v1/detect. Empty means any key of the
	// form dlk_<uuid>.<secret> is accepted and a dev key is generated.
	APIKeys []string
	// KeyRate is the per-key token bucket rate in requests per second; the
	// burst is the same number (at least 1).
	KeyRate float64
	// MaxEvents is the largest batch /v1/detect accepts.
	MaxEvents int
	// MaxBodyBytes is the largest request body; bigger bodies get a 413.
	MaxBodyBytes int64
	// DetectorCapacity is the number of streams whose detectors are kept (LRU).
	DetectorCapacity int
	// Permutations caps the permutation count of every detector (0: no
	// permutation test, every NCD over the threshold is an anomaly).
	Permutations int
	// InjectLatency is added to the service time of every detect request.
	InjectLatency time.Duration
	// InjectJitter adds a uniformly random extra delay in [0, InjectJitter).
	InjectJitter time.Duration
	// InjectErrorRate is the share (0..1) of detect requests answered 500.
	InjectErrorRate float64
	// DegradePerMinute is extra service time per minute of server uptime.
	DegradePerMinute time.Duration
	// LeakBytesPerRequest is memory retained for good by every detect request.
	LeakBytesPerRequest int
	// MaxInFlight answers 503 to detect requests beyond this many in flight (0: no limit).
	MaxInFlight int
	// NoRateLimit turns off both the demo limit and the per-key buckets.
	NoRateLimit bool
	// InjectFreezeAt is the uptime at which the server freezes once for InjectFreezeFor.
	InjectFreezeAt time.Duration
	// InjectFreezeFor is the length of the one-time freeze (0: no freeze).
	InjectFreezeFor time.Duration
	// ReadHeaderTimeout bounds the time to read a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to read a request's body, from when the
	// handler starts on it; a detect body not in by then is a 408 and its
	// connection is closed.
	ReadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle for this long.
	IdleTimeout time.Duration
	// Seed makes detectors' permutation tests and injected randomness repeatable.
	Seed uint64
	// Version is reported by GET /v1/version.
	Version string
}

// DefaultConfig returns the defaults of `driftload serve`.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		DemoLimit:         10,
		DemoWindow:        time.Minute,
		KeyRate:           60,
		MaxEvents:         1000,
		MaxBodyBytes:      10 << 20,
		DetectorCapacity:  1000,
		Permutations:      cbad.DefaultPermutations,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		Seed:              1,
		Version:           "dev",
	}
}

// validate reports the first bad field, naming both the field and its flag.
func (c Config) validate() error {
	bad := func(field, flag, format string, args ...any) error {
		return fmt.Errorf("invalid config: %s (--%s) %s", field, flag, fmt.Sprintf(format, args...))
	}
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return bad("Addr", "addr", "must be host:port, got %q", c.Addr)
		}
	}
	switch {
	case c.DemoLimit < 1:
		return bad("DemoLimit", "demo-limit", "must be at least 1, got %d", c.DemoLimit)
	case c.DemoWindow <= 0:
		return bad("DemoWindow", "demo-window", "must be positive, got %s", c.DemoWindow)
	case !(c.KeyRate > 0) || c.KeyRate > 1e9:
		return bad("KeyRate", "key-rate", "must be in (0, 1e9], got %g", c.KeyRate)
	case c.MaxEvents < 1:
		return bad("MaxEvents", "max-events", "must be at least 1, got %d", c.MaxEvents)
	case c.MaxBodyBytes < 1024:
		return bad("MaxBodyBytes", "max-body-bytes", "must be at least 1024, got %d", c.MaxBodyBytes)
	case c.DetectorCapacity < 1:
		return bad("DetectorCapacity", "detector-capacity", "must be at least 1, got %d", c.DetectorCapacity)
	case c.Permutations < 0:
		return bad("Permutations", "permutations", "must not be negative (0 = NCD only, no permutation test), got %d", c.Permutations)
	case c.InjectLatency < 0:
		return bad("InjectLatency", "inject-latency", "must not be negative, got %s", c.InjectLatency)
	case c.InjectJitter < 0:
		return bad("InjectJitter", "inject-jitter", "must not be negative, got %s", c.InjectJitter)
	case !(c.InjectErrorRate >= 0 && c.InjectErrorRate <= 1):
		return bad("InjectErrorRate", "inject-error-rate", "must be in [0, 1], got %g", c.InjectErrorRate)
	case c.DegradePerMinute < 0:
		return bad("DegradePerMinute", "degrade-per-minute", "must not be negative, got %s", c.DegradePerMinute)
	case c.LeakBytesPerRequest < 0:
		return bad("LeakBytesPerRequest", "leak-bytes-per-request", "must not be negative, got %d", c.LeakBytesPerRequest)
	case c.MaxInFlight < 0:
		return bad("MaxInFlight", "max-in-flight", "must not be negative (0 = no limit), got %d", c.MaxInFlight)
	case c.InjectFreezeAt < 0:
		return bad("InjectFreezeAt", "inject-freeze-at", "must not be negative, got %s", c.InjectFreezeAt)
	case c.InjectFreezeFor < 0:
		return bad("InjectFreezeFor", "inject-freeze-for", "must not be negative, got %s", c.InjectFreezeFor)
	case c.InjectFreezeAt > 0 && c.InjectFreezeFor == 0:
		return bad("InjectFreezeFor", "inject-freeze-for", "must be set when --inject-freeze-at is")
	case c.ReadHeaderTimeout <= 0:
		return bad("ReadHeaderTimeout", "read-header-timeout", "must be positive, got %s", c.ReadHeaderTimeout)
	case c.ReadTimeout <= 0:
		return bad("ReadTimeout", "read-timeout", "must be positive, got %s", c.ReadTimeout)
	case c.IdleTimeout <= 0:
		return bad("IdleTimeout", "idle-timeout", "must be positive, got %s", c.IdleTimeout)
	}
	for i, k := range c.APIKeys {
		if k == "" || strings.ContainsAny(k, " \t\r\n,") {
			return bad("APIKeys", "api-key", "entry %d must be non-empty without spaces or commas", i)
		}
	}
	if c.MaxEvents > 1_000_000 {
		return bad("MaxEvents", "max-events", "must be at most 1000000, got %d", c.MaxEvents)
	}
	return nil
}
