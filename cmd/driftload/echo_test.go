package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/scenario/all"
)

// The result file echoes every flag of every test, from the flag set itself,
// and never the value of a secret one.
func TestEveryFlagIsEchoed(t *testing.T) {
	for _, test := range all.Tests {
		cmd := newTestCmd(test)
		fs := cmd.Flags()
		args := []string{"--api-key", "dlk_secret_value", "--quiet", "--pre-allocated-vus", "3"}
		if test.Name == "http" {
			args = append(args, "-H", "Authorization: Bearer secret_value", "--body", "secret_value")
		}
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%s: %v", test.Name, err)
		}
		echo := echoFlags(fs)
		fs.VisitAll(func(fl *pflag.Flag) {
			if fl.Name == "help" {
				return
			}
			if _, ok := echo[strings.ReplaceAll(fl.Name, "-", "_")]; !ok {
				t.Errorf("%s: --%s is not echoed", test.Name, fl.Name)
			}
		})
		if echo["quiet"] != true || echo["pre_allocated_vus"] != int64(3) {
			t.Errorf("%s: quiet %v, pre_allocated_vus %v", test.Name, echo["quiet"], echo["pre_allocated_vus"])
		}
		for k, v := range echo {
			if s, ok := v.(string); ok && strings.Contains(s, "secret_value") {
				t.Errorf("%s: %s echoes a secret: %q", test.Name, k, s)
			}
			if ss, ok := v.([]string); ok && strings.Contains(strings.Join(ss, ","), "secret_value") {
				t.Errorf("%s: %s echoes a secret: %q", test.Name, k, ss)
			}
		}
	}
}
