package harness

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resources a run needs beyond its VUs' connections.
const (
	// reservedFiles covers stdio, the result file, the /metrics scraper, the
	// runtime's own descriptors and a margin.
	reservedFiles = 64
	// bytesPerVU is a generous estimate of one VU's memory (goroutine stack,
	// buffers, recorder, connection): measured ≈ 20 KiB, see BENCHMARKS.md.
	bytesPerVU = 64 << 10
)

// checkResources raises the soft open-files limit to the hard one (as k6
// users expect) and refuses a plan whose VUs cannot all hold a connection,
// or whose VUs alone would not fit in the memory available.
func checkResources(maxVUs int, embedded bool) error {
	files := uint64(maxVUs) + reservedFiles
	if embedded {
		files += uint64(maxVUs) // the embedded server holds the other end
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		if lim.Cur < lim.Max {
			raised := lim
			raised.Cur = lim.Max
			if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
				lim = raised
			}
		}
		if files > lim.Cur {
			return fmt.Errorf("%d VUs need about %d open files, but the limit is %d (hard limit %d; raise it with ulimit -n, lower the VUs, or split the run over processes with --segment I/N and merge their result files)",
				maxVUs, files, lim.Cur, lim.Max)
		}
	}
	if avail, ok := availableMemory(); ok {
		need := uint64(maxVUs) * bytesPerVU
		if need > avail {
			return fmt.Errorf("%d VUs need about %d MiB of memory, but %d MiB are available (lower the VUs)",
				maxVUs, need>>20, avail>>20)
		}
	}
	return nil
}

// availableMemory is the memory this process may still use: MemAvailable,
// bounded by the cgroup's limit when one is set.
func availableMemory() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var avail uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, false
			}
			avail = kb << 10
		}
	}
	if avail == 0 {
		return 0, false
	}
	if data, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err == nil && n < avail {
			avail = n
		}
	}
	return avail, true
}

// The GC's budget for a run without GOGC or GOMEMLIMIT of the user's: the
// process (runtime, metrics, reports) and each VU (its 4 KiB stack, about
// 4 KiB of heap, and room to allocate before the next collection). Measured
// in BENCHMARKS.md, "Memory per VU".
const (
	memBase  = 20 << 20
	memPerVU = 8 << 10
	// memFloor is the least headroom over the live heap the limit leaves:
	// live/memFloor, so a run that holds more than the plan's estimate
	// (large bodies, many series) collects about as often as with GOGC=50,
	// never after every allocation. The price of the limit is more
	// collections where it binds (10,000 VUs: about twice as many, see
	// BENCHMARKS.md); GOGC=100 in the environment turns it off.
	memFloor = 2
)

// limitMemory sets a soft memory limit (debug.SetMemoryLimit) sized from
// the plan, so that the GC keeps memory near what the VUs hold instead of
// letting the heap grow to twice that (GOGC=100): at 10,000 VUs the
// difference is about 40 MiB. The limit is raised, each second, to the live
// heap and stacks plus memFloor's headroom whenever they outgrow the plan's
// estimate. It does nothing when the user set GOGC or GOMEMLIMIT, or a
// limit is already in place (another run in this process). The returned
// function stops the adjustment and lifts the limit.
func limitMemory(maxVUs int, embedded bool) (stop func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return func() {}
	}
	vus := uint64(maxVUs)
	if embedded {
		vus *= 2 // the server's end of each connection: a goroutine and its buffers
	}
	plan := memBase + vus*memPerVU
	set := func() { debug.SetMemoryLimit(int64(max(plan, memoryFloor()))) }
	set()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				set()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

// memoryFloor is what the Go runtime holds that a collection cannot free
// (the live heap as of the last GC, goroutine stacks, the runtime's own
// structures), plus live/memFloor to allocate into.
func memoryFloor() uint64 {
	s := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	live := v(0)
	// Everything mapped and not released, less the heap's objects and free
	// space: stacks, the runtime's metadata and caches.
	other := v(1) - min(v(1), v(2)+v(3)+v(4)+v(5))
	return live + live/memFloor + other
}
