package cbad

import (
	"bytes"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// small is a quick profile for tests of mechanics rather than detection.
var small = Params{BaselineSize: 20, WindowSize: 5, HopSize: 3, NCDThreshold: 0.3, PValueThreshold: 0.05, Permutations: 5}

func TestReadiness(t *testing.T) {
	tests := []struct {
		name  string
		p     Params
		chunk int
	}{
		{"small one by one", small, 1},
		{"small in chunks of 4", small, 4},
		{"balanced in chunks of 100", mustProfile("balanced").WithPermutationCap(0), 100},
		{"sensitive in chunks of 7", mustProfile("sensitive").WithPermutationCap(0), 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			need := tt.p.BaselineSize + tt.p.WindowSize
			d, err := NewDetector(tt.p, 1)
			if err != nil {
				t.Fatal(err)
			}
			g := newLogGen(1)
			total := 0
			for total < need+3*tt.p.HopSize {
				br := d.Ingest(g.normals(tt.chunk))
				total += tt.chunk
				if br.EventsIngested != int64(total) {
					t.Fatalf("EventsIngested = %d, want %d", br.EventsIngested, total)
				}
				if total < need {
					if br.Ready || br.EventsNeeded != need-total || br.Analyses != 0 || br.Duration != 0 || len(br.Anomalies) != 0 {
						t.Fatalf("after %d events: %+v, want calibrating with %d needed and no analysis", total, br, need-total)
					}
					continue
				}
				if !br.Ready || br.EventsNeeded != 0 {
					t.Fatalf("after %d events: Ready=%v EventsNeeded=%d, want ready", total, br.Ready, br.EventsNeeded)
				}
				if total-tt.chunk < need && (br.Analyses < 1 || br.Duration <= 0) {
					t.Fatalf("batch reaching readiness: Analyses=%d Duration=%v, want the first analysis", br.Analyses, br.Duration)
				}
			}
		})
	}
}

func TestHopCadenceAndIndex(t *testing.T) {
	// With no permutations p is 0, and a tiny NCD threshold makes every
	// analysis anomalous, so Anomalies shows exactly where analyses ran.
	p := small
	p.Permutations = 0
	p.NCDThreshold = 1e-6
	d, err := NewDetector(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	g := newLogGen(1)
	need := p.BaselineSize + p.WindowSize // 25

	var want []int
	for idx := need - 1; idx < 100; idx += p.HopSize {
		want = append(want, idx)
	}
	br := d.Ingest(g.normals(100))
	if br.Analyses != len(want) || !reflect.DeepEqual(indexes(br.Anomalies), want) {
		t.Fatalf("first batch: Analyses=%d indexes=%v, want %d at %v", br.Analyses, indexes(br.Anomalies), len(want), want)
	}
	for _, r := range br.Anomalies {
		if r.PValue != 0 || r.ConfidenceLevel != 1 || !r.Anomaly || r.NCD < p.NCDThreshold ||
			!strings.HasPrefix(r.Why, "compression distance ") || r.CompressionRatio <= 1 {
			t.Fatalf("unexpected result %+v", r)
		}
	}
	// Totals 101..107: analyses when (total-25)%3 == 0, i.e. 103 and 106.
	br = d.Ingest(g.normals(7))
	if got := indexes(br.Anomalies); !reflect.DeepEqual(got, []int{2, 5}) || br.Analyses != 2 {
		t.Fatalf("second batch: Analyses=%d indexes=%v, want 2 at [2 5]", br.Analyses, got)
	}
	if br = d.Ingest(nil); br.Analyses != 0 || br.Duration != 0 || !br.Ready || br.EventsIngested != 107 {
		t.Fatalf("empty batch: %+v", br)
	}
}

func indexes(rs []Result) []int {
	out := []int{}
	for _, r := range rs {
		out = append(out, r.Index)
	}
	return out
}

// TestNormalStreamQuiet feeds normal events to a warm balanced detector and
// expects few anomalies: with exchangeable events the test flags about
// PValueThreshold of the analyses (p <= 0.05 is 3 of the 51 equally likely
// ranks of the observed NCD among 50 permutations, 5.9%).
//
// The generator draws timestamps at random within an hour. With increasing
// timestamps, as in a real log, the newest window is also the most
// time-local: its lines share longer timestamp prefixes and compress slightly
// better than a random subset of the pool, which lowers the permutation
// p-value. Measured with this generator (balanced, 100 permutations, 300
// analyses): 17% flagged with increasing timestamps, 5.3% without timestamps.
// That is a property of the Driftlock algorithm, not of this implementation.
func TestNormalStreamQuiet(t *testing.T) {
	t.Parallel()
	p := mustProfile("balanced").WithPermutationCap(50)
	g := newLogGen(42)
	d := warmDetector(p, 7, g)
	analyses, anomalies := 0, 0
	for range 6 {
		br := d.Ingest(g.normals(100))
		analyses += br.Analyses
		anomalies += len(br.Anomalies)
	}
	t.Logf("balanced, normal stream: %d of %d analyses anomalous", anomalies, analyses)
	if analyses != 60 {
		t.Fatalf("analyses = %d, want 60", analyses)
	}
	if anomalies > analyses/10 {
		t.Fatalf("%d of %d analyses anomalous on a normal stream, want <= 10%%", anomalies, analyses)
	}
}

func TestAnomalousBlockFlagged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile, compressor string
		perms               int
	}{
		{"balanced", "zstd", 40},
		{"balanced", "gzip", 20}, // gzip is slow under -race
		{"sensitive", "zstd", 40},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.compressor, func(t *testing.T) {
			p := mustProfile(tt.profile).WithPermutationCap(tt.perms)
			p.Compressor = tt.compressor
			g := newLogGen(5)
			d := warmDetector(p, 3, g)

			block := p.WindowSize + 2*p.HopSize
			events := append(g.normals(20), g.anomalies(block)...)
			events = append(events, g.normals(20)...)
			br := d.Ingest(events)
			inBlock := 0
			for _, r := range br.Anomalies {
				if r.Index < 20 || r.Index >= 20+block {
					continue
				}
				inBlock++
				if r.NCD < p.NCDThreshold || r.PValue > p.PValueThreshold || r.ConfidenceLevel != 1-r.PValue ||
					r.CompressionRatioChange >= 0 || r.Why == "" {
					t.Errorf("implausible anomaly %+v", r)
				}
			}
			t.Logf("%d analyses, %d anomalies, %d within the %d-event block", br.Analyses, len(br.Anomalies), inBlock, block)
			if inBlock == 0 {
				t.Fatalf("anomalous block not flagged: %+v", br.Anomalies)
			}
		})
	}
}

// stripDuration makes batch results comparable.
func stripDuration(br BatchResult) BatchResult {
	br.Duration = 0
	return br
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	p := small
	p.Permutations = 20
	g := newLogGen(9)
	events := append(g.normals(60), g.anomalies(15)...)
	events = append(events, g.normals(30)...)

	run := func(seed uint64, chunk int) []Result {
		d, err := NewDetector(p, seed)
		if err != nil {
			t.Fatal(err)
		}
		var all []Result
		for i := 0; i < len(events); i += chunk {
			br := d.Ingest(events[i:min(i+chunk, len(events))])
			for _, r := range br.Anomalies {
				r.Index += i // make indexes global for comparison
				all = append(all, r)
			}
		}
		return all
	}
	ref := run(1, len(events))
	if len(ref) == 0 {
		t.Fatal("no anomalies at all; the comparison would be vacuous")
	}
	for _, chunk := range []int{1, 7} {
		if got := run(1, chunk); !reflect.DeepEqual(got, ref) {
			t.Errorf("seed 1 in chunks of %d differs from one batch:\n%+v\n%+v", chunk, got, ref)
		}
	}

	// Same seed, same batches: identical BatchResults.
	d1, _ := NewDetector(p, 99)
	d2, _ := NewDetector(p, 99)
	for i := 0; i < len(events); i += 25 {
		b := events[i:min(i+25, len(events))]
		if a, b := stripDuration(d1.Ingest(b)), stripDuration(d2.Ingest(b)); !reflect.DeepEqual(a, b) {
			t.Fatalf("same seed, different results:\n%+v\n%+v", a, b)
		}
	}
}

func TestIngestCopiesEvents(t *testing.T) {
	p := small
	p.Permutations = 20
	g := newLogGen(4)
	events := append(g.normals(40), g.anomalies(10)...)
	events = append(events, g.normals(20)...)

	clean, _ := NewDetector(p, 1)
	reused, _ := NewDetector(p, 1)
	buf := make([][]byte, 1)
	var want, got []BatchResult
	for _, ev := range events {
		want = append(want, stripDuration(clean.Ingest([][]byte{bytes.Clone(ev)})))
		// The caller reuses one buffer and scribbles over it afterwards.
		buf[0] = append(buf[0][:0], ev...)
		got = append(got, stripDuration(reused.Ingest(buf)))
		for i := range buf[0] {
			buf[0][i] = 'x'
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("results depend on the caller's buffers after Ingest returned")
	}
}

func TestConcurrentIngest(t *testing.T) {
	p := small
	d, err := NewDetector(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	const workers, batches, size = 4, 5, 10
	var wg sync.WaitGroup
	for w := range workers {
		batch := newLogGen(uint64(w)).normals(size)
		wg.Go(func() {
			for range batches {
				d.Ingest(batch)
			}
		})
	}
	wg.Wait()
	if br := d.Ingest(nil); br.EventsIngested != workers*batches*size {
		t.Fatalf("EventsIngested = %d, want %d", br.EventsIngested, workers*batches*size)
	}
}

func TestNoGoroutinesLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, comp := range []string{"zstd", "gzip"} {
		p := small
		p.Compressor = comp
		d, err := NewDetector(p, 1)
		if err != nil {
			t.Fatal(err)
		}
		if br := d.Ingest(newLogGen(1).normals(60)); br.Analyses == 0 {
			t.Fatal("no analysis ran")
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines: %d before, %d after analysing", before, after)
	}
}

// TestHugeEventsLeaveNoBuffersBehind: once a few huge events have left the
// window, neither the detector's ring nor the scratch pool keeps their size.
func TestHugeEventsLeaveNoBuffersBehind(t *testing.T) {
	p := Params{BaselineSize: 4, WindowSize: 2, HopSize: 100, NCDThreshold: 0.3, PValueThreshold: 0.05}
	g := newLogGen(5)
	huge := []byte(`{"blob":"` + strings.Repeat("x", 256<<10) + `"}`)
	d, err := NewDetector(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		d.Ingest([][]byte{huge}) // the sixth runs an analysis over 1.5 MiB of text
	}
	d.Ingest(g.normals(20))
	held := 0
	for _, slot := range d.ring {
		held += cap(slot)
	}
	if held > 6*4096 {
		t.Errorf("ring holds %d bytes of buffers for six ~200-byte events", held)
	}
}

func TestPutScratchDropsOversizedBuffers(t *testing.T) {
	tests := []struct {
		name               string
		text, perm         int
		keepText, keepPerm bool
	}{
		{"usual sizes", 100 << 10, 1000, true, true},
		{"at the caps", maxPooledText, maxPooledPerm, true, true},
		{"huge text", maxPooledText + 1, 1000, false, true},
		{"huge permutation", 100 << 10, maxPooledPerm + 1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scratch{text: make([]byte, 0, tt.text), perm: make([]int32, 0, tt.perm)}
			putScratch(s)
			if (s.text != nil) != tt.keepText || (s.perm != nil) != tt.keepPerm {
				t.Fatalf("kept text %v perm %v, want %v %v", s.text != nil, s.perm != nil, tt.keepText, tt.keepPerm)
			}
		})
	}
}
