package htmlreport

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// formatValue renders v in unit: "ms" as a duration, "%" from a 0–1 share,
// "B" as bytes, "/s" as a rate.
func formatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return formatMs(v)
	case "%":
		return formatPercent(v)
	case "B":
		return formatBytes(v)
	case "/s":
		return formatNumber(v) + "/s"
	}
	return formatNumber(v)
}

// formatNumber renders v with at most 4 significant digits, as an integer
// when it is one.
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// formatMs renders milliseconds: "0.42 ms", "12.3 ms", "530 ms", "1.28 s".
func formatMs(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return "—"
	case math.Abs(ms) >= 10_000:
		return strconv.FormatFloat(ms/1000, 'f', 1, 64) + " s"
	case math.Abs(ms) >= 1000:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + " s"
	case math.Abs(ms) >= 100:
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	case math.Abs(ms) >= 10:
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(ms, 'f', 2, 64) + " ms"
}

// formatPercent renders a 0–1 share as a percentage.
func formatPercent(share float64) string {
	if math.IsNaN(share) {
		return "—"
	}
	p := share * 100
	switch {
	case p == 0 || p == 100:
		return strconv.FormatFloat(p, 'f', 0, 64) + " %"
	case p < 0.1 && p > 0:
		return strconv.FormatFloat(p, 'f', 3, 64) + " %"
	}
	return strconv.FormatFloat(p, 'f', 2, 64) + " %"
}

// formatBytes renders bytes in binary units.
func formatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for math.Abs(b) >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return formatNumber(b) + " B"
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + " " + units[i]
}

// formatSeconds renders a length of time: "45 s", "3 min", "1 h 5 min".
func formatSeconds(s float64) string {
	if math.IsNaN(s) || s < 0 {
		return "—"
	}
	if s < 60 {
		return formatNumber(math.Round(s*10)/10) + " s"
	}
	total := int64(math.Round(s))
	h, m, sec := total/3600, total/60%60, total%60
	var parts []string
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if sec > 0 && h == 0 {
		parts = append(parts, fmt.Sprintf("%d s", sec))
	}
	return strings.Join(parts, " ")
}

// formatClock renders an offset from the run start as m:ss (h:mm:ss past an hour).
func formatClock(s float64) string {
	if math.IsNaN(s) {
		return "—"
	}
	neg := s < 0
	t := int64(math.Round(math.Abs(s)))
	out := fmt.Sprintf("%d:%02d", t/60, t%60)
	if t >= 3600 {
		out = fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	if neg {
		return "-" + out
	}
	return out
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
