package compare

import (
	"bytes"
	"encoding/xml"
	"flag"
	"github.com/driftload/driftload/internal/ciout"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from what the renderers write")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was written (go test -update rewrites it):\n%s", path, got)
	}
}

// comparisons are the golden cases: a regression, a clean pair, and runs
// that cannot be compared; computed once for every test that reads them
// (which must not change them).
func comparisons(t *testing.T) map[string]*Comparison {
	t.Helper()
	goldenOnce.Do(func() { goldenCases = makeComparisons(t) })
	if goldenCases == nil {
		t.Fatal("the golden comparisons could not be built")
	}
	return goldenCases
}

var (
	goldenOnce  sync.Once
	goldenCases map[string]*Comparison
)

func makeComparisons(t *testing.T) map[string]*Comparison {
	t.Helper()
	opts := Options{Budgets: gate, Seed: 1, BaseFile: "yesterday.json", NewFile: "today.json", Version: "1.0.0"}
	base := fakeRun(t, standard(1, 20))
	out := map[string]*Comparison{}
	for name, spec := range map[string]runSpec{"regression": standard(2, 24), "clean": standard(2, 20)} {
		spec.start = base.Start.Add(24 * 3600e9)
		c, err := Compare(base, fakeRun(t, spec), opts)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = c
	}
	other := fakeRun(t, standard(2, 20))
	other.Config["vus"], other.Config["executor"] = 20.0, "constant-vus: 20 VUs for 1m"
	c, err := Compare(base, other, opts)
	if err != nil {
		t.Fatal(err)
	}
	out["incomparable"] = c
	return out
}

func TestRenderingsMatchTheirGoldenFiles(t *testing.T) {
	t.Parallel()
	renderers := []struct {
		ext    string
		render func(io.Writer, *Comparison) error
	}{
		{"txt", func(w io.Writer, c *Comparison) error { return WriteText(w, c, TextOptions{}) }},
		{"quiet.txt", func(w io.Writer, c *Comparison) error { return WriteText(w, c, TextOptions{Compact: true}) }},
		{"color.txt", func(w io.Writer, c *Comparison) error {
			return WriteText(w, c, TextOptions{Color: true, Compact: true})
		}},
		{"json", WriteJSON},
		{"junit.xml", JUnit},
		{"md", Markdown},
	}
	for name, c := range comparisons(t) {
		for _, r := range renderers {
			if name == "incomparable" && strings.HasSuffix(r.ext, "txt") {
				continue // the command prints one line instead
			}
			var b bytes.Buffer
			if err := r.render(&b, c); err != nil {
				t.Fatalf("%s.%s: %v", name, r.ext, err)
			}
			golden(t, name+"."+r.ext, b.Bytes())
			if r.ext == "junit.xml" {
				var v struct{}
				if err := xml.Unmarshal(b.Bytes(), &v); err != nil {
					t.Errorf("%s.junit.xml is not XML: %v", name, err)
				}
			}
		}
	}
}

func TestJUnitCasesFollowTheVerdicts(t *testing.T) {
	t.Parallel()
	cs := comparisons(t)
	cases := []struct {
		name                       string
		failures, errors, skipped  int
		wantInFailure, wantInError string
	}{
		{"regression", 4, 0, 1, "http_req_duration p50 +", ""},
		{"clean", 0, 0, 1, "", ""},
		{"incomparable", 0, 1, 0, "", "config.vus 10 vs 20"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := JUnit(&b, cs[c.name]); err != nil {
			t.Fatal(err)
		}
		var doc ciout.JUnitSuites
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		s := doc.Suites[0]
		if s.Failures != c.failures || s.Errors != c.errors || s.Skipped != c.skipped || doc.Failures != c.failures {
			t.Errorf("%s: %d failures, %d errors, %d skipped; want %d, %d, %d", c.name, s.Failures, s.Errors, s.Skipped, c.failures, c.errors, c.skipped)
		}
		for _, tc := range s.Cases {
			if tc.Failure != nil && c.wantInFailure != "" && strings.HasPrefix(tc.Name, "http_req_duration p50") && !strings.Contains(tc.Failure.Message, c.wantInFailure) {
				t.Errorf("%s: failure %q, want it to contain %q", c.name, tc.Failure.Message, c.wantInFailure)
			}
			if tc.Error != nil && !strings.Contains(tc.Error.Message, c.wantInError) {
				t.Errorf("%s: error %q, want %q", c.name, tc.Error.Message, c.wantInError)
			}
		}
	}
}

func TestMarkdownEscapesFileNames(t *testing.T) {
	t.Parallel()
	c := *comparisons(t)["clean"]
	c.Base.File = "a|b*_<x>.json"
	var b bytes.Buffer
	if err := Markdown(&b, &c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "`a|b*_<x>.json`") || strings.Contains(b.String(), "<x>.json:") {
		t.Errorf("file name not kept as code:\n%s", b.String())
	}
}
