package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// badInputRow is one row of the README's bad-input table.
type badInputRow struct {
	line    int // in README.md
	input   string
	args    []string
	message string
	exit    int
}

// TestREADMEBadInputTable runs every row of the table under "### Bad input"
// in README.md against the real binary, so the table cannot drift from what
// driftload does: the exit code, stderr one line containing the message,
// nothing on stdout, and no "hunter2" (a secret) anywhere.
func TestREADMEBadInputTable(t *testing.T) {
	t.Parallel()
	rows, err := readBadInputTable(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 20 {
		t.Fatalf("the bad-input table has %d rows; want the README's full table", len(rows))
	}
	fixtures, err := filepath.Abs(filepath.Join("testdata", "badinput"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Run(fmt.Sprintf("README.md:%d", r.line), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(fixtures)); err != nil {
				t.Fatal(err)
			}
			res := runBadInput(t, dir, r.args)
			switch {
			case res.code != r.exit:
				t.Errorf("driftload %s: exit %d, the README says %d\n%s", r.input, res.code, r.exit, res.stderr)
			case !strings.Contains(res.stderr, r.message):
				t.Errorf("driftload %s: stderr does not contain the README's message %q:\n%s", r.input, r.message, res.stderr)
			case strings.Count(strings.TrimSuffix(res.stderr, "\n"), "\n") != 0:
				t.Errorf("driftload %s: want one line, got:\n%s", r.input, res.stderr)
			case res.stdout != "":
				t.Errorf("driftload %s: stdout should be empty, got:\n%s", r.input, res.stdout)
			case strings.Contains(res.stderr, "hunter2"):
				t.Errorf("driftload %s: the message shows a secret:\n%s", r.input, res.stderr)
			}
		})
	}
}

// runBadInput runs driftload in dir with BASE_URL at nothing (a row that got
// past validation exits 108 at once instead of reaching something on
// localhost:8080) and no API key from the developer's environment.
func runBadInput(t *testing.T, dir string, args []string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "BASE_URL=http://127.0.0.1:1", "API_KEY=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("driftload %v did not stop within 30 s", args)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running driftload: %v", err)
	}
	return res
}

// readBadInputTable parses the table `| input | message (start) | exit |`
// under the heading "### Bad input".
func readBadInputTable(path string) ([]badInputRow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == "### Bad input" {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("%s: no \"### Bad input\" section", path)
	}
	var rows []badInputRow
	inTable := false
	for i := start + 1; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "#") {
			break
		}
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break
			}
			continue
		}
		cells := tableCells(l)
		if !inTable {
			if len(cells) != 3 || cells[0] != "input" || cells[1] != "message (start)" || cells[2] != "exit" {
				return nil, fmt.Errorf("%s:%d: want the header | input | message (start) | exit |, got %q", path, i+1, l)
			}
			inTable = true
			i++ // the |---| line
			continue
		}
		if len(cells) != 3 {
			return nil, fmt.Errorf("%s:%d: want 3 cells, got %d", path, i+1, len(cells))
		}
		input, ok := unquoteCode(cells[0])
		if !ok {
			return nil, fmt.Errorf("%s:%d: the input cell must be one `code span`, got %q", path, i+1, cells[0])
		}
		args, err := splitArgs(input)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		msg, _ := unquoteCode(cells[1])
		if msg == "" {
			return nil, fmt.Errorf("%s:%d: empty message", path, i+1)
		}
		code, err := strconv.Atoi(cells[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: exit %q: %v", path, i+1, cells[2], err)
		}
		rows = append(rows, badInputRow{line: i + 1, input: input, args: args, message: msg, exit: code})
	}
	return rows, nil
}

// tableCells splits a markdown table row on its unescaped pipes.
func tableCells(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteByte('|')
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// unquoteCode strips the backticks of a cell that is one code span; other
// text is returned as it is, with false.
func unquoteCode(cell string) (string, bool) {
	if len(cell) >= 2 && cell[0] == '`' && cell[len(cell)-1] == '`' && !strings.Contains(cell[1:len(cell)-1], "`") {
		return cell[1 : len(cell)-1], true
	}
	return cell, false
}

// splitArgs splits a command line as a POSIX shell would for words, single
// and double quotes (no escapes, variables or globs).
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c in %q", quote, s)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
