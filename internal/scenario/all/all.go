// Package all lists every driftload test. The command tree, the thresholds
// vocabulary of `validate` and the thresholds-section check all come from
// Tests; adding a test is one package under internal/scenario and one line
// here (a test in this package fails when either is missing).
package all

import (
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/scenario/capacity"
	"github.com/driftload/driftload/internal/scenario/http"
	"github.com/driftload/driftload/internal/scenario/load"
	"github.com/driftload/driftload/internal/scenario/ratelimit"
	"github.com/driftload/driftload/internal/scenario/smoke"
	"github.com/driftload/driftload/internal/scenario/soak"
	"github.com/driftload/driftload/internal/scenario/stress"
)

// Tests are driftload's tests, in the order of the recommended release
// sequence (and of `driftload --help`).
var Tests = []*scenario.Test{
	smoke.Test,
	load.Test,
	stress.Test,
	capacity.Test,
	ratelimit.Test,
	soak.Test,
	http.Test,
}

// Lookup returns the test called name.
func Lookup(name string) (*scenario.Test, bool) {
	for _, t := range Tests {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// Vocabulary is scenario.Vocabulary of every test.
func Vocabulary() map[string]map[string]metrics.Type { return scenario.Vocabulary(Tests) }
