package compare

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/driftload/driftload/internal/report"
)

// LoadFields are the fields of a result file's config that define the load
// a run offered: two runs are comparable only when they agree on every
// one. The base URL, seed, run id, thresholds and output files do not
// change the load and may differ.
var LoadFields = []string{
	"executor", "vus", "duration", "stages", "time_scale", "rate", "rate_stages",
	"max_vus", "pre_allocated_vus", "max_backlog", "endpoint", "max_events", "demo_rate", "options",
}

// ConfigHash is a short digest of a result's LoadFields (SHA-256 of their
// canonical JSON, first 16 hex digits): equal hashes, same load.
func ConfigHash(r *report.Result) string {
	fields := make(map[string]any, len(LoadFields))
	for _, k := range LoadFields {
		if v, ok := r.Config[k]; ok {
			fields[k] = v
		}
	}
	data, _ := json.Marshal(fields) // maps marshal with sorted keys; values came from JSON
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// Differences says why base and new are not comparable, one phrase a
// difference (empty: comparable): a different test, result file version,
// target kind or load (LoadFields), or a file that is only a checkpoint.
func Differences(base, new *report.Result) []string {
	var out []string
	if base.SchemaVersion != new.SchemaVersion {
		out = append(out, fmt.Sprintf("schema_version %d vs %d", base.SchemaVersion, new.SchemaVersion))
	}
	if base.Test != new.Test {
		out = append(out, fmt.Sprintf("test %q vs %q", base.Test, new.Test))
	}
	if base.Target.Embedded != new.Target.Embedded {
		out = append(out, fmt.Sprintf("target %s vs %s", targetKind(base), targetKind(new)))
	}
	for _, k := range LoadFields {
		bv, bok := base.Config[k]
		nv, nok := new.Config[k]
		if bok == nok && canonical(bv) == canonical(nv) {
			continue
		}
		name := "config." + k
		if k == "executor" {
			name = "profile (config.executor)"
		}
		out = append(out, fmt.Sprintf("%s %s vs %s", name, shown(bv, bok), shown(nv, nok)))
	}
	for _, f := range []struct {
		which string
		r     *report.Result
	}{{"base", base}, {"new", new}} {
		if !f.r.Complete {
			out = append(out, f.which+" is a checkpoint (complete: false), not a finished run")
		}
	}
	return out
}

func targetKind(r *report.Result) string {
	if r.Target.Embedded {
		return "embedded reference server"
	}
	return "external target"
}

func canonical(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

func shown(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	return canonical(v)
}
