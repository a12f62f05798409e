//go:build linux || darwin

package image

import (
	"fmt"
	"io"
	"io/fs"
	"syscall"
)

// copyFile writes the size bytes of the file name to w, failing when the
// file is shorter or longer. Thousands of small files are read on every
// rebuild after `mix release`, so this talks to the kernel directly: open,
// read, close, without the poller registration and descriptor flag calls
// of os.Open, which took more system calls than the reads themselves.
func copyFile(w io.Writer, name string, size int64, buf []byte) error {
	fd, err := open(name)
	if err != nil {
		return &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer func() { _ = syscall.Close(fd) }()
	var n int64
	for {
		// Ask for one byte more than is left: a regular file's read comes
		// back short only at its end, so a full answer means it grew.
		want := min(int64(len(buf)), size-n+1)
		m, err := read(fd, buf[:want])
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if n+int64(m) > size {
			return fmt.Errorf("reading %s: file changed while building (grew past %d bytes)", name, size)
		}
		if m > 0 {
			if _, err := w.Write(buf[:m]); err != nil {
				return err
			}
			n += int64(m)
		}
		if int64(m) < want {
			break // end of file
		}
	}
	if n != size {
		return fmt.Errorf("reading %s: file changed while building (%d bytes, want %d)", name, n, size)
	}
	return nil
}

func open(name string) (int, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

func read(fd int, p []byte) (int, error) {
	for {
		n, err := syscall.Read(fd, p)
		if err != syscall.EINTR {
			return n, err
		}
	}
}
