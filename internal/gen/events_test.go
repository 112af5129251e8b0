package gen

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var testStart = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// keyPaths returns the sorted keys of m, with the keys of nested objects as
// "parent.child".
func keyPaths(m map[string]any) []string {
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		if sub, ok := v.(map[string]any); ok {
			for sk := range sub {
				keys = append(keys, k+"."+sk)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("event is not a JSON object: %v\n%s", err, b)
	}
	return m
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func num(m map[string]any, key string) float64 {
	f, _ := m[key].(float64)
	return f
}

var (
	logKeys       = []string{"level", "message", "service", "span_id", "stream_id", "timestamp", "trace_id"}
	anomalousKeys = []string{"error", "error.code", "error.stack", "error.type", "level", "message", "service", "span_id", "stream_id", "timestamp", "trace_id"}
	metricKeys    = []string{"name", "tags", "tags.host", "tags.region", "timestamp", "unit", "value"}
	traceKeys     = []string{"duration_ms", "operation", "parent_span_id", "service", "span_id", "status", "timestamp", "trace_id"}
	txnKeys       = []string{"account_id", "amount", "category", "country", "currency", "merchant", "timestamp", "transaction_id"}
	llmKeys       = []string{"completion", "completion_tokens", "latency_ms", "model", "prompt", "prompt_tokens", "timestamp"}
	hexRE         = regexp.MustCompile(`^[0-9a-f]+$`)
	alnumRE       = regexp.MustCompile(`^[a-z0-9]+$`)
	codeRE        = regexp.MustCompile(`^E[0-9]{5}$`)
)

func TestGeneratorsProduceTheirFieldSets(t *testing.T) {
	t.Parallel()
	const streamID = "stream-abc123-1-2"
	tests := []struct {
		kind  Kind
		keys  []string
		check func(t *testing.T, m map[string]any)
	}{
		{Log, logKeys, func(t *testing.T, m map[string]any) {
			if l := str(m, "level"); l != "INFO" && l != "DEBUG" && l != "WARN" {
				t.Errorf("level = %q, want INFO, DEBUG or WARN", l)
			}
			if !slices.Contains(services, str(m, "service")) || !slices.Contains(logMessages, str(m, "message")) {
				t.Errorf("service %q or message %q not from the vocabulary", str(m, "service"), str(m, "message"))
			}
			if id := str(m, "trace_id"); len(id) != 32 || !hexRE.MatchString(id) {
				t.Errorf("trace_id = %q, want 32 hex digits", id)
			}
			if id := str(m, "span_id"); len(id) != 16 || !hexRE.MatchString(id) {
				t.Errorf("span_id = %q, want 16 hex digits", id)
			}
			if s := str(m, "stream_id"); s != streamID {
				t.Errorf("stream_id = %q, want %q", s, streamID)
			}
		}},
		{Anomalous, anomalousKeys, func(t *testing.T, m map[string]any) {
			if l := str(m, "level"); l != "ERROR" {
				t.Errorf("level = %q, want ERROR", l)
			}
			if s, ok := strings.CutPrefix(str(m, "service"), "unknown-service-"); !ok || !alnumRE.MatchString(s) {
				t.Errorf("service = %q, want unknown-service-<random>", str(m, "service"))
			}
			if !strings.HasPrefix(str(m, "message"), "CRITICAL: ") {
				t.Errorf("message = %q, want CRITICAL: ...", str(m, "message"))
			}
			for _, k := range []string{"trace_id", "span_id"} {
				if id := str(m, k); len(id) < 64 || !alnumRE.MatchString(id) {
					t.Errorf("%s = %q, want 64+ random characters", k, id)
				}
			}
			e := m["error"].(map[string]any)
			if !slices.Contains(errorTypes, str(e, "type")) {
				t.Errorf("error.type = %q", str(e, "type"))
			}
			if frames := strings.Split(str(e, "stack"), "\n\t"); len(frames) < 3 || !strings.HasPrefix(frames[1], "at ") {
				t.Errorf("error.stack = %q, want 3+ frames", str(e, "stack"))
			}
			if !codeRE.MatchString(str(e, "code")) {
				t.Errorf("error.code = %q, want E<5 digits>", str(e, "code"))
			}
		}},
		{Metric, metricKeys, func(t *testing.T, m map[string]any) {
			i := slices.IndexFunc(metricSpecs, func(s struct {
				name, unit string
				lo, hi     int
			}) bool {
				return s.name == str(m, "name")
			})
			if i < 0 {
				t.Fatalf("name = %q, not a known metric", str(m, "name"))
			}
			spec := metricSpecs[i]
			if v := num(m, "value"); v < float64(spec.lo)/100 || v > float64(spec.hi)/100 {
				t.Errorf("%s value %v outside [%v, %v]", spec.name, v, float64(spec.lo)/100, float64(spec.hi)/100)
			}
			if u := str(m, "unit"); u != spec.unit {
				t.Errorf("%s unit = %q, want %q", spec.name, u, spec.unit)
			}
			tags := m["tags"].(map[string]any)
			if !slices.Contains(hosts, str(tags, "host")) || !slices.Contains(regions, str(tags, "region")) {
				t.Errorf("tags = %v", tags)
			}
		}},
		{Trace, traceKeys, func(t *testing.T, m map[string]any) {
			for k, n := range map[string]int{"trace_id": 32, "span_id": 16, "parent_span_id": 16} {
				if id := str(m, k); len(id) != n || !hexRE.MatchString(id) {
					t.Errorf("%s = %q, want %d hex digits", k, id, n)
				}
			}
			if d := num(m, "duration_ms"); d <= 0 || d > 2000 {
				t.Errorf("duration_ms = %v", d)
			}
			if s := str(m, "status"); s != "OK" && s != "ERROR" && s != "UNSET" {
				t.Errorf("status = %q", s)
			}
		}},
		{Transaction, txnKeys, func(t *testing.T, m map[string]any) {
			if a := num(m, "amount"); a < 1 || a > 500 {
				t.Errorf("amount = %v, want 1..500", a)
			}
			if !slices.Contains(countries, str(m, "country")) || !slices.Contains(merchants, str(m, "merchant")) {
				t.Errorf("country %q / merchant %q not everyday ones", str(m, "country"), str(m, "merchant"))
			}
			if ts := str(m, "timestamp"); !strings.HasPrefix(ts, "2025-03-14T15:") {
				t.Errorf("timestamp = %q, want the event time", ts)
			}
		}},
		{FraudulentTransaction, txnKeys, func(t *testing.T, m map[string]any) {
			if a := num(m, "amount"); a < 10_000 {
				t.Errorf("amount = %v, want a huge one", a)
			}
			if !slices.Contains(fraudCountries, str(m, "country")) {
				t.Errorf("country = %q, want an unusual one", str(m, "country"))
			}
			ts, err := time.Parse(time.RFC3339, str(m, "timestamp"))
			if err != nil || ts.Hour() < 1 || ts.Hour() > 4 || ts.YearDay() != testStart.YearDay() {
				t.Errorf("timestamp = %q, want 01:00-05:00 on the event's day", str(m, "timestamp"))
			}
		}},
		{LLM, llmKeys, func(t *testing.T, m map[string]any) {
			if !slices.Contains(llmModels, str(m, "model")) {
				t.Errorf("model = %q", str(m, "model"))
			}
			if n := num(m, "completion_tokens"); n < 20 || n > 600 {
				t.Errorf("completion_tokens = %v", n)
			}
		}},
		{AnomalousLLM, llmKeys, func(t *testing.T, m map[string]any) {
			if n := num(m, "completion_tokens"); n < 50_000 {
				t.Errorf("completion_tokens = %v, want a token explosion", n)
			}
			if c := str(m, "completion"); len(c) < 600 {
				t.Errorf("completion has %d bytes, want a long one", len(c))
			}
			if l := num(m, "latency_ms"); l < 60_000 {
				t.Errorf("latency_ms = %v, want a very slow answer", l)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			t.Parallel()
			r := NewRand(42, int(tt.kind))
			for i := range 300 {
				ev := AppendEvent(nil, r, tt.kind, testStart.Add(time.Duration(i)*time.Second), streamID)
				if len(ev) > 8<<10 {
					t.Fatalf("event %d has %d bytes, above the 8 KiB per-event limit", i, len(ev))
				}
				m := decodeObject(t, ev)
				if got := keyPaths(m); !slices.Equal(got, tt.keys) {
					t.Fatalf("keys = %v\nwant   %v\nevent: %s", got, tt.keys, ev)
				}
				if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", str(m, "timestamp")); err != nil {
					t.Errorf("timestamp: %v", err)
				}
				tt.check(t, m)
				if t.Failed() {
					t.Fatalf("event: %s", ev)
				}
			}
		})
	}
}

func TestEventsAppendToExistingBytes(t *testing.T) {
	t.Parallel()
	r := NewRand(1, 1)
	got := AppendLogEvent([]byte("prefix:"), r, testStart, "s")
	if !strings.HasPrefix(string(got), `prefix:{"timestamp":"2025-03-14T15:09:26.535Z",`) {
		t.Errorf("got %s", got)
	}
}

func TestVocabularyNeedsNoEscaping(t *testing.T) {
	t.Parallel()
	lists := [][]string{
		logLevels[:], services, logMessages, criticalMessages, errorTypes, stackFrames, stackFiles, hosts,
		regions, operations, traceStatuses[:], currencies, merchants, categories, countries, fraudMerchants,
		fraudCategories, fraudCountries, fraudCurrencies, llmModels, llmPrompts, llmCompletions,
	}
	for _, s := range metricSpecs {
		lists = append(lists, []string{s.name, s.unit})
	}
	for _, list := range lists {
		for _, s := range list {
			if got := string(AppendJSONString(nil, s)); got != `"`+s+`"` {
				t.Errorf("vocabulary entry %q needs escaping: %s", s, got)
			}
		}
	}
	for _, frag := range llmOddFragments {
		var s string
		if err := json.Unmarshal([]byte(`"`+frag+`"`), &s); err != nil {
			t.Errorf("pre-escaped fragment %q is not valid JSON string content: %v", frag, err)
		}
	}
}

func TestAppendTimestampMatchesRFC3339Milli(t *testing.T) {
	t.Parallel()
	const layout = "2006-01-02T15:04:05.000Z07:00"
	times := []time.Time{
		time.Unix(0, 0), time.Unix(-1, 999_999_999), time.Unix(951_782_400, 0), // 2000-02-29
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(-5, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("x", -7*3600)),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		times = append(times, time.Unix(r.Int64N(600_000_000_000)-300_000_000_000, r.Int64N(1e9)))
	}
	for _, ts := range times {
		want := ts.UTC().Format(layout)
		if got := string(AppendTimestamp(nil, ts)); got != want {
			t.Fatalf("AppendTimestamp(%v) = %s, want %s", ts, got, want)
		}
	}
}
