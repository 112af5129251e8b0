// Package driftlock is the client side of the Driftlock anomaly-detection
// protocol as driftload speaks it: detection profiles, detect request bodies
// built without reflection, and tolerant parsing of every response and error
// shape the Driftlock servers and documents have used.
package driftlock

import (
	"math"
	"strconv"

	"github.com/driftload/driftload/internal/gen"
)

// Profile is a set of detection parameters, sent as config_override.
type Profile struct {
	// Name is the profile's name ("sensitive", "balanced", "strict").
	Name string
	// NCDThreshold is the normalized compression distance at or above which an event may be anomalous.
	NCDThreshold float64
	// PValueThreshold is the permutation-test p-value at or below which it is significant.
	PValueThreshold float64
	// BaselineSize is the number of events in the baseline.
	BaselineSize int
	// WindowSize is the number of events in the analysed window.
	WindowSize int
	// HopSize is how far the window moves between analyses.
	HopSize int
	// PermutationCount is the number of shuffles in the permutation test.
	PermutationCount int
	// Compressor is the compression algorithm ("zstd", "lz4", "gzip", "zlib"); empty leaves the server's default.
	Compressor string
}

var profiles = []Profile{
	{Name: "sensitive", NCDThreshold: 0.20, PValueThreshold: 0.10, BaselineSize: 200, WindowSize: 30, HopSize: 10, PermutationCount: 500, Compressor: "zstd"},
	{Name: "balanced", NCDThreshold: 0.30, PValueThreshold: 0.05, BaselineSize: 400, WindowSize: 50, HopSize: 10, PermutationCount: 1000, Compressor: "zstd"},
	{Name: "strict", NCDThreshold: 0.45, PValueThreshold: 0.01, BaselineSize: 800, WindowSize: 100, HopSize: 20, PermutationCount: 1000, Compressor: "zstd"},
}

// DefaultProfile is the name of the server's default profile.
const DefaultProfile = "balanced"

// ProfileByName returns the named profile: "sensitive", "balanced" or "strict".
func ProfileByName(name string) (Profile, bool) {
	for _, p := range profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// Profiles returns all profiles, from most to least sensitive.
func Profiles() []Profile {
	return append([]Profile(nil), profiles...)
}

// Clamp returns the profile shrunk so that BaselineSize + 3*WindowSize <=
// maxEvents, which is what a server with that per-request event limit
// accepts. The baseline shrinks first, keeping the window, as long as the
// baseline stays at least one window long; beyond that baseline and window
// both become maxEvents/4. HopSize is capped at the new window size. Sizes
// never go below 1, so for maxEvents < 4 the result (1, 1) still exceeds the
// limit. maxEvents <= 0 means no limit: p is returned unchanged, as is a
// profile that already fits. The name is kept.
func (p Profile) Clamp(maxEvents int) Profile {
	if maxEvents <= 0 || p.BaselineSize+3*p.WindowSize <= maxEvents {
		return p
	}
	if b := maxEvents - 3*p.WindowSize; b >= p.WindowSize && b >= 1 {
		p.BaselineSize = b
	} else {
		p.WindowSize = max(maxEvents/4, 1)
		p.BaselineSize = p.WindowSize
	}
	p.HopSize = max(min(p.HopSize, p.WindowSize), 1)
	return p
}

// AppendDetectRequest appends a detect request body to dst:
//
//	{"stream_id":"...","events":[...],"config_override":{...}}
//
// eventsJSON is an already-encoded JSON array of event objects and is copied
// verbatim (empty becomes []). streamID "" omits stream_id, as the demo route
// requires; p nil omits config_override. In config_override, a non-finite
// threshold, a size <= 0 or an empty compressor is left out so that the server
// default applies and the body stays valid JSON.
func AppendDetectRequest(dst []byte, streamID string, eventsJSON []byte, p *Profile) []byte {
	dst = append(dst, '{')
	if streamID != "" {
		dst = append(dst, `"stream_id":`...)
		dst = appendString(dst, streamID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"events":`...)
	if len(eventsJSON) == 0 {
		dst = append(dst, "[]"...)
	} else {
		dst = append(dst, eventsJSON...)
	}
	if p != nil {
		dst = append(dst, `,"config_override":{`...)
		first := true
		sep := func() {
			if !first {
				dst = append(dst, ',')
			}
			first = false
		}
		for _, f := range [...]struct {
			key string
			v   int
		}{
			{"baseline_size", p.BaselineSize},
			{"window_size", p.WindowSize},
			{"hop_size", p.HopSize},
		} {
			if f.v > 0 {
				sep()
				dst = append(dst, '"')
				dst = append(dst, f.key...)
				dst = append(dst, `":`...)
				dst = strconv.AppendInt(dst, int64(f.v), 10)
			}
		}
		for _, f := range [...]struct {
			key string
			v   float64
		}{
			{"ncd_threshold", p.NCDThreshold},
			{"p_value_threshold", p.PValueThreshold},
		} {
			if !math.IsNaN(f.v) && !math.IsInf(f.v, 0) {
				sep()
				dst = append(dst, '"')
				dst = append(dst, f.key...)
				dst = append(dst, `":`...)
				dst = strconv.AppendFloat(dst, f.v, 'g', -1, 64)
			}
		}
		if p.PermutationCount > 0 {
			sep()
			dst = append(dst, `"permutation_count":`...)
			dst = strconv.AppendInt(dst, int64(p.PermutationCount), 10)
		}
		if p.Compressor != "" {
			sep()
			dst = append(dst, `"compressor":`...)
			dst = appendString(dst, p.Compressor)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string (gen's escaper: invalid UTF-8
// becomes U+FFFD; U+2028 and U+2029 are escaped).
func appendString(dst []byte, s string) []byte {
	return gen.AppendJSONString(dst, s)
}
