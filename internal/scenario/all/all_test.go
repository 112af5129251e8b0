package all

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/driftload/driftload"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// instance builds t as a run would, with its default options and the
// positional arguments of its example.
func instance(t *testing.T, test *scenario.Test) *metrics.Registry {
	_, reg := build(t, test)
	return reg
}

// build is instance with the instance.
func build(t *testing.T, test *scenario.Test) (scenario.Instance, *metrics.Registry) {
	t.Helper()
	env := scenario.Env{BaseURL: "http://127.0.0.1:1", APIKey: "dlk_test", Run: "t", TimeScale: 1, Endpoint: "detect"}
	if test.Options != nil {
		opts := test.Options()
		var args []string
		if len(test.Args) > 0 {
			fields := strings.Fields(test.Example)
			args = fields[len(fields)-len(test.Args):]
		}
		if errs := opts.Resolve(args); len(errs) > 0 {
			t.Fatalf("%s: default options with the example's arguments %q: %v", test.Name, args, errs)
		}
		env.Options = opts
	}
	reg := metrics.NewRegistry()
	inst, err := test.New(env, reg)
	if err != nil {
		t.Fatalf("%s: New: %v", test.Name, err)
	}
	return inst, reg
}

// A test with an analysis of its own re-runs it on merged data
// (Test.Merged), and a test without one declares none; its analysis leaves
// the names a merged file adds beside its fields to the merge.
func TestEveryAnalysisIsReRunOnMergedData(t *testing.T) {
	for _, test := range Tests {
		inst, reg := build(t, test)
		f := inst.Analyse(reg.Snapshot())
		if (f.Data != nil) != (test.Merged != nil) {
			t.Errorf("%s: analysis %v but Merged declared %v: a test's own analysis must be re-run on merged data, and only then", test.Name, f.Data != nil, test.Merged != nil)
		}
		if f.Data == nil {
			continue
		}
		data, err := json.Marshal(f.Data)
		if err != nil {
			t.Fatalf("%s: %v", test.Name, err)
		}
		var fields map[string]any
		if err := json.Unmarshal(data, &fields); err != nil {
			t.Fatalf("%s: the analysis is not a JSON object: %v", test.Name, err)
		}
		for _, k := range []string{"parts", "note", "windowed_no_data"} {
			if _, ok := fields[k]; ok {
				t.Errorf("%s: its analysis has a field %q, which a merged file uses", test.Name, k)
			}
		}
	}
}

// Every test defines exactly the metrics it declares, with the declared
// type and unit: the declaration is what validate checks thresholds against.
func TestEveryTestDefinesWhatItDeclares(t *testing.T) {
	for _, test := range Tests {
		reg := instance(t, test)
		defined := map[string]metrics.Def{}
		for _, m := range reg.Metrics() {
			defined[m.Name] = metrics.Def{Name: m.Name, Type: m.Type, Contains: m.Contains}
		}
		declared := map[string]metrics.Def{}
		for _, d := range test.Metrics {
			if _, dup := declared[d.Name]; dup {
				t.Errorf("%s declares %s twice", test.Name, d.Name)
			}
			declared[d.Name] = d
		}
		for name, d := range declared {
			if got, ok := defined[name]; !ok {
				t.Errorf("%s declares %s but does not define it", test.Name, name)
			} else if got != d {
				t.Errorf("%s defines %+v, declares %+v", test.Name, got, d)
			}
		}
		for name := range defined {
			if _, ok := declared[name]; !ok {
				t.Errorf("%s defines %s without declaring it (add it to the test's Metrics)", test.Name, name)
			}
		}
	}
}

// The built-in thresholds file has one section per test, names only
// declared metrics, and is valid.
func TestThresholdsFileMatchesTheTests(t *testing.T) {
	f, err := threshold.ParseFile(driftload.DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
	if errs := f.Validate(Vocabulary()); len(errs) > 0 {
		t.Errorf("thresholds.json: %v", errs)
	}
	sections := map[string]bool{}
	for _, test := range Tests {
		if sections[test.Section()] {
			t.Errorf("two tests use the thresholds section %q", test.Section())
		}
		sections[test.Section()] = true
		if _, ok := f.Tests[test.Section()]; !ok {
			t.Errorf("thresholds.json has no section %q for the %s test", test.Section(), test.Name)
		}
	}
	for _, name := range f.TestNames() {
		if !sections[name] {
			t.Errorf("thresholds.json section %q belongs to no test", name)
		}
	}
}

// Every package under internal/scenario (but this one) is a listed test,
// and every test is complete enough for its command.
func TestEveryTestPackageIsListed(t *testing.T) {
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, test := range Tests {
		names = append(names, test.Name)
		if test.Short == "" || test.Long == "" || test.ResultFile == "" || test.New == nil {
			t.Errorf("%s: Short, Long, ResultFile and New are required", test.Name)
		}
		if test.DefaultLength() <= 0 {
			t.Errorf("%s: no default profile", test.Name)
		}
		if len(test.Args) > 0 && (test.Options == nil || test.Example == "") {
			t.Errorf("%s: positional arguments need Options to take them and an Example", test.Name)
		}
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "all" && !slices.Contains(names, e.Name()) {
			t.Errorf("internal/scenario/%s is not in all.Tests", e.Name())
		}
	}
	if _, ok := Lookup("smoke"); !ok {
		t.Error("Lookup(smoke) failed")
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) succeeded")
	}
}
