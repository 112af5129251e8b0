package htmlreport

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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
// fixture name: a .png path as it is (run one fixture with -run to choose
// which), any other path as a directory holding report-NAME.png; "" unset.
// A relative path is from the module's root, not the package's directory.
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
	return filepath.Join(p, "report-"+name+".png")
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
}

type pageCheck struct {
	Charts  []chartCheck `json:"charts"`
	Drawn   string       `json:"drawn"`
	Empties int          `json:"empties"`
	Verdict string       `json:"verdict"`
}

// inspect reads every chart's canvas back: how many pixels are painted at
// all (axes, grid and text are grey) and how many in colour (only the
// series, lines and markers are).
const inspect = `(() => {
  const charts = [];
  document.querySelectorAll(".plot[data-chart]").forEach(el => {
    const c = el.querySelector("canvas");
    const r = {id: el.dataset.chart, canvas: !!c, w: 0, h: 0, painted: 0, colored: 0};
    if (c && c.width > 0 && c.height > 0) {
      r.w = c.width; r.h = c.height;
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] === 0) continue;
        r.painted++;
        if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) r.colored++;
      }
    }
    charts.push(r);
  });
  return {charts, drawn: document.documentElement.getAttribute("data-charts-drawn"),
    empties: document.querySelectorAll(".chart .empty").length,
    verdict: document.querySelector("#verdict .headline").textContent};
})()`

// TestReportInBrowser opens the report of every fixture in headless
// Chromium, offline: the page loads without a console error, requests
// nothing but itself, and every chart has drawn on its canvas. A full-page
// screenshot goes to the test's temporary directory (and to
// DRIFTLOAD_SCREENSHOT, see screenshotPath) for a person to look at.
// Without a browser it skips, unless DRIFTLOAD_REQUIRE_BROWSER is set (as
// .ci/run sets it once it has installed chromium).
func TestReportInBrowser(t *testing.T) {
	bin := findChromium()
	if bin == "" && os.Getenv("DRIFTLOAD_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium binary found, and DRIFTLOAD_REQUIRE_BROWSER is set (CI installs chromium)")
	}
	if bin == "" {
		t.Skip("no chromium binary found (apt-get install chromium, or set DRIFTLOAD_CHROMIUM): the page is not checked in a browser")
	}
	shots := t.TempDir()
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
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	start := time.Now()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Logf("%s started in %s", bin, time.Since(start).Round(time.Millisecond))

	for _, name := range cases() {
		t.Run(name, func(t *testing.T) {
			r := loadCase(t, name)
			p := mustBuild(t, r)
			file := filepath.Join(t.TempDir(), "report-"+name+".html")
			if err := WriteFile(file, r); err != nil {
				t.Fatal(err)
			}
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
			var problems, requests []string
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
						problems = append(problems, m.String())
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
					requests = append(requests, ev.Request.URL)
					mu.Unlock()
				}
			}()

			loaded := time.Now()
			url := "file://" + file
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.documentElement.hasAttribute("data-charts-drawn")`)); err != nil {
				t.Fatalf("the page never finished drawing: %v", err)
			}
			loadTime := time.Since(loaded)
			got, err := chromedp.Run(ctx, chromedp.Evaluate[pageCheck](inspect))
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

			shot := filepath.Join(shots, "report-"+name+".png")
			for _, path := range []string{shot, screenshotPath(name)} {
				if path == "" {
					continue
				}
				if err := os.WriteFile(path, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("drawn in %s; screenshot %s (%d KiB)", loadTime.Round(time.Millisecond), shot, len(png)/1024)

			for _, m := range problems {
				t.Errorf("console: %s", m)
			}
			self := false
			for _, u := range requests {
				switch {
				case u == url:
					self = true
				case !strings.HasPrefix(u, "data:"):
					t.Errorf("the page requested %s: it must open offline, requesting nothing", u)
				}
			}
			if !self {
				t.Errorf("requests seen %q, without the page itself: the network was not watched", requests)
			}
			if got.Drawn != itoa(len(p.Data.Charts)) || len(got.Charts) != len(p.Data.Charts) {
				t.Errorf("%s charts drawn, %d plots on the page; the page's data has %d charts", got.Drawn, len(got.Charts), len(p.Data.Charts))
			}
			empty := 0
			for _, s := range p.Sections {
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
			if want := "✓"; p.Verdict.Passed && !strings.HasPrefix(got.Verdict, want) || !p.Verdict.Passed && strings.HasPrefix(got.Verdict, want) {
				t.Errorf("verdict banner %q for a run that passed=%v", got.Verdict, p.Verdict.Passed)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
