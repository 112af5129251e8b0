package main

import "github.com/spf13/cobra"

func newSmokeCmd() *cobra.Command {
	cmd := newTestCmd("smoke")
	cmd.Long = `smoke checks that every endpoint answers: 5 VUs for 1 minute, each iteration calling
/healthz, /readyz, a demo detect (paced under the demo limit), an authenticated detect when
an API key is given, and an unknown route that must answer 404.`
	return cmd
}
