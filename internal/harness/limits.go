package harness

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
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
