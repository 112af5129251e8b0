package htmlreport

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/driftload/driftload/internal/compare"
	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/report"
)

// The colours of the two runs on every chart of the comparison.
const (
	baseColor = blue
	newColor  = orange
)

// overlay lays the timelines of two runs on one x, seconds since each
// run's own start, so that interval i of both runs is drawn at one place.
type overlay struct {
	base, new []*interval
	// open: either run is of the open model (its latency from the intended
	// start is drawn too, and the offered rate instead of the VUs).
	open, baseOpen, newOpen bool
	// missing, when set, says which files have no timeline: the charts
	// show it instead.
	missing string
}

func newOverlay(base, new *report.Result, c *compare.Comparison) (*overlay, error) {
	b, err := decodeIntervals(base.Timeline)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", c.Base.File, err)
	}
	n, err := decodeIntervals(new.Timeline)
	if err != nil {
		return nil, fmt.Errorf("new %s: %w", c.New.File, err)
	}
	// Both coarsened alike, so that their buckets keep one width and line up.
	k := max(coarseness(b), coarseness(n))
	o := &overlay{base: coarsenBy(b, k), new: coarsenBy(n, k),
		baseOpen: base.Run.Model == "open", newOpen: new.Run.Model == "open"}
	o.open = o.baseOpen || o.newOpen
	var missing []string
	if b == nil {
		missing = append(missing, "the base run's file ("+orDash(c.Base.File)+")")
	}
	if n == nil {
		missing = append(missing, "the new run's file ("+orDash(c.New.File)+")")
	}
	if len(missing) > 0 {
		o.missing = "no timeline in " + strings.Join(missing, " nor in ") + ": nothing to draw over time"
	}
	return o, nil
}

const (
	secBoth   = "timeline"
	secBothTi = "Both runs over time"
)

// charts adds the overlaid charts to p: the percentiles of the latency,
// the request rate, the failures and the load.
func (o *overlay) charts(p *ComparisonPage) {
	add := func(ref ChartRef, c *Chart) {
		if c == nil && ref.Empty == "" {
			ref.Empty = o.missing
		}
		place(&p.Sections, &p.Data, secBoth, secBothTi, ref, c)
	}
	type trend struct {
		id, metric, what string
		sink             func(*interval) *metrics.Sink
	}
	trends := []trend{{"latency", "http_req_duration", "the service time", func(iv *interval) *metrics.Sink { return iv.Duration }}}
	if o.open {
		trends = append(trends, trend{"latency-open", "http_req_latency", "the latency from the intended start (open model: queueing in driftload's backlog included)",
			func(iv *interval) *metrics.Sink { return iv.Latency }})
	}
	for _, t := range trends {
		for _, pct := range []float64{50, 95, 99} {
			stat := fmt.Sprintf("p%g", pct)
			add(ChartRef{ID: t.id + "-" + stat, Title: fmt.Sprintf("%s over time (%s)", stat, t.metric),
				Caption: fmt.Sprintf("%s of %s in every interval of each run, all endpoints merged, at the seconds since that run's start.", stat, t.what)},
				o.latencyChart(t.sink, pct))
		}
	}
	add(ChartRef{ID: "rate", Title: "Request rate",
		Caption: "Requests per second of every interval of each run."}, o.rateChart())
	fref := ChartRef{ID: "failures", Title: "Failures",
		Caption: "Failed requests per second of every interval of each run (any status or transport reason)."}
	fc, failed := o.failuresChart()
	if fc != nil && failed == 0 {
		fref.Empty, fref.Caption, fc = "no request failed in either run", "", nil
	}
	add(fref, fc)
	if o.open {
		add(ChartRef{ID: "load", Title: "Iterations offered and achieved",
			Caption: "Iterations per second each run achieved (solid) and its schedule offered (dashed)."}, o.loadChart())
	} else {
		add(ChartRef{ID: "load", Title: "VUs",
			Caption: "VUs of each run, as planned at each interval's end."}, o.loadChart())
	}
}

// drawn reports whether the charts can be drawn: both runs have a timeline.
func (o *overlay) drawn() bool { return o.missing == "" }

// chart is an empty chart on the union of both runs' x.
func (o *overlay) chart(yLabel, yUnit string) (*Chart, Values) {
	x := joinX(mids(o.base), mids(o.new))
	return &Chart{X: x, XTime: true, XLabel: "time", YLabel: yLabel, YUnit: yUnit}, x
}

// baseWidth is the width of the base run's lines, drawn under the new
// run's (2 px; 1.5 px dashed or stepped): where the runs agree, as two runs
// of one profile do on their VUs, the base shows on both sides of the new.
const baseWidth = 4.5

// series places one run's values, sampled at its intervals' mids, on x.
func series(label, color, style string, x Values, ivs []*interval, values Values) Series {
	v, absent := align(x, mids(ivs), values)
	s := Series{Label: label, Color: color, Style: style, Values: v, Absent: absent}
	if color == baseColor {
		s.Width = baseWidth
	}
	return s
}

// both returns the base and the new run's series of f.
func (o *overlay) both(x Values, style string, f func(*interval) float64) []Series {
	return []Series{
		series("base", baseColor, style, x, o.base, each(o.base, f)),
		series("new", newColor, style, x, o.new, each(o.new, f)),
	}
}

func each(ivs []*interval, f func(*interval) float64) Values {
	out := make(Values, len(ivs))
	for i, iv := range ivs {
		out[i] = f(iv)
	}
	return out
}

func (o *overlay) latencyChart(sink func(*interval) *metrics.Sink, pct float64) *Chart {
	if !o.drawn() {
		return nil
	}
	c, x := o.chart("latency", "ms")
	b, n := percentileSeries(o.base, sink, pct), percentileSeries(o.new, sink, pct)
	if c.YLog = wideRange(b, n); c.YLog {
		b, n = nonPositiveToNaN(b), nonPositiveToNaN(n)
	}
	c.Series = []Series{
		series("base", baseColor, "", x, o.base, b),
		series("new", newColor, "", x, o.new, n),
	}
	return c
}

func (o *overlay) rateChart() *Chart {
	if !o.drawn() {
		return nil
	}
	c, x := o.chart("requests/s", "/s")
	c.Series = o.both(x, "", func(iv *interval) float64 { return iv.perSecond(float64(iv.Requests)) })
	return c
}

// failuresChart also returns how many requests failed in both runs.
func (o *overlay) failuresChart() (*Chart, int64) {
	if !o.drawn() {
		return nil, 0
	}
	var failed int64
	for _, iv := range slices.Concat(o.base, o.new) {
		failed += iv.Failures
	}
	c, x := o.chart("failed requests/s", "/s")
	c.Series = o.both(x, "", func(iv *interval) float64 { return iv.perSecond(float64(iv.Failures)) })
	return c, failed
}

func (o *overlay) loadChart() *Chart {
	if !o.drawn() {
		return nil
	}
	if !o.open {
		c, x := o.chart("VUs", "")
		c.Series = o.both(x, "step", func(iv *interval) float64 { return float64(iv.VUs) })
		return c
	}
	c, x := o.chart("iterations/s", "/s")
	c.Series = o.both(x, "", func(iv *interval) float64 { return iv.AchievedRate })
	offered := func(iv *interval) float64 { return iv.OfferedRate }
	if o.baseOpen {
		c.Series = append(c.Series, series("base offered", baseColor, "dash", x, o.base, each(o.base, offered)))
	}
	if o.newOpen {
		c.Series = append(c.Series, series("new offered", newColor, "dash", x, o.new, each(o.new, offered)))
	}
	return c
}

// joinX returns the union of the xs, ascending, each value once.
func joinX(xs ...Values) Values {
	all := slices.Concat(xs...)
	sort.Float64s(all)
	return slices.Compact(all)
}

// align places values, sampled at x (ascending), on union, which holds
// every x: at union's other x the result is NaN and its index absent.
func align(union, x, values Values) (Values, []int) {
	out := nanValues(len(union))
	var absent []int
	j := 0
	for i, u := range union {
		if j >= len(x) || x[j] != u {
			absent = append(absent, i)
			continue
		}
		out[i] = values[j]
		for j < len(x) && x[j] == u {
			j++
		}
	}
	return out, absent
}
