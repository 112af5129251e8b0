package schema_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/harness"
	"github.com/driftload/driftload/internal/merge"
	"github.com/driftload/driftload/internal/report"
	"github.com/driftload/driftload/internal/scenario/all"
)

// mergeThresholds judge, for every test, a windowed threshold the merged
// timeline carries and one it does not (checks: whole run only).
func mergeThresholds(section string) []byte {
	return []byte(`{"` + section + `": {"http_req_duration": ["p(99)<60000 over 1s"], "checks": ["rate>0 for 1s"]}}`)
}

// mergedFile merges a result file as the one part of a run (share 0:1)
// the way driftload merge does and returns the merged file.
func mergedFile(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	part, err := report.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	test, ok := all.Lookup(part.Test)
	if !ok {
		t.Fatalf("%s: unknown test %q", name, part.Test)
	}
	sets, err := harness.LoadThresholds(mergeThresholds(test.Section()), "merge thresholds", test)
	if err != nil {
		t.Fatal(err)
	}
	m, err := merge.Run([]*report.Result{part}, test, sets)
	if err != nil {
		t.Fatalf("%s: merge: %v", name, err)
	}
	harness.Judge(m.Result, m.Snapshot, sets, m.Windows, m.Findings)
	out := filepath.Join(t.TempDir(), "merged.json")
	if err := report.WriteFile(out, m.Result); err != nil {
		t.Fatal(err)
	}
	merged, err := report.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(merged)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Merged files of every test match the schema: the tests with an analysis
// of their own write it re-run on the merged data beside parts, note and
// windowed_no_data.
func TestMergedFilesMatchTheSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every test for a few seconds")
	}
	t.Parallel()
	files := resultFiles(t)
	for name, data := range files {
		if strings.Contains(name, "checkpoint") {
			continue // merge refuses checkpoints
		}
		merged := mergedFile(t, name, data)
		validate(t, "merged "+name, merged)
		var r struct {
			Test     string         `json:"test"`
			Analysis map[string]any `json:"analysis"`
		}
		if err := json.Unmarshal(merged, &r); err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Analysis["parts"]; !ok {
			t.Errorf("merged %s: analysis without parts: %v", name, r.Analysis)
		}
		if nd, _ := r.Analysis["windowed_no_data"].([]any); len(nd) != 1 || !strings.Contains(nd[0].(map[string]any)["metric"].(string), "checks") {
			t.Errorf("merged %s: windowed_no_data %v, want the checks threshold alone", name, r.Analysis["windowed_no_data"])
		}
		if test, _ := all.Lookup(r.Test); test.Merged != nil && len(r.Analysis) <= 3 {
			t.Errorf("merged %s: the %s analysis was not re-run: %v", name, r.Test, r.Analysis)
		}
	}
}
