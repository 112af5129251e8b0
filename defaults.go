// Package driftload carries the files the binary embeds: the default
// thresholds of every test.
package driftload

import _ "embed"

// DefaultThresholds is thresholds.json as shipped; used when no
// --thresholds file is given and ./thresholds.json does not exist.
//
//go:embed thresholds.json
var DefaultThresholds []byte
