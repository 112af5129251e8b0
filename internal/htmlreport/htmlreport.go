// Package htmlreport renders a result file as one self-contained HTML page:
// run header, verdict, thresholds, checks, endpoints and charts of the run
// over time and of the test's own analysis. A comparison of two result
// files (internal/compare) gets a page of the same look: both runs, the
// verdict, every change, and both timelines overlaid on each chart. Every number is computed here in
// Go (per-interval percentiles from the timeline's HDR histograms); the page's
// script only draws, with uPlot embedded in the page, so it opens offline and
// requests nothing from any host.
package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"github.com/driftload/driftload/internal/compare"
	"github.com/driftload/driftload/internal/report"
)

// uPlot 1.6.32 (MIT, see assets/LICENSE.uplot), taken unchanged from its npm
// package's dist/.
var (
	//go:embed assets/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uPlot.min.css
	uplotCSS string
	//go:embed assets/LICENSE.uplot
	uplotLicense string
)

var (
	//go:embed assets/page.html.tmpl
	sharedTemplate string
	//go:embed assets/report.html.tmpl
	pageTemplate string
	//go:embed assets/compare.html.tmpl
	comparisonTemplate string
	//go:embed assets/report.css
	pageCSS string
	//go:embed assets/report.js
	pageJS string
)

var funcs = template.FuncMap{
	"lower": func(b bool) string {
		if b {
			return "pass"
		}
		return "fail"
	},
}

// tmpl is the run's page; comparisonTmpl the comparison's. Both are built
// on the shared parts (head, chart sections, credits, scripts).
var (
	tmpl           = template.Must(template.Must(template.New("report").Funcs(funcs).Parse(pageTemplate)).Parse(sharedTemplate))
	comparisonTmpl = template.Must(template.Must(template.New("comparison").Funcs(funcs).Parse(comparisonTemplate)).Parse(sharedTemplate))
)

// assets is what the template embeds verbatim: the page's own code and uPlot.
type assets struct {
	CSS, UplotCSS template.CSS
	JS, UplotJS   template.JS
	UplotLicense  string
}

// view is what the template renders: the page and its assets.
type view struct {
	*Page
	Assets assets
}

// pageAssets returns the embedded assets. They are our own files, so they
// are trusted as CSS and JS; everything from the result file goes through
// the template's escaping.
func pageAssets() assets {
	return assets{
		CSS: template.CSS(pageCSS), UplotCSS: template.CSS(uplotCSS),
		JS: template.JS(pageJS), UplotJS: template.JS(uplotJS),
		UplotLicense: uplotLicense,
	}
}

// Write renders r as a self-contained HTML page to w.
func Write(w io.Writer, r *report.Result) error {
	p, err := Build(r)
	if err != nil {
		return err
	}
	return render(w, view{Page: p, Assets: pageAssets()})
}

func render(w io.Writer, v view) error {
	if err := tmpl.Execute(w, v); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// comparisonView is what the comparison's template renders.
type comparisonView struct {
	*ComparisonPage
	Assets assets
}

// WriteComparison renders c, the comparison of new against base, as a
// self-contained HTML page to w: both runs, the verdict, every change with
// its interval and budget, and both timelines overlaid on each chart.
func WriteComparison(w io.Writer, base, new *report.Result, c *compare.Comparison) error {
	p, err := BuildComparison(base, new, c)
	if err != nil {
		return err
	}
	if err := comparisonTmpl.Execute(w, comparisonView{ComparisonPage: p, Assets: pageAssets()}); err != nil {
		return fmt.Errorf("render comparison: %w", err)
	}
	return nil
}

// WriteComparisonFile renders the comparison's page to path atomically, as
// WriteFile does.
func WriteComparisonFile(path string, base, new *report.Result, c *compare.Comparison) error {
	var buf bytes.Buffer
	if err := WriteComparison(&buf, base, new, c); err != nil {
		return err
	}
	if err := report.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write comparison page %s: %w", path, err)
	}
	return nil
}

// WriteFile renders r to path atomically: the page is written to a synced
// temporary file in the same directory, then renamed over path, so a reader
// never sees half a page. A symbolic link at path is followed; a device or a
// pipe (/dev/stdout) is written through, never replaced.
func WriteFile(path string, r *report.Result) error {
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		return err
	}
	if err := report.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
