package main

import "github.com/spf13/cobra"

func newLoadCmd() *cobra.Command {
	cmd := newTestCmd("load")
	cmd.Long = `load is the baseline to document before each release: 15 minutes ramping
0→25→50→100 VUs, 5 minutes at 100, then down to 0. Each iteration is a normal detect of
10–110 log events (70 %), a large batch of 500–1000 mixed events with the strict profile
(20 %) or a health check (10 %). Metrics are tagged scenario:normal|large_batch|health.
Use --time-scale 0.02 to run the same shape in 18 seconds.`
	return cmd
}
