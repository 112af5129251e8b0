package ciout

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/report"
)

func TestAppendStepSummary(t *testing.T) {
	r := load(t, "soak")
	md := renderMarkdown(t, r)
	tests := []struct {
		name    string
		before  *string // the file's content before; nil: no file
		unset   bool
		path    func(dir string) string
		want    func(before string) string
		wantErr bool
	}{
		{name: "unset: nothing written", unset: true, path: func(string) string { return "" }},
		{name: "empty: nothing written", path: func(string) string { return "" }},
		{name: "missing file: created", path: func(dir string) string { return filepath.Join(dir, "summary.md") },
			want: func(string) string { return string(md) }},
		{name: "existing file: appended", before: ptr("## an earlier step\n\n"), path: func(dir string) string { return filepath.Join(dir, "summary.md") },
			want: func(before string) string { return before + string(md) }},
		{name: "missing directory: error", path: func(dir string) string { return filepath.Join(dir, "no", "summary.md") }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.path(dir)
			if tt.before != nil {
				if err := os.WriteFile(path, []byte(*tt.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv(StepSummaryEnv, path) // restored after the test, even when unset
			if tt.unset {
				must(t, os.Unsetenv(StepSummaryEnv))
			}
			err := AppendStepSummary(r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("AppendStepSummary: %v, want error %v", err, tt.wantErr)
			}
			if tt.want == nil {
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("wrote %v, want nothing", entries)
				}
				return
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			before := ""
			if tt.before != nil {
				before = *tt.before
			}
			if want := tt.want(before); string(got) != want {
				t.Errorf("step summary:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// Two steps (two runs) leave both their summaries, in order.
func TestAppendStepSummaryTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv(StepSummaryEnv, path)
	smoke, soak := load(t, "smoke"), load(t, "soak")
	for _, r := range []*report.Result{smoke, soak} {
		if err := AppendStepSummary(r); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
	want := string(renderMarkdown(t, smoke)) + string(renderMarkdown(t, soak))
	if string(got) != want {
		t.Errorf("step summary after two runs:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteFiles(t *testing.T) {
	r := load(t, "stress-open")
	writers := []struct {
		name   string
		write  func(string, *report.Result) error
		render func(*testing.T, *report.Result) []byte
	}{
		{"WriteJUnitFile", WriteJUnitFile, renderJUnit},
		{"WriteMarkdownFile", WriteMarkdownFile, renderMarkdown},
	}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			want := w.render(t, r)
			tests := []struct {
				name    string
				setup   func(t *testing.T, dir string) (path, written string)
				wantErr string
			}{
				{name: "new file", setup: func(t *testing.T, dir string) (string, string) {
					p := filepath.Join(dir, "out")
					return p, p
				}},
				{name: "replaces a file", setup: func(t *testing.T, dir string) (string, string) {
					p := filepath.Join(dir, "out")
					must(t, os.WriteFile(p, bytes.Repeat([]byte("old "), 10000), 0o600))
					return p, p
				}},
				{name: "follows a link, keeps it", setup: func(t *testing.T, dir string) (string, string) {
					real := filepath.Join(dir, "real")
					must(t, os.WriteFile(real, []byte("old"), 0o644))
					link := filepath.Join(dir, "link")
					must(t, os.Symlink("real", link))
					return link, real
				}},
				{name: "a directory", wantErr: "is a directory", setup: func(t *testing.T, dir string) (string, string) {
					return dir, ""
				}},
				{name: "missing directory", wantErr: "no such file or directory", setup: func(t *testing.T, dir string) (string, string) {
					return filepath.Join(dir, "no", "out"), ""
				}},
				{name: "no name", wantErr: "want a file name", setup: func(t *testing.T, dir string) (string, string) {
					return "", ""
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := t.TempDir()
					path, written := tt.setup(t, dir)
					before, _ := os.ReadDir(dir)
					err := w.write(path, r)
					if tt.wantErr != "" {
						if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
							t.Fatalf("%s(%q) = %v, want an error with %q", w.name, path, err, tt.wantErr)
						}
						if after, _ := os.ReadDir(dir); len(after) != len(before) {
							t.Errorf("a failed write left files: %v", after)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					got, err := os.ReadFile(written)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("%s wrote:\n%s\nwant:\n%s", written, got, want)
					}
					if fi, err := os.Lstat(path); err != nil || (path != written && fi.Mode()&os.ModeSymlink == 0) {
						t.Errorf("%s: the link was replaced (%v, %v)", path, fi.Mode(), err)
					}
					entries, _ := os.ReadDir(dir)
					for _, e := range entries {
						if strings.HasPrefix(e.Name(), ".") {
							t.Errorf("temporary file %s left behind", e.Name())
						}
					}
				})
			}
		})
	}
}

// A device is written through, never replaced by a renamed file.
func TestWriteFileThroughADevice(t *testing.T) {
	r := load(t, "smoke")
	for _, write := range []func(string, *report.Result) error{WriteJUnitFile, WriteMarkdownFile} {
		if err := write("/dev/null", r); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", fi.Mode(), err)
	}
}

func ptr(s string) *string { return &s }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
