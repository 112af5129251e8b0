package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// probe holds just the fields that tell the kinds apart.
type probe struct {
	Error            json.RawMessage `json:"error"`
	Tags             json.RawMessage `json:"tags"`
	Operation        *string         `json:"operation"`
	TransactionID    *string         `json:"transaction_id"`
	Country          string          `json:"country"`
	Model            *string         `json:"model"`
	CompletionTokens int             `json:"completion_tokens"`
	Level            *string         `json:"level"`
	Timestamp        string          `json:"timestamp"`
}

// kind names the kind of a decoded event by its content alone, so the tests
// do not trust AppendBatch's own bookkeeping.
func (p *probe) kind(t *testing.T) Kind {
	t.Helper()
	switch {
	case p.Error != nil:
		return Anomalous
	case p.Tags != nil:
		return Metric
	case p.Operation != nil:
		return Trace
	case p.TransactionID != nil:
		if slices.Contains(fraudCountries, p.Country) {
			return FraudulentTransaction
		}
		return Transaction
	case p.Model != nil:
		if p.CompletionTokens >= 50_000 {
			return AnomalousLLM
		}
		return LLM
	case p.Level != nil:
		return Log
	}
	t.Fatalf("unclassifiable event %+v", p)
	return -1
}

// decodeBatch checks that b is a JSON array of objects and returns them.
func decodeBatch(t *testing.T, b []byte) []probe {
	t.Helper()
	var events []probe
	if err := json.Unmarshal(b, &events); err != nil {
		t.Fatalf("batch is not a JSON array of objects: %v", err)
	}
	return events
}

// within4Sigma reports whether count successes out of n fit a binomial(n, p)
// to four standard deviations.
func within4Sigma(count, n int, p float64) bool {
	mean := float64(n) * p
	sigma := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(count)-mean) <= 4*sigma
}

func TestAppendBatchHonoursAnomalyRate(t *testing.T) {
	t.Parallel()
	const size = 1000
	for _, mix := range []Mix{LogsWithAnomalies, Telemetry, Transactions, LLMIO} {
		for _, rate := range []float64{0, 0.2, 1} {
			batches := 20 // 20 000 events for the statistical bound
			if rate == 0 || rate == 1 {
				batches = 2 // exact: none or all
			}
			t.Run(fmt.Sprintf("%v/rate=%v", mix, rate), func(t *testing.T) {
				t.Parallel()
				r := NewRand(7, int(mix))
				var total int
				var buf []byte
				for i := range batches {
					var n int
					buf, n = AppendBatch(buf[:0], r, Batch{Size: size, Mix: mix, AnomalyRate: rate, StreamID: "s", Start: testStart, Step: time.Millisecond})
					total += n
					if i >= 2 {
						continue // decoding is slow under -race; two batches check the reported count
					}
					seen := 0
					for _, ev := range decodeBatch(t, buf) {
						if ev.kind(t).IsAnomalous() {
							seen++
						}
					}
					if n != seen {
						t.Errorf("AppendBatch reported %d anomalous events, the payload holds %d", n, seen)
					}
				}
				if !within4Sigma(total, batches*size, rate) {
					t.Errorf("%d anomalous events of %d at rate %v, outside mean ± 4σ", total, batches*size, rate)
				}
			})
		}
	}
}

func TestAppendBatchMixProportions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mix   Mix
		rate  float64
		share map[Kind]float64
	}{
		{Mixed, 0.9, map[Kind]float64{Log: 0.6, Metric: 0.3, Anomalous: 0.1}}, // rate ignored
		{Telemetry, 0.1, map[Kind]float64{Log: 0.3, Metric: 0.3, Trace: 0.3, Anomalous: 0.1}},
		{Telemetry, 0, map[Kind]float64{Log: 1.0 / 3, Metric: 1.0 / 3, Trace: 1.0 / 3}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/rate=%v", tt.mix, tt.rate), func(t *testing.T) {
			t.Parallel()
			const n = 20000
			buf, anomalous := AppendBatch(nil, NewRand(11, 3), Batch{Size: n, Mix: tt.mix, AnomalyRate: tt.rate, Start: testStart})
			if !json.Valid(buf) {
				t.Fatal("batch is not valid JSON")
			}
			// Each kind has one marker no other kind's event contains;
			// counting markers is much faster than decoding 20 000 events.
			counts := map[Kind]int{
				Anomalous: bytes.Count(buf, []byte(`"level":"ERROR"`)),
				Metric:    bytes.Count(buf, []byte(`"tags":{`)),
				Trace:     bytes.Count(buf, []byte(`"parent_span_id":`)),
			}
			counts[Log] = bytes.Count(buf, []byte(`"level":"`)) - counts[Anomalous]
			if sum := counts[Log] + counts[Metric] + counts[Trace] + counts[Anomalous]; sum != n {
				t.Fatalf("found %d events by marker, want %d", sum, n)
			}
			for k, c := range counts {
				if c == 0 {
					delete(counts, k)
				}
			}
			if anomalous != counts[Anomalous] {
				t.Errorf("reported %d anomalous events, payload holds %d", anomalous, counts[Anomalous])
			}
			for k, c := range counts {
				if _, ok := tt.share[k]; !ok {
					t.Errorf("%d unexpected %s events", c, k)
				}
			}
			for k, p := range tt.share {
				if !within4Sigma(counts[k], n, p) {
					t.Errorf("%s: %d of %d events, want share %.3f ± 4σ", k, counts[k], n, p)
				}
			}
		})
	}
}

func TestAppendBatchShape(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, -3, 1, 7, 1000} {
		for mix := range numMixes {
			b := Batch{Size: size, Mix: mix, AnomalyRate: 0.3, StreamID: "s-1", Start: testStart, Step: 250 * time.Millisecond}
			buf, _ := AppendBatch([]byte("keep"), NewRand(3, size), b)
			if !bytes.HasPrefix(buf, []byte("keep[")) {
				t.Fatalf("%v size %d: AppendBatch did not append to dst: %.20s", mix, size, buf)
			}
			events := decodeBatch(t, buf[len("keep"):])
			if want := max(size, 0); len(events) != want {
				t.Fatalf("%v size %d: %d events, want %d", mix, size, len(events), want)
			}
			for i, ev := range events {
				if k := ev.kind(t); k == FraudulentTransaction {
					continue // fraud moves its own time
				}
				want := testStart.Add(time.Duration(i) * b.Step).Format("2006-01-02T15:04:05.000Z07:00")
				if got := ev.Timestamp; got != want {
					t.Fatalf("%v event %d timestamp = %s, want %s", mix, i, got, want)
				}
			}
		}
	}
}

func TestAppendBatchIsDeterministicPerSeedAndVU(t *testing.T) {
	t.Parallel()
	batch := func(seed uint64, vu int, mix Mix) []byte {
		r := NewRand(seed, vu)
		var out []byte
		for range 3 {
			out, _ = AppendBatch(out, r, Batch{Size: 200, Mix: mix, AnomalyRate: 0.2, StreamID: "s", Start: testStart, Step: time.Second})
		}
		return out
	}
	for mix := range numMixes {
		a := batch(99, 5, mix)
		if b := batch(99, 5, mix); !bytes.Equal(a, b) {
			t.Errorf("%v: same (seed, vu) gave different bytes", mix)
		}
		if b := batch(99, 6, mix); bytes.Equal(a, b) {
			t.Errorf("%v: VUs 5 and 6 gave identical bytes", mix)
		}
		if b := batch(100, 5, mix); bytes.Equal(a, b) {
			t.Errorf("%v: seeds 99 and 100 gave identical bytes", mix)
		}
	}
}

func TestNewRandGivesEachVUItsOwnStream(t *testing.T) {
	t.Parallel()
	seen := map[[2]uint64]int{}
	for seed := range uint64(4) {
		for vu := range 2000 {
			r := NewRand(seed, vu)
			first := [2]uint64{r.Uint64(), r.Uint64()}
			if prev, dup := seen[first]; dup {
				t.Fatalf("seed %d VU %d starts like VU %d", seed, vu, prev)
			}
			seen[first] = vu
		}
	}
}

func TestAppendBatchDoesNotAllocateWithReusedBuffer(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for mix := range numMixes {
		r := NewRand(1, 1)
		b := Batch{Size: 1000, Mix: mix, AnomalyRate: 0.1, StreamID: "stream-abc-1-2", Start: testStart, Step: time.Millisecond}
		buf, _ := AppendBatch(nil, r, b)
		buf = slices.Grow(buf[:0], 2*len(buf)) // later batches may be somewhat longer
		allocs := testing.AllocsPerRun(20, func() { buf, _ = AppendBatch(buf[:0], r, b) })
		if allocs != 0 {
			t.Errorf("%v: %v allocations per 1000-event batch, want 0", mix, allocs)
		}
	}
}

func TestBatchValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		batch Batch
		want  int
	}{
		{"valid", Batch{Size: 10, Mix: Mixed, AnomalyRate: 0.1}, 0},
		{"rate bounds", Batch{Size: 1, AnomalyRate: 1}, 0},
		{"zero size", Batch{Size: 0}, 1},
		{"NaN rate", Batch{Size: 1, AnomalyRate: math.NaN()}, 1},
		{"everything wrong", Batch{Size: -1, Mix: numMixes, AnomalyRate: 1.5, Step: -time.Second}, 4},
	}
	for _, tt := range tests {
		if errs := tt.batch.Validate(); len(errs) != tt.want {
			t.Errorf("%s: Validate() = %v, want %d errors", tt.name, errs, tt.want)
		}
	}
}

func TestParseMixAcceptsEveryMixName(t *testing.T) {
	t.Parallel()
	for i, name := range MixNames() {
		if m, err := ParseMix(name); err != nil || m != Mix(i) || m.String() != name {
			t.Errorf("ParseMix(%q) = %v, %v; want %v", name, m, err, Mix(i))
		}
	}
	if m, err := ParseMix("MIXED"); err != nil || m != Mixed {
		t.Errorf("ParseMix is case-sensitive: %v, %v", m, err)
	}
	if _, err := ParseMix("chaos"); err == nil {
		t.Error(`ParseMix("chaos") gave no error`)
	}
	if s := Mix(42).String(); s != "mix(42)" {
		t.Errorf("Mix(42).String() = %q", s)
	}
	if s := Kind(-1).String(); s != "kind(-1)" {
		t.Errorf("Kind(-1).String() = %q", s)
	}
}
