package threshold

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/metrics"
)

// CompareSectionName is the reserved top-level key of a thresholds file that
// holds the budgets of `driftload compare`; no test can be called so.
const CompareSectionName = "compare"

// CompareSection is the "compare" section of a thresholds file: how much
// worse a new run may be than a base run before `driftload compare` calls it
// a regression.
//
//	"compare": {"max_p95_regression": "10%", "max_error_rate_increase": "0.5pp",
//	            "min_throughput_ratio": 0.95, "min_latency_change": "1ms",
//	            "metrics": ["http_req_duration"]}
//
// A nil budget is not set (the command line may still set it).
type CompareSection struct {
	// MaxP50Regression, MaxP95Regression and MaxP99Regression are the
	// largest relative rise of a percentile, as a fraction ("10%": 0.10).
	MaxP50Regression *float64
	MaxP95Regression *float64
	MaxP99Regression *float64
	// MaxErrorRateIncrease is the largest rise of the error rate
	// (http_req_failed), as a share ("0.5pp": 0.005).
	MaxErrorRateIncrease *float64
	// MinThroughputRatio is the smallest ratio of the new run's requests per
	// second to the base run's, in (0, 1].
	MinThroughputRatio *float64
	// MinLatencyChange is the smallest rise of a percentile that can be a
	// regression, however large relative to a fast endpoint ("1ms").
	MinLatencyChange *time.Duration
	// Metrics are the Trend metrics whose percentiles the budgets judge;
	// empty: the command's default.
	Metrics []string
}

// The keys of a compare section.
const (
	keyMaxP50      = "max_p50_regression"
	keyMaxP95      = "max_p95_regression"
	keyMaxP99      = "max_p99_regression"
	keyMaxErrRate  = "max_error_rate_increase"
	keyMinTputRate = "min_throughput_ratio"
	keyMinLatency  = "min_latency_change"
	keyMetrics     = "metrics"
)

var compareKeys = []string{keyMaxP50, keyMaxP95, keyMaxP99, keyMaxErrRate, keyMinTputRate, keyMinLatency, keyMetrics}

// ParseRegression reads a largest relative rise written as a percentage,
// "10%" or "2.5 %", and returns it as a fraction (0.10, 0.025). It must be
// finite and not negative.
func ParseRegression(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("%q: want a percentage such as \"10%%\"", s)
	}
	v, err := parseBudgetNumber(num)
	if err != nil {
		return 0, fmt.Errorf("%q: want a percentage such as \"10%%\"", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q: a regression budget must not be negative", s)
	}
	return v / 100, nil
}

// ParsePoints reads a largest rise of a share written in percentage points,
// "0.5pp", and returns it as a share (0.005). It must be in [0, 100].
func ParsePoints(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "pp")
	if !ok {
		return 0, fmt.Errorf("%q: want percentage points such as \"0.5pp\"", s)
	}
	v, err := parseBudgetNumber(num)
	if err != nil {
		return 0, fmt.Errorf("%q: want percentage points such as \"0.5pp\"", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%q: percentage points must be in [0, 100]", s)
	}
	return v / 100, nil
}

// ParseRatio reads a smallest new/base ratio such as "0.95"; it must be in
// (0, 1].
func ParseRatio(s string) (float64, error) {
	v, err := parseBudgetNumber(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a ratio such as 0.95", s)
	}
	if err := checkRatio(v); err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return v, nil
}

func checkRatio(v float64) error {
	if !(v > 0 && v <= 1) {
		return errors.New("a throughput ratio must be in (0, 1]")
	}
	return nil
}

// ParseMinChange reads the smallest latency change worth judging, a
// duration such as "1ms"; it must not be negative.
func ParseMinChange(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as \"1ms\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", s)
	}
	return d, nil
}

// parseBudgetNumber reads a finite decimal number (no hex, no underscores).
func parseBudgetNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "xX_pP") {
		return 0, errors.New("not a number")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("not a number")
	}
	return v, nil
}

// parseCompare reads the compare section. A section that is not an object
// stops parsing; a bad value is recorded with its position and parsing goes
// on, so every problem is reported at once.
func (p *fileParser) parseCompare() (*CompareSection, error) {
	if err := p.expectDelim('{', fmt.Sprintf("section %q", CompareSectionName)); err != nil {
		return nil, err
	}
	c := &CompareSection{}
	seen := map[string]bool{}
	for {
		at := p.valueOffset()
		key, ok, err := p.key()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if isComment(key) {
			if err := p.skipComment(key); err != nil {
				return nil, err
			}
			continue
		}
		valueAt := p.valueOffset()
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			return nil, p.jsonError(err)
		}
		fail := func(format string, args ...any) {
			p.errs = append(p.errs, p.posError(valueAt, "%s: %s: %s", CompareSectionName, key, fmt.Sprintf(format, args...)))
		}
		if seen[key] {
			p.errs = append(p.errs, p.posError(at, "%s: %s appears twice", CompareSectionName, key))
			continue
		}
		seen[key] = true
		switch key {
		case keyMaxP50, keyMaxP95, keyMaxP99, keyMaxErrRate:
			s, isString := jsonString(raw)
			if !isString {
				example := `"10%"`
				if key == keyMaxErrRate {
					example = `"0.5pp"`
				}
				fail("must be a string such as %s, found %s", example, describeRaw(raw))
				continue
			}
			parse := ParseRegression
			if key == keyMaxErrRate {
				parse = ParsePoints
			}
			v, err := parse(s)
			if err != nil {
				fail("%v", err)
				continue
			}
			switch key {
			case keyMaxP50:
				c.MaxP50Regression = &v
			case keyMaxP95:
				c.MaxP95Regression = &v
			case keyMaxP99:
				c.MaxP99Regression = &v
			default:
				c.MaxErrorRateIncrease = &v
			}
		case keyMinTputRate:
			v, err := strconv.ParseFloat(string(raw), 64)
			if err != nil || len(raw) == 0 || raw[0] == '"' {
				fail("must be a number such as 0.95, found %s", describeRaw(raw))
				continue
			}
			if err := checkRatio(v); err != nil {
				fail("%v, got %s", err, raw)
				continue
			}
			c.MinThroughputRatio = &v
		case keyMinLatency:
			s, isString := jsonString(raw)
			if !isString {
				fail("must be a duration string such as \"1ms\", found %s", describeRaw(raw))
				continue
			}
			d, err := ParseMinChange(s)
			if err != nil {
				fail("%v", err)
				continue
			}
			c.MinLatencyChange = &d
		case keyMetrics:
			names, ok := jsonStrings(raw)
			if !ok {
				fail("must be an array of metric names, found %s", describeRaw(raw))
				continue
			}
			c.Metrics = names
		default:
			p.errs = append(p.errs, p.posError(at, "%s: unknown key %q (use %s)", CompareSectionName, key, strings.Join(compareKeys, ", ")))
		}
	}
	return c, nil
}

func jsonString(raw []byte) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func jsonStrings(raw []byte) ([]string, bool) {
	var out []string
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &out) != nil {
		return nil, false
	}
	return out, true
}

// describeRaw names a JSON value for an error: `string "10"`, `number 10`.
func describeRaw(raw []byte) string {
	switch {
	case len(raw) == 0:
		return "nothing"
	case raw[0] == '"':
		if s, ok := jsonString(raw); ok {
			return fmt.Sprintf("string %q", s)
		}
	case raw[0] == '{':
		return "an object"
	case raw[0] == '[':
		return "an array"
	case string(raw) == "null":
		return "null"
	case string(raw) == "true" || string(raw) == "false":
		return string(raw)
	}
	return "number " + string(raw)
}

// validate checks the section's metric names against every test's
// metrics: each must be a Trend of at least one test.
func (c *CompareSection) validate(known map[string]map[string]metrics.Type) []error {
	if c == nil {
		return nil
	}
	trends := map[string]bool{}
	other := map[string]metrics.Type{}
	for _, ms := range known {
		for name, typ := range ms {
			if typ == metrics.Trend {
				trends[name] = true
			} else {
				other[name] = typ
			}
		}
	}
	var errs []error
	for _, name := range c.Metrics {
		switch typ, isOther := other[name]; {
		case trends[name]:
		case isOther:
			errs = append(errs, fmt.Errorf("%s: %s: %q is a %s; percentiles are judged on trends", CompareSectionName, keyMetrics, name, typ))
		default:
			names := make([]string, 0, len(trends))
			for n := range trends {
				names = append(names, n)
			}
			sort.Strings(names)
			list := strings.Join(names, ", ")
			if list == "" {
				list = "none"
			}
			errs = append(errs, fmt.Errorf("%s: %s: unknown trend %q (known: %s)", CompareSectionName, keyMetrics, name, list))
		}
	}
	return errs
}
