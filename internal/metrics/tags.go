package metrics

import (
	"sort"
	"strings"
)

// Tag is one key:value label on a sample, as in k6 (`endpoint:detect`).
type Tag struct {
	Key, Value string
}

// Tags is a small set of labels. Order does not matter for identity: two
// Tags with the same pairs in another order name the same series.
type Tags []Tag

// Get returns the value of key and whether it is present.
func (t Tags) Get(key string) (string, bool) {
	for _, tag := range t {
		if tag.Key == key {
			return tag.Value, true
		}
	}
	return "", false
}

// Contains reports whether every pair of sub is also in t (sub-metric matching).
func (t Tags) Contains(sub Tags) bool {
	for _, want := range sub {
		if v, ok := t.Get(want.Key); !ok || v != want.Value {
			return false
		}
	}
	return true
}

// Sorted returns a copy ordered by key.
func (t Tags) Sorted() Tags {
	out := append(Tags(nil), t...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// String renders the tags k6-style, sorted by key: "endpoint:detect,method:POST".
func (t Tags) String() string {
	var b strings.Builder
	for i, tag := range t.Sorted() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tag.Key)
		b.WriteByte(':')
		b.WriteString(tag.Value)
	}
	return b.String()
}

// NewTags builds Tags from key, value pairs: NewTags("endpoint", "detect").
// A trailing key without a value is ignored.
func NewTags(kv ...string) Tags {
	out := make(Tags, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}
