// Package threshold implements k6's threshold syntax: expressions such as
// "p(95)<500" attached to (sub-)metrics such as "http_req_duration{endpoint:detect}",
// grouped per test in a JSON file. It parses them, checks each statistic
// against the metric's type, and evaluates them against measured values.
package threshold

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// Stat is the statistic a threshold compares: "avg", "min", "med", "max",
// "p" (a percentile, with P in (0,100]), "rate", "count" or "value".
type Stat struct {
	// Name is the statistic's name; "p" for a percentile.
	Name string
	// P is the percentile for Name "p", e.g. 99.9; zero otherwise.
	P float64
}

// String returns the statistic as written in k6: "p(99.9)", "avg", ...
func (s Stat) String() string {
	if s.Name == "p" {
		return "p(" + strconv.FormatFloat(s.P, 'f', -1, 64) + ")"
	}
	return s.Name
}

// ValidFor reports whether the statistic exists for a metric of type t:
// Trend has avg, min, med, max and p(N); Rate has rate; Counter has count and
// rate (per second); Gauge has value, min and max.
func (s Stat) ValidFor(t metrics.Type) bool {
	switch t {
	case metrics.Trend:
		switch s.Name {
		case "avg", "min", "med", "max", "p":
			return true
		}
	case metrics.Rate:
		return s.Name == "rate"
	case metrics.Counter:
		return s.Name == "count" || s.Name == "rate"
	case metrics.Gauge:
		switch s.Name {
		case "value", "min", "max":
			return true
		}
	}
	return false
}

// statsHint lists the statistics of a type, for error messages.
func statsHint(t metrics.Type) string {
	switch t {
	case metrics.Trend:
		return "avg, min, med, max or p(N)"
	case metrics.Rate:
		return "rate"
	case metrics.Counter:
		return "count or rate"
	case metrics.Gauge:
		return "value, min or max"
	}
	return "none"
}

// Op is a comparison operator.
type Op int

// The comparison operators. k6's "===" is read as OpEQ.
const (
	OpLT Op = iota + 1 // <
	OpLE               // <=
	OpGT               // >
	OpGE               // >=
	OpEQ               // ==
	OpNE               // !=
)

// String returns the operator as written: "<", "<=", ">", ">=", "==", "!=".
func (o Op) String() string {
	switch o {
	case OpLT:
		return "<"
	case OpLE:
		return "<="
	case OpGT:
		return ">"
	case OpGE:
		return ">="
	case OpEQ:
		return "=="
	case OpNE:
		return "!="
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

var opsByText = map[string]Op{
	"<": OpLT, "<=": OpLE, ">": OpGT, ">=": OpGE, "==": OpEQ, "===": OpEQ, "!=": OpNE,
}

// Expr is one parsed threshold expression such as "p(95)<500".
type Expr struct {
	// Stat is the statistic on the left.
	Stat Stat
	// Op compares the measured statistic with Value.
	Op Op
	// Value is the bound on the right.
	Value float64
	// Window, when set, makes the threshold hold over time, not only over
	// the whole run: Mode WindowOver ("p(99)<300 over 1m") demands it of
	// every window of that length; WindowFor ("rate<0.01 for 30s") fails
	// only when it is breached for that long without a break.
	Window time.Duration
	Mode   WindowMode
	// Source is the expression as written, without surrounding white space.
	Source string
}

// WindowMode says how a windowed threshold uses its window.
type WindowMode int

// The window modes.
const (
	// WholeRun is a plain k6 threshold.
	WholeRun WindowMode = iota
	// WindowOver: every window of Window must hold.
	WindowOver
	// WindowFor: fails when breached for Window in a row.
	WindowFor
)

// String returns "", "over" or "for".
func (m WindowMode) String() string {
	switch m {
	case WindowOver:
		return "over"
	case WindowFor:
		return "for"
	}
	return ""
}

// String returns the expression in canonical form, e.g. "p(99.9)<=2000" or
// "p(99)<300 over 1m0s".
func (e Expr) String() string {
	out := e.Stat.String() + e.Op.String() + strconv.FormatFloat(e.Value, 'g', -1, 64)
	if e.Mode != WholeRun {
		out += " " + e.Mode.String() + " " + e.Window.String()
	}
	return out
}

// Holds reports whether measured satisfies the expression. A NaN measurement
// never holds.
func (e Expr) Holds(measured float64) bool {
	if math.IsNaN(measured) {
		return false
	}
	switch e.Op {
	case OpLT:
		return measured < e.Value
	case OpLE:
		return measured <= e.Value
	case OpGT:
		return measured > e.Value
	case OpGE:
		return measured >= e.Value
	case OpEQ:
		return measured == e.Value
	case OpNE:
		return measured != e.Value
	}
	return false
}

// ExprError is a syntax error in a threshold expression.
type ExprError struct {
	// Source is the expression, without surrounding white space.
	Source string
	// Column is the 1-based byte column in Source where the problem is.
	Column int
	// Msg says what is wrong.
	Msg string
}

// Error returns `"<source>": <msg> at column <n>`.
func (e *ExprError) Error() string {
	return fmt.Sprintf("%q: %s at column %d", e.Source, e.Msg, e.Column)
}

// ParseExpr parses a k6 threshold expression: a statistic, an operator and a
// number, with optional white space between them ("p(95)<500",
// " p(99.9) <= 2000 ", "rate>0.99", "count>-1e3"), optionally followed by a
// window: "over DURATION" or "for DURATION" ("p(99)<300 over 1m",
// "rate<0.01 for 30s"). Errors are *ExprError.
func ParseExpr(s string) (Expr, error) {
	t := strings.TrimSpace(s)
	fail := func(at int, format string, args ...any) (Expr, error) {
		return Expr{}, &ExprError{Source: t, Column: at + 1, Msg: fmt.Sprintf(format, args...)}
	}
	if t == "" {
		return fail(0, "empty expression")
	}
	e := Expr{Source: t}

	i := 0
	for i < len(t) && isIdentByte(t[i]) {
		i++
	}
	name := t[:i]
	switch name {
	case "":
		return fail(0, "missing statistic before %q", t)
	case "avg", "min", "med", "max", "rate", "count", "value":
		e.Stat.Name = name
		if j := skipSpace(t, i); j < len(t) && t[j] == '(' {
			return fail(j, "statistic %s takes no argument", name)
		}
	case "p":
		e.Stat.Name = "p"
		open := skipSpace(t, i)
		if open >= len(t) || t[open] != '(' {
			return fail(open, "percentile needs a value: p(N)")
		}
		closing := strings.IndexByte(t[open:], ')')
		if closing < 0 {
			return fail(open, "unclosed \"(\"")
		}
		closing += open
		inner := strings.TrimSpace(t[open+1 : closing])
		if inner == "" {
			return fail(open+1, "missing percentile")
		}
		p, err := parseNumber(inner)
		if err != nil {
			return fail(open+1, "%v", err)
		}
		if !(p > 0 && p <= 100) {
			return fail(open+1, "percentile must be in (0,100], got %s", inner)
		}
		e.Stat.P = p
		i = closing + 1
	default:
		return fail(0, "unknown statistic %q (use avg, min, med, max, p(N), rate, count or value)", name)
	}

	i = skipSpace(t, i)
	opStart := i
	for i < len(t) && strings.IndexByte("<>=!", t[i]) >= 0 {
		i++
	}
	if i == opStart {
		return fail(opStart, "missing operator")
	}
	op, ok := opsByText[t[opStart:i]]
	if !ok {
		return fail(opStart, "unknown operator %q (use <, <=, >, >=, == or !=)", t[opStart:i])
	}
	e.Op = op

	i = skipSpace(t, i)
	if i == len(t) {
		return fail(i, "missing value after %q", op.String())
	}
	// The value ends at white space followed by a window keyword; anything
	// else after it belongs to (and spoils) the number.
	end := len(t)
	for j := i; j < len(t); j++ {
		if t[j] != ' ' && t[j] != '\t' {
			continue
		}
		k := skipSpace(t, j)
		w := k
		for w < len(t) && isIdentByte(t[w]) {
			w++
		}
		if kw := t[k:w]; (kw == "over" || kw == "for") && (w == len(t) || t[w] == ' ' || t[w] == '\t') {
			end = j
			break
		}
	}
	v, err := parseNumber(strings.TrimSpace(t[i:end]))
	if err != nil {
		return fail(i, "%v", err)
	}
	e.Value = v
	if end == len(t) {
		return e, nil
	}
	i = skipSpace(t, end)
	kwStart := i
	for i < len(t) && isIdentByte(t[i]) {
		i++
	}
	e.Mode = WindowOver
	if t[kwStart:i] == "for" {
		e.Mode = WindowFor
	}
	i = skipSpace(t, i)
	if i == len(t) {
		return fail(i, "missing duration after %q", e.Mode.String())
	}
	d, err := time.ParseDuration(strings.TrimSpace(t[i:]))
	if err != nil {
		return fail(i, "invalid duration %q (e.g. 30s, 1m, 1m30s)", strings.TrimSpace(t[i:]))
	}
	if d < time.Millisecond {
		return fail(i, "window %q must be at least 1ms", strings.TrimSpace(t[i:]))
	}
	e.Window = d
	return e, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// parseNumber accepts a finite decimal number with optional sign, fraction
// and exponent. Unlike strconv.ParseFloat alone it rejects "Inf", "NaN",
// hex floats and underscores, none of which belong in a threshold.
func parseNumber(s string) (float64, error) {
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			digits = true
		case c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E':
		default:
			return 0, fmt.Errorf("invalid number %q", s)
		}
	}
	if !digits {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("number %q is out of range", s)
		}
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return v, nil
}
