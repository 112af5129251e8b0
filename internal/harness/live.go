package harness

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/driftload/driftload/internal/livemetrics"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/scenario"
	"github.com/driftload/driftload/internal/threshold"
)

// liveEvery is how often the live status is computed: the terminal line
// redrawn, the Prometheus status updated, the thresholds judged.
const liveEvery = time.Second

// liveSlack lets a tick arriving a little early still redraw: run ticks are
// at most liveEvery apart, and one that comes a few milliseconds short of a
// second must not skip a whole second.
const liveSlack = liveEvery / 10

// defaultWidth is the live line's width when the terminal does not say.
const defaultWidth = 100

// live is what a run shows while it goes: on a terminal, one line on Stderr
// redrawn every second; elsewhere the plain progress line every 10 s;
// nothing with --quiet. With --metrics-addr it also feeds the Prometheus
// collector the same status.
type live struct {
	cfg      Config
	reg      *metrics.Registry
	iv       *intervals
	sets     []threshold.Set
	windows  *threshold.Windows
	progress *progress
	// tty is true when the line is drawn: Stderr is a terminal (and not
	// --quiet); width is then its width in columns.
	tty   bool
	width func() int
	// total is the run's planned length (0: unknown, a max-rate search).
	total time.Duration
	prom  *livemetrics.Collector

	last                time.Duration
	lastReqs, lastIters float64
	drawn               bool
	// window merges http_req_duration of the intervals closed since the
	// last redraw; closed says whether any did. p95 is what the line shows.
	window *metrics.Sink
	closed bool
	p95    float64
	hasP95 bool
}

// newLive prepares the live status of a run; prom may be nil (no
// --metrics-addr). It watches iv's intervals for the p95 of the latest.
func newLive(cfg Config, reg *metrics.Registry, iv *intervals, sets []threshold.Set, windows *threshold.Windows, search bool, prom *livemetrics.Collector) *live {
	l := &live{
		cfg: cfg, reg: reg, iv: iv, sets: sets, windows: windows, prom: prom,
		progress: newProgress(cfg, reg, iv.plan), window: metrics.NewSink(metrics.Trend),
	}
	if !search {
		l.total = iv.plan.End
	}
	if f, ok := cfg.Stderr.(*os.File); ok && !cfg.Quiet && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		l.tty = true
		l.width = func() int {
			if w, _, err := term.GetSize(fd); err == nil && w > 0 {
				return w
			}
			return defaultWidth
		}
	}
	iv.onClose = append(iv.onClose, l.observe)
	return l
}

// observe takes one closed interval's service times.
func (l *live) observe(si scenario.Interval) {
	l.closed = true
	if d, ok := si.Snap.Sink("http_req_duration", nil); ok {
		l.window.Merge(d)
	}
}

// tick runs on every run tick, after the intervals closed theirs.
func (l *live) tick(elapsed time.Duration) {
	if !l.tty {
		l.progress.tick(elapsed)
	}
	if (!l.tty && l.prom == nil) || elapsed-l.last < liveEvery-liveSlack {
		return
	}
	st := l.state(elapsed)
	if l.prom != nil {
		l.prom.SetStatus(livemetrics.Status{
			Open: st.open, OfferedRate: st.offered, AchievedRate: st.achieved, ThresholdsFailing: st.failing,
		})
	}
	l.draw(st)
}

// finish ends the line, as last drawn, so what follows (the summary, a
// message) starts on a line of its own. The last second of a run, its
// graceful stop, is not redrawn: rates over that tail would say nothing.
func (l *live) finish() {
	if l.drawn {
		fmt.Fprint(l.cfg.Stderr, "\n")
		l.drawn = false
	}
}

func (l *live) draw(st liveState) {
	if !l.tty {
		return
	}
	fmt.Fprint(l.cfg.Stderr, "\r"+st.line(l.width())+"\x1b[K")
	l.drawn = true
}

// state measures the run now: rates since the last call, the p95 of the
// intervals closed since then, the thresholds on the cumulative snapshot.
func (l *live) state(elapsed time.Duration) liveState {
	since := (elapsed - l.last).Seconds()
	l.last = elapsed
	snap := l.reg.LiveSnapshot()
	sink := func(name string) *metrics.Sink {
		if s, ok := snap.Sink(name, nil); ok {
			return s
		}
		return metrics.NewSink(metrics.Counter)
	}
	reqs, iters := sink("http_reqs").Sum, sink("iterations").Sum
	st := liveState{
		test: l.cfg.Test.Name, elapsed: elapsed, total: l.total,
		vus: int(sink("vus").Value),
	}
	if since > 0 {
		st.reqRate = (reqs - l.lastReqs) / since
		st.achieved = (iters - l.lastIters) / since
	}
	l.lastReqs, l.lastIters = reqs, iters
	st.failedRate, _ = sink("http_req_failed").Stat("rate", 0, snap.Elapsed)
	if a := l.iv.plan.Arrival; a != nil {
		st.open, st.offered = true, a.RateAt(elapsed-l.iv.planAt)
	}
	if l.closed {
		l.hasP95 = l.window.Count > 0
		l.p95 = l.window.Percentile(95)
		l.window.Reset()
		l.closed = false
	}
	st.p95, st.hasP95 = l.p95, l.hasP95
	if l.cfg.ProgressNote != nil {
		st.note = l.cfg.ProgressNote(elapsed)
	}
	for _, r := range threshold.Evaluate(l.sets, measurer{snap}, l.windows) {
		st.thresholds++
		if r.HasData && !r.OK {
			st.failing++
		}
	}
	return st
}

// liveState is what one live line shows.
type liveState struct {
	test string
	// elapsed and total (0: unknown) make the bar and the time left.
	elapsed, total time.Duration
	// vus are the active VUs (closed model); open runs show the offered and
	// achieved iterations per second instead.
	vus               int
	open              bool
	offered, achieved float64
	reqRate           float64
	p95               float64 // ms, of the latest intervals
	hasP95            bool
	failedRate        float64
	// failing of thresholds fail now (measured and not holding).
	failing, thresholds int
	// note is Config.ProgressNote's, the last field ("" when none).
	note string
}

// Live line bar widths: the bar takes what the fields leave, within these.
const (
	minBar = 10
	maxBar = 30
)

// line renders the state in at most width-1 columns (the last column stays
// free, so a terminal never wraps the line and \r returns to its start).
// When it does not fit, the bar shrinks, then goes; then the fields take
// their short forms, then the last fields go; a line that still does not fit
// is cut.
func (s liveState) line(width int) string {
	avail := max(width-1, 1)
	head := s.test + " "
	long, short := s.fields()
	rest := strings.Join(long, "  ")
	if bar := avail - len(head) - len(rest) - len("[] "); s.total > 0 && bar >= minBar {
		return head + progressBar(min(bar, maxBar), float64(s.elapsed)/float64(s.total)) + " " + rest
	}
	line := head + rest
	for n := len(short); len(line) > avail && n > 0; n-- {
		line = head + strings.Join(short[:n], " ")
	}
	if len(line) > avail {
		line = line[:avail]
	}
	return line
}

// fields are the line's fields after the bar, in their long and short forms.
func (s liveState) fields() (long, short []string) {
	add := func(l, sh string) {
		long, short = append(long, l), append(short, sh)
	}
	when := fmtSeconds(s.elapsed)
	if s.total > 0 {
		when += ", " + fmtSeconds(max(s.total-s.elapsed, 0)) + " left"
	}
	add(when, when)
	if s.open {
		add(fmt.Sprintf("%.1f of %.1f it/s", s.achieved, s.offered), fmt.Sprintf("%.1f/%.1f it/s", s.achieved, s.offered))
	} else {
		vus := fmt.Sprintf("%d VUs", s.vus)
		add(vus, vus)
	}
	rate := fmt.Sprintf("%.1f req/s", s.reqRate)
	add(rate, rate)
	p95 := "p95 -"
	if s.hasP95 {
		p95 = "p95 " + fmtMillis(s.p95)
	}
	add(p95, p95)
	errs := fmt.Sprintf("%.2f%% err", 100*s.failedRate)
	add(errs, errs)
	if s.thresholds > 0 {
		add(fmt.Sprintf("%d/%d thresholds failing", s.failing, s.thresholds), fmt.Sprintf("thr %d/%d fail", s.failing, s.thresholds))
	}
	if s.note != "" {
		add(s.note, s.note)
	}
	return long, short
}

// progressBar is [=====>    ] of width cells (inside the brackets) filled to
// frac (clamped to [0, 1]).
func progressBar(width int, frac float64) string {
	frac = max(0, min(frac, 1))
	filled := int(frac*float64(width) + 0.5)
	switch {
	case filled >= width:
		return "[" + strings.Repeat("=", width) + "]"
	case filled == 0:
		return "[" + strings.Repeat(" ", width) + "]"
	}
	return "[" + strings.Repeat("=", filled-1) + ">" + strings.Repeat(" ", width-filled) + "]"
}

// fmtSeconds is a duration rounded to the second: 42s, 12m30s, 1h2m0s.
func fmtSeconds(d time.Duration) string {
	return d.Round(time.Second).String()
}

// fmtMillis is a latency in milliseconds with three significant digits, in
// seconds from 10 s on.
func fmtMillis(ms float64) string {
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	case ms < 10_000:
		return fmt.Sprintf("%.0fms", ms)
	}
	return fmt.Sprintf("%.1fs", ms/1000)
}

// startMetrics serves the run on cfg.MetricsAddr (checked by resolve);
// nil, nil when it is not set.
func startMetrics(cfg Config, reg *metrics.Registry) (*livemetrics.Server, *livemetrics.Collector, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil, nil
	}
	c := livemetrics.NewCollector(reg.Snapshot)
	srv, err := livemetrics.Listen(cfg.MetricsAddr, c)
	if err != nil {
		return nil, nil, err
	}
	if !cfg.Quiet {
		fmt.Fprintf(cfg.Stderr, "driftload %s: Prometheus metrics on %s\n", cfg.Test.Name, srv.URL())
	}
	return srv, c, nil
}
