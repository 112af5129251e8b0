package gen_test

import (
	"fmt"
	"time"

	"github.com/driftload/driftload/internal/gen"
)

func ExampleStreamID() {
	run := gen.RunID("k3f9a2") // normally gen.NewRunID(), random per run
	vu, iter := 4, 73
	fmt.Println(gen.StreamID("stream", run, vu, iter/10))
	// Output: stream-k3f9a2-4-7
}

func ExampleAppendBatch() {
	r := gen.NewRand(42, 1) // seed 42, VU 1
	var buf []byte          // reuse across iterations: no allocation once grown
	for iter := range 3 {
		b := gen.Batch{
			Size:        100,
			Mix:         gen.LogsWithAnomalies,
			AnomalyRate: 0.1,
			StreamID:    gen.StreamID("logs", "k3f9a2", 1, iter),
			Start:       time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(iter) * time.Minute),
			Step:        10 * time.Millisecond,
		}
		var anomalous int
		buf, anomalous = gen.AppendBatch(buf[:0], r, b)
		fmt.Println(b.StreamID, buf[0] == '[', anomalous >= 0)
	}
	// Output:
	// logs-k3f9a2-1-0 true true
	// logs-k3f9a2-1-1 true true
	// logs-k3f9a2-1-2 true true
}
