// Package schema publishes the JSON Schema (draft 2020-12) of driftload's
// result file, schema_version 1: result.schema.json, embedded for code that
// checks a file before reading it.
package schema

import _ "embed"

// Result is result.schema.json: the schema of every result file driftload
// writes, final (complete: true) or a checkpoint (complete: false).
//
//go:embed result.schema.json
var Result []byte
