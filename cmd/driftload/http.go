package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/scenario"
)

// newHTTPCmd builds `driftload http METHOD URL`: the generic test that loads
// one URL with the shared profile, threshold and exit-code machinery.
func newHTTPCmd() *cobra.Command {
	t, ok := scenario.Lookup("http")
	if !ok {
		panic("unknown test http")
	}
	var (
		f    commonFlags
		args scenario.HTTPArgs
	)
	cmd := &cobra.Command{
		Use:   "http METHOD URL",
		Short: t.Short,
		Long: `http sends one request, METHOD URL, as fast as each VU can (no think time unless
--think), with full phase timing, checks and thresholds like every other test (the
"http" section of the thresholds file). The pre-flight accepts any answer from URL.

  driftload http GET http://127.0.0.1:8080/healthz --vus 50 --duration 10s
  driftload http POST http://127.0.0.1:8080/v1/items --body @item.json \
      -H "Content-Type: application/json" --expect 201`,
		Args: func(cmd *cobra.Command, a []string) error {
			if len(a) != 2 {
				return &exitError{code: exitcode.InvalidConfig, err: errors.New("http: want METHOD and URL, e.g. driftload http GET http://127.0.0.1:8080/")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, a []string) error {
			if f.embedded {
				return &exitError{code: exitcode.InvalidConfig, err: errors.New("http: --embedded-target is not supported; give the URL")}
			}
			args.Method, args.URL = a[0], a[1]
			opts, err := scenario.ParseHTTPArgs(args)
			if err != nil {
				return &exitError{code: exitcode.InvalidConfig, err: err}
			}
			f.baseURL, f.options = opts.URL, opts
			return f.runTest(cmd, t)
		},
	}
	f.bind(cmd, t)
	fs := cmd.Flags()
	// The URL is the target: these shared flags have no meaning here.
	for _, name := range []string{"base-url", "api-key", "demo-rate", "embedded-target"} {
		_ = fs.MarkHidden(name)
	}
	fs.StringVar(&args.Body, "body", "", "request body: @FILE reads it from FILE, anything else is the body itself")
	fs.StringArrayVarP(&args.Headers, "header", "H", nil, `request header "Key: Value" (repeatable)`)
	fs.StringVar(&args.Expect, "expect", "", "statuses that count as success, e.g. 200,404 (default 200–399)")
	fs.DurationVar(&args.Think, "think", time.Duration(0), "pause after each request")
	return cmd
}
