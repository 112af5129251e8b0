package harness

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload"
	"github.com/driftload/driftload/internal/scenario/all"
)

func validConfig(t *testing.T, test string) Config {
	t.Helper()
	tt, ok := all.Lookup(test)
	if !ok {
		t.Fatalf("no test %s", test)
	}
	c := Config{
		Test: tt, BaseURL: "http://127.0.0.1:1", Thresholds: driftload.DefaultThresholds, ThresholdsSource: "built-in",
		TimeScale: 1, Timeout: time.Second, DemoRate: 10,
	}
	if tt.Options != nil {
		c.Options = tt.Options()
	}
	return c
}

func TestValidateAcceptsEveryDefault(t *testing.T) {
	for _, tt := range all.Tests {
		c := validConfig(t, tt.Name)
		if len(tt.Args) > 0 {
			f := strings.Fields(tt.Example)
			c.Args = f[len(f)-len(tt.Args):]
		}
		if errs := c.Validate(); len(errs) > 0 {
			t.Errorf("%s: %v", tt.Name, errs)
		}
	}
}

// Every problem of a command line is reported at once, each naming its flag.
func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := validConfig(t, "soak")
	c.Explicit = map[string]bool{"vus": true, "rate": true}
	c.VUs, c.Rate = 0, 0
	c.TimeScale = math.NaN()
	c.DemoRate = math.Inf(1)
	c.Timeout = -time.Second
	c.Endpoint = "nope"
	c.Stages = "30s:x"
	c.BaseURL = "localhost"
	c.Thresholds = []byte(`{"soak": {"nope": ["rate<1"]}}`)
	errs := c.Validate()
	text := ""
	for _, e := range errs {
		text += e.Error() + "\n"
	}
	for _, want := range []string{"--vus", "--rate", "--time-scale", "--demo-rate", "--timeout", "--endpoint", "--stages", "--base-url", "nope"} {
		if !strings.Contains(text, want) {
			t.Errorf("no problem names %s in:\n%s", want, text)
		}
	}
	if len(errs) < 9 {
		t.Errorf("%d problems, want at least 9:\n%s", len(errs), text)
	}
}

func TestValidateNumbers(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"time-scale NaN", func(c *Config) { c.TimeScale = math.NaN() }, "--time-scale"},
		{"time-scale +Inf", func(c *Config) { c.TimeScale = math.Inf(1) }, "--time-scale"},
		{"time-scale -1", func(c *Config) { c.TimeScale = -1 }, "--time-scale"},
		{"time-scale 1e300 overflows the profile", func(c *Config) { c.TimeScale = 1e300 }, "longer than"},
		{"time-scale 0.001", func(c *Config) { c.TimeScale = 0.001 }, ""},
		{"explicit time-scale 0", func(c *Config) { c.TimeScale = 0; c.Explicit = map[string]bool{"time-scale": true} }, "--time-scale"},
		{"demo-rate NaN", func(c *Config) { c.DemoRate = math.NaN() }, "--demo-rate"},
		{"demo-rate -Inf", func(c *Config) { c.DemoRate = math.Inf(-1) }, "--demo-rate"},
		{"explicit duration 0", func(c *Config) { c.Explicit = map[string]bool{"duration": true} }, "--duration"},
		{"negative max-events", func(c *Config) { c.MaxEvents = -1 }, "--max-events"},
		{"negative interval", func(c *Config) { c.Interval = -time.Second }, "--interval"},
		{"rate and rate-stages", func(c *Config) { c.Rate = 5; c.RateStages = "1s:5" }, "exclude each other"},
		{"stages and rate", func(c *Config) { c.Rate = 5; c.Stages = "1s:5" }, "exclude each other"},
		{"bad rate stages", func(c *Config) { c.RateStages = "1s" }, "--rate-stages"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig(t, "smoke")
			tc.mutate(&c)
			errs := c.Validate()
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Fatalf("want valid, got %v", errs)
			case tc.want != "" && len(errs) == 0:
				t.Fatalf("want a problem naming %q, got none", tc.want)
			case tc.want != "" && !strings.Contains(errs[0].Error()+errorsText(errs), tc.want):
				t.Fatalf("problems %v do not name %q", errs, tc.want)
			}
		})
	}
}

func errorsText(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
	}
	return b.String()
}

func TestValidateArguments(t *testing.T) {
	c := validConfig(t, "http")
	if errs := c.Validate(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "want METHOD and URL") {
		t.Errorf("http without arguments: %v", errs)
	}
	c = validConfig(t, "smoke")
	c.Args = []string{"extra"}
	if errs := c.Validate(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "no arguments") {
		t.Errorf("smoke with an argument: %v", errs)
	}
}
