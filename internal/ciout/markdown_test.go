package ciout

import (
	"bytes"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/report"
)

func renderMarkdown(t *testing.T, r *report.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMarkdownGolden(t *testing.T) {
	for _, tc := range resultCases {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name+".md", renderMarkdown(t, tc.result(t)))
		})
	}
}

// The heading says at a glance whether the run passed; the table has one
// row per threshold with its mark.
func TestMarkdownHeadingAndTable(t *testing.T) {
	for _, tc := range resultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.result(t)
			md := string(renderMarkdown(t, r))
			heading, _, _ := strings.Cut(md, "\n")
			wantMark := "❌"
			if r.Passed {
				wantMark = "✅"
			}
			if !strings.HasPrefix(heading, "## "+wantMark+" driftload "+r.Test+" against ") {
				t.Errorf("heading %q, want ## %s driftload %s against …", heading, wantMark, r.Test)
			}
			rows, failed := 0, 0
			for line := range strings.Lines(md) {
				if strings.HasPrefix(line, "| `") {
					rows++
					if strings.HasSuffix(line, "| ✗ |\n") {
						failed++
					}
				}
			}
			if rows != len(r.Thresholds) || failed != failedThresholds(r) {
				t.Errorf("%d rows, %d marked ✗; want %d and %d", rows, failed, len(r.Thresholds), failedThresholds(r))
			}
		})
	}
}

func TestMarkdownEscapes(t *testing.T) {
	tests := []struct {
		name, in, text, code, cell string
	}{
		{"plain", "status 200", "status 200", "`status 200`", "`status 200`"},
		{"emphasis and links", "*a* _b_ [c](d)", `\*a\* \_b\_ \[c\](d)`, "`*a* _b_ [c](d)`", "`*a* _b_ [c](d)`"},
		{"html", "<script>&amp;", `\<script\>\&amp;`, "`<script>&amp;`", "`<script>&amp;`"},
		{"pipe", "a|b", `a\|b`, "`a|b`", "`a\\|b`"},
		{"math", "$x$ ~y~", `\$x\$ \~y\~`, "`$x$ ~y~`", "`$x$ ~y~`"},
		{"backticks", "a`b``c", "a\\`b\\`\\`c", "```a`b``c```", "```a`b``c```"},
		{"leading backtick", "`x", "\\`x", "`` `x ``", "`` `x ``"},
		{"line breaks", "one\ntwo\r\nthree", "one two  three", "`one two  three`", "`one two  three`"},
		{"backslash", `C:\dir`, `C:\\dir`, "`C:\\dir`", "`C:\\dir`"},
		{"empty", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := MarkdownText(tt.in); got != tt.text {
				t.Errorf("MarkdownText(%q) = %q, want %q", tt.in, got, tt.text)
			}
			if got := MarkdownCode(tt.in, false); got != tt.code {
				t.Errorf("MarkdownCode(%q, false) = %q, want %q", tt.in, got, tt.code)
			}
			if got := MarkdownCode(tt.in, true); got != tt.cell {
				t.Errorf("MarkdownCode(%q, true) = %q, want %q", tt.in, got, tt.cell)
			}
		})
	}
}

// A name with a pipe or a line break keeps the table's shape: every row has
// the header's four cells.
func TestMarkdownTableKeepsItsShape(t *testing.T) {
	r := &report.Result{
		Test: "http", Complete: true, Passed: true,
		Thresholds: []report.ThresholdResult{
			{Metric: "checks{check:a|b}", Expression: "rate>0.9", OK: true, Measured: 1, HasData: true},
			{Metric: "x\ny", Expression: "count>0 | 1", OK: true, Measured: 3, HasData: true},
		},
	}
	for line := range strings.Lines(string(renderMarkdown(t, r))) {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") - 1; cells != 4 {
			t.Errorf("row %q has %d cells, want 4", line, cells)
		}
	}
}
