package main

import "github.com/spf13/cobra"

func newSoakCmd() *cobra.Command {
	cmd := newTestCmd("soak")
	cmd.Long = `soak holds 50 VUs for 30 minutes and asks whether the API degrades over time. Each
iteration is a detect of mixed events on the VU's stream (a new one every 20 iterations):
10–60 events (50 %), 100–300 (30 %), both balanced, or 500–1000 with the strict profile
(20 %), tagged batch_size:small|medium|large, then 1.5–2 s of thinking; every 50th
iteration also checks /healthz. Every --interval (1 min, time-scaled) a row records the
request rate, http_req_duration p50/p95/p99, the error rate, detect_latency p95, the
target's process_resident_memory_bytes (when its /metrics is readable) and driftload's own
RSS, goroutines and GC pauses. At the end, robust trends (Theil–Sen with Mann–Kendall) say
whether p95 latency or server memory grew, by how much and whether significantly; a
significant rise of more than 50 % fails the run. Rows and trends are in
analysis.intervals, analysis.latency_trend, analysis.server_memory_trend and
analysis.client_memory of the result file.`
	return cmd
}
