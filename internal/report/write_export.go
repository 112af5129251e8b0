package report

import "fmt"

// WriteFileAtomic writes data to path the way WriteFile writes a result
// file, for the other files a run leaves (JUnit, markdown): over a regular
// file or nothing atomically — a synced temporary file in the same
// directory renamed over it, symbolic links followed — and through a device
// or a pipe (/dev/stdout), which is never replaced.
func WriteFileAtomic(path string, data []byte) error {
	target, fi, err := resolve(path)
	if err != nil {
		return err
	}
	if fi == nil || fi.Mode().IsRegular() {
		return writeAtomic(target, data)
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: is a directory", path)
	}
	f, err := openThrough(target)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
