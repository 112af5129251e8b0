// Benchmarks of the generators. Measured with
//
//	go test -run XXX -bench . -benchtime=300ms -cpu 1 ./internal/gen
//
// on a shared 2-core AMD EPYC (go1.26.8, linux/amd64, load average 3-5 from
// other jobs, so expect ±40 % between runs). One core:
//
//	BenchmarkAppendLogEvent           250-430 ns/op   2.3-3.9 M events/s   0 allocs/op  (target >= 1 M/s)
//	BenchmarkAppendEvent/anomalous    1.0-2.2 µs/op   0.45-0.94 M events/s 0 allocs/op
//	BenchmarkAppendEvent/metric       190-360 ns/op   2.8-5.4 M events/s   0 allocs/op
//	BenchmarkAppendEvent/trace        280-440 ns/op   2.2-3.5 M events/s   0 allocs/op
//	BenchmarkAppendEvent/transaction  270-550 ns/op   1.8-3.7 M events/s   0 allocs/op
//	BenchmarkAppendEvent/llm          240-350 ns/op   2.9-4.2 M events/s   0 allocs/op
//	BenchmarkAppendBatch1000/logs         400-690 µs/op  1.4-2.5 M events/s  0 B/op  0 allocs/op
//	BenchmarkAppendBatch1000/mixed        340-730 µs/op  1.4-2.9 M events/s  0 B/op  0 allocs/op
//	BenchmarkAppendBatch1000/telemetry    360-740 µs/op  1.4-2.7 M events/s  0 B/op  0 allocs/op
//	BenchmarkAppendBatch1000/transactions 300-630 µs/op  1.6-3.4 M events/s  0 B/op  0 allocs/op
//	BenchmarkAppendBatch1000/llm          330-670 µs/op  1.5-3.0 M events/s  0 B/op  0 allocs/op
//	BenchmarkStreamID                     73-96 ns/op                        0 allocs/op
//
// Batches run at 10 % anomalies; anomalous events cost about four log events
// (178 random characters and a random stack), which is what slows the logs
// mix below single log events.

package gen

import (
	"testing"
	"time"
)

func BenchmarkAppendLogEvent(b *testing.B) {
	r := NewRand(1, 1)
	buf := make([]byte, 0, 512)
	ts := testStart
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendLogEvent(buf[:0], r, ts, "stream-k3f9a2pq-17-42")
		ts = ts.Add(time.Millisecond)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkAppendEvent(b *testing.B) {
	for k := range numKinds {
		b.Run(k.String(), func(b *testing.B) {
			r := NewRand(1, 1)
			buf := make([]byte, 0, 16<<10)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendEvent(buf[:0], r, k, testStart, "stream-k3f9a2pq-17-42")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkAppendBatch1000(b *testing.B) {
	for mix := range numMixes {
		b.Run(mix.String(), func(b *testing.B) {
			r := NewRand(1, 1)
			batch := Batch{Size: 1000, Mix: mix, AnomalyRate: 0.1, StreamID: "stream-k3f9a2pq-17-42", Start: testStart, Step: time.Millisecond}
			buf, _ := AppendBatch(nil, r, batch)
			buf = make([]byte, 0, 2*len(buf)) // a VU's reused buffer, already grown
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = AppendBatch(buf[:0], r, batch)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkStreamID(b *testing.B) {
	buf := make([]byte, 0, MaxStreamIDLen)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = AppendStreamID(buf[:0], "stream", "k3f9a2pq", 17, i)
		i++
	}
}
