package cbad

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

func newSmall() (*Detector, error) { return NewDetector(small, 1) }

// evictLog records eviction callbacks.
type evictLog struct {
	mu   sync.Mutex
	keys []string
}

func (l *evictLog) add(k string) {
	l.mu.Lock()
	l.keys = append(l.keys, k)
	l.mu.Unlock()
}

func (l *evictLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.keys...)
}

func TestCacheLRU(t *testing.T) {
	type step struct {
		key         string
		wantCreated bool
		wantEvicted []string // cumulative eviction log after the step
	}
	tests := []struct {
		name     string
		capacity int
		steps    []step
	}{
		{"fills then evicts oldest", 2, []step{
			{"a", true, nil},
			{"b", true, nil},
			{"c", true, []string{"a"}},
			{"d", true, []string{"a", "b"}},
		}},
		{"get refreshes recency", 2, []step{
			{"a", true, nil},
			{"b", true, nil},
			{"a", false, nil},
			{"c", true, []string{"b"}},
			{"a", false, []string{"b"}},
			{"b", true, []string{"b", "c"}},
		}},
		{"capacity below 1 means 1", 0, []step{
			{"a", true, nil},
			{"a", false, nil},
			{"b", true, []string{"a"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log evictLog
			c := NewCache(tt.capacity, log.add)
			for i, s := range tt.steps {
				d, created, err := c.Get(s.key, newSmall)
				if err != nil || d == nil {
					t.Fatalf("step %d Get(%q): %v, %v", i, s.key, d, err)
				}
				if created != s.wantCreated {
					t.Fatalf("step %d Get(%q): created=%v, want %v", i, s.key, created, s.wantCreated)
				}
				if got := log.get(); !reflect.DeepEqual(got, s.wantEvicted) {
					t.Fatalf("step %d: evicted %v, want %v", i, got, s.wantEvicted)
				}
				if c.Evictions() != int64(len(s.wantEvicted)) {
					t.Fatalf("step %d: Evictions()=%d, want %d", i, c.Evictions(), len(s.wantEvicted))
				}
				if c.Len() > max(tt.capacity, 1) {
					t.Fatalf("step %d: Len()=%d above capacity %d", i, c.Len(), tt.capacity)
				}
			}
		})
	}
}

func TestCacheReturnsSameDetectorAndRecalibratesAfterEviction(t *testing.T) {
	c := NewCache(1, nil) // a nil callback is allowed
	d1, _, _ := c.Get("s", newSmall)
	need := small.BaselineSize + small.WindowSize
	if br := d1.Ingest(newLogGen(1).normals(need)); !br.Ready {
		t.Fatal("stream not ready after baseline+window events")
	}
	if d, created, _ := c.Get("s", newSmall); d != d1 || created {
		t.Fatal("hit returned a different detector")
	}
	c.Get("other", newSmall) // evicts "s"
	d2, created, _ := c.Get("s", newSmall)
	if !created || d2 == d1 {
		t.Fatal("evicted stream was not re-created")
	}
	if br := d2.Ingest(newLogGen(2).normals(1)); br.Ready || br.EventsIngested != 1 || br.EventsNeeded != need-1 {
		t.Fatalf("re-created detector is not calibrating: %+v", br)
	}
	if c.Evictions() != 2 || c.Len() != 1 {
		t.Fatalf("Evictions()=%d Len()=%d, want 2 and 1", c.Evictions(), c.Len())
	}
}

func TestCacheNewFnError(t *testing.T) {
	c := NewCache(2, nil)
	boom := errors.New("boom")
	d, created, err := c.Get("x", func() (*Detector, error) { return nil, boom })
	if !errors.Is(err, boom) || d != nil || created || c.Len() != 0 {
		t.Fatalf("Get with failing newFn = %v, %v, %v; Len %d", d, created, err, c.Len())
	}
	bad := small
	bad.HopSize = 0
	if _, _, err := c.Get("y", func() (*Detector, error) { return NewDetector(bad, 1) }); err == nil || c.Len() != 0 {
		t.Fatalf("invalid params cached or no error: %v", err)
	}
}

func TestCacheConcurrentGet(t *testing.T) {
	const capacity, workers, keys, rounds = 8, 8, 20, 200
	var log evictLog
	c := NewCache(capacity, func(k string) {
		log.add(k)
	})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ev := [][]byte{[]byte(`{"msg":"x"}`)}
			for i := range rounds {
				key := fmt.Sprintf("stream-%d", (w*7+i)%keys)
				d, _, err := c.Get(key, newSmall)
				if err != nil {
					t.Error(err)
					return
				}
				d.Ingest(ev)
			}
		})
	}
	wg.Wait()
	if c.Len() > capacity {
		t.Fatalf("Len()=%d above capacity %d", c.Len(), capacity)
	}
	if got := int64(len(log.get())); got != c.Evictions() || got == 0 {
		t.Fatalf("callback ran %d times, Evictions()=%d", got, c.Evictions())
	}
}
