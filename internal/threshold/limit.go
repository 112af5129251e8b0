package threshold

// UpperLimit returns the tightest upper bound the thresholds in sets put on
// stat of the whole metric (no sub-metric): the smallest Value of an
// expression "stat < V" or "stat <= V". A test's own verdict uses it so that
// it moves with the thresholds file (stress judges levels against the p95
// limit the user set). ok is false when no such threshold exists.
func UpperLimit(sets []Set, metric string, stat Stat) (limit float64, ok bool) {
	for _, s := range sets {
		if s.Selector.Metric != metric || len(s.Selector.Tags) > 0 {
			continue
		}
		for _, t := range s.Thresholds {
			e := t.Expr
			if e.Stat != stat || (e.Op != OpLT && e.Op != OpLE) {
				continue
			}
			if !ok || e.Value < limit {
				limit, ok = e.Value, true
			}
		}
	}
	return limit, ok
}
