package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/driftload/driftload/internal/scenario/all"
	"github.com/driftload/driftload/schema"
)

// compile compiles the schema, with format (date-time) asserted. Strict,
// every object the schema describes property by property also refuses
// properties it does not name: the published schema lets later writers add
// fields within schema_version 1, but driftload's own files must have no
// field the schema leaves out.
func compile(t *testing.T, strict bool) *jsonschema.Schema {
	t.Helper()
	compiled.Lock()
	defer compiled.Unlock()
	if s := compiled.schemas[strict]; s != nil {
		return s
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.Result))
	if err != nil {
		t.Fatalf("result.schema.json is not JSON: %v", err)
	}
	if strict {
		closeObjects(doc, false)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "result.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("result.schema.json does not compile: %v", err)
	}
	compiled.schemas[strict] = s
	return s
}

// compiled are the schemas compile made, by strictness.
var compiled = struct {
	sync.Mutex
	schemas map[bool]*jsonschema.Schema
}{schemas: map[bool]*jsonschema.Schema{}}

// closeObjects sets additionalProperties false on every schema that lists
// properties and says nothing about others — except conditions (if, then,
// else), which constrain properties their object schema lists.
func closeObjects(v any, condition bool) {
	switch v := v.(type) {
	case map[string]any:
		_, props := v["properties"]
		_, open := v["additionalProperties"]
		if props && !open && !condition {
			v["additionalProperties"] = false
		}
		for k, sub := range v {
			closeObjects(sub, k == "if" || k == "then" || k == "else")
		}
	case []any:
		for _, sub := range v {
			closeObjects(sub, false)
		}
	}
}

// validate checks one result file against both forms of the schema.
func validate(t *testing.T, name string, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", name, err)
	}
	for _, strict := range []bool{false, true} {
		if err := compile(t, strict).Validate(inst); err != nil {
			t.Errorf("%s does not match the schema (strict %v):\n%v", name, strict, err)
		}
	}
}

func TestSchemaIsDraft202012(t *testing.T) {
	var doc struct {
		Schema string `json:"$schema"`
		Props  struct {
			Version struct {
				Const int `json:"const"`
			} `json:"schema_version"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema.Result, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema %q, want draft 2020-12", doc.Schema)
	}
	if doc.Props.Version.Const != 1 {
		t.Errorf("schema_version const %d, want 1", doc.Props.Version.Const)
	}
}

func TestGoldenResultFileMatchesTheSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "internal", "report", "testdata", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, "internal/report/testdata/result.json", data)
}

// The schema must refuse what a result file is not; otherwise the tests
// above prove nothing.
func TestSchemaRefusesBrokenFiles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "internal", "report", "testdata", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		spoil func(r map[string]any)
	}{
		{"another schema version", func(r map[string]any) { r["schema_version"] = 2 }},
		{"no metrics", func(r map[string]any) { delete(r, "metrics") }},
		{"start not a time", func(r map[string]any) { r["start"] = "yesterday" }},
		{"unknown metric type", func(r map[string]any) { metric(r, "http_req_duration")["type"] = "histogram" }},
		{"histogram in another encoding", func(r map[string]any) {
			metric(r, "http_req_duration")["histogram"].(map[string]any)["encoding"] = "hdr-v1"
		}},
		{"trend without p(95)", func(r map[string]any) {
			delete(metric(r, "http_req_duration")["values"].(map[string]any), "p(95)")
		}},
		{"unknown summary key", func(r map[string]any) { metric(r, "http_reqs")["values"].(map[string]any)["p95"] = 1 }},
		{"negative count", func(r map[string]any) { r["checks"].([]any)[0].(map[string]any)["fails"] = -1 }},
		{"passed with exit 99", func(r map[string]any) { r["passed"] = true }},
		{"checkpoint with thresholds", func(r map[string]any) { r["complete"], r["exit_code"] = false, 0 }},
		{"invalid run without reasons", func(r map[string]any) { r["run"].(map[string]any)["valid"] = false }},
		{"unknown model", func(r map[string]any) { r["run"].(map[string]any)["model"] = "mixed" }},
		{"stress without breaking point", func(r map[string]any) {
			r["test"], r["analysis"] = "stress", map[string]any{}
		}},
		{"soak without analysis", func(r map[string]any) { r["test"] = "soak" }},
	}
	s := compile(t, false)
	file := func(t *testing.T) map[string]any {
		var r map[string]any
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := s.Validate(roundTrip(t, file(t))); err != nil {
		t.Fatalf("the file to break is not valid to begin with: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := file(t)
			c.spoil(r)
			if err := s.Validate(roundTrip(t, r)); err == nil {
				t.Errorf("the schema accepts a file with %s", c.name)
			}
		})
	}
}

func metric(r map[string]any, name string) map[string]any {
	return r["metrics"].(map[string]any)[name].(map[string]any)
}

// roundTrip turns v into what jsonschema.UnmarshalJSON gives for its JSON.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// Every test's result file, as the harness writes it after a short run
// against the reference target, matches the schema: closed and open model,
// windowed thresholds, failures, an abort, an interrupt, a max-rate search,
// and a checkpoint written during a run.
func TestResultFilesOfEveryTestMatchTheSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every test for a few seconds")
	}
	t.Parallel()
	files := resultFiles(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tests := map[string]bool{}
	for _, n := range names {
		validate(t, n, files[n])
		tests[strings.Fields(n)[0]] = true
	}
	for _, test := range all.Tests {
		if !tests[test.Name] {
			t.Errorf("no result file of %s validated", test.Name)
		}
	}
	if _, ok := files["load windowed checkpoint"]; !ok {
		t.Error("no checkpoint validated")
	}
}

// The published schema lets later versions of driftload add fields; the
// strict form used above refuses any field it does not describe.
func TestStrictSchemaRefusesUndescribedFields(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "internal", "report", "testdata", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{"the file", "a histogram", "the run"} {
		var r map[string]any
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		obj := r
		switch where {
		case "a histogram":
			obj = metric(r, "http_req_duration")["histogram"].(map[string]any)
		case "the run":
			obj = r["run"].(map[string]any)
		}
		obj["added_later"] = 1
		inst := roundTrip(t, r)
		if err := compile(t, false).Validate(inst); err != nil {
			t.Errorf("a field added to %s must be allowed: %v", where, err)
		}
		if err := compile(t, true).Validate(inst); err == nil {
			t.Errorf("the strict schema accepts an undescribed field in %s", where)
		}
	}
}
