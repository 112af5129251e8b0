package runner

// A VU's goroutine keeps the stack its deepest call ever needed for the rest
// of the run (the GC gives half back only when less than a quarter is in
// use, and a VU waiting for a response uses more). At 10,000 VUs every
// doubling from 4 to 8 KiB is 40 MiB, so the rare deep calls — a dial, a
// TLS handshake, a new metric series — run on a goroutine of their own
// (onOwnStack), and the request path stays within the 4 KiB a goroutine
// starts with (see BENCHMARKS.md, "Memory per VU").

// onOwnStack runs f on a new goroutine and waits for it to return.
func onOwnStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}
