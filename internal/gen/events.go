package gen

import (
	"math/rand/v2"
	"time"
)

// AppendLogEvent appends one normal log event:
//
//	{"timestamp","level","service","message","trace_id","span_id","stream_id"}
//
// level is INFO (70 %), DEBUG (20 %) or WARN (10 %); trace_id has 32 and
// span_id 16 hex digits.
func AppendLogEvent(dst []byte, r *rand.Rand, ts time.Time, streamID string) []byte {
	dst = append(dst, `{"timestamp":"`...)
	dst = AppendTimestamp(dst, ts)
	dst = append(dst, `","level":"`...)
	dst = append(dst, logLevels[r.IntN(len(logLevels))]...)
	dst = append(dst, `","service":"`...)
	dst = append(dst, pick(r, services)...)
	dst = append(dst, `","message":"`...)
	dst = append(dst, pick(r, logMessages)...)
	dst = append(dst, `","trace_id":"`...)
	dst = appendHex64(dst, r.Uint64())
	dst = appendHex64(dst, r.Uint64())
	dst = append(dst, `","span_id":"`...)
	dst = appendHex64(dst, r.Uint64())
	dst = append(dst, `","stream_id":`...)
	dst = AppendJSONString(dst, streamID)
	return append(dst, '}')
}

// AppendAnomalousEvent appends one high-entropy anomalous log event: the
// fields of a log event with level ERROR, service "unknown-service-<random>",
// message "CRITICAL: ... <random>", 64-character random trace and span ids,
// plus error{type, stack, code} where stack is a multi-frame string and code
// is "E<5 digits>".
func AppendAnomalousEvent(dst []byte, r *rand.Rand, ts time.Time, streamID string) []byte {
	dst = append(dst, `{"timestamp":"`...)
	dst = AppendTimestamp(dst, ts)
	dst = append(dst, `","level":"ERROR","service":"unknown-service-`...)
	dst = appendAlnum(dst, r, 10)
	dst = append(dst, `","message":"`...)
	dst = append(dst, pick(r, criticalMessages)...)
	dst = append(dst, ' ')
	dst = appendAlnum(dst, r, 40)
	dst = append(dst, `","trace_id":"`...)
	dst = appendAlnum(dst, r, 64)
	dst = append(dst, `","span_id":"`...)
	dst = appendAlnum(dst, r, 64)
	dst = append(dst, `","stream_id":`...)
	dst = AppendJSONString(dst, streamID)
	dst = append(dst, `,"error":{"type":"`...)
	dst = append(dst, pick(r, errorTypes)...)
	dst = append(dst, `","stack":"`...)
	for i, n := 0, between(r, 3, 8); i < n; i++ {
		if i > 0 {
			dst = append(dst, `\n\t`...) // escaped newline and tab inside the JSON string
		}
		dst = append(dst, "at "...)
		dst = append(dst, pick(r, stackFrames)...)
		dst = append(dst, '(')
		dst = append(dst, pick(r, stackFiles)...)
		dst = append(dst, ':')
		dst = appendInt(dst, between(r, 1, 2000))
		dst = append(dst, ')')
	}
	dst = append(dst, `","code":"E`...)
	dst = appendInt(dst, between(r, 10000, 99999))
	return append(dst, `"}}`...)
}

// AppendMetricEvent appends one metric sample:
//
//	{"timestamp","name","value","unit","tags":{"host","region"}}
//
// name is one of cpu_usage, memory_usage, request_latency, error_rate and
// disk_io, each with its own unit and plausible range; value has two
// decimals; host is host-1..host-20.
func AppendMetricEvent(dst []byte, r *rand.Rand, ts time.Time) []byte {
	m := &metricSpecs[r.IntN(len(metricSpecs))]
	dst = append(dst, `{"timestamp":"`...)
	dst = AppendTimestamp(dst, ts)
	dst = append(dst, `","name":"`...)
	dst = append(dst, m.name...)
	dst = append(dst, `","value":`...)
	dst = appendFixed(dst, uint64(between(r, m.lo, m.hi)), 2)
	dst = append(dst, `,"unit":"`...)
	dst = append(dst, m.unit...)
	dst = append(dst, `","tags":{"host":"`...)
	dst = append(dst, pick(r, hosts)...)
	dst = append(dst, `","region":"`...)
	dst = append(dst, pick(r, regions)...)
	return append(dst, `"}}`...)
}

// AppendTraceEvent appends one span:
//
//	{"timestamp","trace_id","span_id","parent_span_id","service","operation","duration_ms","status"}
//
// duration_ms has two decimals and a long tail (80 % under 50 ms, 2 % up to
// 2 s); status is OK (90 %), ERROR (5 %) or UNSET (5 %).
func AppendTraceEvent(dst []byte, r *rand.Rand, ts time.Time) []byte {
	dst = append(dst, `{"timestamp":"`...)
	dst = AppendTimestamp(dst, ts)
	dst = append(dst, `","trace_id":"`...)
	dst = appendHex64(dst, r.Uint64())
	dst = appendHex64(dst, r.Uint64())
	dst = append(dst, `","span_id":"`...)
	dst = appendHex64(dst, r.Uint64())
	dst = append(dst, `","parent_span_id":"`...)
	dst = appendHex64(dst, r.Uint64())
	dst = append(dst, `","service":"`...)
	dst = append(dst, pick(r, services)...)
	dst = append(dst, `","operation":"`...)
	dst = append(dst, pick(r, operations)...)
	dst = append(dst, `","duration_ms":`...)
	var hundredths int
	switch p := r.IntN(100); {
	case p < 80:
		hundredths = between(r, 50, 50_00)
	case p < 98:
		hundredths = between(r, 50_00, 300_00)
	default:
		hundredths = between(r, 300_00, 2000_00)
	}
	dst = appendFixed(dst, uint64(hundredths), 2)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, traceStatuses[r.IntN(len(traceStatuses))]...)
	return append(dst, `"}`...)
}

// AppendTransaction appends one card transaction:
//
//	{"timestamp","transaction_id","account_id","amount","currency","merchant","category","country"}
//
// A normal one has an amount of 1.00–500.00 at an everyday merchant in a
// common country, at time ts. A fraudulent one has a huge amount
// (10 000–999 999) with 4–8 decimals, an odd merchant, category and country,
// and its time moved to between 01:00 and 05:00 UTC on the day of ts.
func AppendTransaction(dst []byte, r *rand.Rand, ts time.Time, fraudulent bool) []byte {
	if fraudulent {
		midnight := ts.UTC().Truncate(24 * time.Hour)
		ts = midnight.Add(time.Duration(between(r, 3600_000, 5*3600_000-1)) * time.Millisecond)
	}
	dst = append(dst, `{"timestamp":"`...)
	dst = AppendTimestamp(dst, ts)
	dst = append(dst, `","transaction_id":"txn_`...)
	dst = appendHex64(dst, r.Uint64())
	dst = append(dst, `","account_id":"acct_`...)
	dst = appendInt(dst, between(r, 100000, 104999))
	dst = append(dst, `","amount":`...)
	if fraudulent {
		dec := between(r, 4, 8)
		p := pow10[dec]
		dst = appendFixed(dst, uint64(between(r, 10_000, 999_999))*p+r.Uint64N(p), dec)
		dst = append(dst, `,"currency":"`...)
		dst = append(dst, pick(r, fraudCurrencies)...)
		dst = append(dst, `","merchant":"`...)
		dst = append(dst, pick(r, fraudMerchants)...)
		dst = append(dst, `","category":"`...)
		dst = append(dst, pick(r, fraudCategories)...)
		dst = append(dst, `","country":"`...)
		dst = append(dst, pick(r, fraudCountries)...)
	} else {
		dst = appendFixed(dst, uint64(between(r, 1_00, 500_00)), 2)
		dst = append(dst, `,"currency":"`...)
		dst = append(dst, pick(r, currencies)...)
		dst = append(dst, `","merchant":"`...)
		dst = append(dst, pick(r, merchants)...)
		dst = append(dst, `","category":"`...)
		dst = append(dst, pick(r, categories)...)
		dst = append(dst, `","country":"`...)
		dst = append(dst, pick(r, countries)...)
	}
	return append(dst, `"}`...)
}

// AppendLLMEvent appends one LLM request/response record:
//
//	{"timestamp","model","prompt","completion","prompt_tokens","completion_tokens","latency_ms"}
//
// An anomalous one has a long, degenerate completion (one odd fragment, with
// escapes and non-ASCII, repeated to 1.5–5 KB of JSON), a token explosion
// (50 000–500 000 completion tokens) and a latency of one to ten minutes; it
// stays under 8 KiB, the per-event limit of the Rust server.
func AppendLLMEvent(dst []byte, r *rand.Rand, ts time.Time, anomalous bool) []byte {
	dst = append(dst, `{"timestamp":"`...)
	dst = AppendTimestamp(dst, ts)
	dst = append(dst, `","model":"`...)
	dst = append(dst, pick(r, llmModels)...)
	dst = append(dst, `","prompt":"`...)
	dst = append(dst, pick(r, llmPrompts)...)
	dst = append(dst, `","completion":"`...)
	var promptTokens, completionTokens, latency int
	if anomalous {
		frag := pick(r, llmOddFragments)
		for end := len(dst) + between(r, 1500, 5000); len(dst) < end; {
			dst = append(dst, frag...)
		}
		dst = appendAlnum(dst, r, 16)
		promptTokens = between(r, 12, 400)
		completionTokens = between(r, 50_000, 500_000)
		latency = between(r, 60_000, 600_000)
	} else {
		dst = append(dst, pick(r, llmCompletions)...)
		promptTokens = between(r, 12, 400)
		completionTokens = between(r, 20, 600)
		latency = 150 + completionTokens*between(r, 8, 25) + r.IntN(200)
	}
	dst = append(dst, `","prompt_tokens":`...)
	dst = appendInt(dst, promptTokens)
	dst = append(dst, `,"completion_tokens":`...)
	dst = appendInt(dst, completionTokens)
	dst = append(dst, `,"latency_ms":`...)
	dst = appendInt(dst, latency)
	return append(dst, '}')
}
