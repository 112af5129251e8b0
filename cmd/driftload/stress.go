package main

import "github.com/spf13/cobra"

func newStressCmd() *cobra.Command {
	cmd := newTestCmd("stress")
	cmd.Long = `stress finds where the API breaks: 10 minutes ramping 50→100→150→200 VUs and back
down, every iteration a 200–1000-event mixed batch on a fresh stream with the strict
profile (10 s timeout). The summary and analysis.breaking_point in the result file say at
what VU level errors start, where latency bends, the peak sustained throughput, whether 5xx
and timeouts occurred and when, and whether the system recovered in the final ramp-down.`
	return cmd
}
