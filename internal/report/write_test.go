package report

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckOut(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.json")
	if err := os.WriteFile(existing, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string // want "" = ok
	}{
		{"new file", filepath.Join(dir, "r.json"), ""},
		{"existing file", existing, ""},
		{"empty", "", `--out ""`},
		{"directory", dir, "is a directory"},
		{"missing directory", filepath.Join(dir, "nope", "r.json"), "no such file or directory"},
		{"under a file", filepath.Join(existing, "r.json"), "not a directory"},
		{"proc", "/proc/x.json", "cannot create"},
		{"dev null", "/dev/null", ""},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases = append(cases, struct{ name, path, want string }{"read-only directory", filepath.Join(ro, "r.json"), "permission denied"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckOut(c.path)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("want ok, got %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("CheckOut left files behind: %v", entries)
	}
}

// Writing over a device or a pipe writes through: the device stays a device.
func TestWriteFileThroughDevicesAndPipes(t *testing.T) {
	r := &Result{SchemaVersion: SchemaVersion, Test: "smoke"}
	if err := WriteFile("/dev/null", r); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", fi.Mode(), err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	if err := WriteFile(fifo, r); err == nil || !strings.Contains(err.Error(), "no such device") {
		t.Errorf("a pipe without a reader: %v, want a clear error at once", err)
	}
	got := make(chan []byte)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		var all []byte
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				got <- all
				return
			}
		}
	}()
	// Wait for the reader to open its end, then write through the pipe.
	for i := 0; ; i++ {
		err := WriteFile(fifo, r)
		if err == nil {
			break
		}
		if i > 200 {
			t.Fatal(err)
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 5e6}, nil)
	}
	if data := <-got; !strings.Contains(string(data), `"test": "smoke"`) {
		t.Errorf("pipe got %q", data)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v", fi.Mode())
	}
}

// A symbolic link keeps pointing at the (replaced) file it names.
func TestWriteFileFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, &Result{SchemaVersion: SchemaVersion, Test: "load"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a file")
	}
	r, err := ReadFile(real)
	if err != nil || r.Test != "load" {
		t.Fatalf("target not written: %v %v", r, err)
	}
	if err := WriteFile(dir, &Result{}); err == nil {
		t.Error("writing over a directory must fail")
	}
}
