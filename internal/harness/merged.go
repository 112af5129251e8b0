package harness

import (
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// Judge judges a result rebuilt from its parts (driftload merge) the way a
// run is judged: sets' whole-run thresholds on snap, the windowed ones from
// windows (observed over the merged timeline; nil or a threshold it lacks:
// "no data"), the sub-metrics they name, then the exit code from the
// thresholds, the run's validity and f.
func Judge(res *report.Result, snap *metrics.Snapshot, sets []threshold.Set, windows *threshold.Windows, f scenario.Findings) {
	results := threshold.Evaluate(sets, measurer{snap}, windows)
	res.Thresholds = report.ThresholdsFromResults(results)
	addSubmetrics(res, sets, snap)
	conclude(res, runner.Outcome{Interrupted: res.Interrupted, Aborted: res.Aborted && !res.Interrupted}, threshold.Failed(results), f)
}
