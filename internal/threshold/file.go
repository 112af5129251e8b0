package threshold

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// Threshold is one expression on a selector, with k6's abort options.
type Threshold struct {
	// Expr is the parsed expression.
	Expr Expr
	// AbortOnFail stops the run as soon as the threshold fails (after DelayAbortEval).
	AbortOnFail bool
	// DelayAbortEval is how long into the run abort checks start for this threshold.
	DelayAbortEval time.Duration
}

// Set is the thresholds of one (sub-)metric.
type Set struct {
	// Selector names the metric or sub-metric.
	Selector Selector
	// Thresholds are in the order written.
	Thresholds []Threshold
}

// File is a thresholds file: for each test name, its threshold sets, sorted
// by selector source for stable output.
type File struct {
	// Tests maps a test name to its sets.
	Tests map[string][]Set
	// Compare is the "compare" section (the budgets of `driftload
	// compare`); nil when the file has none.
	Compare *CompareSection
}

// TestNames returns the file's test names, sorted.
func (f *File) TestNames() []string {
	names := make([]string, 0, len(f.Tests))
	for name := range f.Tests {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// isComment reports whether a key is a comment key, ignored when its value is a string.
func isComment(key string) bool {
	return key == "$comment" || key == "_comment"
}

// LoadFile reads and parses a thresholds file; errors are prefixed with path.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFile(data)
	if err != nil {
		return nil, prefixPath(path, err)
	}
	return f, nil
}

// prefixPath puts the file name in front of an error (or of each joined
// error): "path:line:col: msg" for JSON errors, "path: msg" otherwise.
func prefixPath(path string, err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs := joined.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = prefixPath(path, e)
		}
		return errors.Join(out...)
	}
	var pe *PosError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%w", path, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// PosError is a problem at a position in a thresholds file, such as a JSON
// syntax error.
type PosError struct {
	// Line and Column are 1-based; Column counts bytes.
	Line, Column int
	// Msg says what is wrong.
	Msg string
}

// Error returns "line:column: msg".
func (e *PosError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// ParseFile parses a thresholds file in JSON:
//
//	{"$comment": "...",
//	 "smoke": {"http_req_duration": ["p(95)<500",
//	     {"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": "10s"}]},
//	 "load": {...}}
//
// A "$comment" or "_comment" key with a string value is ignored, at the top
// level and inside a test. The top-level key "compare" is not a test but the
// budgets of `driftload compare` (CompareSection); a bad value there is
// reported as "line:column: compare: key: problem". JSON errors are
// reported as "line:column: ..."; every bad expression, selector or option
// is reported (joined) as "test: metric: \"expr\": problem".
func ParseFile(data []byte) (*File, error) {
	p := fileParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	f, err := p.parse()
	if err != nil {
		return nil, err
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return f, nil
}

type fileParser struct {
	data []byte
	dec  *json.Decoder
	errs []error // problems that do not stop parsing
}

// posError formats an error at a byte offset as "line:column: msg".
func (p *fileParser) posError(offset int64, format string, args ...any) error {
	line, col := lineCol(p.data, offset)
	return &PosError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, offset int64) (int, int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line := 1 + bytes.Count(before, []byte{'\n'})
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// jsonError turns a decoder error into a positioned error.
func (p *fileParser) jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// Offset is just past the offending byte.
		return p.posError(syn.Offset-1, "%v", err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return p.posError(typ.Offset, "%v", err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.posError(int64(len(p.data)), "unexpected end of JSON input")
	}
	return p.posError(p.dec.InputOffset(), "%v", err)
}

// token reads the next token.
func (p *fileParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.jsonError(err)
	}
	return tok, nil
}

// expectDelim reads a token that must be the delimiter d; what names the value for the error.
func (p *fileParser) expectDelim(d json.Delim, what string) error {
	at := p.valueOffset()
	tok, err := p.token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		kind := "an object"
		if d == '[' {
			kind = "an array"
		}
		return p.posError(at, "%s must be %s, found %s", what, kind, describeToken(tok))
	}
	return nil
}

// valueOffset returns the offset of the next value, skipping white space and separators.
func (p *fileParser) valueOffset() int64 {
	off := p.dec.InputOffset()
	for off < int64(len(p.data)) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", v.String())
	case string:
		return fmt.Sprintf("string %q", v)
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("%t", v)
	}
	return fmt.Sprintf("number %v", tok)
}

// key reads an object key, or reports that the object ended.
func (p *fileParser) key() (string, bool, error) {
	if !p.dec.More() {
		if _, err := p.token(); err != nil { // the closing '}'
			return "", false, err
		}
		return "", false, nil
	}
	tok, err := p.token()
	if err != nil {
		return "", false, err
	}
	k, _ := tok.(string) // the decoder only yields strings in key position
	return k, true, nil
}

// skipComment consumes the value of a comment key, which must be a string.
func (p *fileParser) skipComment(key string) error {
	at := p.valueOffset()
	tok, err := p.token()
	if err != nil {
		return err
	}
	if _, ok := tok.(string); !ok {
		return p.posError(at, "%q must be a string, found %s", key, describeToken(tok))
	}
	return nil
}

func (p *fileParser) parse() (*File, error) {
	if len(bytes.TrimSpace(p.data)) == 0 {
		return nil, &PosError{Line: 1, Column: 1, Msg: "empty thresholds file"}
	}
	// The token stream's syntax error offsets are not reliable; a full
	// validation first gives exact positions.
	if !json.Valid(p.data) {
		var v json.RawMessage
		return nil, p.jsonError(json.Unmarshal(p.data, &v))
	}
	if err := p.expectDelim('{', "the thresholds file"); err != nil {
		return nil, err
	}
	f := &File{Tests: map[string][]Set{}}
	for {
		at := p.valueOffset()
		test, ok, err := p.key()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if isComment(test) {
			if err := p.skipComment(test); err != nil {
				return nil, err
			}
			continue
		}
		if strings.TrimSpace(test) == "" {
			return nil, p.posError(at, "empty test name")
		}
		if test == CompareSectionName {
			if f.Compare != nil {
				return nil, p.posError(at, "section %q appears twice", test)
			}
			c, err := p.parseCompare()
			if err != nil {
				return nil, err
			}
			f.Compare = c
			continue
		}
		if _, dup := f.Tests[test]; dup {
			return nil, p.posError(at, "test %q appears twice", test)
		}
		sets, err := p.parseTest(test)
		if err != nil {
			return nil, err
		}
		f.Tests[test] = sets
	}
	at := p.valueOffset()
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.posError(at, "unexpected data after the thresholds object")
	}
	return f, nil
}

func (p *fileParser) parseTest(test string) ([]Set, error) {
	if err := p.expectDelim('{', fmt.Sprintf("test %q", test)); err != nil {
		return nil, err
	}
	var sets []Set
	seen := map[string]string{} // selector key -> selector as written
	for {
		metric, ok, err := p.key()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if isComment(metric) {
			if err := p.skipComment(metric); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.expectDelim('[', fmt.Sprintf("%s: %s", test, metric)); err != nil {
			return nil, err
		}
		var raws []json.RawMessage
		for p.dec.More() {
			var raw json.RawMessage
			if err := p.dec.Decode(&raw); err != nil {
				return nil, p.jsonError(err)
			}
			raws = append(raws, raw)
		}
		if _, err := p.token(); err != nil { // the closing ']'
			return nil, err
		}

		sel, err := ParseSelector(metric)
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("%s: %w", test, err))
			continue
		}
		if prev, dup := seen[sel.key()]; dup {
			p.errs = append(p.errs, fmt.Errorf("%s: %s: same metric as %s", test, metric, prev))
			continue
		}
		seen[sel.key()] = metric
		set := Set{Selector: sel}
		for i, raw := range raws {
			th, err := parseThreshold(raw)
			if err != nil {
				p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", test, sel.Source, thresholdErrorText(err, i)))
				continue
			}
			set.Thresholds = append(set.Thresholds, th)
		}
		sets = append(sets, set)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Selector.Source < sets[j].Selector.Source })
	return sets, nil
}

// thresholdError is a problem with one threshold entry; Expr is empty when
// the entry has no readable expression.
type thresholdError struct {
	Expr string
	Err  error
}

func (e *thresholdError) Error() string { return e.Err.Error() }

// thresholdErrorText renders the problem as `"expr": msg` or, when there is
// no expression to quote, `threshold N: msg`.
func thresholdErrorText(err error, index int) string {
	var te *thresholdError
	if !errors.As(err, &te) {
		return err.Error()
	}
	var ee *ExprError
	if errors.As(te.Err, &ee) {
		return ee.Error() // already quotes the expression
	}
	if te.Expr != "" {
		return fmt.Sprintf("%q: %v", te.Expr, te.Err)
	}
	return fmt.Sprintf("threshold %d: %v", index+1, te.Err)
}

// parseThreshold reads one entry: a string expression or an object with
// "threshold", "abortOnFail" and "delayAbortEval".
func parseThreshold(raw json.RawMessage) (Threshold, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Threshold{}, &thresholdError{Err: err}
		}
		e, err := ParseExpr(s)
		if err != nil {
			return Threshold{}, &thresholdError{Expr: s, Err: err}
		}
		return Threshold{Expr: e}, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return Threshold{}, &thresholdError{Err: fmt.Errorf("must be a string or an object, found %s", raw)}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Threshold{}, &thresholdError{Err: err}
	}
	var th Threshold
	var exprText string
	if v, ok := obj["threshold"]; ok {
		if err := json.Unmarshal(v, &exprText); err != nil {
			return Threshold{}, &thresholdError{Err: errors.New(`"threshold" must be a string`)}
		}
	} else {
		return Threshold{}, &thresholdError{Err: errors.New(`object has no "threshold" field`)}
	}
	fail := func(err error) (Threshold, error) {
		return Threshold{}, &thresholdError{Expr: exprText, Err: err}
	}
	e, err := ParseExpr(exprText)
	if err != nil {
		return fail(err)
	}
	th.Expr = e
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		switch k {
		case "threshold":
		case "abortOnFail":
			if err := json.Unmarshal(v, &th.AbortOnFail); err != nil {
				return fail(errors.New("abortOnFail must be true or false"))
			}
		case "delayAbortEval":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fail(fmt.Errorf("delayAbortEval must be a duration string such as \"10s\", found %s", v))
			}
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				return fail(fmt.Errorf("delayAbortEval: invalid duration %q", s))
			}
			if d < 0 {
				return fail(fmt.Errorf("delayAbortEval: negative duration %q", s))
			}
			th.DelayAbortEval = d
		default:
			return fail(fmt.Errorf("unknown field %q (use threshold, abortOnFail, delayAbortEval)", k))
		}
	}
	return th, nil
}

// Validate checks the file against the metrics each test defines (known maps
// test name -> metric name -> type) and returns every problem at once, in a
// stable order: unknown tests, unknown metrics, and statistics that do not
// exist for the metric's type; then the compare section's metrics, which
// must be Trends of some test. It returns nil when the file is valid.
func (f *File) Validate(known map[string]map[string]metrics.Type) []error {
	var errs []error
	for _, test := range f.TestNames() {
		metricTypes, ok := known[test]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown test %q (known: %s)", test, knownNames(known)))
			continue
		}
		for _, set := range f.Tests[test] {
			typ, ok := metricTypes[set.Selector.Metric]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %s: unknown metric %q (known: %s)",
					test, set.Selector.Source, set.Selector.Metric, knownNames(metricTypes)))
				continue
			}
			for _, th := range set.Thresholds {
				if !th.Expr.Stat.ValidFor(typ) {
					errs = append(errs, fmt.Errorf("%s: %s: %q: statistic %s does not exist for a %s (use %s)",
						test, set.Selector.Source, th.Expr.Source, th.Expr.Stat, typ, statsHint(typ)))
				}
			}
		}
	}
	return append(errs, f.Compare.validate(known)...)
}

func knownNames[V any](m map[string]V) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
