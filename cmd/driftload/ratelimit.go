package main

import (
	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/scenario"
)

func newRateLimitCmd() *cobra.Command {
	cmd, flags := newTestCmdWithFlags("ratelimit")
	opts := scenario.DefaultRateLimitOptions()
	fs := cmd.Flags()
	fs.DurationVar(&opts.Interval, "interval", opts.Interval, "pacing between requests (sent on multiples of it from the run start)")
	fs.DurationVar(&opts.Window, "window", opts.Window, "rolling window of the expected limit")
	fs.IntVar(&opts.Limit, "limit", opts.Limit, "requests the target should allow per --window")
	flags.options = &opts
	cmd.Long = `ratelimit checks the demo route's per-IP limit: 1 VU for 3 minutes sends a small demo
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
"driftload serve --demo-limit 3 --demo-window 6s" and "--limit 3 --window 6s".`
	return cmd
}
