package gen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind names one event generator.
type Kind int

// The event kinds, one per generator.
const (
	Log                   Kind = iota // AppendLogEvent
	Anomalous                         // AppendAnomalousEvent
	Metric                            // AppendMetricEvent
	Trace                             // AppendTraceEvent
	Transaction                       // AppendTransaction, not fraudulent
	FraudulentTransaction             // AppendTransaction, fraudulent
	LLM                               // AppendLLMEvent, normal
	AnomalousLLM                      // AppendLLMEvent, anomalous
	numKinds
)

var kindNames = [numKinds]string{
	"log", "anomalous", "metric", "trace", "transaction", "fraudulent_transaction", "llm", "anomalous_llm",
}

// String returns the kind's snake_case name, e.g. "fraudulent_transaction".
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "kind(" + string(appendInt(nil, int(k))) + ")"
	}
	return kindNames[k]
}

// IsAnomalous reports whether events of kind k are injected anomalies
// (Anomalous, FraudulentTransaction, AnomalousLLM).
func (k Kind) IsAnomalous() bool {
	return k == Anomalous || k == FraudulentTransaction || k == AnomalousLLM
}

// AppendEvent appends one event of kind k. streamID is used by the kinds
// that carry a stream_id field (Log, Anomalous) and ignored by the others.
// An unknown kind appends a log event.
func AppendEvent(dst []byte, r *rand.Rand, k Kind, ts time.Time, streamID string) []byte {
	switch k {
	case Anomalous:
		return AppendAnomalousEvent(dst, r, ts, streamID)
	case Metric:
		return AppendMetricEvent(dst, r, ts)
	case Trace:
		return AppendTraceEvent(dst, r, ts)
	case Transaction, FraudulentTransaction:
		return AppendTransaction(dst, r, ts, k == FraudulentTransaction)
	case LLM, AnomalousLLM:
		return AppendLLMEvent(dst, r, ts, k == AnomalousLLM)
	default:
		return AppendLogEvent(dst, r, ts, streamID)
	}
}

// Mix selects which kinds of events a batch holds.
type Mix int

// The batch mixes. Where a mix uses Batch.AnomalyRate, each event is
// independently anomalous with that probability.
const (
	// LogsWithAnomalies: log events, anomalous events at AnomalyRate.
	LogsWithAnomalies Mix = iota
	// Mixed: 60 % log, 30 % metric, 10 % anomalous events; AnomalyRate is
	// ignored.
	Mixed
	// Telemetry: anomalous events at AnomalyRate, the rest split evenly
	// between log, metric and trace events.
	Telemetry
	// Transactions: transactions, fraudulent ones at AnomalyRate.
	Transactions
	// LLMIO: LLM events, anomalous ones at AnomalyRate.
	LLMIO
	numMixes
)

var mixNames = [numMixes]string{"logs", "mixed", "telemetry", "transactions", "llm"}

// String returns the mix's name as ParseMix accepts it.
func (m Mix) String() string {
	if m < 0 || m >= numMixes {
		return "mix(" + string(appendInt(nil, int(m))) + ")"
	}
	return mixNames[m]
}

// MixNames lists the names ParseMix accepts, in Mix order.
func MixNames() []string {
	return append([]string(nil), mixNames[:]...)
}

// ParseMix returns the Mix named s (case-insensitive): logs, mixed,
// telemetry, transactions or llm.
func ParseMix(s string) (Mix, error) {
	for i, name := range mixNames {
		if strings.EqualFold(s, name) {
			return Mix(i), nil
		}
	}
	return 0, fmt.Errorf("gen: unknown mix %q (want one of %s)", s, strings.Join(mixNames[:], ", "))
}

// Batch describes one JSON array of events.
type Batch struct {
	Size        int           // number of events
	Mix         Mix           // which kinds of events
	AnomalyRate float64       // probability in [0, 1] that an event is anomalous, for mixes that use it
	StreamID    string        // stream_id field of log and anomalous events
	Start       time.Time     // timestamp of the first event
	Step        time.Duration // timestamp spacing between consecutive events
}

// Validate returns every problem with b at once; nil means AppendBatch will
// produce exactly what b asks for.
func (b Batch) Validate() []error {
	var errs []error
	if b.Size < 1 {
		errs = append(errs, fmt.Errorf("gen: batch size %d, want at least 1", b.Size))
	}
	if b.Mix < 0 || b.Mix >= numMixes {
		errs = append(errs, fmt.Errorf("gen: unknown mix %d", int(b.Mix)))
	}
	if math.IsNaN(b.AnomalyRate) || b.AnomalyRate < 0 || b.AnomalyRate > 1 {
		errs = append(errs, fmt.Errorf("gen: anomaly rate %v, want a value in [0, 1]", b.AnomalyRate))
	}
	if b.Step < 0 {
		errs = append(errs, errors.New("gen: negative timestamp step"))
	}
	return errs
}

// NextKind draws the kind of the next event of mix m, anomalous with
// probability rate where m uses a rate. Rates outside [0, 1] are clamped; NaN
// counts as 0.
func NextKind(r *rand.Rand, m Mix, rate float64) Kind {
	switch m {
	case Mixed:
		switch p := r.IntN(10); {
		case p < 6:
			return Log
		case p < 9:
			return Metric
		default:
			return Anomalous
		}
	case Telemetry:
		if chance(r, rate) {
			return Anomalous
		}
		return [3]Kind{Log, Metric, Trace}[r.IntN(3)]
	case Transactions:
		if chance(r, rate) {
			return FraudulentTransaction
		}
		return Transaction
	case LLMIO:
		if chance(r, rate) {
			return AnomalousLLM
		}
		return LLM
	default:
		if chance(r, rate) {
			return Anomalous
		}
		return Log
	}
}

// chance reports true with probability p. It draws one number whatever p
// is, so the stream stays aligned across rates.
func chance(r *rand.Rand, p float64) bool {
	return r.Float64() < p // Float64 is in [0, 1): p >= 1 always, p <= 0 or NaN never
}

// AppendBatch appends a JSON array of b.Size events (an empty array if
// b.Size < 1) and returns the extended slice and how many of the events are
// anomalous (Kind.IsAnomalous). Event i has timestamp b.Start + i*b.Step.
// With a dst of enough capacity it does not allocate.
func AppendBatch(dst []byte, r *rand.Rand, b Batch) (out []byte, anomalous int) {
	dst = append(dst, '[')
	for i := range max(b.Size, 0) {
		if i > 0 {
			dst = append(dst, ',')
		}
		k := NextKind(r, b.Mix, b.AnomalyRate)
		if k.IsAnomalous() {
			anomalous++
		}
		dst = AppendEvent(dst, r, k, b.Start.Add(time.Duration(i)*b.Step), b.StreamID)
	}
	return append(dst, ']'), anomalous
}
