package runner

import (
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
)

// ProcessSample is driftload's own footprint at one instant, and its garbage
// collections since the previous sample.
type ProcessSample struct {
	RSSBytes   uint64
	HeapBytes  uint64
	Goroutines int
	// GCCount, GCPauseTotalNs and GCPauseMaxNs cover the GCs since the
	// previous sample (the runtime keeps the last 256 pauses, so the max
	// covers at most that many).
	GCCount        uint32
	GCPauseTotalNs uint64
	GCPauseMaxNs   uint64
}

// ProcessSampler measures this process between samples (soak's proof that
// the generator is not what leaks). Safe for concurrent use.
type ProcessSampler struct {
	mu         sync.Mutex
	numGC      uint32
	pauseTotal uint64
	ms         runtime.MemStats
	rm         []rtmetrics.Sample
}

// NewProcessSampler starts counting GCs from now.
func NewProcessSampler() *ProcessSampler {
	c := &ProcessSampler{rm: []rtmetrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}}
	runtime.ReadMemStats(&c.ms)
	c.numGC, c.pauseTotal = c.ms.NumGC, c.ms.PauseTotalNs
	return c
}

// Sample reads RSS, heap, goroutines, and the GCs since the previous sample.
func (c *ProcessSampler) Sample() ProcessSample {
	c.mu.Lock()
	defer c.mu.Unlock()
	runtime.ReadMemStats(&c.ms)
	s := ProcessSample{
		HeapBytes:      c.ms.HeapAlloc,
		Goroutines:     runtime.NumGoroutine(),
		GCCount:        c.ms.NumGC - c.numGC,
		GCPauseTotalNs: c.ms.PauseTotalNs - c.pauseTotal,
	}
	n := uint32(len(c.ms.PauseNs))
	for i := uint32(0); i < s.GCCount && i < n; i++ {
		s.GCPauseMaxNs = max(s.GCPauseMaxNs, c.ms.PauseNs[(c.ms.NumGC-i+n-1)%n])
	}
	c.numGC, c.pauseTotal = c.ms.NumGC, c.ms.PauseTotalNs
	if rss, ok := procRSS(); ok {
		s.RSSBytes = rss
		return s
	}
	rtmetrics.Read(c.rm)
	total, released := c.rm[0].Value, c.rm[1].Value
	if total.Kind() == rtmetrics.KindUint64 && released.Kind() == rtmetrics.KindUint64 {
		s.RSSBytes = total.Uint64() - released.Uint64()
	}
	return s
}

// procRSS reads the process' resident set from /proc/self/statm (Linux).
func procRSS() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}
