package threshold

import (
	"strings"
	"testing"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

func TestParseWindowedExpr(t *testing.T) {
	cases := []struct {
		in     string
		mode   WindowMode
		window time.Duration
		canon  string
	}{
		{"p(99)<300 over 1m", WindowOver, time.Minute, "p(99)<300 over 1m0s"},
		{"rate<0.01 for 30s", WindowFor, 30 * time.Second, "rate<0.01 for 30s"},
		{"  p(95) <= 500   over   1m30s ", WindowOver, 90 * time.Second, "p(95)<=500 over 1m30s"},
		{"avg<200", WholeRun, 0, "avg<200"},
	}
	for _, c := range cases {
		e, err := ParseExpr(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if e.Mode != c.mode || e.Window != c.window || e.String() != c.canon {
			t.Errorf("%q: mode %v window %s canon %q", c.in, e.Mode, e.Window, e.String())
		}
		back, err := ParseExpr(e.String())
		if err != nil || back.Mode != e.Mode || back.Window != e.Window || back.Value != e.Value {
			t.Errorf("%q does not round-trip: %+v %v", e.String(), back, err)
		}
	}
}

func TestParseWindowedExprErrors(t *testing.T) {
	cases := []struct {
		in, want string
		col      int
	}{
		{"p(99)<300 over", "missing duration", 15},
		{"p(99)<300 over soon", `invalid duration "soon"`, 16},
		{"p(99)<300 over -1m", "at least 1ms", 16},
		{"p(99)<300 for 0s", "at least 1ms", 15},
		{"p(99)<300 during 1m", `invalid number "300 during 1m"`, 7},
	}
	for _, c := range cases {
		_, err := ParseExpr(c.in)
		ee, ok := err.(*ExprError)
		if !ok || !strings.Contains(err.Error(), c.want) || ee.Column != c.col {
			t.Errorf("%q: %v (column %d), want %q at column %d", c.in, err, colOf(ee), c.want, c.col)
		}
	}
}

func colOf(e *ExprError) int {
	if e == nil {
		return 0
	}
	return e.Column
}

// trendOf is one interval's Trend samples.
func trendOf(vs ...float64) *metrics.Sink {
	s := metrics.NewSink(metrics.Trend)
	for _, v := range vs {
		s.Add(v)
	}
	return s
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func windowsOf(t *testing.T, expr string, step time.Duration, sinks []*metrics.Sink) Result {
	t.Helper()
	e, err := ParseExpr(expr)
	if err != nil {
		t.Fatal(err)
	}
	sel := Selector{Metric: "m", Source: "m"}
	sets := []Set{{Selector: sel, Thresholds: []Threshold{{Expr: e}}}}
	w := NewWindows(sets, step)
	for i, s := range sinks {
		w.Observe(time.Duration(i)*step, time.Duration(i+1)*step, func(Selector) (*metrics.Sink, bool) { return s, s != nil })
	}
	w.Finish()
	return Evaluate(sets, nil, w)[0]
}

func TestWindowOverFindsTheWorstWindow(t *testing.T) {
	var sinks []*metrics.Sink
	for i := range 10 {
		v := 100.0
		if i == 4 || i == 5 {
			v = 1000 // two slow seconds
		}
		sinks = append(sinks, trendOf(repeat(v, 100)...))
	}
	r := windowsOf(t, "p(99)<300 over 2s", time.Second, sinks)
	w := r.Window
	if r.OK || w.Windows != 9 || w.Worst != 1000 || w.WorstStart != 3*time.Second || w.WorstEnd != 5*time.Second || w.BreachedAt != 5*time.Second {
		t.Fatalf("ok %v, %+v", r.OK, w)
	}
	// The median of any 5 s window is the fast value.
	r = windowsOf(t, "p(50)<300 over 5s", time.Second, sinks)
	if !r.OK || r.Window.Worst < 100 || r.Window.Worst > 101 {
		t.Fatalf("p50 over 5s: ok %v worst %v", r.OK, r.Window.Worst)
	}
	// A run shorter than the window is judged once, on all of it.
	r = windowsOf(t, "p(99)<300 over 1m", time.Second, sinks[:3])
	if !r.OK || r.Window.Windows != 1 || r.Window.WorstEnd != 3*time.Second {
		t.Fatalf("short run: ok %v %+v", r.OK, r.Window)
	}
	// No samples at all: no data, not OK.
	if r := windowsOf(t, "p(99)<300 over 2s", time.Second, []*metrics.Sink{nil, nil, nil}); r.OK || r.HasData {
		t.Fatalf("no data: %+v", r)
	}
}

func rateOf(fails, total int) *metrics.Sink {
	s := metrics.NewSink(metrics.Rate)
	for i := range total {
		if i < fails {
			s.Add(1)
		} else {
			s.Add(0)
		}
	}
	return s
}

func TestWindowForNeedsTheBreachToLast(t *testing.T) {
	mk := func(bad ...int) []*metrics.Sink {
		var out []*metrics.Sink
		for i := range 10 {
			s := rateOf(0, 100)
			for _, b := range bad {
				if b == i {
					s = rateOf(50, 100)
				}
			}
			out = append(out, s)
		}
		return out
	}
	r := windowsOf(t, "rate<0.01 for 3s", time.Second, mk(2, 3, 4))
	if r.OK || r.Window.BreachedAt != 5*time.Second || r.Window.WorstStart != 2*time.Second || r.Window.WorstEnd != 5*time.Second || r.Window.Worst != 0.5 {
		t.Fatalf("3 s breach: ok %v %+v", r.OK, r.Window)
	}
	r = windowsOf(t, "rate<0.01 for 3s", time.Second, mk(2, 3, 5, 6))
	if !r.OK || r.Window.WorstEnd-r.Window.WorstStart != 2*time.Second {
		t.Fatalf("two 2 s breaches: ok %v %+v", r.OK, r.Window)
	}
	r = windowsOf(t, "rate<0.01 for 3s", time.Second, mk())
	if !r.OK || r.Window.Windows != 10 || r.Window.Worst != 0 {
		t.Fatalf("never breached: ok %v %+v", r.OK, r.Window)
	}
}

func TestWindowAbortOnFail(t *testing.T) {
	e, _ := ParseExpr("p(99)<300 over 2s")
	sel := Selector{Metric: "m", Source: "m"}
	w := NewWindows([]Set{{Selector: sel, Thresholds: []Threshold{{Expr: e, AbortOnFail: true}}}}, time.Second)
	slow := trendOf(repeat(1000, 10)...)
	w.Observe(0, time.Second, func(Selector) (*metrics.Sink, bool) { return slow, true })
	if len(w.Breached(time.Second)) != 0 {
		t.Fatal("a window that is not full yet cannot fail")
	}
	w.Observe(time.Second, 2*time.Second, func(Selector) (*metrics.Sink, bool) { return slow, true })
	if b := w.Breached(2 * time.Second); len(b) != 1 || b[0].Measured != 1000 {
		t.Fatalf("breached %+v", b)
	}
}
