package scenario

import "github.com/driftload/driftload/internal/metrics"

// Custom metrics of every test, by thresholds-file section. This is the
// vocabulary a thresholds file is validated against; a test's own code
// defines the same names when it runs.
var catalog = map[string]map[string]metrics.Type{
	"smoke": {
		"health_check_success": metrics.Rate,
		"demo_detect_success":  metrics.Rate,
		"detect_success":       metrics.Rate,
	},
	"load": {
		"detect_latency":         metrics.Trend,
		"server_processing_time": metrics.Trend,
		"events_processed":       metrics.Counter,
		"anomalies_detected":     metrics.Counter,
		"detect_success":         metrics.Rate,
	},
	"stress": {
		"detect_latency":         metrics.Trend,
		"server_processing_time": metrics.Trend,
		"events_processed":       metrics.Counter,
		"anomalies_detected":     metrics.Counter,
		"detect_success":         metrics.Rate,
		"server_errors":          metrics.Counter,
		"timeouts":               metrics.Counter,
		"error_rate":             metrics.Rate,
	},
	"soak": {
		"detect_latency":         metrics.Trend,
		"server_processing_time": metrics.Trend,
		"events_processed":       metrics.Counter,
		"anomalies_detected":     metrics.Counter,
		"detect_success":         metrics.Rate,
		"response_time_trend":    metrics.Trend,
		"memory_leak_indicator":  metrics.Gauge,
	},
	"capacity": {
		"detect_latency":         metrics.Trend,
		"server_processing_time": metrics.Trend,
		"events_processed":       metrics.Counter,
		"anomalies_detected":     metrics.Counter,
		"detect_success":         metrics.Rate,
		"unique_streams_created": metrics.Counter,
	},
	"http": {},
	"rate_limit": {
		"rate_limited_responses": metrics.Rate,
		"successful_requests":    metrics.Counter,
	},
}

// KnownBySection maps each thresholds-file section to every metric its test
// records (built-ins and its own), for validating a thresholds file.
func KnownBySection() map[string]map[string]metrics.Type {
	out := make(map[string]map[string]metrics.Type, len(catalog))
	for section, custom := range catalog {
		out[section] = withBuiltins(custom)
	}
	return out
}
