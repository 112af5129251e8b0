package main

import (
	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/scenario"
)

func newCapacityCmd() *cobra.Command {
	cmd, flags := newTestCmdWithFlags("capacity")
	var opts scenario.CapacityOptions
	fs := cmd.Flags()
	fs.IntVar(&opts.ExpectedCapacity, "expected-capacity", scenario.DefaultExpectedCapacity,
		"streams the target's detector cache should hold; probes check it")
	fs.IntVar(&opts.SentinelEvery, "sentinel-every", 0,
		"make every Nth new stream a warm sentinel that is probed later (default expected-capacity/20)")
	flags.options = &opts
	cmd.Long = `capacity fills the target's detector cache: 100 VUs for 10 minutes, every iteration
a new stream (50–150 mixed events, a random profile), counted in unique_streams_created only
when the server confirms it. Every Nth new stream is a sentinel, warmed past calibration
(sensitive profile, 230–250 events) so the server answers "ready". Sentinels alternate between
two probes of a 10-event batch: retention probes once 9/10 of --expected-capacity newer streams
exist, eviction probes once 11/10 exist. "ready" means the detector was kept, "calibrating"
that it was evicted. driftlock_detectors_active and driftlock_detector_evictions_total are read
from /metrics every 5 s (--interval). The run fails when a stream was evicted although, even
counting every request in flight, fewer than --expected-capacity newer streams existed.
Result: capacity_test_results.json, analysis.probes / capacity_estimate / verdict.`
	return cmd
}
