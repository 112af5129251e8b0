package htmlreport

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from the pages rendered now")

var (
	styleRe  = regexp.MustCompile(`(?s)<style>.*?</style>`)
	scriptRe = regexp.MustCompile(`(?s)<script>.*?</script>`)
	dataRe   = regexp.MustCompile(`(?s)(<script type="application/json" id="report-data">)(.*?)(</script>)`)
)

// skeleton is a page's structure: the HTML with the embedded CSS and
// scripts left out and the data blob replaced by one line a chart — what it
// draws, not its numbers.
func skeleton(t *testing.T, page []byte) string {
	t.Helper()
	var data Data
	m := dataRe.FindSubmatch(page)
	if m == nil {
		t.Fatal("the page has no #report-data")
	}
	if err := json.Unmarshal(m[2], &data); err != nil {
		t.Fatalf("#report-data is not the page's data: %v", err)
	}
	var sum strings.Builder
	sum.WriteString("\n")
	for _, c := range data.Charts {
		fmt.Fprintf(&sum, "%s %q: %d x (%s)", c.ID, c.Title, len(c.X), c.XLabel)
		fmt.Fprintf(&sum, "; y %q %s", c.YLabel, c.YUnit)
		if c.YLog {
			sum.WriteString(" log")
		}
		if c.Y2Label != "" {
			fmt.Fprintf(&sum, "; y2 %q %s", c.Y2Label, c.Y2Unit)
		}
		for _, s := range c.Series {
			fmt.Fprintf(&sum, "\n  series %q %s axis %d, %d values", s.Label, orDash(s.Style), s.Axis, countFinite(s.Values))
			if len(s.Absent) > 0 {
				fmt.Fprintf(&sum, ", absent at %d x", len(s.Absent))
			}
		}
		for _, l := range c.Lines {
			fmt.Fprintf(&sum, "\n  line %q at %g", l.Label, l.Value)
		}
		for _, mk := range c.Marks {
			fmt.Fprintf(&sum, "\n  mark %q at %g", mk.Label, mk.X)
		}
		for _, b := range c.Bands {
			fmt.Fprintf(&sum, "\n  band %q %g–%g", b.Label, b.From, b.To)
		}
		sum.WriteString("\n")
	}
	out := dataRe.ReplaceAll(page, []byte("${1}"+strings.ReplaceAll(sum.String(), "$", "$$")+"${3}"))
	out = styleRe.ReplaceAll(out, []byte("<style>…</style>"))
	out = scriptRe.ReplaceAll(out, []byte("<script>…</script>"))
	return string(out)
}

func countFinite(v Values) int {
	n := 0
	for _, f := range v {
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			n++
		}
	}
	return n
}

// TestPageStructureGolden renders every fixture and compares its skeleton
// with testdata/golden/NAME.html (go test -update rewrites them).
func TestPageStructureGolden(t *testing.T) {
	t.Parallel()
	for _, name := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := loadCase(t, name)
			var buf bytes.Buffer
			if err := Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			got := skeleton(t, buf.Bytes())
			path := filepath.Join("testdata", "golden", name+".html")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("page structure differs from %s (go test -update rewrites it, review the diff):\n%s", path, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows the first differing line of want and got.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d\nwant %q\n got %q", i+1, wl, gl)
		}
	}
	return "(no line differs)"
}
