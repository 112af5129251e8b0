package harness

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/stress"
)

func TestPreviewDescribesTheRunWithoutRunningIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		test     string
		edit     func(c *Config)
		length   time.Duration
		maxVUs   int
		describe string
		err      string
	}{
		{name: "a constant profile", test: "smoke", length: time.Minute, maxVUs: 5, describe: "constant-vus: 5 VUs for 1m0s"},
		{name: "a ramp at --time-scale", test: "stress", edit: func(c *Config) { c.TimeScale = 0.02 }, length: 12 * time.Second, maxVUs: 200},
		{name: "--duration is scaled too", test: "soak", edit: func(c *Config) { c.TimeScale, c.Duration, c.APIKey = 0.5, time.Minute, "k" }, length: 30 * time.Second, maxVUs: 50},
		{name: "a max-rate search: every level held", test: "stress", edit: func(c *Config) {
			c.Options = &stress.Options{FindMaxRate: true, SearchStart: 10, SearchMax: 100, SearchHold: 30 * time.Second, SearchLevels: 4}
			c.TimeScale = 0.1
		}, length: 12 * time.Second, maxVUs: 100},
		{name: "a bad flag, as Validate says", test: "smoke", edit: func(c *Config) { c.TimeScale = -1; c.Explicit = map[string]bool{"time-scale": true} }, err: "--time-scale must be a positive number"},
		{name: "what the test itself refuses: detects without a key", test: "load", edit: func(c *Config) { c.APIKey = "" }, err: scenario.ErrNoAPIKey.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig(t, tc.test)
			c.APIKey = "k"
			if tc.edit != nil {
				tc.edit(&c)
			}
			pv, errs := c.Preview()
			if tc.err != "" {
				if len(errs) == 0 || !strings.Contains(errors.Join(errs...).Error(), tc.err) {
					t.Fatalf("errors %v, want %q", errs, tc.err)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if pv.Length != tc.length || pv.MaxVUs != tc.maxVUs || pv.MaxDuration < pv.Length {
				t.Errorf("length %s (max %s), %d VUs; want %s, %d VUs", pv.Length, pv.MaxDuration, pv.MaxVUs, tc.length, tc.maxVUs)
			}
			if tc.describe != "" && pv.Describe != tc.describe {
				t.Errorf("describe %q, want %q", pv.Describe, tc.describe)
			}
		})
	}
}
