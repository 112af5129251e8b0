package harness

import (
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// Judge judges a result rebuilt from its parts (driftload merge) the way a
// run is judged: sets' whole-run thresholds on snap (windowed ones need
// every metric interval by interval, which a result file keeps only for
// http_req_duration, so they come out "no data"), the sub-metrics they name,
// then the exit code from the thresholds, the run's validity and f.
func Judge(res *report.Result, snap *metrics.Snapshot, sets []threshold.Set, f scenario.Findings) {
	results := threshold.Evaluate(sets, measurer{snap}, nil)
	res.Thresholds = report.ThresholdsFromResults(results)
	addSubmetrics(res, sets, snap)
	conclude(res, runner.Outcome{Interrupted: res.Interrupted, Aborted: res.Aborted && !res.Interrupted}, threshold.Failed(results), f)
}
