package htmlreport

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// findChromium returns the browser the page is tested in: $DRIFTLOAD_CHROMIUM,
// else the first of Debian's and Google's names on PATH; "" when none.
func findChromium() string {
	if p := os.Getenv("DRIFTLOAD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotPath is where DRIFTLOAD_SCREENSHOT asks for the screenshot of
// page name (report-FIXTURE, compare-CASE): a .png path as it is (run one
// page with -run to choose which), any other path as a directory holding
// NAME.png; "" unset. A relative path is from the module's root, not the
// package's directory.
func screenshotPath(name string) string {
	p := os.Getenv("DRIFTLOAD_SCREENSHOT")
	if p == "" {
		return ""
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(moduleRoot(), p)
	}
	if strings.HasSuffix(p, ".png") {
		return p
	}
	return filepath.Join(p, name+".png")
}

// moduleRoot is the nearest directory above the test's holding go.mod.
func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// chartCheck is what the page says about one chart's canvas.
type chartCheck struct {
	ID      string `json:"id"`
	Canvas  bool   `json:"canvas"`
	Width   int    `json:"w"`
	Height  int    `json:"h"`
	Painted int    `json:"painted"`
	Colored int    `json:"colored"`
	// Legend are the series' labels in uPlot's legend (the x first).
	Legend []string `json:"legend"`
	// BasePx and NewPx are the pixels in the colours of a comparison's
	// base and new run.
	BasePx int `json:"base_px"`
	NewPx  int `json:"new_px"`
}

type pageCheck struct {
	Charts  []chartCheck `json:"charts"`
	Drawn   string       `json:"drawn"`
	Empties int          `json:"empties"`
	Verdict string       `json:"verdict"`
}

// inspect reads every chart's canvas back: how many pixels are painted at
// all (axes, grid and text are grey), how many in colour (only the series,
// lines and markers are), and how many in the colours of a comparison's
// two runs (baseColor, newColor); and the labels of its legend.
const inspect = `(() => {
  const near = (d, i, rgb) => Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) < 40;
  const base = [0x4e, 0x79, 0xa7], fresh = [0xf2, 0x8e, 0x2b];
  const charts = [];
  document.querySelectorAll(".plot[data-chart]").forEach(el => {
    const c = el.querySelector("canvas");
    const r = {id: el.dataset.chart, canvas: !!c, w: 0, h: 0, painted: 0, colored: 0, base_px: 0, new_px: 0,
      legend: Array.from(el.querySelectorAll(".u-legend .u-series .u-label")).map(l => l.textContent)};
    if (c && c.width > 0 && c.height > 0) {
      r.w = c.width; r.h = c.height;
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] === 0) continue;
        r.painted++;
        if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) r.colored++;
        if (d[i + 3] > 200 && near(d, i, base)) r.base_px++;
        if (d[i + 3] > 200 && near(d, i, fresh)) r.new_px++;
      }
    }
    charts.push(r);
  });
  return {charts, drawn: document.documentElement.getAttribute("data-charts-drawn"),
    empties: document.querySelectorAll(".chart .empty").length,
    verdict: document.querySelector("#verdict .headline").textContent};
})()`

// startBrowser starts headless Chromium for the test: offline flags, its
// own profile. Without a browser it skips, unless DRIFTLOAD_REQUIRE_BROWSER
// is set (as .ci/run sets it once it has installed chromium).
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	bin := findChromium()
	if bin == "" && os.Getenv("DRIFTLOAD_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium binary found, and DRIFTLOAD_REQUIRE_BROWSER is set (CI installs chromium)")
	}
	if bin == "" {
		t.Skip("no chromium binary found (apt-get install chromium, or set DRIFTLOAD_CHROMIUM): the page is not checked in a browser")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	start := time.Now()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Logf("%s started in %s", bin, time.Since(start).Round(time.Millisecond))
	return bctx
}

// opened is what a page showed in the browser.
type opened struct {
	check pageCheck
	// problems are the console's errors and exceptions, requests every URL
	// the page asked for (itself included).
	problems, requests []string
	png                []byte
	took               time.Duration
}

// openPage loads file in a new tab of the browser bctx and reads it back
// once its script has drawn.
func openPage(t *testing.T, bctx context.Context, file string) opened {
	t.Helper()
	tctx, cancelTab := chromedp.NewContext(bctx)
	defer cancelTab()
	if err := chromedp.Do(tctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tctx, 30*time.Second)
	defer cancel()

	// Subscribe before the page loads; drain until the checks end.
	lctx, stopListening := context.WithCancel(ctx)
	var mu sync.Mutex
	var o opened
	var wg sync.WaitGroup
	console := chromedp.Console(lctx)
	sent := chromedp.Events(lctx, network.RequestWillBeSent)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				o.problems = append(o.problems, m.String())
				mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range sent {
			if err != nil {
				return
			}
			mu.Lock()
			o.requests = append(o.requests, ev.Request.URL)
			mu.Unlock()
		}
	}()

	loaded := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.documentElement.hasAttribute("data-charts-drawn")`)); err != nil {
		t.Fatalf("the page never finished drawing: %v", err)
	}
	o.took = time.Since(loaded)
	check, err := chromedp.Run(ctx, chromedp.Evaluate[pageCheck](inspect))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	// Let late messages arrive, then stop listening.
	time.Sleep(100 * time.Millisecond)
	stopListening()
	wg.Wait()
	o.check, o.png = check, png
	return o
}

// checkOffline fails the test for a console error or a request for
// anything but the page itself.
func checkOffline(t *testing.T, o opened, file string) {
	t.Helper()
	for _, m := range o.problems {
		t.Errorf("console: %s", m)
	}
	self := false
	for _, u := range o.requests {
		switch {
		case u == "file://"+file:
			self = true
		case !strings.HasPrefix(u, "data:"):
			t.Errorf("the page requested %s: it must open offline, requesting nothing", u)
		}
	}
	if !self {
		t.Errorf("requests seen %q, without the page itself: the network was not watched", o.requests)
	}
}

// checkDrawn fails the test unless every chart of data drew on its canvas
// and every chart of secs without data says why.
func checkDrawn(t *testing.T, got pageCheck, data Data, secs []Section) {
	t.Helper()
	if got.Drawn != itoa(len(data.Charts)) || len(got.Charts) != len(data.Charts) {
		t.Errorf("%s charts drawn, %d plots on the page; the page's data has %d charts", got.Drawn, len(got.Charts), len(data.Charts))
	}
	empty := 0
	for _, s := range secs {
		for _, c := range s.Charts {
			if c.Empty != "" {
				empty++
			}
		}
	}
	if got.Empties != empty {
		t.Errorf("%d charts say why they are empty, want %d", got.Empties, empty)
	}
	for _, c := range got.Charts {
		switch {
		case !c.Canvas || c.Width == 0 || c.Height == 0:
			t.Errorf("chart %s has no canvas (%+v)", c.ID, c)
		case c.Painted < 2000:
			t.Errorf("chart %s: %d pixels painted, its canvas is (nearly) empty", c.ID, c.Painted)
		case c.Colored < 100:
			t.Errorf("chart %s: %d coloured pixels, its series did not draw", c.ID, c.Colored)
		}
	}
}

// saveScreenshot writes the page's screenshot to the test's shots
// directory and to DRIFTLOAD_SCREENSHOT (see screenshotPath).
func saveScreenshot(t *testing.T, o opened, shots, name string) {
	t.Helper()
	shot := filepath.Join(shots, name+".png")
	for _, path := range []string{shot, screenshotPath(name)} {
		if path == "" {
			continue
		}
		if err := os.WriteFile(path, o.png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("drawn in %s; screenshot %s (%d KiB)", o.took.Round(time.Millisecond), shot, len(o.png)/1024)
}

// TestReportInBrowser opens the report of every fixture in headless
// Chromium, offline: the page loads without a console error, requests
// nothing but itself, and every chart has drawn on its canvas. A full-page
// screenshot goes to the test's temporary directory (and to
// DRIFTLOAD_SCREENSHOT, see screenshotPath) for a person to look at.
// Without a browser it skips, unless DRIFTLOAD_REQUIRE_BROWSER is set.
func TestReportInBrowser(t *testing.T) {
	bctx := startBrowser(t)
	shots := t.TempDir()
	for _, name := range cases() {
		t.Run(name, func(t *testing.T) {
			r := loadCase(t, name)
			p := mustBuild(t, r)
			file := filepath.Join(t.TempDir(), "report-"+name+".html")
			if err := WriteFile(file, r); err != nil {
				t.Fatal(err)
			}
			o := openPage(t, bctx, file)
			saveScreenshot(t, o, shots, "report-"+name)
			checkOffline(t, o, file)
			checkDrawn(t, o.check, p.Data, p.Sections)
			got := o.check
			if want := "✓"; p.Verdict.Passed && !strings.HasPrefix(got.Verdict, want) || !p.Verdict.Passed && strings.HasPrefix(got.Verdict, want) {
				t.Errorf("verdict banner %q for a run that passed=%v", got.Verdict, p.Verdict.Passed)
			}
		})
	}
}

// TestComparisonInBrowser opens the page of every comparison case in
// headless Chromium, offline, as TestReportInBrowser does the run's: no
// console error, nothing requested, every chart drawn — each with a "base"
// and a "new" series in its legend, and both drawn, in their colours.
func TestComparisonInBrowser(t *testing.T) {
	bctx := startBrowser(t)
	shots := t.TempDir()
	for _, name := range comparisonNames() {
		t.Run(name, func(t *testing.T) {
			base, new, c := cachedComparison(t, name)
			p, err := BuildComparison(base, new, c)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "compare-"+name+".html")
			if err := WriteComparisonFile(file, base, new, c); err != nil {
				t.Fatal(err)
			}
			o := openPage(t, bctx, file)
			saveScreenshot(t, o, shots, "compare-"+name)
			checkOffline(t, o, file)
			checkDrawn(t, o.check, p.Data, p.Sections)
			// A series with points to join: a run without the metric (a
			// closed run's http_req_latency) draws nothing.
			drawable := map[string]map[string]bool{}
			for _, ch := range p.Data.Charts {
				drawable[ch.ID] = map[string]bool{}
				for _, s := range ch.Series {
					drawable[ch.ID][s.Label] = countFinite(s.Values) >= 2
				}
			}
			for _, ch := range o.check.Charts {
				if !slices.Contains(ch.Legend, "base") || !slices.Contains(ch.Legend, "new") {
					t.Errorf("chart %s: legend %q, want a base and a new series", ch.ID, ch.Legend)
				}
				// A line over a plot 1000 px wide is thousands of pixels;
				// 100 means the series drew, not only a legend swatch (and
				// the base, drawn wider, still shows where the new one
				// covers it).
				for _, run := range []struct {
					label string
					px    int
				}{{"base", ch.BasePx}, {"new", ch.NewPx}} {
					if drawable[ch.ID][run.label] && run.px < 100 {
						t.Errorf("chart %s: %d pixels in the %s run's colour: its series did not draw", ch.ID, run.px, run.label)
					}
				}
			}
			if want := "✓"; p.Verdict.Passed != strings.HasPrefix(o.check.Verdict, want) {
				t.Errorf("verdict banner %q for a comparison that passed=%v", o.check.Verdict, p.Verdict.Passed)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
