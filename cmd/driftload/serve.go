package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/target"
)

// serveShutdownTimeout bounds how long Ctrl-C waits for in-flight requests by default.
const serveShutdownTimeout = 30 * time.Second

// newServeCmd is `driftload serve`: flags to target.Config, then serve until
// SIGINT or SIGTERM, finishing in-flight requests before exiting 0.
func newServeCmd() *cobra.Command {
	cfg := target.DefaultConfig()
	var shutdownTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Driftlock-compatible reference server",
		Long: `serve runs a reference Driftlock API on --addr: GET /healthz, /readyz, /v1/version,
/v1/profiles and /metrics (Prometheus), POST /v1/demo/detect (no auth, limited per client IP)
and POST /v1/detect (API key, per-key token bucket, per-stream detectors in an LRU cache).
Detection is real compression-based detection; --permutations caps its cost.

Bodies are decoded as they arrive: one over --max-body-bytes gets 413, a batch over
--max-events is rejected at event max+1, and a body not received within --read-timeout
gets 408. Slow headers (--read-header-timeout) and idle connections (--idle-timeout) are
closed.

API keys come from --api-key or DRIFTLOCK_API_KEYS (comma-separated). With none, any key of
the form dlk_<uuid>.<secret> is accepted and a dev key is printed at start.

Fault injection (all off by default) makes the server misbehave on purpose so that tests can
prove they notice: added latency and jitter, 500s, latency growing with uptime, a memory
leak, a concurrency limit answered with 503, and a one-time freeze: every request that
arrives or is being served while uptime is in [--inject-freeze-at, +--inject-freeze-for) is
held until the freeze ends, like a long GC pause. Injected delays count in processing_time.

Ctrl-C (SIGINT) or SIGTERM stops accepting connections, lets in-flight requests finish
(at most --shutdown-timeout) and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("api-key") {
				cfg.APIKeys = serveEnvKeys(os.Getenv("DRIFTLOCK_API_KEYS"))
			}
			if shutdownTimeout <= 0 {
				return &exitError{code: exitcode.InvalidConfig, err: fmt.Errorf("--shutdown-timeout must be positive, got %s", shutdownTimeout)}
			}
			cfg.Version = version
			return serveRun(cmd.Context(), cfg, shutdownTimeout)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (host:port; port 0 picks a free one)")
	f.StringArrayVar(&cfg.APIKeys, "api-key", nil, "accepted API key for /v1/detect (repeatable; default $DRIFTLOCK_API_KEYS, else any dlk_<uuid>.<secret>)")
	f.IntVar(&cfg.DemoLimit, "demo-limit", cfg.DemoLimit, "demo requests allowed per client IP per --demo-window")
	f.DurationVar(&cfg.DemoWindow, "demo-window", cfg.DemoWindow, "rolling window of the demo limit")
	f.BoolVar(&cfg.NoRetryAfterHeader, "no-retry-after-header", false, "demo 429s carry only the body's retry_after_seconds, like the real Go server")
	f.Float64Var(&cfg.KeyRate, "key-rate", cfg.KeyRate, "per-API-key token bucket rate in requests/s (burst = rate)")
	f.BoolVar(&cfg.NoRateLimit, "no-rate-limit", false, "turn off the demo limit and the per-key buckets")
	f.IntVar(&cfg.MaxEvents, "max-events", cfg.MaxEvents, "most events per /v1/detect request (the demo route takes 200)")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", cfg.MaxBodyBytes, "largest request body in bytes; bigger ones get 413")
	f.IntVar(&cfg.DetectorCapacity, "detector-capacity", cfg.DetectorCapacity, "streams whose detectors are kept (LRU); an evicted stream calibrates again")
	f.IntVar(&cfg.Permutations, "permutations", cfg.Permutations, "cap on the permutation-test count of every detector (0: no test, NCD threshold only)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the permutation tests and of injected randomness")
	f.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", cfg.ReadHeaderTimeout, "time to read a request's headers before the connection is closed")
	f.DurationVar(&cfg.ReadTimeout, "read-timeout", cfg.ReadTimeout, "time to read a request's body, from when it is handled; a detect body not in by then gets 408 and the connection is closed")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "idle keep-alive connections are closed after this")
	f.DurationVar(&cfg.InjectLatency, "inject-latency", 0, "fault: service time added to every detect request")
	f.DurationVar(&cfg.InjectJitter, "inject-jitter", 0, "fault: random extra service time in [0, D) per detect request")
	f.Float64Var(&cfg.InjectErrorRate, "inject-error-rate", 0, "fault: share of detect requests answered 500 (0..1)")
	f.DurationVar(&cfg.DegradePerMinute, "degrade-per-minute", 0, "fault: detect service time grows by D per minute of uptime, like a leak")
	f.IntVar(&cfg.LeakBytesPerRequest, "leak-bytes-per-request", 0, "fault: bytes every detect request retains for good (shows in process_resident_memory_bytes)")
	f.IntVar(&cfg.MaxInFlight, "max-in-flight", 0, "fault: answer 503 to detect requests beyond N in flight (0: no limit)")
	f.DurationVar(&cfg.InjectFreezeAt, "inject-freeze-at", 0, "fault: uptime at which the server freezes once (needs --inject-freeze-for)")
	f.DurationVar(&cfg.InjectFreezeFor, "inject-freeze-for", 0, "fault: length of the freeze; requests arriving or in flight during it are held until it ends")
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", serveShutdownTimeout, "on SIGINT/SIGTERM, how long to wait for in-flight requests")
	return cmd
}

// serveEnvKeys splits DRIFTLOCK_API_KEYS on commas, dropping blanks.
func serveEnvKeys(env string) []string {
	var keys []string
	for _, k := range strings.Split(env, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// serveRun starts the server and blocks until a signal, then shuts down gracefully.
func serveRun(parent context.Context, cfg target.Config, shutdownTimeout time.Duration) error {
	srv, err := target.New(cfg)
	if err != nil {
		return &exitError{code: exitcode.InvalidConfig, err: err}
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	base, err := srv.Start(cfg.Addr)
	if err != nil {
		return &exitError{code: exitcode.Failure, err: err}
	}
	fmt.Fprintf(os.Stderr, "driftload serve: listening on %s\n", base)
	if len(cfg.APIKeys) == 0 {
		fmt.Fprintf(os.Stderr, "driftload serve: dev API key: %s\n", srv.DevKey())
	}
	<-ctx.Done()
	stop() // a second Ctrl-C kills the process the usual way
	fmt.Fprintln(os.Stderr, "driftload serve: shutting down, waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return &exitError{code: exitcode.Failure, err: fmt.Errorf("shutdown: %w", err)}
	}
	return nil
}
