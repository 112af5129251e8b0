package cbad

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Detector is the per-stream anomaly detector. It is safe for concurrent use;
// calls are serialised by its own mutex.
type Detector struct {
	mu sync.Mutex
	p  Params

	// ring holds the newest BaselineSize+WindowSize events, oldest first
	// starting at (next-held) mod len(ring). Slots keep their buffers so a
	// warm stream copies events without allocating, unless a buffer is far
	// larger than the event now stored (see slotFor).
	ring  [][]byte
	next  int
	held  int
	total int64

	seed     uint64
	analyses uint64 // analyses run so far; selects the PCG stream of the next one
	pcg      rand.PCG
	rng      *rand.Rand
}

// BatchResult is what one Ingest call did.
type BatchResult struct {
	Analyses       int           // analyses run during this call
	Anomalies      []Result      // only the anomalous ones, in event order
	Ready          bool          // detection ready after this batch (holds >= baseline+window events)
	EventsIngested int64         // total events this detector has seen
	EventsNeeded   int           // events still needed until ready (0 when ready)
	Duration       time.Duration // time spent in analysis (0 when nothing analysed: the cheap calibrating path)
}

// Result is one analysis, attached to the event that completed its hop.
type Result struct {
	Index                  int     // index of the event in the Ingest call's slice
	NCD, PValue            float64 // PValue: share of permutations with NCD >= observed (0 with no permutations)
	ConfidenceLevel        float64 // 1 - PValue
	CompressionRatio       float64 // window compression ratio (raw/compressed)
	CompressionRatioChange float64 // relative change of window ratio vs baseline ratio
	Anomaly                bool
	Why                    string // one human sentence, e.g. "compression distance 0.71 >= 0.30 (p=0.000)"
}

// NewDetector returns a calibrating detector for p. The seed fixes the
// permutation test: the same seed and the same events give the same results.
func NewDetector(p Params, seed uint64) (*Detector, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{
		p:    p.withDefaults(),
		ring: make([][]byte, p.BaselineSize+p.WindowSize),
		seed: seed,
	}
	d.rng = rand.New(&d.pcg)
	return d, nil
}

// Params returns the detector's parameters (with the default compressor filled in).
func (d *Detector) Params() Params { return d.p }

// Ingest appends events, each the raw bytes of one JSON object (they are
// copied; the caller may reuse them), and analyses as the stream advances.
//
// The stream is ready once BaselineSize+WindowSize events were seen. The
// event that makes it ready is analysed, and after that only every HopSize-th
// event (not every event, as Driftlock does): analysis k runs on the event
// that brings the total to BaselineSize+WindowSize+k*HopSize, over the window
// and baseline as they stand at that event, and its Result carries that
// event's Index. Events in between only move the window.
//
// An analysis measures C(B), C(W) and C(BW) for the observed split and, when
// its NCD reaches NCDThreshold, again for each permutation. B is compressed
// once per split: C(BW) continues the stream that produced C(B). Below
// NCDThreshold the permutation test is skipped (no p-value could make it an
// anomaly), and the test stops early once its p-value can no longer be
// <= PValueThreshold, so normal traffic pays fewer than Permutations shuffles.
// Anomalies always carry the full test's p-value, and each analysis draws from
// its own seeded PCG stream, so results do not depend on either shortcut or
// on how events are split into Ingest calls.
func (d *Detector) Ingest(events [][]byte) BatchResult {
	d.mu.Lock()
	defer d.mu.Unlock()

	need := int64(len(d.ring))
	hop := int64(d.p.HopSize)
	var br BatchResult
	var s *scratch
	for i, ev := range events {
		d.ring[d.next] = append(slotFor(d.ring[d.next], len(ev)), ev...)
		d.next++
		if d.next == len(d.ring) {
			d.next = 0
		}
		if d.held < len(d.ring) {
			d.held++
		}
		d.total++
		if d.total < need || (d.total-need)%hop != 0 {
			continue
		}
		if s == nil {
			s = scratchPool.Get().(*scratch)
		}
		start := time.Now()
		r := d.analyse(s)
		br.Duration += time.Since(start)
		br.Analyses++
		if r.Anomaly {
			r.Index = i
			br.Anomalies = append(br.Anomalies, r)
		}
	}
	if s != nil {
		putScratch(s)
	}
	br.EventsIngested = d.total
	br.Ready = d.total >= need
	if !br.Ready {
		br.EventsNeeded = int(need - d.total)
	}
	return br
}

// slotFor returns slot emptied for an event of n bytes, or nil when its
// buffer is more than 4 times (plus 1 KiB) too big: one huge event must not
// pin its size in the slot after it has left the window.
func slotFor(slot []byte, n int) []byte {
	if cap(slot) > 4*n+1024 {
		return nil
	}
	return slot[:0]
}

// line returns the i-th oldest held event (0 is the oldest baseline event).
func (d *Detector) line(i int) []byte {
	j := d.next - d.held + i
	if j < 0 {
		j += len(d.ring)
	} else if j >= len(d.ring) {
		j -= len(d.ring)
	}
	return d.ring[j]
}

// analyse runs one analysis over the full ring. Only called when ready.
func (d *Detector) analyse(s *scratch) Result {
	b, n := d.p.BaselineSize, len(d.ring)
	comp := d.p.Compressor
	seq := d.analyses
	d.analyses++

	// Observed: baseline lines, '\n', window lines.
	text := s.text[:0]
	endB := 0
	for i := 0; i < n; i++ {
		if i == b {
			endB = len(text)
		}
		if i > 0 {
			text = append(text, '\n')
		}
		text = append(text, d.line(i)...)
	}
	s.text = text
	cB, cW, cBW := s.sizes(comp, text, endB)
	observed := ncd(cB, cW, cBW)

	r := Result{NCD: observed}
	r.CompressionRatio = float64(len(text)-endB-1) / float64(cW)
	r.CompressionRatioChange = ratioChange(r.CompressionRatio, float64(endB)/float64(cB))
	if observed < d.p.NCDThreshold {
		// Cannot be an anomaly whatever the test says: skip it and report
		// the trivially valid p-value 1.
		r.PValue = 1
		return r
	}

	perms := d.p.Permutations
	alpha := d.p.PValueThreshold
	if perms > 0 {
		// Each analysis draws from its own PCG stream, so results do not
		// depend on how early earlier tests stopped.
		d.pcg.Seed(d.seed, seq)
		perm := s.perm[:0]
		for i := 0; i < n; i++ {
			perm = append(perm, int32(i))
		}
		s.perm = perm
		swap := func(i, j int) { perm[i], perm[j] = perm[j], perm[i] }
		exceed := 0
		for k := 0; k < perms; k++ {
			d.rng.Shuffle(n, swap)
			text = text[:0]
			for i, li := range perm {
				if i == b {
					endB = len(text)
				}
				if i > 0 {
					text = append(text, '\n')
				}
				text = append(text, d.line(int(li))...)
			}
			if ncd(s.sizes(comp, text, endB)) >= observed {
				exceed++
				// exceed only grows, so once the share passes alpha the
				// full test could not end anomalous either.
				if float64(exceed)/float64(perms) > alpha {
					break
				}
			}
		}
		s.text = text
		r.PValue = float64(exceed) / float64(perms)
	}
	r.ConfidenceLevel = 1 - r.PValue
	r.Anomaly = r.PValue <= alpha
	if r.Anomaly {
		r.Why = fmt.Sprintf("compression distance %.2f >= %.2f (p=%.3f)", r.NCD, d.p.NCDThreshold, r.PValue)
	}
	return r
}
