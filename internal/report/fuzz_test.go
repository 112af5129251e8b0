package report

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/driftload/driftload/internal/metrics"
)

// encodeResult is WriteFile's encoding of r.
func encodeResult(t *testing.T, r *Result) []byte {
	t.Helper()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatalf("encode a decoded result: %v", err)
	}
	return append(data, '\n')
}

// withoutEmptyLists is r with the lists WriteFile omits when empty
// (omitempty) set to nil: an empty "series" or "invalid_reasons" list in a
// file decodes as an empty slice but is written back as no list at all, so
// it decodes again as nil. Both mean "none"; nothing else may change.
func withoutEmptyLists(r *Result) *Result {
	c := *r
	if len(c.Run.InvalidReasons) == 0 {
		c.Run.InvalidReasons = nil
	}
	if c.Metrics != nil {
		c.Metrics = make(map[string]*MetricResult, len(r.Metrics))
		for name, m := range r.Metrics {
			if m != nil && len(m.Series) == 0 {
				mc := *m
				mc.Series = nil
				m = &mc
			}
			c.Metrics[name] = m
		}
	}
	return &c
}

// histograms returns every histogram of r, named for failure messages.
func histograms(r *Result) map[string]*Histogram {
	out := map[string]*Histogram{}
	for name, m := range r.Metrics {
		if m == nil {
			continue
		}
		if m.Histogram != nil {
			out[name] = m.Histogram
		}
		for i, s := range m.Series {
			if s.Histogram != nil {
				out[fmt.Sprintf("%s series %d", name, i)] = s.Histogram
			}
		}
	}
	return out
}

// sameValues compares two Values maps exactly.
func sameValues(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || math.Float64bits(v) != math.Float64bits(w) {
			return false
		}
	}
	return true
}

// checkHistogram decodes h; a bad one is an error, a good one merges
// exactly: merged into an empty Trend it has the same statistics, merged
// twice twice the count, and re-encoded it decodes to the same statistics.
func checkHistogram(t *testing.T, name string, h *Histogram) {
	t.Helper()
	sink, err := h.Sink()
	if err != nil {
		if sink != nil {
			t.Fatalf("%s: sink beside error %v", name, err)
		}
		return
	}
	if sink.Type != metrics.Trend || sink.Count != h.Count {
		t.Fatalf("%s: decoded %+v from %+v", name, sink, h)
	}
	want := sink.Values(0)
	merged := metrics.NewSink(metrics.Trend)
	merged.Merge(sink)
	if got := merged.Values(0); !sameValues(got, want) {
		t.Fatalf("%s: merged into an empty trend: %v, want %v", name, got, want)
	}
	merged.Merge(sink)
	if got := merged.Values(0); got["count"] != 2*want["count"] || got["min"] != want["min"] || got["max"] != want["max"] {
		t.Fatalf("%s: merged twice: %v, from %v", name, got, want)
	}
	data, err := sink.EncodeHistogram()
	if err != nil {
		t.Fatalf("%s: re-encode: %v", name, err)
	}
	back, err := metrics.DecodeTrend(data, sink.Count, sink.Sum, sink.Min, sink.Max)
	if err != nil {
		t.Fatalf("%s: re-encoded histogram does not decode: %v", name, err)
	}
	if got := back.Values(0); !sameValues(got, want) {
		t.Fatalf("%s: re-encoded: %v, want %v", name, got, want)
	}
}

// resultSeeds are the golden result file and damaged copies of it: a
// histogram of another geometry, corrupt base64, a truncated file.
func resultSeeds(f *testing.F) [][]byte {
	golden, err := os.ReadFile(filepath.Join("testdata", "result.json"))
	if err != nil {
		f.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(golden, &r); err != nil {
		f.Fatal(err)
	}
	dur := r.Metrics["http_req_duration"]
	good := dur.Histogram.Data
	seeds := [][]byte{golden, golden[:len(golden)/2], []byte("{}"), []byte("null"), []byte(`{"metrics":{"x":null}}`),
		[]byte(`{"metrics":{"x":{"series":[]}},"run":{"invalid_reasons":[]}}`),
		[]byte(`{"start":"2026-11-30T12:00:00.123456789123+01:00","config":{"n":1e300,"s":"\ud800"}}`)}
	variant := func(edit func(h *Histogram)) {
		c := *dur.Histogram
		edit(&c)
		one := &MetricResult{Type: "trend", Contains: "time", Values: dur.Values, Histogram: &c}
		data, err := json.Marshal(&Result{Metrics: map[string]*MetricResult{"http_req_duration": one}})
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	foreign := hdr.NewPacked(1, 1000, 1)
	for v := int64(1); v <= 100; v++ {
		_ = foreign.RecordValue(v * 10)
	}
	foreignData, err := foreign.Encode()
	if err != nil {
		f.Fatal(err)
	}
	variant(func(h *Histogram) { h.Data = string(foreignData) })
	wide := hdr.NewPacked(1, 1e12, 3)
	for v := int64(1); v <= 100; v++ {
		_ = wide.RecordValue(v * 1e9)
	}
	wideData, err := wide.Encode()
	if err != nil {
		f.Fatal(err)
	}
	variant(func(h *Histogram) { h.Data = string(wideData) })
	variant(func(h *Histogram) { h.Min, h.Max = h.Max, h.Min })
	variant(func(h *Histogram) { h.Data = good[:len(good)-4] })
	variant(func(h *Histogram) { h.Data = strings.ToUpper(good) })
	variant(func(h *Histogram) { h.Data = "" })
	variant(func(h *Histogram) { h.Count++ })
	variant(func(h *Histogram) { h.Scale = 1 })
	variant(func(h *Histogram) { h.Encoding = "hdr-v1" })
	return seeds
}

// FuzzReadResult: decoding a result file never panics; a decoded result
// written again the way WriteFile writes it decodes to the same result
// (apart from empty omitempty lists, see withoutEmptyLists) and is then
// written byte for byte the same; every histogram in it either fails to
// decode with an error or merges exactly.
func FuzzReadResult(f *testing.F) {
	for _, s := range resultSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if (r == nil) == (err == nil) {
			t.Fatalf("want exactly one of result and error, got %v, %v", r, err)
		}
		if err != nil {
			return
		}
		enc := encodeResult(t, r)
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("the result written back does not decode: %v\n%s", err, enc)
		}
		if want := withoutEmptyLists(r); !reflect.DeepEqual(back, want) {
			t.Fatalf("written back and decoded:\n%+v\nwant\n%+v", back, want)
		}
		if again := encodeResult(t, back); !bytes.Equal(again, enc) {
			t.Fatalf("written twice, the files differ:\n%s\n---\n%s", enc, again)
		}
		for name, h := range histograms(r) {
			checkHistogram(t, name, h)
		}
	})
}

// wrapHistogram is the V2 compressed, base64 form of an inflated HDR V2
// histogram (its 40-byte header and payload).
func wrapHistogram(inflated []byte) string {
	var zb bytes.Buffer
	w := zlib.NewWriter(&zb)
	_, _ = w.Write(inflated)
	_ = w.Close()
	out := make([]byte, 8, 8+zb.Len())
	binary.BigEndian.PutUint32(out[0:], uint32(hdr.V2CompressedEncodingCookieBase|0x10))
	binary.BigEndian.PutUint32(out[4:], uint32(zb.Len()))
	return base64.StdEncoding.EncodeToString(append(out, zb.Bytes()...))
}

// unwrapHistogram inflates the V2 compressed, base64 form.
func unwrapHistogram(f *testing.F, data string) []byte {
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(raw) < 8 {
		f.Fatalf("histogram %q: %v", data, err)
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		f.Fatal(err)
	}
	inflated, err := io.ReadAll(z)
	if err != nil {
		f.Fatal(err)
	}
	return inflated
}

// FuzzHistogramSink fuzzes the inflated HDR histogram inside a result
// file's histogram (header: geometry, conversion ratio, payload length;
// payload: zig-zag LEB128 counts), where a mutation reaches the decoder
// rather than breaking zlib's checksum: Histogram.Sink never panics, and
// what it accepts merges exactly.
func FuzzHistogramSink(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "result.json"))
	if err != nil {
		f.Fatal(err)
	}
	r, err := Decode(golden)
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range histograms(r) {
		f.Add(unwrapHistogram(f, h.Data), h.Min, h.Max)
	}
	empty, err := metrics.NewSink(metrics.Trend).EncodeHistogram()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(unwrapHistogram(f, empty), 0.0, 0.0)
	foreign := hdr.NewPacked(1, 1e12, 5)
	_ = foreign.RecordValue(1e11)
	foreignData, _ := foreign.Encode()
	f.Add(unwrapHistogram(f, string(foreignData)), 1e8, 1e8)
	f.Fuzz(func(t *testing.T, inflated []byte, minV, maxV float64) {
		data := wrapHistogram(inflated)
		// The count a file would hold beside the histogram, so that decoding
		// gets past the count check whenever the data is a histogram.
		var count int64
		if p, err := hdr.DecodePacked([]byte(data)); err == nil {
			count = p.TotalCount()
		}
		h := &Histogram{Encoding: HistogramEncoding, Scale: metrics.TrendScale, Count: count, Min: minV, Max: maxV, Data: data}
		checkHistogram(t, "histogram", h)
	})
}
