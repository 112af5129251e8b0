package htmlreport

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/driftload/driftload/internal/compare"
	"github.com/driftload/driftload/internal/report"
)

// comparisonCases are comparisons of real runs (testdata/compare: two
// `load --time-scale 0.02` runs side by side against reference servers
// adding 10 ms and 14 ms to every detect; two open-model `load --rate 30`
// runs, the new one's server failing 5 % of detects) and changes of them.
var comparisonCases = map[string]struct {
	base, new string
	change    func(base, new *report.Result)
	force     bool
}{
	"closed":      {base: "base", new: "new"},
	"open":        {base: "open-base", new: "open-new"},
	"same":        {base: "base", new: "base"},
	"no-timeline": {base: "base", new: "new", change: func(_, n *report.Result) { n.Timeline = nil }},
	"forced":      {base: "base", new: "open-new", force: true},
}

func comparisonNames() []string {
	out := make([]string, 0, len(comparisonCases))
	for name := range comparisonCases {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// builtinBudgets are the built-in thresholds file's compare budgets.
func builtinBudgets() compare.Budgets {
	f := func(v float64) *float64 { return &v }
	return compare.Budgets{MaxP50Regression: f(0.10), MaxP95Regression: f(0.10), MaxP99Regression: f(0.25),
		MaxErrorRateIncrease: f(0.005), MinThroughputRatio: f(0.95), MinLatencyChangeMs: f(1)}
}

// comparisons are the cases compared once, for the tests that only read them.
var comparisons sync.Map // name → func() (comparisonRuns, error)

// cachedComparison is loadComparison, computed once per case: its results
// must not be changed.
func cachedComparison(t testing.TB, name string) (base, new *report.Result, c *compare.Comparison) {
	t.Helper()
	f, _ := comparisons.LoadOrStore(name, sync.OnceValues(func() (comparisonRuns, error) {
		var r comparisonRuns
		var err error
		r.base, r.new, r.c, err = compareCase(name)
		return r, err
	}))
	r, err := f.(func() (comparisonRuns, error))()
	if err != nil {
		t.Fatal(err)
	}
	return r.base, r.new, r.c
}

type comparisonRuns struct {
	base, new *report.Result
	c         *compare.Comparison
}

// loadComparison loads a case's two runs and compares them.
func loadComparison(t testing.TB, name string) (base, new *report.Result, c *compare.Comparison) {
	t.Helper()
	base, new, c, err := compareCase(name)
	if err != nil {
		t.Fatal(err)
	}
	return base, new, c
}

func compareCase(name string) (base, new *report.Result, c *compare.Comparison, err error) {
	cc, ok := comparisonCases[name]
	if !ok {
		return nil, nil, nil, fmt.Errorf("no comparison case %q", name)
	}
	if base, err = report.ReadFile(filepath.Join("testdata", "compare", cc.base+".json")); err != nil {
		return nil, nil, nil, err
	}
	if new, err = report.ReadFile(filepath.Join("testdata", "compare", cc.new+".json")); err != nil {
		return nil, nil, nil, err
	}
	if cc.change != nil {
		cc.change(base, new)
	}
	c, err = compare.Compare(base, new, compare.Options{Budgets: builtinBudgets(), Force: cc.force, Seed: 1,
		BaseFile: cc.base + ".json", NewFile: cc.new + ".json", Version: "dev"})
	return base, new, c, err
}

func mustBuildComparison(t testing.TB, name string) *ComparisonPage {
	t.Helper()
	p, err := BuildComparison(cachedComparison(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func renderComparison(t testing.TB, name string) string {
	t.Helper()
	base, new, c := cachedComparison(t, name)
	var buf bytes.Buffer
	if err := WriteComparison(&buf, base, new, c); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestComparisonPageStructureGolden renders every comparison case and
// compares its skeleton (the HTML without the embedded code, each chart's
// data as one line a series) with testdata/golden/compare-NAME.html
// (go test -update rewrites them).
func TestComparisonPageStructureGolden(t *testing.T) {
	t.Parallel()
	for _, name := range comparisonNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := skeleton(t, []byte(renderComparison(t, name)))
			path := filepath.Join("testdata", "golden", "compare-"+name+".html")
			if *update {
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

// Every chart of the comparison draws both runs: a "base" and a "new"
// series in their own colours, each holding exactly its run's intervals at
// their own x (seconds since that run's start), so interval i of both runs
// is drawn at one place.
func TestComparisonChartsOverlayBothRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want []string
	}{
		{"closed", []string{"timeline: latency-p50 latency-p95 latency-p99 rate failures(empty) load"}},
		{"same", []string{"timeline: latency-p50 latency-p95 latency-p99 rate failures(empty) load"}},
		{"open", []string{"timeline: latency-p50 latency-p95 latency-p99 latency-open-p50 latency-open-p95 latency-open-p99 rate failures load"}},
		{"forced", []string{"timeline: latency-p50 latency-p95 latency-p99 latency-open-p50 latency-open-p95 latency-open-p99 rate failures load"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, new, c := cachedComparison(t, tt.name)
			p, err := BuildComparison(base, new, c)
			if err != nil {
				t.Fatal(err)
			}
			if got := chartIDs(&Page{Sections: p.Sections}); !slices.Equal(got, tt.want) {
				t.Errorf("sections\n got %q\nwant %q", got, tt.want)
			}
			runs := map[string]int{"base": len(base.Timeline.Intervals), "new": len(new.Timeline.Intervals)}
			for _, ch := range p.Data.Charts {
				if !slices.IsSorted(ch.X) || len(slices.Compact(slices.Clone(ch.X))) != len(ch.X) {
					t.Errorf("chart %s: x not strictly ascending", ch.ID)
				}
				got := map[string]Series{}
				for _, s := range ch.Series {
					got[s.Label] = s
				}
				for label, color := range map[string]string{"base": baseColor, "new": newColor} {
					s, ok := got[label]
					if !ok {
						t.Errorf("chart %s: no %q series (series %v)", ch.ID, label, seriesLabels(ch))
						continue
					}
					if s.Color != color {
						t.Errorf("chart %s, %s: colour %s, want %s", ch.ID, label, s.Color, color)
					}
					if len(s.Values) != len(ch.X) {
						t.Errorf("chart %s, %s: %d values for %d x", ch.ID, label, len(s.Values), len(ch.X))
					}
					if own := len(ch.X) - len(s.Absent); own != runs[label] {
						t.Errorf("chart %s, %s: %d points of its own, the run has %d intervals", ch.ID, label, own, runs[label])
					}
					for _, i := range s.Absent {
						if i < 0 || i >= len(ch.X) || !math.IsNaN(s.Values[i]) {
							t.Errorf("chart %s, %s: absent at %d, where it has a value or there is no x", ch.ID, label, i)
						}
					}
				}
			}
		})
	}
}

func seriesLabels(c *Chart) []string {
	var out []string
	for _, s := range c.Series {
		out = append(out, s.Label)
	}
	return out
}

// The overlaid percentiles are the run report's: each run's p95 on the
// comparison's chart is, interval by interval, the p95 its own page draws.
func TestComparisonPercentilesAreEachRunsOwn(t *testing.T) {
	t.Parallel()
	base, new, c := cachedComparison(t, "closed")
	p, err := BuildComparison(base, new, c)
	if err != nil {
		t.Fatal(err)
	}
	var overlaid *Chart
	for _, ch := range p.Data.Charts {
		if ch.ID == "latency-p95" {
			overlaid = ch
		}
	}
	if overlaid == nil {
		t.Fatal("no latency-p95 chart")
	}
	for i, r := range []*report.Result{base, new} {
		var own *Chart
		for _, ch := range mustBuild(t, r).Data.Charts {
			if ch.ID == "latency" {
				own = ch
			}
		}
		s := overlaid.Series[i]
		n := 0
		for j, x := range overlaid.X {
			if slices.Contains(s.Absent, j) {
				continue
			}
			if own.X[n] != x || !sameValue(own.Series[1].Values[n], s.Values[j]) {
				t.Errorf("%s at %g s: overlaid p95 %g, its own page %g at %g s", s.Label, x, s.Values[j], own.Series[1].Values[n], own.X[n])
			}
			n++
		}
		if n != len(own.X) {
			t.Errorf("%s: %d points overlaid, its own page draws %d", s.Label, n, len(own.X))
		}
	}
}

func sameValue(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

var (
	rowRe     = regexp.MustCompile(`<tr class="(fail|pass|dim)"><td class="mark">([^<]*)</td><td[^>]*><code>([^<]*)</code></td><td>([^<]*)</td>`)
	verdictRe = regexp.MustCompile(`<section id="verdict" class="verdict (pass|fail)">\s*<div class="headline">([^<]*)</div>`)
	reasonsRe = regexp.MustCompile(`<ul class="reasons">(.*)</ul>`)
	emptyRe   = regexp.MustCompile(`<div class="empty">([^<]*)</div>`)
)

// A regression is marked as the terminal table marks it: its row red (class
// "fail", ✗), the banner red with the verdict and every regression naming
// its budget; a judged change within its budget is green (✓), one not
// judged dim (·).
func TestComparisonMarksRegressions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		passed   bool
		headline string
		// regressions are the rows marked, "name stat".
		regressions []string
	}{
		{"closed", false, "✗ REGRESSION — 2 of 13 judged changes beyond their budget",
			[]string{"http_req_duration p50", "http_req_duration{endpoint:detect} p50"}},
		{"open", false, "✗ REGRESSION — 2 of 16 judged changes beyond their budget",
			[]string{"http_reqs error rate", "http_reqs{endpoint:detect} error rate"}},
		{"same", true, "✓ NO REGRESSION — all 13 judged changes within their budget", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, c := cachedComparison(t, tt.name)
			page := renderComparison(t, tt.name)
			v := verdictRe.FindStringSubmatch(page)
			if v == nil {
				t.Fatal("no verdict banner")
			}
			if (v[1] == "pass") != tt.passed || strings.TrimSpace(v[2]) != tt.headline {
				t.Errorf("banner %s %q, want passed=%v %q", v[1], v[2], tt.passed, tt.headline)
			}
			var marked []string
			rows := rowRe.FindAllStringSubmatch(page, -1)
			want := 0
			for _, s := range slices.Concat(c.Latency, c.Requests) {
				want += len(s.Changes)
			}
			if len(rows) != want {
				t.Errorf("%d rows in the tables, the comparison has %d changes", len(rows), want)
			}
			for _, r := range rows {
				class, mark, name, stat := r[1], r[2], r[3], r[4]
				switch {
				case class == "fail" && mark == "✗":
					marked = append(marked, name+" "+stat)
				case class == "pass" && mark == "✓", class == "dim" && mark == "·":
				default:
					t.Errorf("row %s %s: class %q with mark %q", name, stat, class, mark)
				}
			}
			if !slices.Equal(marked, tt.regressions) {
				t.Errorf("rows marked as regressions %q, want %q", marked, tt.regressions)
			}
			if len(c.Regressions) != len(tt.regressions) {
				t.Fatalf("the comparison found %q", c.Regressions)
			}
			reasons := reasonsRe.FindStringSubmatch(page)
			for i, line := range c.Regressions {
				if !strings.HasPrefix(line, tt.regressions[i]+" ") || !strings.Contains(line, ", budget ") {
					t.Errorf("regression %q: want it to name %q and its budget", line, tt.regressions[i])
				}
				if reasons == nil || !strings.Contains(html.UnescapeString(reasons[1]), "<li>"+line+"</li>") {
					t.Errorf("the banner does not list %q", line)
				}
			}
		})
	}
}

// A run without a timeline: the page says so, naming the file, instead of
// drawing; the table is all there.
func TestComparisonWithoutTimelineSaysSo(t *testing.T) {
	t.Parallel()
	p := mustBuildComparison(t, "no-timeline")
	if len(p.Data.Charts) != 0 {
		t.Errorf("%d charts drawn without the new run's timeline", len(p.Data.Charts))
	}
	page := renderComparison(t, "no-timeline")
	empties := emptyRe.FindAllStringSubmatch(page, -1)
	if len(empties) != 6 {
		t.Errorf("%d charts say why they are empty, want 6", len(empties))
	}
	for _, e := range empties {
		if html.UnescapeString(e[1]) != "no timeline in the new run's file (new.json): nothing to draw over time" {
			t.Errorf("empty chart says %q", e[1])
		}
	}
	if p.Runs[1].Timeline != "no timeline in this file" || p.Runs[0].Timeline != "75 intervals of 0.25 s" {
		t.Errorf("timelines in the header: %q, %q", p.Runs[0].Timeline, p.Runs[1].Timeline)
	}
	if len(p.Tables) != 3 {
		t.Errorf("%d tables, want the latency, requests and other Trends", len(p.Tables))
	}
}

// Compared with --force, the banner says they were not comparable and how.
func TestForcedComparisonSaysWhatDiffers(t *testing.T) {
	t.Parallel()
	p := mustBuildComparison(t, "forced")
	found := false
	for _, r := range p.Verdict.Reasons {
		if strings.HasPrefix(r, "not comparable, compared anyway (--force): ") && strings.Contains(r, "config.executor") {
			found = true
		}
	}
	if !found {
		t.Errorf("reasons %q: want the differences of a forced comparison", p.Verdict.Reasons)
	}
	if p.Runs[0].Model != "closed" || p.Runs[1].Model != "open" {
		t.Errorf("models %q, %q", p.Runs[0].Model, p.Runs[1].Model)
	}
}

func TestJoinAndAlign(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name string
		// a holds aValues; b is the other run's x.
		a, aValues, b Values
		union         Values
		// aOnUnion are a's values placed on the union.
		aOnUnion         Values
		aAbsent, bAbsent []int
	}{
		{"same x", Values{0.5, 1.5}, Values{1, 2}, Values{0.5, 1.5}, Values{0.5, 1.5}, Values{1, 2}, nil, nil},
		{"new run longer", Values{0.5, 1.5}, Values{1, 2}, Values{0.5, 1.5, 2.5}, Values{0.5, 1.5, 2.5}, Values{1, 2, nan}, []int{2}, nil},
		{"last intervals differ", Values{0.5, 1.3}, Values{1, nan}, Values{0.5, 1.4}, Values{0.5, 1.3, 1.4}, Values{1, nan, nan}, []int{2}, []int{1}},
		{"one without intervals", nil, nil, Values{1, 2}, Values{1, 2}, Values{nan, nan}, []int{0, 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := joinX(tt.a, tt.b)
			if !slices.Equal(u, tt.union) {
				t.Fatalf("union %v, want %v", u, tt.union)
			}
			got, absent := align(u, tt.a, tt.aValues)
			if !slices.Equal(absent, tt.aAbsent) || !slices.EqualFunc(got, tt.aOnUnion, sameValue) {
				t.Errorf("a on the union: %v absent at %v, want %v absent at %v", got, absent, tt.aOnUnion, tt.aAbsent)
			}
			if _, absent := align(u, tt.b, make(Values, len(tt.b))); !slices.Equal(absent, tt.bAbsent) {
				t.Errorf("b absent at %v, want %v", absent, tt.bAbsent)
			}
		})
	}
}

// Both runs are coarsened alike: a sparse run and a dense one keep one
// bucket width, so their buckets still line up.
func TestOverlayCoarsensBothRunsAlike(t *testing.T) {
	t.Parallel()
	timeline := func(perInterval int64) *report.Timeline {
		tl := &report.Timeline{StepSeconds: 1}
		for i := range 120 {
			tl.Intervals = append(tl.Intervals, report.TimelineInterval{StartSeconds: float64(i), EndSeconds: float64(i + 1), Requests: perInterval, Iterations: perInterval})
		}
		return tl
	}
	sparse := &report.Result{Timeline: timeline(1)}
	dense := &report.Result{Timeline: timeline(100)}
	o, err := newOverlay(sparse, dense, &compare.Comparison{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.base) != 40 || len(o.new) != 40 || !slices.Equal(mids(o.base), mids(o.new)) {
		t.Errorf("buckets: %d sparse, %d dense, want 40 alike", len(o.base), len(o.new))
	}
}

// Everything from the files and the comparison is text to the page.
func TestWriteComparisonEscapesEverythingFromTheFiles(t *testing.T) {
	t.Parallel()
	const evil = `</script><script>alert(1)</script><img src=x onerror=alert(2)>`
	base, new, c := loadComparison(t, "closed")
	c.Base.File, c.New.Target, c.New.Test = evil, evil, evil
	c.Regressions = append(c.Regressions, evil)
	c.Latency[0].Name = evil
	new.Tool.Version = evil
	var buf bytes.Buffer
	if err := WriteComparison(&buf, base, new, c); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "</script><script>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: text from the files was not escaped", bad)
		}
	}
	if got := strings.Count(page, "<script"); got != 3 {
		t.Errorf("%d <script elements, want 3 (data, uPlot, the page's own)", got)
	}
}

func TestBuildComparisonRejectsWhatIsNotAResult(t *testing.T) {
	t.Parallel()
	base, new, c := cachedComparison(t, "closed")
	for _, tt := range []struct {
		name      string
		base, new *report.Result
	}{
		{"no base", nil, new},
		{"no new", base, nil},
		{"newer schema", base, &report.Result{SchemaVersion: report.SchemaVersion + 1}},
	} {
		if _, err := BuildComparison(tt.base, tt.new, c); !errors.Is(err, ErrNotResult) {
			t.Errorf("%s: err %v, want ErrNotResult", tt.name, err)
		}
	}
	if _, err := BuildComparison(base, new, nil); err == nil {
		t.Error("no comparison: no error")
	}
}

func TestWriteComparisonFile(t *testing.T) {
	t.Parallel()
	base, new, c := cachedComparison(t, "closed")
	dir := t.TempDir()
	path := filepath.Join(dir, "compare.html")
	if err := WriteComparisonFile(path, base, new, c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) || !bytes.Contains(data, []byte(`<h1><span class="brand">driftload compare</span>`)) {
		t.Errorf("the file holds %.60q (%v), want the comparison's page", data, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1 (no temporary file left)", len(entries))
	}
	if err := WriteComparisonFile(dir, base, new, c); err == nil {
		t.Error("writing over a directory succeeded")
	}
}
