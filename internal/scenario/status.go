package scenario

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/driftload/driftload/internal/metrics"
)

// FailuresByStatus counts failed requests (http_req_failed) by their status
// tag; "0" means no response (timeout, connection error).
func FailuresByStatus(snap *metrics.Snapshot) map[string]int64 {
	out := map[string]int64{}
	for _, ser := range snap.Series {
		if ser.Metric.Name != "http_req_failed" || ser.Sink.Trues == 0 {
			continue
		}
		status, _ := ser.Tags.Get("status")
		out[status] += ser.Sink.Trues
	}
	return out
}

// statusMeaning names what a failure status says about the target.
var statusMeaning = map[string]string{
	"0":   "no response",
	"400": "rejected request",
	"401": "authentication",
	"413": "body too large",
	"429": "rate limited",
	"500": "server error",
	"502": "bad gateway",
	"503": "overloaded",
	"504": "gateway timeout",
}

// FormatStatusCounts renders "503 overloaded ×120, 0 no response ×3", most
// frequent first, then by status; bare statuses are named.
func FormatStatusCounts(counts map[string]int64) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	// Keys are a status ("503") or a status and a code ("503 overloaded").
	status := func(k string) int {
		head, _, _ := strings.Cut(k, " ")
		n, _ := strconv.Atoi(head)
		return n
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		if a, b := status(keys[i]), status(keys[j]); a != b {
			return a < b
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := k
		if m, ok := statusMeaning[k]; ok {
			name += " " + m
		}
		parts[i] = fmt.Sprintf("%s ×%d", name, counts[k])
	}
	return strings.Join(parts, ", ")
}
