package threshold

import (
	"fmt"
	"strings"

	"github.com/driftload/driftload/internal/metrics"
)

// Selector names the samples a threshold looks at: a metric, optionally
// narrowed to a k6 sub-metric by tags, e.g. "http_req_duration{endpoint:detect}".
type Selector struct {
	// Metric is the metric name.
	Metric string
	// Tags narrow the metric to the samples carrying all of them, in the
	// order written; nil for the whole metric.
	Tags metrics.Tags
	// Source is the selector in canonical form: white space removed, tags in
	// the order written ("http_req_duration{endpoint:detect,status:200}").
	Source string
}

// String returns the selector's Source.
func (s Selector) String() string { return s.Source }

// key identifies the selector independently of tag order.
func (s Selector) key() string {
	if len(s.Tags) == 0 {
		return s.Metric
	}
	return s.Metric + "{" + s.Tags.String() + "}"
}

// ParseSelector parses a metric name with an optional k6 sub-metric tag list:
// "http_req_duration", "http_req_duration{endpoint:detect,status:200}".
// White space around names, keys and values is ignored. A tag value may
// itself contain ':' (the first ':' splits key from value). Empty names, keys
// or values, duplicate keys, empty braces and unbalanced braces are errors.
func ParseSelector(s string) (Selector, error) {
	t := strings.TrimSpace(s)
	fail := func(format string, args ...any) (Selector, error) {
		return Selector{}, fmt.Errorf("selector %q: %s", t, fmt.Sprintf(format, args...))
	}
	if t == "" {
		return fail("empty metric name")
	}
	name, rest, hasTags := strings.Cut(t, "{")
	name = strings.TrimSpace(name)
	if name == "" {
		return fail("empty metric name")
	}
	if strings.ContainsAny(name, "}:, \t\r\n") {
		if strings.ContainsRune(name, '}') {
			return fail("unbalanced braces: \"}\" without \"{\"")
		}
		return fail("invalid metric name %q", name)
	}
	sel := Selector{Metric: name, Source: name}
	if !hasTags {
		return sel, nil
	}
	end := strings.IndexByte(rest, '}')
	if end < 0 {
		return fail("unbalanced braces: missing \"}\"")
	}
	body := rest[:end]
	if strings.ContainsRune(body, '{') {
		return fail("unbalanced braces: nested \"{\"")
	}
	if trailing := strings.TrimSpace(rest[end+1:]); trailing != "" {
		return fail("unexpected %q after \"}\"", trailing)
	}
	if strings.TrimSpace(body) == "" {
		return fail("empty tag list")
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, pair := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(pair, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.TrimSpace(pair) == "":
			return fail("empty tag at position %d", i+1)
		case !ok:
			return fail("tag %q is not key:value", strings.TrimSpace(pair))
		case k == "":
			return fail("empty tag key in %q", strings.TrimSpace(pair))
		case v == "":
			return fail("empty value for tag %q", k)
		}
		if _, dup := sel.Tags.Get(k); dup {
			return fail("duplicate tag key %q", k)
		}
		sel.Tags = append(sel.Tags, metrics.Tag{Key: k, Value: v})
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(v)
	}
	b.WriteByte('}')
	sel.Source = b.String()
	return sel, nil
}
