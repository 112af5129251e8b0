package htmlreport

import (
	"encoding/json"
	"math"
	"strconv"
)

// Chart is one chart as the page's script draws it with uPlot: x values,
// series over them, and reference lines, markers and bands. Everything is
// computed in Go; the script only maps it onto uPlot's options.
type Chart struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// X are the x values, ascending. XTime: seconds from the run start,
	// drawn as m:ss.
	X      Values `json:"x"`
	XTime  bool   `json:"x_time,omitempty"`
	XLabel string `json:"x_label"`
	// YLabel and YUnit name the left axis ("ms", "%", "/s", "MiB", "");
	// Y2Label and Y2Unit the right one, used by series with Axis 1.
	YLabel string `json:"y_label"`
	YUnit  string `json:"y_unit,omitempty"`
	YLog   bool   `json:"y_log,omitempty"`
	// YFit fits the left axis to the data instead of starting it at zero.
	YFit    bool     `json:"y_fit,omitempty"`
	Y2Label string   `json:"y2_label,omitempty"`
	Y2Unit  string   `json:"y2_unit,omitempty"`
	Series  []Series `json:"series"`
	// Lines are horizontal reference lines (thresholds, limits).
	Lines []Line `json:"lines,omitempty"`
	// Marks are vertical markers (a knee, a breaking point, a probe).
	Marks []Mark `json:"marks,omitempty"`
	// Bands are shaded x spans (a threshold's worst window).
	Bands []Band `json:"bands,omitempty"`
}

// Series is one drawn series.
type Series struct {
	Label string `json:"label"`
	Color string `json:"color"`
	// Axis 1 draws against the right axis.
	Axis int `json:"axis,omitempty"`
	// Style is "line" (default), "step", "points", "bars" or "dash".
	Style string `json:"style,omitempty"`
	// Width is the line's width in CSS pixels (0: the style's own).
	Width  float64 `json:"width,omitempty"`
	Values Values  `json:"values"`
	// Absent are the indexes of the chart's x at which the series has no
	// point of its own (one of two runs overlaid, each sampled at its own
	// x): its line passes them by, where a gap (null) breaks it.
	Absent []int `json:"absent,omitempty"`
}

// Line is a horizontal line at Value on the left axis (Axis 1: the right).
type Line struct {
	Value float64 `json:"value"`
	Label string  `json:"label"`
	Color string  `json:"color"`
	Axis  int     `json:"axis,omitempty"`
}

// Mark is a vertical line at X.
type Mark struct {
	X     float64 `json:"x"`
	Label string  `json:"label"`
	Color string  `json:"color"`
}

// Band shades the x span [From, To].
type Band struct {
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Label string  `json:"label"`
	Color string  `json:"color"`
}

// Values are a series' numbers; NaN is a gap (null in JSON). Numbers are
// written with 6 significant digits, which keeps the page small.
type Values []float64

// MarshalJSON implements json.Marshaler.
func (v Values) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(v)*6)
	b = append(b, '[')
	for i, f := range v {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, f, 'g', 6, 64)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler: null is a gap (NaN).
func (v *Values) UnmarshalJSON(b []byte) error {
	var raw []*float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Values, len(raw))
	for i, f := range raw {
		out[i] = math.NaN()
		if f != nil {
			out[i] = *f
		}
	}
	*v = out
	return nil
}

// The palette (Tableau 10, readable on white and in print).
const (
	blue   = "#4e79a7"
	orange = "#f28e2b"
	red    = "#e15759"
	teal   = "#76b7b2"
	green  = "#59a14f"
	yellow = "#edc948"
	purple = "#b07aa1"
	pink   = "#ff9da7"
	brown  = "#9c755f"
	grey   = "#79706e"
)

// positiveRange reports the smallest and largest positive finite value of ss.
func positiveRange(ss ...Values) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, s := range ss {
		for _, v := range s {
			if v > 0 && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return lo, hi
}

// wideRange reports whether the series span more than two decades, where a
// log axis reads better.
func wideRange(ss ...Values) bool {
	lo, hi := positiveRange(ss...)
	return hi > 0 && hi/lo > 100
}

// nonPositiveToNaN returns s with zeros and negatives as gaps (for a log axis).
func nonPositiveToNaN(s Values) Values {
	out := make(Values, len(s))
	for i, v := range s {
		if v > 0 {
			out[i] = v
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

func nanValues(n int) Values {
	v := make(Values, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}
