package main

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// --junit, --summary-md and --html write reports beside the result file, and a
// GitHub Actions step summary gets the markdown appended.
func TestCIOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	step := filepath.Join(dir, "step.md")
	if err := os.WriteFile(step, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "smoke", "--embedded-target", "--duration", "2s", "--vus", "1", "--quiet",
		"--junit", filepath.Join(dir, "junit.xml"), "--summary-md", filepath.Join(dir, "summary.md"), "--html", filepath.Join(dir, "report.html"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GITHUB_STEP_SUMMARY="+step, "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("junit.xml is not XML: %v", err)
	}
	if suites.Failures != 0 || len(suites.Suites) != 1 || suites.Suites[0].Name != "driftload smoke" || len(suites.Suites[0].Cases) < 5 {
		t.Fatalf("junit: %+v", suites)
	}
	if page, err := os.ReadFile(filepath.Join(dir, "report.html")); err != nil || !strings.Contains(string(page), "<html") || !strings.Contains(string(page), "uPlot") {
		t.Errorf("--html: %v, %d bytes", err, len(page))
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	stepMD, _ := os.ReadFile(step)
	if !strings.Contains(string(md), "PASSED") || !strings.HasPrefix(string(stepMD), "earlier step\n") || !strings.Contains(string(stepMD), string(md)) {
		t.Fatalf("summary.md:\n%s\nstep summary:\n%s", md, stepMD)
	}
}
