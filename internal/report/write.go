package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// CheckOut checks, before a run, that a result file can be written to path:
// the path is not empty and not a directory, and a regular file's directory
// accepts a new file (a 4 KiB probe is written, synced and removed, so a full
// or read-only filesystem shows now, not after the run). A character device
// or a pipe is written through and only has to be openable for writing.
func CheckOut(path string) error { return CheckWritable("--out", path) }

// CheckWritable is CheckOut for any output file a flag names.
func CheckWritable(flag, path string) error {
	if path == "" {
		return fmt.Errorf(`%s "": want a file name`, flag)
	}
	target, fi, err := resolve(path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, unwrapPath(err))
	}
	if fi != nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return fmt.Errorf("%s %s: is a directory", flag, path)
		}
		f, err := openThrough(target)
		if err != nil {
			return fmt.Errorf("%s %s: %w", flag, path, unwrapPath(err))
		}
		return f.Close()
	}
	dir := filepath.Dir(target)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%s %s: directory %s: %w", flag, path, dir, unwrapPath(err))
	} else if !st.IsDir() {
		return fmt.Errorf("%s %s: %s is not a directory", flag, path, dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.probe")
	if err != nil {
		return fmt.Errorf("%s %s: cannot create a file in %s: %w", flag, path, dir, unwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(make([]byte, 4096))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s %s: cannot write in %s: %w", flag, path, dir, unwrapPath(err))
	}
	return nil
}

// WriteFile writes r as indented JSON to path. Over a regular file (or
// nothing) it writes atomically: a synced temporary file in the same
// directory renamed over the target, so a reader — or a crash — never
// leaves half a file. A symbolic link is followed and its target replaced.
// A device or a pipe is written through, never replaced.
func WriteFile(path string, r *Result) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	data = append(data, '\n')
	if err := WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("write result file %s: %w", path, unwrapPath(err))
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced; a directory that
	// cannot be opened for sync (rare) leaves it to the filesystem.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// resolve follows symbolic links to the file path names and returns it with
// its FileInfo (nil when it does not exist yet). A link to a file that does
// not exist yet resolves to that file, so it is created there and the link
// kept.
func resolve(path string) (string, fs.FileInfo, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	} else if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
		// Not /dev/stdout, whose /proc link names no path but opens.
		if path, err = danglingTarget(path); err != nil {
			return "", nil, err
		}
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil
	}
	return path, fi, err
}

// danglingTarget follows path while it is a symbolic link, up to the first
// name that is not one (or does not exist).
func danglingTarget(path string) (string, error) {
	for range 40 { // as many links as Linux follows
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// openThrough opens a device or a pipe for writing; a pipe without a
// reader fails at once instead of blocking.
func openThrough(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
